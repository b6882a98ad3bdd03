"""EPCIS 2.0 documents: validation against GS1's schema, reading events into rows and identifier lines, and the one
builder of the documents the network writes (captures, exports, query answers).

The schema is GS1's own file (provenance/standards/), loaded once. Validation reports every problem with the JSON
path of the offending value, e.g. `$.epcisBody.eventList[3].eventTime`.

Two validators read the schema. jsonschema-rs (compiled, some seventy times faster on these documents) decides
whether a document is valid, the common case. jsonschema (pure Python) is the reference: it runs only when
jsonschema-rs finds a problem (or cannot read the document), and it alone reports the problems and their messages;
when it finds none, its verdict wins and the disagreement is logged. So jsonschema-rs can make a capture slower, but
never let in a document the reference refuses, as long as it never accepts one the reference refuses:
tests/provenance/test_epcis_validators.py compares the two over GS1's examples and thousands of mutations of them.
"""

import functools
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from django.utils import timezone as django_timezone
from jsonschema import Draft7Validator, FormatChecker

from core import gs1

logger = logging.getLogger(__name__)

STANDARDS = Path(__file__).resolve().parent / "standards"
CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MAX_REPORTED_ERRORS = 100
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
CBV_PREFIXES = {
    "bizStep": ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    "disposition": ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
}
# Where each list of identifiers sits in an event, and the role its identifiers play in lineage.
EPC_LISTS = {
    "epcList": "epc",
    "childEPCs": "child",
    "inputEPCList": "input",
    "outputEPCList": "output",
}
# UN/CEFACT Recommendation 20 codes (an EPCIS quantity's uom) the dashboard offers, with the word pages show for each.
UNITS = {"KGM": "kg", "TNE": "t", "LTR": "litres", "MTR": "m", "MTK": "m²", "EA": "units"}
QUANTITY_LISTS = {
    "quantityList": "epc",
    "childQuantityList": "child",
    "inputQuantityList": "input",
    "outputQuantityList": "output",
}


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True)
class Line:
    """One identifier an event touches, in canonical form, with its lineage role (an EventLine to be)."""

    role: str
    identifier: str
    is_class: bool
    quantity: Decimal | None
    uom: str


class InvalidDocument(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the EPCIS document")
        self.problems = problems


@cache
def schema() -> dict[str, Any]:
    return json.loads((STANDARDS / "EPCIS-JSON-Schema.json").read_text())


@cache
def _format_checker() -> FormatChecker:
    return FormatChecker()


@cache
def _validator() -> Draft7Validator:
    return Draft7Validator(schema(), format_checker=_format_checker())


def _formats(node: Any) -> set[str]:
    """Every format the schema names."""
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_formats(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats(value) for value in node))
    return set()


def _conforms(checker: FormatChecker, format: str, value: Any) -> bool:
    return checker.conforms(value, format)


@cache
def _fast_validator() -> jsonschema_rs.Draft7Validator:
    # Formats are where the two validators differ most: jsonschema-rs checks `uri` (jsonschema checks it only when
    # rfc3987 is installed, which it is not, so a property name like `example:x` or `foo` passes GS1's vocab-uri)
    # and parses date-times its own way. Handing it the reference's own format checks makes both accept the same
    # strings by construction.
    formats: dict[str, Callable[..., bool]] = {
        name: functools.partial(_conforms, _format_checker(), name) for name in _formats(schema())
    }
    return jsonschema_rs.Draft7Validator(schema(), validate_formats=True, formats=formats)


def _fast_verdict(document: Any) -> bool | None:
    """jsonschema-rs's verdict on a document, or None when it cannot read it (a lone surrogate, a non-JSON value)."""
    try:
        return _fast_validator().is_valid(document)
    except ValueError:
        return None


