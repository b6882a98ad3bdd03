"""Every write to provenance: EPCIS capture (all or nothing), facilities and evidence."""

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from products.models import Supplier
from provenance import epcis, hashchain
from provenance.models import Capture, ErrorDeclaration, EventLine, Evidence, Facility, TraceEvent

BULK_SIZE = 1000
ANALYZE_AFTER = 5000
FACILITY_FIELDS = frozenset(
    {"name", "kind", "address", "country", "latitude", "longitude", "gln", "open_supply_hub_id", "location_uri"}
)
EVIDENCE_FIELDS = frozenset(
    {"title", "issuer", "scheme", "url", "document", "sha256", "level", "valid_from", "valid_until"}
)


def _analyze_provenance_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE provenance_traceevent, provenance_eventline")


def _chunks(items: list[Any], size: int = BULK_SIZE) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _event_row(
    event: dict[str, Any], *, supplier: Supplier, capture: Capture, event_id: str, generated: bool
) -> TraceEvent:
    event_time = epcis.require_time(event["eventTime"])
    return TraceEvent(
        supplier=supplier,
        capture=capture,
        event_id=event_id,
        event_id_generated=generated,
        type=event["type"],
        action=event.get("action", ""),
        event_time=event_time,
        event_time_zone_offset=event.get("eventTimeZoneOffset", ""),
        record_time=capture.created_at,
        biz_step=epcis.short_term("bizStep", event.get("bizStep", "")),
        disposition=epcis.short_term("disposition", event.get("disposition", "")),
        read_point=(event.get("readPoint") or {}).get("id", ""),
        biz_location=(event.get("bizLocation") or {}).get("id", ""),
        transformation_id=event.get("transformationID", ""),
        document=event,
    )


def _error_row(event: TraceEvent, declaration: dict[str, Any], capture: Capture) -> ErrorDeclaration:
    return ErrorDeclaration(
        event=event,
        capture=capture,
        declaration_time=epcis.require_time(declaration["declarationTime"]),
        reason=str(declaration.get("reason", "")),
        corrective_event_ids=list(declaration.get("correctiveEventIDs", [])),
        document=declaration,
    )


@transaction.atomic
def capture_document(*, supplier: Supplier, submitted_by: User | None, document: Any) -> Capture:
    """Store a whole EPCIS document for a supplier, all or nothing: validated, deduplicated, hash-chained.

    Raises epcis.InvalidDocument (nothing stored) when any part of it is invalid. An event whose eventID is already
    stored is skipped; one that carries an errorDeclaration marks the stored event as erroneous instead.
    """
    events = epcis.validate_document(document)
    if supplier.is_suspended:
        raise ValidationError("A suspended supplier cannot record trace events.")
    # One writer per supplier chain at a time: the chain's order is the order of commits.
    Supplier.objects.select_for_update().filter(pk=supplier.pk).first()
    head = TraceEvent.objects.filter(supplier=supplier).order_by("-chain_index").values("chain_index", "hash").first()
    index, previous = (head["chain_index"], head["hash"]) if head else (0, hashchain.GENESIS)

    context = document.get("@context", [])
    capture = Capture.objects.create(
        supplier=supplier,
        submitted_by=submitted_by,
        document_id=str(document.get("id", ""))[:512],
        context=context if isinstance(context, list) else [context],
    )
    given = [(event, event.get("eventID") or hashchain.generated_event_id(event)) for event in events]
    stored: dict[str, TraceEvent] = {}
    for chunk in _chunks([event_id for _, event_id in given]):
        stored |= {
            e.event_id: e for e in TraceEvent.objects.filter(event_id__in=chunk).only("id", "event_id", "supplier")
        }

    new_events: list[TraceEvent] = []
    pending_errors: list[tuple[str, dict[str, Any]]] = []
    duplicates = 0
    problems: list[epcis.Problem] = []
    for position, (event, event_id) in enumerate(given):
        declaration = event.get("errorDeclaration")
        earlier = stored.get(event_id)
        if earlier is not None:
            if declaration and earlier.supplier_id != supplier.pk:
                problems.append(
                    epcis.Problem(
                        f"$.epcisBody.eventList[{position}].eventID",
                        "Only the supplier that recorded an event may declare it erroneous.",
                    )
                )
            elif declaration:
                pending_errors.append((event_id, declaration))
            else:
                duplicates += 1
            continue
        index += 1
        row = _event_row(event, supplier=supplier, capture=capture, event_id=event_id, generated="eventID" not in event)
        row.chain_index, row.previous_hash = index, previous
        row.hash = previous = hashchain.link_hash(previous, event)
        new_events.append(row)
        stored[event_id] = row
        if declaration:
            pending_errors.append((event_id, declaration))
    if problems:
        raise epcis.InvalidDocument(problems)

    for chunk in _chunks(new_events):
        TraceEvent.objects.bulk_create(chunk)
    lines = [
        EventLine(event=row, role=line.role, identifier=line.identifier, is_class=line.is_class,
                  quantity=line.quantity, uom=line.uom)
        for row in new_events
        for line in epcis.event_lines(row.document)
    ]  # fmt: skip
    for chunk in _chunks(lines):
        EventLine.objects.bulk_create(chunk)
    ErrorDeclaration.objects.bulk_create([_error_row(stored[eid], decl, capture) for eid, decl in pending_errors])

    if len(new_events) >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # Fresh statistics after a bulk load, or lineage walks plan as if the tables were empty until autovacuum.
        transaction.on_commit(_analyze_provenance_tables)
    capture.event_count, capture.duplicate_count, capture.finished_at = len(new_events), duplicates, timezone.now()
    capture.save(update_fields=["event_count", "duplicate_count", "finished_at"])
    return capture


