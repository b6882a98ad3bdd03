"""The EPCIS 2.0 query compiler: SimpleEventQuery parameters (EPCIS 2.0 §8.2.7.1) into a query over stored events,
and keyset paging through its results.

Parameters arrive as lists of strings (a query string: repeated parameters and comma-separated values both mean
OR). Identifiers may be EPC URNs or GS1 Digital Link URIs: they are compared in canonical form
(gs1.canonical), through EventLine.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from django.db.models import Exists, OuterRef, Q, QuerySet

from core import gs1
from provenance import epcis
from provenance.models import EventLine, TraceEvent

Role = EventLine.Role
# Which EventLine rows each MATCH_ parameter looks at, after the standard: MATCH_epc covers epcList and childEPCs,
# MATCH_anyEPC adds parentID, inputEPCList and outputEPCList; the *Class parameters cover the quantity lists.
MATCH_LINES: dict[str, Q] = {
    "MATCH_epc": Q(role__in=[Role.EPC, Role.CHILD], is_class=False),
    "MATCH_parentID": Q(role=Role.PARENT),
    "MATCH_inputEPC": Q(role=Role.INPUT, is_class=False),
    "MATCH_outputEPC": Q(role=Role.OUTPUT, is_class=False),
    "MATCH_anyEPC": Q(role=Role.PARENT) | Q(role__in=[Role.EPC, Role.CHILD, Role.INPUT, Role.OUTPUT], is_class=False),
    "MATCH_epcClass": Q(role__in=[Role.EPC, Role.CHILD], is_class=True),
    "MATCH_inputEPCClass": Q(role=Role.INPUT, is_class=True),
    "MATCH_outputEPCClass": Q(role=Role.OUTPUT, is_class=True),
    "MATCH_anyEPCClass": Q(role__in=[Role.EPC, Role.CHILD, Role.INPUT, Role.OUTPUT], is_class=True),
}
TIME_FILTERS = {
    "GE_eventTime": "event_time__gte",
    "LT_eventTime": "event_time__lt",
    "GE_recordTime": "record_time__gte",
    "LT_recordTime": "record_time__lt",
}
EQ_FILTERS = {  # parameter → (column, CBV field whose prefix is dropped, or "")
    "EQ_action": ("action", ""),
    "EQ_bizStep": ("biz_step", "bizStep"),
    "EQ_disposition": ("disposition", "disposition"),
    "EQ_transformationID": ("transformation_id", ""),
    "EQ_eventID": ("event_id", ""),
}
LOCATION_FILTERS = {"EQ_readPoint": "read_point", "EQ_bizLocation": "biz_location"}
ORDER_FIELDS = {"eventTime": "event_time", "recordTime": "record_time"}
ORDER_PARAMETERS = ("orderBy", "orderDirection")
EVENT_QUERY_PARAMETERS = frozenset(
    {"eventType", *TIME_FILTERS, *EQ_FILTERS, *LOCATION_FILTERS, *MATCH_LINES, *ORDER_PARAMETERS}
)
EVENT_TYPES = frozenset(TraceEvent.Type.values)
ACTIONS = frozenset(TraceEvent.Action.values)
GLN_STEM = f"{gs1.CANONICAL_ROOT}/414/"
# Characters an SGLN extension keeps as they are in an EPC URN (Tag Data Standard); the rest are %-escaped.
_URN_SAFE = "!'()*+,-.:;=_"


@dataclass(frozen=True)
class EventQuery:
    """A validated SimpleEventQuery: the matching events and the order to page them in."""

    events: QuerySet[TraceEvent]
    order_field: str  # event_time or record_time; the id breaks ties
    descending: bool


Position = tuple[datetime, int]  # (order value, id) of the last event on a page: where the next page starts


def _values(raw: Sequence[str]) -> list[str]:
    return [value.strip() for item in raw for value in item.split(",")]


def _single(raw: Sequence[str]) -> str | None:
    return raw[0].strip() if len(raw) == 1 else None


def _identifier_filter(values: list[str]) -> Q:
    """A filter on EventLine.identifier matching any of the values (EPC URNs, Digital Link URIs, GTIN patterns)."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    problems: list[str] = []
    for value in values:
        try:
            canonical = gs1.canonical(value)
        except ValueError as error:
            problems.append(str(error))
            continue
        if value.lower().startswith("urn:epc:idpat:"):
            # A GTIN-level pattern (CompanyPrefix.ItemRef.*) becomes the GTIN's Digital Link: it matches the GTIN
            # itself and every lot, variant and serial under it. Wider patterns have no Digital Link twin.
            if not canonical.startswith(gs1.CANONICAL_ROOT):
                problems.append(
                    f"{value!r}: only GTIN-level patterns are supported (urn:epc:idpat:sgtin:CompanyPrefix.ItemRef.*)."
                )
                continue
            prefixes.add(canonical + "/")
        exact.add(canonical)
    if problems:
        raise ValueError(*problems)
    condition = Q(identifier__in=sorted(exact))
    for prefix in sorted(prefixes):
        condition |= Q(identifier__startswith=prefix)
    return condition


