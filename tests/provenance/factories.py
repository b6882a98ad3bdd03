"""Builders of EPCIS documents and of whole supply chains, for the provenance and storefront tests."""

import datetime
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection
from stdnum import ean

from core import gs1
from core.gs1 import gtin_uri
from products.models import Batch, Supplier
from provenance import epcis
from provenance.models import Facility, TraceEvent
from provenance.services import capture_document, evidence_create, facility_create
from tests.products.factories import BatchFactory, public_product

CREATED = datetime.datetime(2026, 5, 1, 10, 0, tzinfo=datetime.UTC)


def tamper(sql: str, params: list) -> None:
    """Run SQL as an intruder with database access would: bypassing the append-only trigger first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off (needs a superuser)
            cursor.execute(sql, params)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS provenance_traceevent_append_only")
            cursor.execute(sql, params)


def epcis_document(*events: dict, context: list | None = None) -> dict:
    """A minimal, valid EPCISDocument around the given events."""
    return epcis.epcis_document(events, context=context or (), created=CREATED)


COCOA_GTIN = gs1.gtin_with_check_digit("961000000001")
FERMENTED_GTIN = gs1.gtin_with_check_digit("961000000002")
ROASTED_GTIN = gs1.gtin_with_check_digit("961000000003")
SUGAR_GTIN = gs1.gtin_with_check_digit("962000000001")
GIFT_BOX_GTIN = gs1.gtin_with_check_digit("961000000009")
START = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.UTC)


def lgtin_urn(gtin: str, lot: str) -> str:
    """The EPC class URN of a batch (company prefix of 7 digits): the form older systems send."""
    return f"urn:epc:class:lgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.{lot}"


def other_domain_dl(gtin: str, lot: str) -> str:
    """A Digital Link on a brand's own domain: the same batch as gtin_uri(gtin, lot) once made canonical."""
    return f"https://brand.example.com/01/{gtin}/10/{lot}"


def gln(n: int) -> str:
    body = f"961{n:09d}"
    return body + ean.calc_check_digit(body)


def sgln_urn(gln_: str, extension: str = "0") -> str:
    return f"urn:epc:id:sgln:{gln_[:7]}.{gln_[7:12]}.{extension}"


def sscc_urn(serial: int) -> str:
    return f"urn:epc:id:sscc:9610000.{serial:010d}"


def sscc_digital(serial: int) -> str:
    """The 18-digit SSCC of sscc_urn(serial): extension digit 0, company prefix, serial reference, check digit."""
    body = f"09610000{serial:09d}"
    return body + ean.calc_check_digit(body)


def quantity(identifier: str, amount: float | None = None, uom: str = "KGM") -> dict:
    element: dict = {"epcClass": identifier}
    if amount is not None:
        element |= {"quantity": amount, "uom": uom}
    return element


def event(kind: str, hours: int, *, where: str | None = None, seen_at: str | None = None, **fields) -> dict:
    body = {
        "type": kind,
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "eventTime": (START + datetime.timedelta(hours=hours)).isoformat(),
        "eventTimeZoneOffset": "+00:00",
        **fields,
    }
    if where:
        body["bizLocation"] = {"id": where}
    if seen_at:
        body["readPoint"] = {"id": seen_at}
    return body


def transformation(hours: int, inputs: list[dict], outputs: list[dict], **fields) -> dict:
    body = event("TransformationEvent", hours, bizStep="commissioning", **fields)
    if inputs:
        body["inputQuantityList"] = inputs
    if outputs:
        body["outputQuantityList"] = outputs
    return body


def facility(owner, n: int, name: str, country: str, lat: str, long: str) -> Facility:
    return facility_create(
        owner=owner,
        **{"name": name, "country": country, "latitude": Decimal(lat), "longitude": Decimal(long), "gln": gln(n)},
    )


