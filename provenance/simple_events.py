"""Simple events: harvest, ship, receive, transform and inspect, built as EPCIS 2.0 events from plain values.

Used by the dashboard's simple-event form and by the demo data, so that both record the same EPCIS.
"""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models

from core import gs1
from provenance import epcis

# The network's own namespace for the few EPCIS extension fields it writes (declared in each document's @context).
EXTENSION_PREFIX = "socialbiz"
EXTENSION_NAMESPACE = "https://socialbiz.example/ns/epcis/"
CONTEXT = {EXTENSION_PREFIX: EXTENSION_NAMESPACE}  # the @context entry a document of these events needs
# Plain lot codes typed into the dashboard become stable URNs: the same code of the same supplier, the same URN.
LOT_NAMESPACE = uuid.UUID("5c1d7e0a-4f0b-5d8e-9a61-2b7e5d0c9f31")
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


class SimpleKind(models.TextChoices):
    HARVEST = "harvest", "Harvest or collection (raw material comes into being)"
    SHIP = "ship", "Shipping (goods leave the facility)"
    RECEIVE = "receive", "Receiving (goods arrive at the facility)"
    TRANSFORM = "transform", "Transformation (inputs are made into an output)"
    INSPECT = "inspect", "Inspection (a check, test or audit of a lot)"


INSPECTION_RESULTS = [("conformant", "Conformant: it passed"), ("non_conformant", "Non-conformant: it failed")]
UNITS = list(epcis.UNITS.items())  # form choices: (UN/CEFACT code, label)


@dataclass(frozen=True)
class Amount:
    """A quantity of a class of things (a lot, a batch) in an event: an EPCIS quantityElement."""

    identifier: str
    quantity: Decimal | None = None
    uom: str = ""

    def as_epcis(self) -> dict[str, Any]:
        element: dict[str, Any] = {"epcClass": self.identifier}
        if self.quantity is not None:
            # JSON numbers: EPCIS quantities are decimals, written without a trailing ".0" when whole.
            whole = self.quantity == self.quantity.to_integral_value()
            element["quantity"] = int(self.quantity) if whole else float(self.quantity)
            if self.uom:
                element["uom"] = self.uom
        return element


def simple_event(
    *,
    kind: str,
    location: str,
    when: datetime,
    items: Sequence[Amount] = (),
    outputs: Sequence[Amount] = (),
    other_location: str = "",
    result: str = "",
    note: str = "",
    ilmd: dict[str, Any] | None = None,
    event_id: str = "",
) -> dict[str, Any]:
    """One EPCIS 2.0 event for a harvest, shipment, receipt, transformation or inspection at `location`.

    Harvest: an ObjectEvent ADD (commissioning) of the `outputs`. Ship / receive: an ObjectEvent OBSERVE of the
    `items` with the other facility as destination / source. Transform: a TransformationEvent, `items` in and
    `outputs` out. Inspect: an ObjectEvent OBSERVE (inspecting) of the `items` whose disposition is the `result`.
    """
    event: dict[str, Any] = {"type": "ObjectEvent"}
    if event_id:
        event["eventID"] = event_id
    event |= {"eventTime": when.isoformat(), "eventTimeZoneOffset": epcis.format_offset(when)}
    here = {"id": location}
    if kind == SimpleKind.HARVEST:
        event |= {"action": "ADD", "bizStep": "commissioning", "disposition": "active", "readPoint": here}
        event |= {"bizLocation": here, "quantityList": [amount.as_epcis() for amount in outputs]}
        if ilmd:
            event["ilmd"] = ilmd
    elif kind == SimpleKind.SHIP:
        # Goods being shipped have no business location any more: only where they were seen leaving (CBV 2.0).
        event |= {"action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit", "readPoint": here}
        event |= {"quantityList": [amount.as_epcis() for amount in items]}
        event["sourceList"] = [{"type": "location", "source": location}]
        if other_location:
            event["destinationList"] = [{"type": "location", "destination": other_location}]
    elif kind == SimpleKind.RECEIVE:
        event |= {"action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress", "readPoint": here}
        event |= {"bizLocation": here, "quantityList": [amount.as_epcis() for amount in items]}
        if other_location:
            event["sourceList"] = [{"type": "location", "source": other_location}]
        event["destinationList"] = [{"type": "location", "destination": location}]
    elif kind == SimpleKind.TRANSFORM:
        event["type"] = "TransformationEvent"
        event |= {"bizStep": "commissioning", "disposition": "active", "readPoint": here, "bizLocation": here}
        event["inputQuantityList"] = [amount.as_epcis() for amount in items]
        event["outputQuantityList"] = [amount.as_epcis() for amount in outputs]
        if ilmd:
            event["ilmd"] = ilmd
    elif kind == SimpleKind.INSPECT:
        event |= {"action": "OBSERVE", "bizStep": "inspecting", "disposition": result, "readPoint": here}
        event |= {"bizLocation": here, "quantityList": [amount.as_epcis() for amount in items]}
        if note:
            event[f"{EXTENSION_PREFIX}:inspectionNote"] = note
    else:
        raise ValueError(f"Unknown simple event kind {kind!r}")
    return event


def lot_identifier(text: str, *, supplier_id: int) -> str:
    """A lot typed into the dashboard: a URI as it is (canonical if it is a GS1 one), a plain code as a stable URN."""
    text = text.strip()
    if URI_SCHEME.match(text):
        return gs1.canonical(text)
    return f"urn:uuid:{uuid.uuid5(LOT_NAMESPACE, f'{supplier_id}/{text}')}"
