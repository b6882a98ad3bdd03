"""Where provenance's rows appear on public pages (core/pages.py): on the batch pages, and their trace sections,
whose lineage passes through them.

A change reaches identifiers — those of a capture's events (and of the events it declared erroneous), of one event,
of the events at a facility, of a supplier's events — and one lineage query walks downstream from all of them at
once: the batches found there (and those named directly) show what changed. Downstream only: a batch page shows
its own chain, from raw material to itself, never what was later made from it.
"""

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from core import gs1, pages
from products.models import Batch
from provenance.lineage import DOWNSTREAM, location_keys, walk_from
from provenance.models import Capture, ChainHead, ErrorDeclaration, EventLine, Evidence, Facility, TraceEvent

# A batch's identifier (lineage's canonical form): a GTIN with a lot.
BATCH_IDENTIFIER = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/10/([^/?#]+)$")


def _identifiers(events: QuerySet[TraceEvent]) -> Iterable[pages.Root]:
    """The identifiers whose pages show `events`: all they touch except a transformation's inputs (the page of what
    went in does not show what it was made into), plus the outputs of the transformations they are part of (an
    event may record only the inputs of a transformation whose outputs another event with its ID records).

    Each query follows an index (event id, transformation id): an OR across the two would scan the lines."""
    found = list(events.values_list("pk", "type", "transformation_id"))
    if not found:
        return
    transformation_events = {pk for pk, kind, _ in found if kind == TraceEvent.Type.TRANSFORMATION}
    lines = EventLine.objects.filter(event_id__in=[pk for pk, _, _ in found]).values_list(
        "event_id", "role", "identifier"
    )
    identifiers = {
        identifier
        for event_id, role, identifier in lines
        if not (role == EventLine.Role.INPUT and event_id in transformation_events)
    }
    if transformation_ids := {tid for _, _, tid in found if tid}:
        siblings = EventLine.objects.filter(event__transformation_id__in=transformation_ids, role=EventLine.Role.OUTPUT)
        identifiers |= set(siblings.values_list("identifier", flat=True))
    for identifier in identifiers:
        yield ("identifier", identifier)


@pages.expands("capture")
def _capture_identifiers(capture_ids: set[Any]) -> Iterable[pages.Root]:
    declared = ErrorDeclaration.objects.filter(capture_id__in=capture_ids).values("event_id")
    return _identifiers(TraceEvent.objects.filter(Q(capture_id__in=capture_ids) | Q(pk__in=declared)))


@pages.expands("event")
def _event_identifiers(event_ids: set[Any]) -> Iterable[pages.Root]:
    return _identifiers(TraceEvent.objects.filter(pk__in=event_ids))


@pages.expands("supplier")
@pages.expands("supplier-trace")  # the chains that pass through a supplier's records (their verdict changed)
def _supplier_identifiers(supplier_ids: set[Any]) -> Iterable[pages.Root]:
    return _identifiers(TraceEvent.objects.filter(supplier_id__in=supplier_ids))


@pages.expands("location")
def _location_identifiers(location_uris: set[Any]) -> Iterable[pages.Root]:
    """The events that happened at a facility: those whose business location or read point is one of its forms
    (as written, canonical, without a GLN extension — lineage.location_keys, which pages use to place events)."""
    places = set(TraceEvent.objects.values_list("biz_location", flat=True).distinct())
    places |= set(TraceEvent.objects.values_list("read_point", flat=True).distinct())
    at = {place for place in places if place and location_uris.intersection(location_keys(place))}
    if not at:
        return ()
    return _identifiers(TraceEvent.objects.filter(Q(biz_location__in=at) | Q(read_point__in=at)))


@pages.expands("identifier")
def _batches_downstream(identifiers: set[Any]) -> Iterable[pages.Root]:
    reached = walk_from(identifiers, DOWNSTREAM)
    lots: dict[str, set[str]] = {}
    for identifier in reached:
        if match := BATCH_IDENTIFIER.match(identifier):
            lots.setdefault(match.group(1), set()).add(identifier)
    if not lots:
        return
    for batch_id, gtin, lot in Batch.objects.filter(product__gtin__in=lots).values_list("pk", "product__gtin", "lot"):
        if gs1.gtin_uri(gtin, lot) in lots[gtin]:
            yield ("batch", batch_id)
            yield ("batch-trace", batch_id)


def _evidence_roots(evidence: Evidence) -> list[pages.Root]:
    """The steps it is cited for and the products whose declarations it backs."""
    if evidence.pk is None:
        return []
    roots: list[pages.Root] = [("event", pk) for pk in evidence.events.values_list("pk", flat=True)]
    for product_id in evidence.declarations.values_list("product_id", flat=True).distinct():
        roots += [("product", product_id), ("product-page-of", product_id)]
    return roots


def _evidence_revoked(evidence: Evidence, before: Any) -> bool:
    return evidence.revoked_at is not None


def _verdict_changed(head: ChainHead, before: ChainHead | None) -> list[pages.Root]:
    """Pages say whether each recording supplier's chain verifies: only a verdict that changes reaches them, not a
    head moving on over new events (which their captures reach themselves)."""
    was_broken = before.is_broken() if before is not None else False
    return [("supplier-trace", head.supplier_id)] if was_broken != head.is_broken() else []


def register() -> None:
    pages.shows(Facility, roots=lambda facility: [("location", facility.location_uri)], previous=True)
    pages.shows(Capture, roots=lambda capture: [("capture", str(capture.pk))])
    pages.shows(TraceEvent, roots=lambda event: [("event", event.pk)])
    pages.shows(ErrorDeclaration, roots=lambda declaration: [("event", declaration.event_id)])
    pages.shows(Evidence, roots=_evidence_roots, safety=_evidence_revoked)
    pages.shows(
        ChainHead,
        roots=lambda head: [],
        changes=_verdict_changed,
        safety=lambda head, before: head.is_broken(),
        previous=True,
    )
