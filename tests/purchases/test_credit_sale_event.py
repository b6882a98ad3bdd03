"""A sale paid in credits is recorded in the supplier's chain as an EPCIS TransactionEvent naming the network as its
guarantor: once, valid against GS1's schema, in the batch's EPCIS export, but not a step of the batch's chain."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from jsonschema import Draft7Validator

from core import gs1
from network_credits.models import Account
from provenance import epcis
from provenance.lineage import batch_identifier, batch_lineage
from provenance.models import Capture, TraceEvent
from provenance.services import capture_document
from purchases import services, tasks
from purchases.models import Means, Method, Offer
from purchases.services import Fulfilment, LineIn
from storefront.selectors import batch_trace
from tests.core.conftest import celery_eager
from tests.products.factories import BatchFactory, public_product
from tests.provenance.factories import COCOA_GTIN, epcis_document, event, gln, quantity, transformation
from tests.purchases.factories import buyer, next_weekday, order, shop

pytestmark = pytest.mark.django_db

SALE = TraceEvent.Type.TRANSACTION


@pytest.fixture(autouse=True)
def _embedded_mode():
    """The sale is recorded in-process after commit, also where REDIS_URL names a broker."""
    with celery_eager(True):
        yield


def sales() -> list[TraceEvent]:
    return list(TraceEvent.objects.filter(type=SALE))


def chain_of(s) -> None:
    """The shop's batch made from a raw lot at its facility, and stored there: a chain of three steps."""
    made = batch_identifier(s.batch)
    raw = gs1.gtin_uri(COCOA_GTIN, "RAW-1")
    where = s.facility.location_uri
    capture_document(
        supplier=s.supplier,
        submitted_by=None,
        document=epcis_document(
            event(
                "ObjectEvent", 0, action="ADD", bizStep="commissioning", where=where, quantityList=[quantity(raw, 50)]
            ),
            transformation(5, [quantity(raw, 50)], [quantity(made, 10, "EA")], bizLocation={"id": where}),
            event("ObjectEvent", 9, action="OBSERVE", bizStep="storing", where=where, quantityList=[quantity(made)]),
        ),
    )


