from provenance import epcis


def epcis_document(*events: dict, context: list | None = None) -> dict:
    """A minimal, valid EPCISDocument around the given events."""
    return {
        "@context": context or [epcis.CONTEXT_URL],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-05-01T10:00:00+00:00",
        "epcisBody": {"eventList": list(events)},
    }
