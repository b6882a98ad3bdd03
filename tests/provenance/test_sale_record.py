"""provenance.services.sale_record: a guaranteed sale as an EPCIS 2.0 TransactionEvent in the seller's chain, from
plain values (provenance knows nothing of orders)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from jsonschema import Draft7Validator

from core import gs1
from provenance import epcis
from provenance.lineage import SALE_TRANSACTIONS
from provenance.models import Capture, EventLine, TraceEvent
from provenance.services import SALE_BIZ_STEP, Guarantor, capture_document, sale_record
from tests.provenance.factories import COCOA_GTIN, epcis_document, event, gln, quantity

pytestmark = pytest.mark.django_db

BARS = gs1.gtin_uri(COCOA_GTIN, "L1")
NIBS = gs1.gtin_uri(COCOA_GTIN, "L2")
WHEN = datetime.datetime(2026, 5, 2, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
NETWORK = Guarantor(party="https://network.example/", name="The network", fund="2000000001")


def record(supplier, **changes):
    values = {
        "supplier": supplier,
        "lines": [(BARS, 2), (NIBS, Decimal("1.5"))],
        "biz_transaction": "https://network.example/orders/7/",
        "when": WHEN,
        "buyer": "urn:uuid:00000000-0000-4000-8000-000000000007",
        "guarantor": NETWORK,
        "supplier_url": "https://network.example/suppliers/own-cocoa/",
    } | changes
    return sale_record(**values)


def test_a_sale_is_a_valid_transaction_event_naming_its_guarantor(own_supplier):
    sale = record(own_supplier)

    document = sale.document
    assert sale.type == TraceEvent.Type.TRANSACTION
    assert (sale.action, sale.biz_step, sale.disposition) == ("ADD", "retail_selling", "retail_sold")
    assert epcis.parse_time(document["eventTime"]) == WHEN
    assert document["bizTransactionList"] == [{"type": "po", "bizTransaction": "https://network.example/orders/7/"}]
    assert document["quantityList"] == [{"epcClass": BARS, "quantity": 2}, {"epcClass": NIBS, "quantity": 1.5}]
    assert document["sourceList"] == [
        {"type": "owning_party", "source": "https://network.example/suppliers/own-cocoa/"}
    ]
    assert document["destinationList"] == [
        {"type": "owning_party", "destination": "urn:uuid:00000000-0000-4000-8000-000000000007"}
    ]
    assert document["socialbiz:guarantor"] == {
        "socialbiz:party": "https://network.example/",
        "socialbiz:name": "The network",
        "socialbiz:guaranteeFund": "2000000001",
    }
    whole = epcis.epcis_document([document], context=Capture.objects.get(pk=sale.capture_id).context)
    assert {"socialbiz": "https://socialbiz.example/ns/epcis/"} in whole["@context"]
    assert list(Draft7Validator(epcis.schema()).iter_errors(whole)) == []
    assert epcis.validate_document(whole) == [document]
    # Indexed as any event is: the batches sold are found by their identifiers.
    assert sorted(EventLine.objects.filter(event=sale).values_list("identifier", "role")) == [
        (BARS, "epc"),
        (NIBS, "epc"),
    ]


def test_a_sale_joins_the_sellers_hash_chain(own_supplier):
    earlier = event("ObjectEvent", 0, action="OBSERVE", bizStep="storing", quantityList=[quantity(BARS, 10)])
    capture_document(supplier=own_supplier, submitted_by=None, document=epcis_document(earlier))

    sale = record(own_supplier)

    first = TraceEvent.objects.get(event_id=earlier["eventID"])
    assert (sale.supplier_id, sale.chain_index, sale.previous_hash) == (own_supplier.pk, 2, first.hash)


def test_recording_the_same_transaction_again_returns_the_first_event(own_supplier):
    first = record(own_supplier)
    captures = Capture.objects.count()

    again = record(own_supplier, when=WHEN + datetime.timedelta(hours=1), lines=[(BARS, 1)])

    assert again == first
    assert TraceEvent.objects.count() == 1
    assert Capture.objects.count() == captures
    assert record(own_supplier, biz_transaction="https://network.example/orders/8/") != first


def test_a_seller_with_a_gln_is_named_by_its_party_gln(own_supplier):
    own_supplier.gln = gln(1)
    sale = record(own_supplier, supplier_url="")

    assert sale.document["sourceList"] == [{"type": "owning_party", "source": f"https://id.gs1.org/417/{gln(1)}"}]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"when": datetime.datetime(2026, 5, 2, 10, 30)}, "when"),  # noqa: DTZ001 - the naive time is the point
        ({"lines": []}, "lines"),
        ({"supplier_url": ""}, "supplier_url"),
    ],
)
def test_a_sale_without_what_it_needs_is_refused_and_stores_nothing(own_supplier, changes, field):
    with pytest.raises(ValidationError) as refused:
        record(own_supplier, **changes)

    assert field in refused.value.message_dict
    assert not TraceEvent.objects.exists()


def test_lineage_knows_a_recorded_sale_for_what_it_is():
    assert SALE_BIZ_STEP in SALE_TRANSACTIONS
