"""Lineage: from a batch back to every origin it was made from, and forward to everything made from it.

The walk is over EventLine identifiers (canonical GS1 Digital Link URIs), in SQL: one recursive CTE per direction,
`WITH RECURSIVE … UNION` (UNION, not UNION ALL, so a cycle in the recorded events ends the walk instead of looping),
portable between PostgreSQL and SQLite. Edges:

- TransformationEvent: output → inputs (upstream), input → outputs (downstream). Events that share a
  transformationID are one transformation: the outputs of one reach the inputs of the others.
- AggregationEvent: parent ↔ child, both ways in both directions — a container stands for what is in it, and what
  is in it for the container (a transformation may consume or produce either). This over-approximates: the other
  contents of a shared pallet are reached too, which is the safe side for a recall.
- Events declared erroneous (EPCIS errorDeclaration) are not walked and not shown.

Then a fixed number of queries fetch the events touching any identifier of the lineage, their lines, the facilities
they happened at and the evidence attached to them: the query count never depends on the depth of the chain.

Each recursive step is a handful of index lookups (bench/lineage.py: a 5,000-deep chain in ~35 ms on either
database). On PostgreSQL that plan needs table statistics: on tables never analysed since a bulk load the planner
takes them for tiny and scans them once per step until autovacuum's ANALYZE has run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models.expressions import RawSQL

from core import gs1
from products.access import Access
from products.models import Batch, Supplier
from products.selectors import batch_list_for
from provenance import epcis
from provenance.epcis import Line
from provenance.models import Capture, ErrorDeclaration, EventLine, Evidence, Facility, TraceEvent
from provenance.selectors import ChainStatus, chains_status

Role = EventLine.Role
EventType = TraceEvent.Type

# (role an identifier has in an event, role of the identifiers the walk moves on to) for a transformation.
UPSTREAM = (Role.OUTPUT, Role.INPUT)
DOWNSTREAM = (Role.INPUT, Role.OUTPUT)

# A sale recorded as a business transaction (a TransactionEvent with CBV bizStep retail_selling, as the network
# records the credit sales it guarantees: provenance.services.sale_record) is part of a batch's record and its EPCIS
# export, but not a hop of its chain from raw material to shelf. A supplier's own observation of a sale (an
# ObjectEvent at the till) still is a hop: the chain's last step, "Sold".
SALE_TRANSACTIONS = frozenset({"retail_selling"})

# A list passed to the database as one JSON parameter: the query text (and the parameter count, which SQLite
# limits) stays the same however long the lineage is.
_JSON_LIST_SQL = {
    "postgresql": "SELECT json_array_elements_text(%s::json)",
    "sqlite": "SELECT value FROM json_each(%s)",
}


def _walk_sql(*, many: bool = False) -> str:
    line, event, errors = EventLine._meta.db_table, TraceEvent._meta.db_table, ErrorDeclaration._meta.db_table
    start = _roots_sql() if many else "SELECT CAST(%(root)s AS TEXT)"
    # Written for the planners of both databases: every join is an equality on an indexed column, with no OR in a
    # join condition (one in the sibling join made both planners scan a table once per step: quadratic in depth).
    # - CAST to TEXT on both sides: PostgreSQL wants one column type in both terms of a recursive CTE.
    # - `sibling`: the other events of the same transformationID; NULLIF makes an event without one match none
    #   (instead of every other event without one), and COALESCE then falls back to the event itself.
    return f"""
        WITH RECURSIVE walk(identifier) AS (
            {start}
            UNION
            SELECT CAST(next_line.identifier AS TEXT)
            FROM walk
            JOIN {line} AS line ON line.identifier = walk.identifier
            JOIN {event} AS event ON event.id = line.event_id
            LEFT JOIN {event} AS sibling ON sibling.transformation_id = NULLIF(event.transformation_id, '')
            JOIN {line} AS next_line ON next_line.event_id = COALESCE(sibling.id, event.id)
            WHERE (
                (event.type = %(transformation)s AND line.role = %(from_role)s AND next_line.role = %(to_role)s)
                OR (event.type = %(aggregation)s
                    AND line.role IN (%(parent)s, %(child)s) AND next_line.role IN (%(parent)s, %(child)s)
                    AND next_line.role <> line.role)
            )
            AND NOT EXISTS (SELECT 1 FROM {errors} AS e WHERE e.event_id = event.id)
            AND NOT EXISTS (SELECT 1 FROM {errors} AS e WHERE e.event_id = next_line.event_id)
        )
        SELECT identifier FROM walk
    """


def walk(root: str, direction: tuple[str, str]) -> set[str]:
    """Every identifier reachable from `root` in one direction (UPSTREAM or DOWNSTREAM), root excluded: one query."""
    return _walked({"root": root}, direction, many=False) - {root}


def walk_from(roots: Iterable[str], direction: tuple[str, str]) -> set[str]:
    """Every identifier reachable from any of `roots` in one direction, roots included: one query however many."""
    roots = sorted(set(roots))
    if not roots:
        return set()
    return _walked({"roots": json.dumps(roots)}, direction, many=True) | set(roots)


def _walked(start: dict[str, str], direction: tuple[str, str], *, many: bool) -> set[str]:
    from_role, to_role = direction
    params = start | {
        "transformation": EventType.TRANSFORMATION,
        "aggregation": EventType.AGGREGATION,
        "from_role": from_role,
        "to_role": to_role,
        "parent": Role.PARENT,
        "child": Role.CHILD,
    }
    with connection.cursor() as cursor:
        cursor.execute(_walk_sql(many=many), params)
        return {identifier for (identifier,) in cursor.fetchall()}


def _roots_sql() -> str:
    # The walk's start: every identifier of a JSON list, one parameter.
    if connection.vendor == "postgresql":
        return "SELECT CAST(value AS TEXT) FROM json_array_elements_text(%(roots)s::json) AS value"
    return "SELECT CAST(value AS TEXT) FROM json_each(%(roots)s)"


def _any_of(values: Iterable[str]) -> RawSQL | list[str]:
    """The right-hand side of an `__in` lookup for a list of any length, in one parameter where the database can."""
    values = sorted(set(values))
    sql = _JSON_LIST_SQL.get(connection.vendor)
    return RawSQL(sql, [json.dumps(values)]) if sql else values


def location_keys(uri: str) -> list[str]:
    """What a facility's location_uri may be for a readPoint / bizLocation: as written, canonical, without extension.

    Events name places as SGLN URNs or Digital Links, often with a GLN extension (a dock door, a line) where the
    facility is registered by its GLN alone.
    """
    if not uri:
        return []
    keys = [uri]
    try:
        canonical = gs1.canonical(uri)
    except ValueError:
        return keys
    keys.append(canonical)
    if "/254/" in canonical:
        keys.append(canonical.split("/254/", 1)[0])
    return list(dict.fromkeys(keys))


@dataclass(frozen=True)
class Hop:
    """One event of the chain, where and when it happened, and how well it is backed."""

    event: TraceEvent
    facility: Facility | None
    country: str | None
    date: date
    biz_step: str
    evidence_levels: tuple[str, ...]


class MassBalanceWarning(NamedTuple):
    """A transformation that put out more than went in, in the same unit of measure."""

    event: TraceEvent
    inputs: Decimal
    outputs: Decimal
    uom: str


@dataclass(frozen=True)
class Lineage:
    """A batch's lineage. `upstream` and `downstream` exclude the batch's own `identifier`; `origins` include it when
    events name the batch but nothing recorded went into it; `lines` are the identifiers each event touches, by
    event pk."""

    identifier: str | None
    upstream: frozenset[str] = frozenset()
    downstream: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    events: tuple[TraceEvent, ...] = ()
    lines: Mapping[int, tuple[Line, ...]] = field(default_factory=dict)
    hops: tuple[Hop, ...] = ()
    facilities: tuple[Facility, ...] = ()
    mass_balance: tuple[MassBalanceWarning, ...] = ()

    @property
    def upstream_events(self) -> tuple[TraceEvent, ...]:
        """The events that touch the batch itself or anything it was made from (what its EPCIS export holds)."""
        mine = self.upstream | ({self.identifier} if self.identifier else set())
        return tuple(e for e in self.events if any(line.identifier in mine for line in self.lines.get(e.pk, ())))

    def chain_hops(self) -> list[Hop]:
        """The hops from raw material to shelf: the events of the batch and of everything it was made from.

        Not what was made from the batch, not the side branches of a shared lot (a transformation counts only when
        it made something of this chain: its outputs, or those of another event with its transformationID), and not
        the transactions of its sales (SALE_TRANSACTIONS).
        """
        mine = self.upstream | {self.identifier}
        making = {
            hop.event.transformation_id or hop.event.pk
            for hop in self.hops
            if hop.event.type == TraceEvent.Type.TRANSFORMATION
            and any(
                line.role == EventLine.Role.OUTPUT and line.identifier in mine
                for line in self.lines.get(hop.event.pk, ())
            )
        }
        return [
            hop
            for hop in self.hops
            if (hop.event.transformation_id or hop.event.pk) in making
            or (
                hop.event.type != TraceEvent.Type.TRANSFORMATION
                and not (hop.event.type == TraceEvent.Type.TRANSACTION and hop.biz_step in SALE_TRANSACTIONS)
                and any(line.identifier in mine for line in self.lines.get(hop.event.pk, ()))
            )
        ]


def batch_identifier(batch: Batch) -> str | None:
    """The canonical GS1 Digital Link of a batch, or None when its product has no GTIN (and so no GS1 identifier)."""
    gtin = batch.product.gtin
    return gs1.gtin_uri(gtin, batch.lot) if gtin else None


def batch_lineage(batch: Batch, *, with_documents: bool = False) -> Lineage:
    """Walk a batch's lineage up and down, with the events, facilities and evidence along it: six queries at most.

    `with_documents` also loads each event's stored JSON (for an EPCIS export).
    """
    root = batch_identifier(batch)
    return identifier_lineage(root, with_documents=with_documents) if root else Lineage(identifier=None)


def batch_lineage_for(batch_id: int, access: Access, *, with_documents: bool = False) -> tuple[Batch, Lineage] | None:
    """A batch the user may read (its product is public, or theirs) with its lineage; None if there is none."""
    batch = batch_list_for(access).filter(pk=batch_id).first()
    return (batch, batch_lineage(batch, with_documents=with_documents)) if batch else None


def chains_verified(lineage: Lineage) -> dict[str, ChainStatus]:
    """Supplier slug → the status of its hash chain (read from its head, never hashed), for every supplier with an
    event in the lineage: two queries, whatever their number."""
    ids = {event.supplier_id for event in lineage.events}
    if not ids:
        return {}
    statuses = chains_status(ids)
    suppliers = Supplier.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "slug")
    return {slug: statuses[pk] for pk, slug in suppliers}


def epcis_export(lineage: Lineage) -> dict[str, Any]:
    """One EPCISDocument of the events behind a batch (`upstream_events`, loaded with_documents), each exactly as
    captured, with the @context entries their captures declared (their extensions' prefixes are defined there)."""
    events = lineage.upstream_events
    captures = Capture.objects.filter(pk__in={e.capture_id for e in events}).order_by("created_at", "id")
    contexts = [entry for context in captures.values_list("context", flat=True) for entry in context]
    return epcis.epcis_document([event.document for event in events], context=contexts)


def identifier_lineage(root: str, *, with_documents: bool = False) -> Lineage:
    """The lineage of any canonical identifier (see batch_lineage)."""
    upstream = walk(root, UPSTREAM)
    downstream = walk(root, DOWNSTREAM)
    touching = EventLine.objects.filter(identifier__in=_any_of(upstream | downstream | {root})).values("event_id")
    events_qs = TraceEvent.objects.filter(pk__in=touching, error_declarations__isnull=True).order_by("event_time", "id")
    events = tuple(events_qs if with_documents else events_qs.defer("document"))
    if not events:
        return Lineage(identifier=root, upstream=frozenset(upstream), downstream=frozenset(downstream))

    by_id = {event.pk: event for event in events}
    lines: dict[int, list[Line]] = defaultdict(list)
    rows = EventLine.objects.filter(event_id__in=touching).order_by("event_id", "id")
    for event_id, role, identifier, is_class, quantity, uom in rows.values_list(
        "event_id", "role", "identifier", "is_class", "quantity", "uom"
    ):
        if event_id in by_id:
            lines[event_id].append(Line(role, identifier, is_class, quantity, uom))

    # The business location says where the goods are; the read point (often a door or a line) where they were seen.
    places = {place: location_keys(place[0]) + location_keys(place[1]) for place in {_place(e) for e in events}}
    keys = {key for place_keys in places.values() for key in place_keys}
    facility_by_uri = {f.location_uri: f for f in Facility.objects.filter(location_uri__in=_any_of(keys))}
    facility_at = {
        place: next((facility_by_uri[key] for key in place_keys if key in facility_by_uri), None)
        for place, place_keys in places.items()
    }
    country = {facility.pk: facility.country.code for facility in facility_by_uri.values()}

    evidence: dict[int, list[str]] = defaultdict(list)
    links = Evidence.events.through.objects.filter(traceevent_id__in=touching).select_related("evidence")
    for link in links.order_by("evidence__level", "evidence_id"):
        evidence[link.traceevent_id].append(link.evidence.effective_level())

    hops = []
    for event in events:
        facility = facility_at[_place(event)]
        hops.append(
            Hop(
                event=event,
                facility=facility,
                country=country[facility.pk] if facility else None,
                # Dated where it happened, not in UTC.
                date=event.event_time.astimezone(epcis.parse_offset(event.event_time_zone_offset) or UTC).date(),
                biz_step=event.biz_step,
                evidence_levels=tuple(evidence.get(event.pk, ())),
            )
        )
    frozen_lines = {event_id: tuple(rows) for event_id, rows in lines.items()}
    return Lineage(
        identifier=root,
        upstream=frozenset(upstream),
        downstream=frozenset(downstream),
        origins=_origins(upstream | {root}, events, frozen_lines),
        events=events,
        lines=frozen_lines,
        hops=tuple(hops),
        facilities=tuple(dict.fromkeys(hop.facility for hop in hops if hop.facility)),
        mass_balance=_mass_balance(events, frozen_lines),
    )


def _place(event: TraceEvent) -> tuple[str, str]:
    return event.biz_location, event.read_point


def _origins(walked: set[str], events: Iterable[TraceEvent], lines: Mapping[int, tuple[Line, ...]]) -> frozenset[str]:
    """The identifiers of the walk up that nothing recorded went into: never a transformation's output, and not a
    container (an aggregation's parent, whose contents are walked instead)."""
    made_or_containers = set()
    for event in events:
        for line in lines.get(event.pk, ()):
            if (event.type == EventType.TRANSFORMATION and line.role == Role.OUTPUT) or (
                event.type == EventType.AGGREGATION and line.role == Role.PARENT
            ):
                made_or_containers.add(line.identifier)
    return frozenset(walked - made_or_containers)


def _mass_balance(
    events: Iterable[TraceEvent], lines: Mapping[int, tuple[Line, ...]]
) -> tuple[MassBalanceWarning, ...]:
    """Transformations whose outputs exceed their inputs. Only where every input and output has a quantity, all in
    one unit of measure: a count of items or a mix of units says nothing about mass."""
    groups: dict[str, list[TraceEvent]] = defaultdict(list)
    for event in events:
        if event.type == EventType.TRANSFORMATION:
            groups[event.transformation_id or f"event:{event.pk}"].append(event)
    warnings = []
    for group in groups.values():
        group_lines = [line for event in group for line in lines.get(event.pk, ())]
        inputs = [line for line in group_lines if line.role == Role.INPUT]
        outputs = [line for line in group_lines if line.role == Role.OUTPUT]
        units = {line.uom for line in inputs + outputs}
        if not inputs or not outputs or len(units) != 1 or "" in units:
            continue
        quantities_in = [line.quantity for line in inputs if line.quantity is not None]
        quantities_out = [line.quantity for line in outputs if line.quantity is not None]
        if len(quantities_in) < len(inputs) or len(quantities_out) < len(outputs):
            continue
        total_in, total_out = sum(quantities_in, Decimal(0)), sum(quantities_out, Decimal(0))
        if total_out > total_in:
            shown = next((e for e in group if any(line.role == Role.OUTPUT for line in lines.get(e.pk, ()))), group[0])
            warnings.append(MassBalanceWarning(shown, total_in, total_out, units.pop()))
    return tuple(warnings)