def _schema_problems(document: Any) -> list[Problem]:
    """What GS1's schema finds wrong with a document, in the reference validator's words; [] if it is valid."""
    verdict = _fast_verdict(document)
    if verdict:
        return []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in _leaf_errors(error):
            problem = Problem(json_path(leaf.absolute_path), leaf.message)
            if (problem.path, problem.message) not in seen:
                seen.add((problem.path, problem.message))
                problems.append(problem)
    if not problems and verdict is False:
        first = next(iter(_fast_validator().iter_errors(document)), None)
        logger.warning(
            "jsonschema-rs refused an EPCIS document that jsonschema accepts (jsonschema's verdict stands): %s at %s",
            first and first.message,
            first and json_path(first.instance_path),
        )
    return problems


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _leaf_errors(error: Any) -> Iterator[Any]:
    # if/then and allOf wrap the real reason; report the innermost errors, which name the offending value.
    if error.context:
        for sub in error.context:
            yield from _leaf_errors(sub)
    else:
        yield error


def parse_time(value: str) -> datetime | None:
    """An EPCIS timestamp with its offset, or None if it has none or is not a timestamp."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def require_time(value: str) -> datetime:
    """A timestamp from a document that has passed validation (which checked it has an offset)."""
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"not an EPCIS timestamp with an offset: {value!r}")
    return parsed


# eventTimeZoneOffset as GS1's schema has it: -14:00 to +14:00, hours and minutes.
TIME_ZONE_OFFSET = re.compile(r"^([+-])((0\d|1[0-3]):([0-5]\d)|14:00)$")


@cache
def parse_offset(text: str) -> timezone | None:
    """A time zone for an eventTimeZoneOffset (`+05:30`), or None if it is not one."""
    match = TIME_ZONE_OFFSET.match(text.strip())
    if match is None:
        return None
    hours, minutes = match.group(2).split(":")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def format_offset(moment: datetime) -> str:
    """The eventTimeZoneOffset of an aware datetime: `+03:00`."""
    minutes = int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def validate_document(document: Any, *, kind: str = "EPCISDocument") -> list[dict[str, Any]]:
    """Check a whole EPCIS document; return its events, or raise InvalidDocument listing every problem."""
    return [event for event, _lines in read_document(document, kind=kind)]


def read_document(document: Any, *, kind: str = "EPCISDocument") -> list[tuple[dict[str, Any], list[Line]]]:
    """Check a whole EPCIS document as validate_document does; return each event with its identifier lines.

    Every identifier is read once, for both: checking its GS1 form is what finds its canonical spelling.
    """
    if not isinstance(document, dict):
        raise InvalidDocument([Problem("$", "An EPCIS document is a JSON object.")])
    if document.get("type") != kind:
        raise InvalidDocument([Problem("$.type", f"Expected {kind!r}, got {document.get('type')!r}.")])
    problems = _schema_problems(document)
    events = document.get("epcisBody", {}).get("eventList", []) if isinstance(document.get("epcisBody"), dict) else []
    if not isinstance(events, list):
        events = []
    read: list[tuple[dict[str, Any], list[Line]]] = []
    for index, event in enumerate(events):
        if isinstance(event, dict):
            lines, event_problems = _read_event(event, f"$.epcisBody.eventList[{index}]")
            problems += event_problems
            read.append((event, lines))
    if problems:
        raise InvalidDocument(problems[:MAX_REPORTED_ERRORS])
    return read


def _read_event(event: dict[str, Any], path: str) -> tuple[list[Line], list[Problem]]:
    """An event's identifier lines, and what GS1's schema does not say but EPCIS requires: known event types,
    timestamps with offsets, identifiers that claim a GS1 form and keep its rules."""
    problems = []
    if event.get("type") not in EVENT_TYPES:
        problems.append(
            Problem(f"{path}.type", f"Unknown event type {event.get('type')!r}: one of {', '.join(EVENT_TYPES)}.")
        )
    for field in ("eventTime", "recordTime"):
        if field in event and parse_time(event[field]) is None:
            problems.append(
                Problem(f"{path}.{field}", "A timestamp needs a time zone offset, e.g. 2026-05-01T08:00:00+02:00.")
            )
    declaration = event.get("errorDeclaration")
    if (
        isinstance(declaration, dict)
        and "declarationTime" in declaration
        and parse_time(declaration["declarationTime"]) is None
    ):
        problems.append(Problem(f"{path}.errorDeclaration.declarationTime", "A timestamp needs a time zone offset."))
    lines = []
    for field, position, identifier, role, element in _identifier_fields(event):
        try:
            lines.append(_line(identifier, role, element))
        except ValueError as error:
            where = field if position is None else f"{field}[{position}]"
            problems.append(Problem(f"{path}.{where}{'.epcClass' if element is not None else ''}", str(error)))
    return lines, problems


def _identifier_fields(event: dict[str, Any]) -> Iterator[tuple[str, int | None, str, str, dict[str, Any] | None]]:
    """(field, position in its list or None, identifier, lineage role, quantity element or None) for everything the
    event touches."""
    if isinstance(event.get("parentID"), str):
        yield "parentID", None, event["parentID"], "parent", None
    for field, role in EPC_LISTS.items():
        for i, value in enumerate(event.get(field) or []):
            if isinstance(value, str):
                yield field, i, value, role, None
    for field, role in QUANTITY_LISTS.items():
        for i, element in enumerate(event.get(field) or []):
            if isinstance(element, dict) and isinstance(element.get("epcClass"), str):
                yield field, i, element["epcClass"], role, element


def unit_label(uom: str) -> str:
    """The word for a unit of measure code (`KGM` → `kg`); a code not in UNITS as it is."""
    return UNITS.get(uom, uom)


def short_term(field: str, value: str) -> str:
    """A CBV value without its prefix (`urn:epcglobal:cbv:bizstep:shipping` → `shipping`), so queries match both."""
    for prefix in CBV_PREFIXES.get(field, ()):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _line(identifier: str, role: str, element: dict[str, Any] | None) -> Line:
    """The line of one identifier; ValueError if it claims a GS1 form and breaks its rules."""
    canonical, is_class = gs1.canonical_and_class(identifier)
    if element is None:
        return Line(role=role, identifier=canonical, is_class=is_class, quantity=None, uom="")
    quantity = None
    if "quantity" in element:
        try:
            quantity = Decimal(str(element["quantity"]))
        except InvalidOperation:
            quantity = None
    return Line(role=role, identifier=canonical, is_class=True, quantity=quantity, uom=str(element.get("uom", "")))


def canonical_json(value: Any) -> bytes:
    """One byte string per JSON value: sorted keys, no spaces, UTF-8. What hashes are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def merged_context(entries: Iterable[Any]) -> list[Any]:
    """A document's @context: GS1's first, then every other entry (extension prefixes) once, in the order given."""
    context: list[Any] = [CONTEXT_URL]
    seen = {canonical_json(CONTEXT_URL)}
    for entry in entries:
        if (key := canonical_json(entry)) not in seen:
            seen.add(key)
            context.append(entry)
    return context


def epcis_document(
    events: Iterable[dict[str, Any]],
    *,
    context: Iterable[Any] = (),
    query_name: str = "",
    created: datetime | None = None,
) -> dict[str, Any]:
    """An EPCISDocument of the events, or with `query_name` the EPCISQueryDocument answering that query.

    `context` holds the @context entries the events' extension fields need, besides GS1's (which always comes first).
    """
    body: dict[str, Any] = {"eventList": list(events)}
    if query_name:
        body = {"queryResults": {"queryName": query_name, "resultsBody": body}}
    return {
        "@context": merged_context(context),
        "type": "EPCISQueryDocument" if query_name else "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": (created or django_timezone.now()).isoformat(),
        "epcisBody": body,
    }
