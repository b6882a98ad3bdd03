import pytest

from network_credits.models import Hold
from purchases import services
from purchases.models import Means, Method, Order, Stock
from purchases.refusals import OrderRefused
from tests.purchases.factories import account_of, buyer, next_weekday, order, shop, supplier_account_of

pytestmark = pytest.mark.django_db


def test_credits_pickup_saturday_then_receipt_pays_supplier():
    s = shop(quantity=3)
    who = buyer()
    saturday = next_weekday(5)
    placed = order(s, who, quantity=2, day=saturday)
    assert placed.state == Order.State.PLACED
    assert placed.total == 1000
    assert placed.hold.state == Hold.State.PENDING
    assert Stock.objects.get(batch=s.batch).held == 2
    assert account_of(who).pending_debits == 1000
    services.order_confirm(order=placed, actor=s.owner)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=who)
    placed.refresh_from_db()
    assert placed.state == Order.State.DELIVERED
    assert placed.paid_at is not None
    assert supplier_account_of(s.supplier).balance == 1000
    assert account_of(who).balance == 10_000 - 1000
    assert [e.action for e in placed.events.all()] == ["place", "confirm", "ready", "deliver"]


def test_last_unit_sells_out_with_a_clear_message():
    s = shop(quantity=1)
    order(s, buyer())
    with pytest.raises(OrderRefused) as refused:
        order(s, buyer())
    assert refused.value.code == "out_of_stock"
    assert "sold out" in str(refused.value)
    assert Order.objects.count() == 1


def test_cash_delivery_now():
    s = shop()
    placed = order(s, buyer(credits=0), payment=Means.CASH, method=Method.DELIVERY)
    assert placed.total == 450 + 300
    assert placed.currency == "EUR"
    services.cash_receive(order=placed, actor=s.owner)
    placed.refresh_from_db()
    assert placed.paid_at is not None