def _assign(instance: Any, data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    for field, value in data.items():
        setattr(instance, field, value)


def facility_location_uri(*, gln: str) -> str:
    """The identifier events use for a facility: its GLN as a GS1 Digital Link, or else a UUID URN of its own."""
    return f"https://id.gs1.org/414/{gln}" if gln else f"urn:uuid:{uuid.uuid4()}"


@transaction.atomic
def facility_create(*, owner: Supplier, data: Mapping[str, Any]) -> Facility:
    """Register a facility of a supplier's (or of its own suppliers')."""
    facility = Facility(owner=owner)
    _assign(facility, data, FACILITY_FIELDS)
    if not facility.location_uri:
        facility.location_uri = facility_location_uri(gln=facility.gln)
    facility.full_clean()
    facility.save()
    return facility


@transaction.atomic
def facility_update(*, facility: Facility, data: Mapping[str, Any]) -> Facility:
    _assign(facility, data, FACILITY_FIELDS - {"location_uri"})
    facility.full_clean()
    facility.save()
    return facility


def _file_sha256(document: Any) -> str:
    digest = hashlib.sha256()
    for chunk in document.chunks():
        digest.update(chunk)
    document.seek(0)
    return digest.hexdigest()


@transaction.atomic
def evidence_create(*, owner: Supplier, data: Mapping[str, Any]) -> Evidence:
    """Record a certificate, audit or test; an uploaded document's SHA-256 is computed here, never trusted."""
    evidence = Evidence(owner=owner)
    _assign(evidence, data, EVIDENCE_FIELDS)
    if evidence.document:
        evidence.sha256 = _file_sha256(evidence.document)
    evidence.full_clean()
    evidence.save()
    return evidence


@transaction.atomic
def evidence_revoke(*, evidence: Evidence, reason: str) -> Evidence:
    """Mark evidence as revoked (it stays, and is shown as revoked wherever it was cited)."""
    if not reason.strip():
        raise ValidationError({"revoked_reason": "Say why the evidence is revoked."})
    evidence.revoked_at = timezone.now()
    evidence.revoked_reason = reason.strip()
    evidence.save(update_fields=["revoked_at", "revoked_reason"])
    return evidence


@transaction.atomic
def evidence_links_add(
    *, evidence: Evidence, events: Iterable[TraceEvent] = (), declarations: Iterable[Any] = ()
) -> None:
    """Cite evidence for more of its owner's events and declarations (never another supplier's)."""
    events, declarations = list(events), list(declarations)
    if any(event.supplier_id != evidence.owner_id for event in events):
        raise ValidationError({"events": "Evidence can back only its owner's own events."})
    if any(declaration.product.supplier_id != evidence.owner_id for declaration in declarations):
        raise ValidationError({"declarations": "Evidence can back only its owner's own declarations."})
    evidence.events.add(*events)
    evidence.declarations.add(*declarations)


@transaction.atomic
def evidence_links_set(*, evidence: Evidence, events: Iterable[TraceEvent], declarations: Iterable[Any]) -> None:
    """Make exactly these events and declarations the ones the evidence backs."""
    evidence.events.clear()
    evidence.declarations.clear()
    evidence_links_add(evidence=evidence, events=events, declarations=declarations)