def _location_forms(value: str) -> set[str]:
    """The spellings a stored readPoint/bizLocation id may have for the same place.

    Those columns keep the id as captured, so the GS1 forms of a GLN are spelled out: its Digital Link and every SGLN
    URN it can be written as (the company prefix is 6 to 12 digits, which the GLN alone does not tell).
    """
    canonical = gs1.canonical(value)
    forms = {value, canonical}
    if canonical.startswith(GLN_STEM):
        gln, _, extension = canonical.removeprefix(GLN_STEM).partition("/254/")
        if not extension:
            forms.add(f"{canonical}/254/0")
        urn_extension = quote(unquote(extension), safe=_URN_SAFE) if extension else "0"
        body = gln[:12]
        forms.update(f"urn:epc:id:sgln:{body[:n]}.{body[n:]}.{urn_extension}" for n in range(6, 13))
    return forms


def _condition(name: str, raw: Sequence[str]) -> Q | Exists:
    """The filter one query parameter stands for; ValueError with a message per problem if its value is malformed."""
    if name not in EVENT_QUERY_PARAMETERS:
        raise ValueError("Not a query parameter this interface supports (EPCIS 2.0 SimpleEventQuery).")
    if any("\x00" in item for item in raw):
        raise ValueError("A value may not contain a NUL character.")  # no database column can hold one
    if name in TIME_FILTERS:
        single = _single(raw)
        # A "+" left unencoded in a query string arrives as a space.
        moment = epcis.parse_time(single.replace(" ", "+")) if single else None
        try:
            # In UTC: PostgreSQL takes offsets up to ±15:59 only, Python up to ±23:59.
            moment = moment.astimezone(UTC) if moment else None
        except OverflowError:
            moment = None
        if moment is None:
            raise ValueError("One timestamp with a time zone offset, e.g. 2026-05-01T08:00:00+02:00 (send + as %2B).")
        return Q(**{TIME_FILTERS[name]: moment})
    values = _values(raw)
    if not values or "" in values:
        raise ValueError("Give one or more values, separated by commas; none may be empty.")
    if name == "eventType":
        unknown = sorted(set(values) - EVENT_TYPES)
        if unknown:
            raise ValueError(f"Unknown event type(s): {', '.join(unknown)}; use {', '.join(sorted(EVENT_TYPES))}.")
        return Q(type__in=values)
    if name == "EQ_action" and not ACTIONS.issuperset(values):
        raise ValueError("An action is ADD, OBSERVE or DELETE.")
    if name in EQ_FILTERS:
        column, cbv_field = EQ_FILTERS[name]
        if cbv_field:
            values = [epcis.short_term(cbv_field, value) for value in values]
        return Q(**{f"{column}__in": values})
    if name in LOCATION_FILTERS:
        forms = set().union(*(_location_forms(value) for value in values))
        return Q(**{f"{LOCATION_FILTERS[name]}__in": sorted(forms)})
    lines = EventLine.objects.filter(MATCH_LINES[name], _identifier_filter(values), event=OuterRef("pk"))
    return Exists(lines)


def compile_query(params: Mapping[str, Sequence[str]]) -> tuple[EventQuery | None, dict[str, list[str]]]:
    """Validate SimpleEventQuery parameters and build the query; return (query, {}) or (None, errors by parameter)."""
    errors: dict[str, list[str]] = {}
    conditions: list[Q | Exists] = []
    for name, raw in params.items():
        if name in ORDER_PARAMETERS:
            continue
        try:
            conditions.append(_condition(name, raw))
        except ValueError as error:
            errors[name] = [str(message) for message in error.args]

    order_by = _single(params.get("orderBy", ["eventTime"]))
    if order_by not in ORDER_FIELDS:
        errors["orderBy"] = ["Order by eventTime or recordTime, given once."]
    # The standard's default direction is DESC when orderBy is given; without it we list events as they happened.
    direction = _single(params.get("orderDirection", ["DESC" if "orderBy" in params else "ASC"]))
    if direction not in ("ASC", "DESC"):
        errors["orderDirection"] = ["ASC or DESC, given once."]
    if errors:
        return None, errors
    events = TraceEvent.objects.filter(*conditions).select_related("capture").prefetch_related("error_declarations")
    return EventQuery(events=events, order_field=ORDER_FIELDS[str(order_by)], descending=direction == "DESC"), {}


def page(query: EventQuery, *, after: Position | None, size: int) -> tuple[list[TraceEvent], Position | None]:
    """One page of a query's events, after a position (keyset paging); and the position of the next page, if any."""
    field = query.order_field
    events = query.events
    if after is not None:
        value, pk = after
        op = "lt" if query.descending else "gt"
        events = events.filter(Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk}))
    ordering = [f"-{field}", "-pk"] if query.descending else [field, "pk"]
    rows = list(events.order_by(*ordering)[: size + 1])
    page = rows[:size]
    more = len(rows) > size
    return page, (getattr(page[-1], field), page[-1].pk) if more else None
