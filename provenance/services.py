"""Every write to provenance: EPCIS capture (all or nothing), facilities and evidence."""

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from core import gs1, outbox
from core.audit import audit_record, changes_between, snapshot
from core.changes import assign_changes, save_changes
from products.models import Batch, Supplier
from provenance import epcis, hashchain, simple_events, tasks
from provenance.models import Capture, ChainHead, ErrorDeclaration, EventLine, Evidence, Facility, TraceEvent

BULK_SIZE = 1000
ANALYZE_AFTER = 5000


def _chunks(items: list[Any], size: int = BULK_SIZE) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _event_row(
    event: dict[str, Any], *, supplier: Supplier, capture: Capture, event_id: str, generated: bool
) -> TraceEvent:
    event_time = epcis.require_time(event["eventTime"])
    # Ids rather than objects: a capture builds thousands of rows, and the related-object descriptors add up.
    return TraceEvent(
        supplier_id=supplier.pk,
        capture_id=capture.pk,
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
    events = epcis.read_document(document)
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
    given = [(event, lines, event.get("eventID") or hashchain.generated_event_id(event)) for event, lines in events]
    stored: dict[str, TraceEvent] = {}
    for chunk in _chunks([event_id for _, _, event_id in given]):
        stored |= {
            e.event_id: e for e in TraceEvent.objects.filter(event_id__in=chunk).only("id", "event_id", "supplier")
        }

    new_events: list[TraceEvent] = []
    new_lines: list[tuple[TraceEvent, list[epcis.Line]]] = []
    pending_errors: list[tuple[str, dict[str, Any]]] = []
    duplicates = 0
    problems: list[epcis.Problem] = []
    for position, (event, event_lines, event_id) in enumerate(given):
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
        new_lines.append((row, event_lines))
        stored[event_id] = row
        if declaration:
            pending_errors.append((event_id, declaration))
    if problems:
        raise epcis.InvalidDocument(problems)

    for chunk in _chunks(new_events):
        TraceEvent.objects.bulk_create(chunk)
    lines = [
        EventLine(event_id=row.pk, role=line.role, identifier=line.identifier, is_class=line.is_class,
                  quantity=line.quantity, uom=line.uom)
        for row, event_lines in new_lines
        for line in event_lines
    ]  # fmt: skip
    for chunk in _chunks(lines):
        EventLine.objects.bulk_create(chunk)
    ErrorDeclaration.objects.bulk_create([_error_row(stored[eid], decl, capture) for eid, decl in pending_errors])

    if len(new_events) >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # Fresh statistics after a bulk load, or lineage walks plan as if the tables were empty until autovacuum.
        outbox.enqueue(tasks.provenance_tables_analyze)
    if new_events:
        # Once this commits, the head moves on over the new events alone: pages read the head, never hash.
        outbox.enqueue(tasks.chain_head_advance, supplier.pk)
    capture.event_count, capture.duplicate_count, capture.finished_at = len(new_events), duplicates, timezone.now()
    capture.save(update_fields=["event_count", "duplicate_count", "finished_at"])
    return capture


# Hash chains: their heads (see provenance.hashchain) ----------------------------------------------------------------


@transaction.atomic
def chain_head_advance(*, supplier_id: int, chunk_size: int = hashchain.CHUNK_SIZE) -> ChainHead:
    """Verify a supplier's events recorded after its head's last verified one, from the hash verified there, and move
    the head on to the last of them, or record where the chain breaks; a chain with no head is verified from its
    first event. Nothing verified before is hashed again. A broken head stays as it is: only a verification from the
    first event clears a break. Idempotent: run again with nothing new, it changes nothing."""
    head = _chain_head_locked(supplier_id)
    if not head.is_broken():
        _chain_head_extend(head, chunk_size)
    return head


@transaction.atomic
def chain_head_record(*, report: hashchain.ChainReport, chunk_size: int = hashchain.CHUNK_SIZE) -> ChainHead:
    """Record a verification of a supplier's whole chain (hashchain.chain_verify) on its head.

    A break is recorded (when it was first found is kept while it stays the same). A pass clears a recorded break
    if it reached the broken event, and moves the head on to where it ended; the head then goes on over the events
    recorded while the chain was read.
    """
    head = _chain_head_locked(report.supplier_id)
    now = timezone.now()
    if not report.ok:
        _chain_head_break(head, report, now)
        return head
    head.fully_verified_at = now
    # A chain broken after the point this verification read to (at an event captured meanwhile) stays broken.
    if head.broken_at is not None and report.through >= head.broken_at:
        head.broken_at, head.broken_event_id, head.broken_reason, head.broken_found_at = None, "", "", None
        head.verified_through, head.verified_hash, head.verified_at = report.through, report.through_hash, now
    elif head.broken_at is None and report.through > head.verified_through:
        head.verified_through, head.verified_hash, head.verified_at = report.through, report.through_hash, now
    head.save()
    if not head.is_broken():
        _chain_head_extend(head, chunk_size)
    return head


def chain_heads_verify_all(*, chunk_size: int = hashchain.CHUNK_SIZE) -> list[hashchain.ChainReport]:
    """Verify every supplier's chain from its first event and record each outcome on its head (the nightly check).

    Not one transaction: each chain is read and hashed without holding its head's lock (captures and their checks go
    on meanwhile), then its outcome is recorded in a short transaction of its own. Each head's checkpoint is read
    first, so a chain rewritten since it was verified does not pass.
    """
    checkpoints = {
        supplier_id: (through, verified_hash)
        for supplier_id, through, verified_hash in ChainHead.objects.values_list(
            "supplier_id", "verified_through", "verified_hash"
        )
    }
    recorders = Supplier.objects.filter(Exists(TraceEvent.objects.filter(supplier_id=OuterRef("pk"))))
    reports = []
    for supplier_id in recorders.order_by("pk").values_list("pk", flat=True):
        report = hashchain.chain_verify(
            supplier_id=supplier_id, checkpoint=checkpoints.get(supplier_id), chunk_size=chunk_size
        )
        chain_head_record(report=report, chunk_size=chunk_size)
        reports.append(report)
    return reports


def _chain_head_locked(supplier_id: int) -> ChainHead:
    """The supplier's chain head (a new one verified through nothing yet), locked until the transaction ends:
    concurrent checks of one chain take turns, each starting where the one before left the head."""
    ChainHead.objects.get_or_create(supplier_id=supplier_id, defaults={"verified_hash": hashchain.GENESIS})
    return ChainHead.objects.select_for_update().get(supplier_id=supplier_id)


def _chain_head_extend(head: ChainHead, chunk_size: int) -> None:
    report = hashchain.chain_verify_after(
        supplier_id=head.supplier_id, checkpoint=(head.verified_through, head.verified_hash), chunk_size=chunk_size
    )
    now = timezone.now()
    if not report.ok:
        _chain_head_break(head, report, now)
    elif report.through > head.verified_through:
        head.verified_through, head.verified_hash, head.verified_at = report.through, report.through_hash, now
        head.save(update_fields=["verified_through", "verified_hash", "verified_at"])


def _chain_head_break(head: ChainHead, report: hashchain.ChainReport, now: datetime) -> None:
    if (head.broken_at, head.broken_reason) != (report.broken_at, report.reason):
        head.broken_found_at = now
    head.broken_at, head.broken_event_id, head.broken_reason = report.broken_at, report.broken_event_id, report.reason
    if report.through > head.verified_through:  # the events before the break verified: a later checkpoint
        head.verified_through, head.verified_hash, head.verified_at = report.through, report.through_hash, now
    head.full_clean()
    head.save()


class FacilityFields(TypedDict, total=False):
    kind: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    gln: str
    open_supply_hub_id: str
    location_uri: str


class FacilityChanges(TypedDict, total=False):
    name: str
    kind: str
    address: str
    country: str
    latitude: Decimal | None
    longitude: Decimal | None
    gln: str
    open_supply_hub_id: str


class EvidenceFields(TypedDict, total=False):
    scheme: str
    url: str
    document: Any
    sha256: str
    level: str
    valid_from: date | None
    valid_until: date | None


FACILITY_FIELDS = frozenset(FacilityFields.__annotations__) | {"name", "country"}
EVIDENCE_FIELDS = frozenset(EvidenceFields.__annotations__) | {"title", "issuer"}


def facility_location_uri(*, gln: str) -> str:
    """The identifier events use for a facility: its GLN as a GS1 Digital Link, or else a UUID URN of its own."""
    return f"https://id.gs1.org/414/{gln}" if gln else f"urn:uuid:{uuid.uuid4()}"


@transaction.atomic
def facility_create(*, owner: Supplier, name: str, country: str, **fields: Unpack[FacilityFields]) -> Facility:
    """Register a facility of a supplier's (or of its own suppliers')."""
    facility = Facility(owner=owner, name=name, country=country)
    assign_changes(facility, fields, FACILITY_FIELDS)
    if not facility.location_uri:
        facility.location_uri = facility_location_uri(gln=facility.gln)
    facility.full_clean()
    facility.save()
    return facility


@transaction.atomic
def facility_update(*, facility: Facility, **changes: Unpack[FacilityChanges]) -> Facility:
    """Change a facility; its location_uri never changes (events name it). Only changed fields are written."""
    save_changes(facility, assign_changes(facility, changes, FACILITY_FIELDS - {"location_uri"}))
    return facility


def _file_sha256(document: Any) -> str:
    digest = hashlib.sha256()
    for chunk in document.chunks():
        digest.update(chunk)
    document.seek(0)
    return digest.hexdigest()


EVIDENCE_HISTORY_FIELDS = ("title", "issuer", "scheme", "level", "url", "sha256", "valid_from", "valid_until")


@transaction.atomic
def evidence_create(
    *, owner: Supplier, title: str, issuer: str, actor: User | None = None, **fields: Unpack[EvidenceFields]
) -> Evidence:
    """Record a certificate, audit or test; an uploaded document's SHA-256 is computed here, never trusted."""
    evidence = Evidence(owner=owner, title=title, issuer=issuer)
    assign_changes(evidence, fields, EVIDENCE_FIELDS)
    if evidence.document:
        evidence.sha256 = _file_sha256(evidence.document)
    evidence.full_clean()
    evidence.save()
    audit_record(
        actor=actor,
        action="evidence.added",
        target=evidence,
        supplier_id=owner.pk,
        changes=changes_between({}, snapshot(evidence, EVIDENCE_HISTORY_FIELDS)),
    )
    return evidence


@transaction.atomic
def evidence_revoke(*, evidence: Evidence, reason: str, actor: User | None = None) -> Evidence:
    """Mark evidence as revoked (it stays, and is shown as revoked wherever it was cited)."""
    if not reason.strip():
        raise ValidationError({"revoked_reason": "Say why the evidence is revoked."})
    if evidence.revoked_at is not None:
        raise ValidationError(f"{evidence} was already revoked on {evidence.revoked_at:%Y-%m-%d}.")
    evidence.revoked_at = timezone.now()
    evidence.revoked_reason = reason.strip()
    evidence.save(update_fields=["revoked_at", "revoked_reason"])
    audit_record(actor=actor, action="evidence.revoked", target=evidence, supplier_id=evidence.owner_id, reason=reason)
    return evidence


def _link_changes(events: Iterable[TraceEvent], declarations: Iterable[Any]) -> dict[str, Any]:
    return {
        "events": sorted(event.event_id for event in events),
        "declarations": sorted(declaration.pk for declaration in declarations),
    }


@transaction.atomic
def evidence_links_add(
    *,
    evidence: Evidence,
    events: Iterable[TraceEvent] = (),
    declarations: Iterable[Any] = (),
    actor: User | None = None,
) -> None:
    """Cite evidence for more of its owner's events and declarations (never another supplier's)."""
    events, declarations = list(events), list(declarations)
    if any(event.supplier_id != evidence.owner_id for event in events):
        raise ValidationError({"events": "Evidence can back only its owner's own events."})
    if any(declaration.product.supplier_id != evidence.owner_id for declaration in declarations):
        raise ValidationError({"declarations": "Evidence can back only its owner's own declarations."})
    known_events = set(evidence.events.values_list("pk", flat=True))
    known_declarations = set(evidence.declarations.values_list("pk", flat=True))
    new_events = [event for event in events if event.pk not in known_events]
    new_declarations = [declaration for declaration in declarations if declaration.pk not in known_declarations]
    if not (new_events or new_declarations):
        return
    evidence.events.add(*new_events)
    evidence.declarations.add(*new_declarations)
    audit_record(
        actor=actor,
        action="evidence.linked",
        target=evidence,
        supplier_id=evidence.owner_id,
        changes=_link_changes(new_events, new_declarations),
    )


@transaction.atomic
def evidence_links_set(
    *, evidence: Evidence, events: Iterable[TraceEvent], declarations: Iterable[Any], actor: User | None = None
) -> None:
    """Make exactly these events and declarations the ones the evidence backs."""
    events, declarations = list(events), list(declarations)
    keep_events, keep_declarations = {e.pk for e in events}, {d.pk for d in declarations}
    gone_events = list(evidence.events.exclude(pk__in=keep_events).only("id", "event_id"))
    gone_declarations = list(evidence.declarations.exclude(pk__in=keep_declarations).only("id"))
    evidence_links_add(evidence=evidence, events=events, declarations=declarations, actor=actor)
    if gone_events or gone_declarations:
        evidence.events.remove(*gone_events)
        evidence.declarations.remove(*gone_declarations)
        audit_record(
            actor=actor,
            action="evidence.unlinked",
            target=evidence,
            supplier_id=evidence.owner_id,
            changes=_link_changes(gone_events, gone_declarations),
        )


# Simple events: harvest, ship, receive, transform and inspect, from plain values (the dashboard's form, the demo) --


@dataclass(frozen=True)
class Item:
    """What a simple event is of, or what came out of it: a batch of the catalogue, or another lot (a URI, or a plain
    lot code of the facility's owner), with a quantity and its unit when known."""

    batch: Batch | None = None
    lot: str = ""
    quantity: Decimal | None = None
    uom: str = ""


@dataclass(frozen=True)
class SimpleEvent:
    """A harvest, shipment, receipt, transformation or inspection at one of a supplier's facilities."""

    kind: str
    facility: Facility
    when: datetime
    items: tuple[Item, ...] = ()
    outputs: tuple[Item, ...] = ()
    other_facility: Facility | None = None
    result: str = ""
    note: str = ""
    event_id: str = ""


FUTURE_TOLERANCE = timedelta(minutes=5)


def _item_amount(
    item: Item, prefix: str, facility: Facility, errors: dict[str, list[str]]
) -> simple_events.Amount | None:
    def problem(field: str, message: str) -> None:
        errors.setdefault(f"{prefix}.{field}", []).append(message)

    if item.quantity is not None and not item.uom:
        problem("uom", "Give the unit of this quantity.")
    if item.uom and item.quantity is None:
        problem("quantity", "Give the quantity, or leave the unit empty.")
    lot = item.lot.strip()
    if item.batch is not None and lot:
        problem("lot", "Pick a batch or give a lot, not both.")
        return None
    if item.batch is None and not lot:
        problem("batch", "Say what this is of: pick a batch or give a lot.")
        return None
    if item.batch is not None:
        batch = item.batch
        if not batch.product.gtin:
            problem(
                "batch",
                f"{batch.product.name}, lot {batch.lot} cannot be used: its product has no GTIN, so the batch has no "
                "GS1 identifier for trace events. Give the product a GTIN first.",
            )
            return None
        if batch.product.supplier_id != facility.owner_id:
            problem("batch", "This batch belongs to another supplier than the facility.")
            return None
        identifier = gs1.gtin_uri(batch.product.gtin, batch.lot)
    else:
        try:
            identifier = simple_events.lot_identifier(lot, supplier_id=facility.owner_id)
        except ValueError as error:
            problem("lot", str(error))
            return None
    return simple_events.Amount(identifier, item.quantity, item.uom if item.quantity is not None else "")


def simple_event_build(event: SimpleEvent) -> dict[str, Any]:
    """Check a simple event against the rules and build its EPCIS 2.0 event; ValidationError keyed by what is wrong
    (`when`, `items`, `items[0].quantity`, `outputs[0].batch`, `other_facility`, `result`, …)."""
    errors: dict[str, list[str]] = {}

    def problem(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    kind, facility = event.kind, event.facility
    if kind not in simple_events.SimpleKind.values:
        raise ValidationError({"kind": f"Unknown kind of event {kind!r}."})
    items = [_item_amount(item, f"items[{i}]", facility, errors) for i, item in enumerate(event.items)]
    outputs = [_item_amount(item, f"outputs[{i}]", facility, errors) for i, item in enumerate(event.outputs)]
    name = simple_events.SimpleKind(kind).label.split(" (")[0].lower()
    uses_items = kind != simple_events.SimpleKind.HARVEST
    uses_output = kind in (simple_events.SimpleKind.HARVEST, simple_events.SimpleKind.TRANSFORM)
    if not uses_items and event.items:
        problem("items", f"A {name} has no inputs: put what was harvested under what came out.")
    if uses_items and not event.items:
        problem("items", f"Say what the {name} was of: pick a batch or give a lot.")
    if uses_output and not event.outputs:
        problem("outputs", f"Say what came out of the {name}: pick a batch or give a lot.")
    if not uses_output and event.outputs:
        problem("outputs", f"A {name} has no output: leave it empty.")
    if uses_output:
        for i, item in enumerate(event.outputs):
            if item.quantity is None:
                problem(f"outputs[{i}].quantity", f"Give the quantity that came out of the {name}.")
    if kind == simple_events.SimpleKind.TRANSFORM:
        for i, item in enumerate(event.items):
            if item.quantity is None:
                problem(f"items[{i}].quantity", "A transformation needs the quantity of each input.")
    if kind == simple_events.SimpleKind.INSPECT:
        if len(event.items) > 1:
            problem("items", "Record one inspection per lot.")
        if event.result not in dict(simple_events.INSPECTION_RESULTS):
            problem("result", "Say whether it passed.")
    elif event.result or event.note.strip():
        problem("result", "Only an inspection has a result: leave the result and note empty.")
    other = event.other_facility
    if kind in (simple_events.SimpleKind.SHIP, simple_events.SimpleKind.RECEIVE):
        if other is not None and other.pk == facility.pk:
            problem("other_facility", "The goods go from one facility to another: pick the other one.")
    elif other is not None:
        problem("other_facility", "Only a shipment or a receipt has another facility.")
    if event.when.tzinfo is None:
        problem("when", "Give the time with its offset from UTC.")
    elif event.when > timezone.now() + FUTURE_TOLERANCE:
        problem("when", "This is in the future: record an event once it has happened.")
    if errors:
        raise ValidationError(errors)
    output = event.outputs[0] if event.outputs else None
    lot_code = output.lot.strip() if output and output.batch is None else ""
    return simple_events.simple_event(
        kind=kind,
        location=facility.location_uri,
        when=event.when,
        items=[amount for amount in items if amount],
        outputs=[amount for amount in outputs if amount],
        other_location=other.location_uri if other else "",
        result=event.result,
        note=event.note.strip(),
        # A plain lot code became an opaque URN: the event that creates the lot keeps the code people use.
        ilmd={f"{simple_events.EXTENSION_PREFIX}:lotCode": lot_code}
        if lot_code and not simple_events.URI_SCHEME.match(lot_code)
        else None,
        event_id=event.event_id,
    )


@transaction.atomic
def simple_events_record(*, events: Sequence[SimpleEvent], submitted_by: User | None) -> Capture:
    """Record simple events of one supplier's facilities as one EPCIS capture (all or nothing)."""
    if not events:
        raise ValidationError("Nothing to record.")
    suppliers = {event.facility.owner_id for event in events}
    if len(suppliers) != 1:
        raise ValidationError({"facility": "Events recorded together belong to one supplier's facilities."})
    documents = [simple_event_build(event) for event in events]
    ids = [document.get("eventID") or hashchain.generated_event_id(document) for document in documents]
    if TraceEvent.objects.filter(event_id__in=ids).exists():
        raise ValidationError("Exactly this event is already recorded.")
    try:
        return capture_document(
            supplier=events[0].facility.owner,
            submitted_by=submitted_by,
            document=epcis.epcis_document(documents, context=[simple_events.CONTEXT]),
        )
    except epcis.InvalidDocument as invalid:
        raise ValidationError([f"{problem.message} (at {problem.path})" for problem in invalid.problems]) from None


# Sales: a sale the network guarantees, recorded in the seller's chain ----------------------------------------------

# CBV 2.0: retail_selling is "a point-of-sale [step] for the purpose of transferring ownership to a customer in
# exchange for something of value (currency, credit, etc.)", and retail_sold the disposition of what was sold.
SALE_BIZ_STEP = "retail_selling"
SALE_DISPOSITION = "retail_sold"
SALE_NAMESPACE = uuid.UUID("0b6f3c52-8a47-5d1e-b2f4-6c9e1a7d3f80")


@dataclass(frozen=True)
class Guarantor:
    """Who answers for a sale if what was sold is not as promised: a URI naming them, their name, and the account
    their guarantee is paid from."""

    party: str
    name: str
    fund: str = ""


def _sale_event_id(biz_transaction: str) -> str:
    """The eventID of the sale of a business transaction: the same transaction, the same event."""
    return f"urn:uuid:{uuid.uuid5(SALE_NAMESPACE, f'sale/{biz_transaction}')}"


def _sale_event(
    *,
    supplier: Supplier,
    lines: Sequence[tuple[str, int | Decimal]],
    biz_transaction: str,
    when: datetime,
    buyer: str,
    guarantor: Guarantor,
    supplier_url: str,
) -> dict[str, Any]:
    """The EPCIS 2.0 TransactionEvent of a guaranteed sale (see sale_record)."""
    if when.tzinfo is None:
        raise ValidationError({"when": "Give the time with its offset from UTC."})
    if not lines:
        raise ValidationError({"lines": "A sale sells something."})
    seller = f"https://id.gs1.org/417/{supplier.gln}" if supplier.gln else supplier_url
    if not seller:
        raise ValidationError({"supplier_url": "A supplier without a GLN is named by its public URL."})
    local = timezone.localtime(when)
    guarantee: dict[str, str] = {
        f"{simple_events.EXTENSION_PREFIX}:party": guarantor.party,
        f"{simple_events.EXTENSION_PREFIX}:name": guarantor.name,
    }
    if guarantor.fund:
        guarantee[f"{simple_events.EXTENSION_PREFIX}:guaranteeFund"] = guarantor.fund
    return {
        "type": "TransactionEvent",
        "eventID": _sale_event_id(biz_transaction),
        "eventTime": local.isoformat(),
        "eventTimeZoneOffset": epcis.format_offset(local),
        "action": "ADD",
        "bizStep": SALE_BIZ_STEP,
        "disposition": SALE_DISPOSITION,
        "bizTransactionList": [{"type": "po", "bizTransaction": biz_transaction}],
        # A count of units: no uom (EPCIS: a quantity without uom counts instances of the class).
        "quantityList": [
            {"epcClass": identifier, "quantity": int(quantity) if quantity == int(quantity) else float(quantity)}
            for identifier, quantity in lines
        ],
        "sourceList": [{"type": "owning_party", "source": seller}],
        "destinationList": [{"type": "owning_party", "destination": buyer}],
        f"{simple_events.EXTENSION_PREFIX}:guarantor": guarantee,
    }


@transaction.atomic
def sale_record(
    *,
    supplier: Supplier,
    lines: Sequence[tuple[str, int | Decimal]],
    biz_transaction: str,
    when: datetime,
    buyer: str,
    guarantor: Guarantor,
    supplier_url: str = "",
) -> TraceEvent:
    """Record a sale in the supplier's chain as an EPCIS TransactionEvent (ADD, retail_selling, retail_sold) naming
    a guarantor: `lines` are (a batch's class identifier, units sold), `biz_transaction` the URI of the sale (its
    eventID is derived from it, so recording it again returns the first event), `buyer` a URI that names the buyer
    without identifying them, `supplier_url` the supplier's public URL (its GLN names it when it has one)."""
    event_id = _sale_event_id(biz_transaction)
    stored = TraceEvent.objects.filter(event_id=event_id).first()
    if stored is not None:
        return stored
    event = _sale_event(
        supplier=supplier,
        lines=lines,
        biz_transaction=biz_transaction,
        when=when,
        buyer=buyer,
        guarantor=guarantor,
        supplier_url=supplier_url,
    )
    capture_document(
        supplier=supplier,
        submitted_by=None,
        document=epcis.epcis_document([event], context=[simple_events.CONTEXT]),
    )
    return TraceEvent.objects.get(event_id=event_id)
