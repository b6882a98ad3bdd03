"""Reads of provenance data that pages and the API share; they own select_related/prefetch_related."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery

from core import gs1
from products.models import Supplier
from provenance import epcis
from provenance.models import ChainHead, EventLine, Evidence, Facility, TraceEvent

# EPCIS events as documents ----------------------------------------------------------------------------------------


def event_by_id(event_id: str) -> TraceEvent | None:
    if "\x00" in event_id:
        return None  # no stored eventID has one, and PostgreSQL refuses to compare with it
    return (
        TraceEvent.objects.select_related("capture")
        .prefetch_related("error_declarations")
        .filter(event_id=event_id)
        .first()
    )


def event_document(event: TraceEvent) -> dict[str, Any]:
    """An event as EPCIS JSON: as captured, with its recordTime and latest error declaration if it lacks them."""
    document = dict(event.document)
    if "recordTime" not in document:
        document["recordTime"] = event.record_time.isoformat()
    declarations = list(event.error_declarations.all())  # prefetched, oldest first
    if declarations and "errorDeclaration" not in document:
        document["errorDeclaration"] = declarations[-1].document
    return document


def event_json_ld(event: TraceEvent) -> dict[str, Any]:
    """One event on its own, as a JSON-LD document: its @context first, then the event."""
    document = {key: value for key, value in event_document(event).items() if key != "@context"}
    return {"@context": events_context([event]), **document}


def query_document(events: Sequence[TraceEvent]) -> dict[str, Any]:
    """An EPCISQueryDocument listing the events, as the answer to a SimpleEventQuery."""
    return epcis.epcis_document(
        [event_document(event) for event in events], context=events_context(events), query_name="SimpleEventQuery"
    )


def events_context(events: Iterable[TraceEvent]) -> list[Any]:
    """A JSON-LD @context for events from several captures: GS1's, then each capture's own entries, once each."""
    entries: list[Any] = []
    for event in events:
        entries += event.capture.context
        own = event.document.get("@context")
        entries += own if isinstance(own, list) else [own] if own else []
    return epcis.merged_context(entries)


# Batch page -------------------------------------------------------------------------------------------------------


def evidence_for_declarations(declaration_ids: Iterable[int]) -> dict[int, list[Evidence]]:
    """Declaration id → the evidence cited for it, revoked and expired included (they are shown as such): one query."""
    cited: dict[int, list[Evidence]] = {}
    links = Evidence.declarations.through.objects.filter(declaration_id__in=list(declaration_ids))
    for link in links.select_related("evidence").order_by("evidence__title", "evidence_id"):
        cited.setdefault(link.declaration_id, []).append(link.evidence)
    return cited


def evidence_for_events(event_ids: Iterable[int]) -> dict[int, list[Evidence]]:
    """Trace event id → the evidence cited for it, revoked and expired included: one query."""
    cited: dict[int, list[Evidence]] = {}
    links = Evidence.events.through.objects.filter(traceevent_id__in=list(event_ids))
    for link in links.select_related("evidence").order_by("evidence__title", "evidence_id"):
        cited.setdefault(link.traceevent_id, []).append(link.evidence)
    return cited


def batch_is_traced(batch: Any) -> bool:
    """Whether any trace event names the batch (by its GS1 identifier): one query."""
    gtin = batch.product.gtin
    return bool(gtin) and EventLine.objects.filter(identifier=gs1.gtin_uri(gtin, batch.lot)).exists()


# Hash chains ------------------------------------------------------------------------------------------------------


class ChainState(models.TextChoices):
    VERIFIED = "verified", "Verified"
    PENDING = "pending", "Verified so far"  # events recorded since the head's last check are not checked yet
    BROKEN = "broken", "Broken"


@dataclass(frozen=True)
class ChainStatus:
    """What is known of a supplier's hash chain, read from its head: nothing is hashed (see provenance.hashchain)."""

    supplier_id: int
    recorded: int  # events in the chain
    verified_through: int = 0
    verified_at: datetime | None = None
    fully_verified_at: datetime | None = None
    broken_at: int | None = None
    broken_event_id: str = ""
    broken_reason: str = ""
    broken_found_at: datetime | None = None

    @classmethod
    def of_head(cls, head: ChainHead, *, recorded: int) -> "ChainStatus":
        return cls(
            supplier_id=head.supplier_id,
            recorded=recorded,
            **{name: getattr(head, name) for name in _HEAD_FIELDS},
        )

    @property
    def unchecked(self) -> int:
        """Events recorded after the last one verified."""
        return max(self.recorded - self.verified_through, 0)

    @property
    def state(self) -> ChainState:
        if self.broken_at is not None:
            return ChainState.BROKEN
        return ChainState.PENDING if self.unchecked else ChainState.VERIFIED

    @property
    def intact(self) -> bool:
        """No break is known: what pages call verified. A pending chain is intact (every event checked so far
        verifies, and the rest are checked seconds after they were recorded); a break is shown once found."""
        return self.broken_at is None


_HEAD_FIELDS = [
    "verified_through", "verified_at", "fully_verified_at", "broken_at", "broken_event_id", "broken_reason",
    "broken_found_at",
]  # fmt: skip


def chain_length(supplier: str = "supplier_id") -> Subquery:
    """The number of events in the chain of the outer query's supplier (at `supplier`), NULL for none: the last
    event's chain_index, found in the chain's index."""
    last = TraceEvent.objects.filter(supplier_id=OuterRef(supplier)).order_by("-chain_index")
    return Subquery(last.values("chain_index")[:1])


def chains_status(supplier_ids: Iterable[int]) -> dict[int, ChainStatus]:
    """Supplier id → the status of its hash chain, for each of the suppliers that exists: one query, whatever their
    number (no query for none). A supplier without events has an empty chain, which verifies."""
    ids = sorted(set(supplier_ids))
    if not ids:
        return {}
    rows = (
        Supplier.objects.filter(pk__in=ids)
        .annotate(recorded=chain_length("pk"))
        .values("pk", "recorded", *(f"chain_head__{name}" for name in _HEAD_FIELDS))
    )
    statuses = {}
    for row in rows:
        head = {name: row[f"chain_head__{name}"] for name in _HEAD_FIELDS}
        # No head yet (a chain whose first check has not run): nothing verified, no break known.
        head["verified_through"] = head["verified_through"] or 0
        head["broken_event_id"], head["broken_reason"] = head["broken_event_id"] or "", head["broken_reason"] or ""
        statuses[row["pk"]] = ChainStatus(supplier_id=row["pk"], recorded=row["recorded"] or 0, **head)
    return statuses


def facilities_of(*, supplier_id: int, ids: Iterable[int] | None = None) -> QuerySet[Facility]:
    """A supplier's own facilities (among `ids`, when given), by name."""
    facilities = Facility.objects.filter(owner_id=supplier_id)
    if ids is not None:
        facilities = facilities.filter(pk__in=list(ids))
    return facilities.order_by("name", "pk")