class Cocoa:
    """Beans harvested at a farm → fermented → shipped → roasted → made into bars (the batch) with sugar that came
    on a pallet from another supplier → bars palletised and boxed as gifts downstream."""

    def __init__(self, supplier, sugar_supplier) -> None:
        self.product = public_product(supplier=supplier)
        self.batch = BatchFactory(product=self.product, lot="BAR-2026-01")
        self.bar = gtin_uri(self.product.gtin, self.batch.lot)
        self.beans = gtin_uri(COCOA_GTIN, "BEANS-1")
        self.fermented = gtin_uri(FERMENTED_GTIN, "FERM-1")
        self.roasted = gtin_uri(ROASTED_GTIN, "ROAST-1")
        self.sugar = gtin_uri(SUGAR_GTIN, "SUGAR-7")
        self.gift_box = gtin_uri(GIFT_BOX_GTIN, "GIFT-1")
        self.sugar_pallet = "https://id.gs1.org/00/" + sscc_digital(1)
        self.bar_pallet = "https://id.gs1.org/00/" + sscc_digital(2)

        self.farm = facility(supplier, 1, "Asante farm", "GH", "6.688500", "-1.624400")
        self.fermentary = facility(supplier, 2, "Kumasi fermentary", "GH", "6.700000", "-1.630000")
        self.port = facility(supplier, 3, "Tema port", "GH", "5.630000", "0.010000")
        self.factory = facility(supplier, 4, "Antwerp chocolate works", "BE", "51.219400", "4.402500")
        self.sugar_mill = facility(sugar_supplier, 5, "Sugar mill", "PT", "38.700000", "-9.140000")

        farm_event = event(
            "ObjectEvent", 0, action="ADD", bizStep="commissioning", seen_at=sgln_urn(self.farm.gln),
            quantityList=[quantity(lgtin_urn(COCOA_GTIN, "BEANS-1"), 1000)],
        )  # fmt: skip
        fermenting = transformation(
            24, [quantity(other_domain_dl(COCOA_GTIN, "BEANS-1"), 1000)],
            [quantity(lgtin_urn(FERMENTED_GTIN, "FERM-1"), 900)], where=self.fermentary.location_uri,
        )  # fmt: skip
        shipping = event(
            "ObjectEvent", 48, action="OBSERVE", bizStep="shipping", seen_at=sgln_urn(self.port.gln, "12"),
            quantityList=[quantity(self.fermented, 900)],
        )  # fmt: skip
        receiving = event(
            "ObjectEvent", 72, action="OBSERVE", bizStep="receiving", where=sgln_urn(self.factory.gln),
            quantityList=[quantity(lgtin_urn(FERMENTED_GTIN, "FERM-1"), 900)],
        )  # fmt: skip
        roasting = transformation(
            96, [quantity(self.fermented, 900)], [quantity(other_domain_dl(ROASTED_GTIN, "ROAST-1"), 800)],
            where=self.factory.location_uri,
        )  # fmt: skip
        # Bar-making is recorded as two events with one transformationID: what went in, then what came out.
        making = f"urn:uuid:{uuid.uuid4()}"
        making_in = transformation(
            120, [quantity(self.roasted, 800)], [], transformationID=making, where=self.factory.location_uri,
            inputEPCList=[sscc_urn(1)],
        )  # fmt: skip
        making_out = transformation(
            121, [], [quantity(lgtin_urn(self.product.gtin, self.batch.lot), 1100)], transformationID=making,
            where=self.factory.location_uri,
        )  # fmt: skip
        palletising = event(
            "AggregationEvent", 130, action="ADD", bizStep="packing", parentID=sscc_urn(2),
            childQuantityList=[quantity(self.bar, 1100)], where=self.factory.location_uri,
        )  # fmt: skip
        gift_boxing = transformation(
            140, [quantity(self.bar, 100)], [quantity(self.gift_box, 100)], where=self.factory.location_uri
        )
        gift_shipping = event(
            "ObjectEvent", 150, action="OBSERVE", bizStep="shipping", seen_at=self.factory.location_uri,
            quantityList=[quantity(self.gift_box, 100)],
        )  # fmt: skip
        sugar_packing = event(
            "AggregationEvent", 50, action="ADD", bizStep="packing", parentID=sscc_urn(1),
            childQuantityList=[quantity(lgtin_urn(SUGAR_GTIN, "SUGAR-7"), 300)], seen_at=self.sugar_mill.location_uri,
        )  # fmt: skip

        self.farm_event, self.fermenting = farm_event, fermenting
        capture_document(supplier=sugar_supplier, submitted_by=None, document=epcis_document(sugar_packing))
        capture_document(
            supplier=supplier,
            submitted_by=None,
            document=epcis_document(
                farm_event,
                fermenting,
                shipping,
                receiving,
                roasting,
                making_in,
                making_out,
                palletising,
                gift_boxing,
                gift_shipping,
            ),
        )
        self.event_order = [
            farm_event, fermenting, shipping, sugar_packing, receiving, roasting, making_in, making_out, palletising,
            gift_boxing, gift_shipping,
        ]  # fmt: skip


def chain(supplier, depth: int, *, also_by: Sequence[Supplier] = ()) -> Batch:
    """`depth` transformations from a raw lot to `supplier`'s batch, each lot also seen at a facility, with evidence.

    With `also_by`, the transformations are recorded in turn by `supplier` and each of those suppliers (the last
    one made by `supplier`), each at its own plant and store: a chain that crosses several suppliers' hash chains.
    """
    product = public_product(supplier=supplier)
    batch = BatchFactory(product=product, lot=f"DEPTH-{depth}")
    lots = [gtin_uri(COCOA_GTIN, f"D{depth}R{i}") for i in range(depth)] + [gtin_uri(product.gtin, batch.lot)]
    recorders = [supplier, *also_by]
    places = [
        (facility(by, 1000 + 100 * k + depth, "Plant", "GH", "6.7", "-1.6"),
         facility(by, 5000 + 100 * k + depth, "Store", "BE", "51.2", "4.4"))
        for k, by in enumerate(recorders)
    ]  # fmt: skip
    events: dict[int, list[dict]] = {k: [] for k in range(len(recorders))}
    for i in range(depth):
        k = (i - depth + 1) % len(recorders)  # the last transformation, which makes the batch, is `supplier`'s
        plant, store = places[k]
        source = lgtin_urn(COCOA_GTIN, f"D{depth}R{i}") if i % 2 else lots[i]  # alternate EPC URN and Digital Link
        events[k].append(transformation(2 * i, [quantity(source, 100 - i)], [quantity(lots[i + 1], 99 - i)],
                                        where=plant.location_uri))  # fmt: skip
        events[k].append(event("ObjectEvent", 2 * i + 1, action="OBSERVE", bizStep="storing",
                               seen_at=store.location_uri, quantityList=[quantity(lots[i + 1])]))  # fmt: skip
    for k, by in enumerate(recorders):
        if events[k]:
            capture_document(supplier=by, submitted_by=None, document=epcis_document(*events[k]))
        proof = evidence_create(owner=by, **{"title": "Audit", "issuer": "Certifier", "url": "https://c.example"})
        proof.events.add(*TraceEvent.objects.filter(supplier=by, type="TransformationEvent"))
    return Batch.objects.select_related("product").get(pk=batch.pk)
