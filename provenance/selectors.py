"""Reads of provenance data that pages and the API share; they own select_related/prefetch_related."""

from collections.abc import Iterable, Sequence
from typing import Any

from core import gs1
from provenance import epcis
from provenance.models import EventLine, Evidence, TraceEvent

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