def bought_and_received(s, who, django_capture_on_commit_callbacks, *, quantity: int = 2):
    placed = order(s, who, quantity=quantity, day=next_weekday(5))
    services.order_ready(order=placed, actor=s.owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_deliver(order=placed, actor=who)
    placed.refresh_from_db()
    return placed


def test_a_credit_order_confirmed_received_is_one_valid_sale_guaranteed_by_the_network(
    django_capture_on_commit_callbacks,
):
    s = shop()
    who = buyer(email="ama@shoppers.example", display_name="Ama Mensah")
    placed = bought_and_received(s, who, django_capture_on_commit_callbacks)

    [sale] = sales()
    document = sale.document
    assert sale.supplier == s.supplier
    assert (document["action"], document["bizStep"], document["disposition"]) == (
        "ADD",
        "retail_selling",
        "retail_sold",
    )
    assert document["bizTransactionList"] == [
        {"type": "po", "bizTransaction": f"{settings.SITE_URL}/orders/{placed.pk}/"}
    ]
    assert document["quantityList"] == [{"epcClass": batch_identifier(s.batch), "quantity": 2}]
    assert document["sourceList"] == [
        {"type": "owning_party", "source": f"{settings.SITE_URL}/api/v1/suppliers/{s.supplier.slug}/"}
    ]
    [destination] = document["destinationList"]
    assert destination["type"] == "owning_party"
    assert destination["destination"].startswith("urn:uuid:")
    for named in ("ama", "Mensah", "shoppers"):
        assert named not in destination["destination"]
    fund = Account.objects.get(system=Account.System.GUARANTEE_FUND)
    assert document["socialbiz:guarantor"] == {
        "socialbiz:party": f"{settings.SITE_URL}/",
        "socialbiz:name": "socialbiz network",
        "socialbiz:guaranteeFund": fund.number,
    }
    assert epcis.parse_time(document["eventTime"]) == placed.paid_at

    stored_as = epcis.epcis_document([document], context=Capture.objects.get(pk=sale.capture_id).context)
    assert epcis.validate_document(stored_as) == [document]
    assert list(Draft7Validator(epcis.schema()).iter_errors(stored_as)) == []


def test_the_batch_epcis_export_includes_the_sale_and_still_validates(django_capture_on_commit_callbacks, client):
    s = shop()
    chain_of(s)
    bought_and_received(s, buyer(), django_capture_on_commit_callbacks)

    response = client.get(reverse("api:batch-epcis", kwargs={"batch_id": s.batch.pk}))

    assert response.status_code == 200
    document = response.json()
    events = epcis.validate_document(document)
    assert [e["type"] for e in events] == ["ObjectEvent", "TransformationEvent", "ObjectEvent", "TransactionEvent"]
    assert events[-1]["eventID"] == sales()[0].event_id
    assert {"socialbiz": "https://socialbiz.example/ns/epcis/"} in document["@context"]
    assert list(Draft7Validator(epcis.schema()).iter_errors(document)) == []


def test_the_sale_is_not_a_step_of_the_batch_chain(django_capture_on_commit_callbacks, client):
    s = shop()
    chain_of(s)
    before = batch_trace(s.batch)

    bought_and_received(s, buyer(), django_capture_on_commit_callbacks)

    [sale] = sales()
    assert sale.pk in {hop.event.pk for hop in batch_lineage(s.batch).hops}  # in the batch's record…
    after = batch_trace(s.batch)
    assert len(after.chain) == len(before.chain) == 3  # …not in the chain drawn from raw material to shelf
    assert after.steps == before.steps
    assert sale.pk not in {event_pk for event_pk, _ in after.steps}
    page = client.get(reverse("storefront:batch", kwargs={"batch_id": s.batch.pk}))
    assert page.status_code == 200
    assert "retail_selling" not in page.content.decode()


def test_recording_the_same_order_again_stores_nothing_more(django_capture_on_commit_callbacks):
    s = shop()
    placed = bought_and_received(s, buyer(), django_capture_on_commit_callbacks)
    captures = Capture.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.credit_sale_record(placed.pk)
        tasks.credit_sale_record(placed.pk)

    assert len(sales()) == 1
    assert Capture.objects.count() == captures


def test_credits_paid_when_the_confirmation_window_ends_or_a_dispute_is_rejected_are_recorded(
    django_capture_on_commit_callbacks, operator
):
    s = shop()
    who = buyer()
    unconfirmed = order(s, who, method=Method.DELIVERY)
    services.order_dispatch(order=unconfirmed, actor=s.owner)
    disputed = order(s, who, day=next_weekday(5))
    services.order_ready(order=disputed, actor=s.owner)
    dispute = services.dispute_open(order=disputed, actor=who, reason="not_received", description="Not there.")
    services.dispute_answer(dispute=dispute, actor=s.owner, response="It was.")
    unconfirmed.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        services.orders_enforce(now=unconfirmed.confirm_by + timedelta(minutes=1))
        services.dispute_decide(dispute=dispute, actor=operator.user, upheld=False, reason="Signed for.")

    recorded = {sale.document["bizTransactionList"][0]["bizTransaction"] for sale in sales()}
    assert recorded == {f"{settings.SITE_URL}/orders/{o.pk}/" for o in (unconfirmed, disputed)}


def test_cash_sales_and_credits_given_back_are_not_recorded(django_capture_on_commit_callbacks, operator):
    s = shop()
    who = buyer()
    cash = order(s, who, payment=Means.CASH)
    services.cash_receive(order=cash, actor=s.owner)
    services.order_ready(order=cash, actor=s.owner)
    cancelled = order(s, who)
    disputed = order(s, who, day=next_weekday(5))
    services.order_ready(order=disputed, actor=s.owner)
    dispute = services.dispute_open(order=disputed, actor=who, reason="not_received", description="Not there.")

    with django_capture_on_commit_callbacks(execute=True):
        services.order_deliver(order=cash, actor=who)
        services.order_cancel(order=cancelled, actor=who)
        services.dispute_decide(dispute=dispute, actor=operator.user, upheld=True, reason="Never came.")

    assert sales() == []


def test_each_order_names_its_buyer_by_a_pseudonym_of_its_own(django_capture_on_commit_callbacks):
    s = shop()
    who = buyer()
    first = bought_and_received(s, who, django_capture_on_commit_callbacks, quantity=1)
    second = bought_and_received(s, who, django_capture_on_commit_callbacks, quantity=1)

    by_order = {
        sale.document["bizTransactionList"][0]["bizTransaction"]: sale.document["destinationList"][0]["destination"]
        for sale in sales()
    }
    assert len(by_order) == 2
    assert len(set(by_order.values())) == 2  # one person's purchases cannot be linked in the public record
    assert set(by_order) == {f"{settings.SITE_URL}/orders/{o.pk}/" for o in (first, second)}


def test_a_supplier_with_a_gln_is_named_by_it(django_capture_on_commit_callbacks):
    s = shop()
    s.supplier.gln = gln(1)
    s.supplier.save()

    bought_and_received(s, buyer(), django_capture_on_commit_callbacks)

    assert sales()[0].document["sourceList"] == [
        {"type": "owning_party", "source": f"https://id.gs1.org/417/{s.supplier.gln}"}
    ]


def test_a_sale_of_batches_without_gs1_identifier_records_nothing_and_fails_nothing(
    django_capture_on_commit_callbacks,
):
    s = shop()
    s.batch.product.gtin = None
    s.batch.product.save()
    placed = bought_and_received(s, buyer(), django_capture_on_commit_callbacks)

    assert placed.paid_at is not None
    assert sales() == []


def test_a_batch_of_another_product_without_gtin_does_not_keep_the_rest_from_being_recorded(
    django_capture_on_commit_callbacks,
):
    s = shop()
    plain = BatchFactory(product=public_product(supplier=s.supplier, gtin=None), quantity=5)
    Offer.objects.create(product=plain.product, price_credits=300)
    placed = services.checkout(
        buyer=buyer(),
        lines=[LineIn(s.batch.pk, 1), LineIn(plain.pk, 2)],
        payment=Means.CREDITS,
        fulfilment=Fulfilment(Method.PICKUP, facility_id=s.facility.pk),
        day=next_weekday(5),
        key="mixed",
    ).order
    services.order_ready(order=placed, actor=s.owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_deliver(order=placed, actor=placed.buyer)

    assert sales()[0].document["quantityList"] == [{"epcClass": batch_identifier(s.batch), "quantity": 1}]
