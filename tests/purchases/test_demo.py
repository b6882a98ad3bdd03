"""The demo shop: offers, terms, calendars and price splits for the demo suppliers, and the demo shoppers' orders in
every state, in cash and in credits, made through the services, the ledger adding up after them."""

import pytest
from django.core.management import call_command
from django.db.models import F, Sum

from core.models import OutboxMessage
from network_credits.models import Account, Entry, Hold, Transfer
from products.demo import SUPPLIERS
from products.models import Product, Supplier
from provenance.models import Facility
from purchases import calendar, demo
from purchases.models import (
    CashPayment,
    Dispute,
    Means,
    Method,
    Offer,
    Order,
    OrderEvent,
    OrderLine,
    PriceSplit,
    SalesTerms,
    Stock,
    Window,
)

pytestmark = pytest.mark.django_db

SHOPPERS = {"ana@shoppers.example", "ben@shoppers.example", "chioma@shoppers.example"}


@pytest.fixture
def seeded(capsys):
    call_command("seed_demo")
    return capsys.readouterr().out


def demo_products():
    return Product.objects.public().filter(supplier__slug__in=[s["slug"] for s in SUPPLIERS])


def test_the_demo_shop_offers_every_public_product_with_terms_calendars_and_price_splits(seeded):
    products = list(demo_products())
    assert len(products) == 6
    levels = set()
    for product in products:
        offer = Offer.objects.get(product=product, batch__isnull=True)
        assert offer.active
        assert offer.price > 0
        assert offer.currency in ("GHS", "EUR", "KES")
        assert offer.price_credits > 0
        split = PriceSplit.objects.get(product=product)
        split.full_clean()  # adds up to 100 %, and anything above self-declared links to its evidence
        assert sum(share for _, share in split.shares()) == 100
        levels.add(split.evidence_level)
    assert levels == {"self_declared", "documented", "third_party_verified"}
    assert "Demo orders: created 6 offers, 3 terms, 7 windows, 6 price splits, 16 orders" in seeded

    for supplier in Supplier.objects.filter(slug__in=[s["slug"] for s in SUPPLIERS]):
        terms = SalesTerms.objects.get(supplier=supplier)
        assert terms.delivers
        assert terms.payment_instructions
        windows = Window.objects.filter(supplier=supplier)
        assert {w.method for w in windows} == {Method.PICKUP, Method.DELIVERY}
        for window in windows:
            facility = Facility.objects.get(pk=window.facility_id)
            assert facility.owner_id == supplier.pk
            assert facility.name == demo.CALENDARS[supplier.slug].place
        assert calendar.days_offered(supplier_id=supplier.pk, method=Method.DELIVERY)
        [pickup_point] = calendar.pickup_points(supplier.pk)
        assert calendar.days_offered(supplier_id=supplier.pk, method=Method.PICKUP, facility_id=pickup_point)


def test_the_demo_shoppers_have_orders_in_every_state_in_cash_and_in_credits_one_refunded_by_the_guarantee(seeded):
    orders = Order.objects.select_related("buyer")
    assert {(o.state, o.payment) for o in orders} == {
        (state, means) for state in Order.State.values for means in Means.values
    }
    assert {o.buyer.email for o in orders} == SHOPPERS
    assert {o.fulfilment for o in orders} == {Method.PICKUP, Method.DELIVERY}
    assert orders.filter(scheduled_for__isnull=False).exists()
    assert orders.filter(scheduled_for__isnull=True).exists()
    for placed in orders:
        first = placed.events.order_by("id").first()
        assert (first.action, first.role, first.actor) == ("place", OrderEvent.Role.BUYER, placed.buyer)
        assert (placed.hold_id is not None) == (placed.payment == Means.CREDITS)
    # A cash payment is recorded for the cash orders handed over, never a card number.
    assert CashPayment.objects.filter(order__state__in=["delivered", "closed", "disputed"]).count() >= 3

    # One upheld dispute after the supplier was paid in credits: the guarantee fund refunded the buyer.
    dispute = Dispute.objects.select_related("order", "guarantee_refund").get(state=Dispute.State.UPHELD)
    order = dispute.order
    assert order.payment == Means.CREDITS
    assert order.paid_at is not None
    assert order.state == Order.State.CLOSED
    assert dispute.refunded == order.total
    refund = dispute.guarantee_refund
    assert refund.debit_account.system == Account.System.GUARANTEE_FUND
    assert refund.credit_account.user == order.buyer
    assert dispute.recovered == dispute.refunded  # claimed back from the supplier, whose floor allowed it
    assert Account.objects.get(system=Account.System.GUARANTEE_FUND).balance == 0
    assert Dispute.objects.filter(state=Dispute.State.REJECTED).count() == 1
    assert Dispute.objects.filter(state__in=[Dispute.State.OPEN, Dispute.State.ANSWERED]).count() == 2


def test_the_ledger_and_the_stock_add_up_after_the_demo(seeded):
    assert Account.objects.aggregate(total=Sum("balance"))["total"] == 0
    for account in Account.objects.all():
        assert account.balance == (Entry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"] or 0)
        assert account.is_system or account.balance - account.pending_debits >= -account.credit_limit
        held = Hold.objects.filter(debit_account=account, state=Hold.State.PENDING).aggregate(t=Sum("amount"))["t"]
        assert account.pending_debits == (held or 0)
    for order in Order.objects.filter(payment=Means.CREDITS).select_related("hold"):
        expected = {
            "placed": Hold.State.PENDING,
            "confirmed": Hold.State.PENDING,
            "dispatched": Hold.State.PENDING,
            "ready": Hold.State.PENDING,
            "disputed": Hold.State.PENDING,
            "cancelled": Hold.State.VOIDED,
        }.get(order.state, Hold.State.POSTED)
        assert order.hold.state == expected, order
    for stock in Stock.objects.all():
        held = OrderLine.objects.filter(batch_id=stock.batch_id).exclude(order__state=Order.State.CANCELLED)
        assert stock.held == (held.aggregate(t=Sum("quantity"))["t"] or 0)
        assert stock.held <= stock.batch.quantity
    assert not Stock.objects.filter(held__gt=F("batch__quantity")).exists()


def counts() -> tuple[int, ...]:
    return (
        Offer.objects.count(),
        SalesTerms.objects.count(),
        Window.objects.count(),
        PriceSplit.objects.count(),
        Order.objects.count(),
        OrderEvent.objects.count(),
        Transfer.objects.count(),
        Dispute.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_the_demo_is_not_written_twice_and_keeps_what_was_changed_in_the_dashboard(seeded, capsys):
    first = counts()
    chocolate = Product.objects.get(slug="dark-chocolate-70")
    Offer.objects.filter(product=chocolate).update(price_credits=450, active=False)
    SalesTerms.objects.filter(supplier__slug="fio-lento").update(dispatch_hours=24)

    call_command("seed_demo")

    assert counts() == first
    assert "Demo orders: nothing to do: the demo shop is already there." in capsys.readouterr().out
    offer = Offer.objects.get(product=chocolate)
    assert (offer.price_credits, offer.active) == (450, False)
    assert SalesTerms.objects.get(supplier__slug="fio-lento").dispatch_hours == 24
    call_command("seed_demo", "--if-empty")
    assert counts() == first
