"""Every step of an order and every refusal, through the services; after each, the ledger's invariants hold and the
stock matches the orders (tests/purchases/invariants.py)."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from network_credits import services as ledger
from network_credits.models import Account, Hold, Transfer
from products import services as catalog
from purchases import services
from purchases.models import Closure, Dispute, Means, Method, Order, OrderEvent, Stock
from purchases.refusals import OrderRefused
from purchases.services import Fulfilment, LineIn
from tests.accounts.factories import UserFactory
from tests.products.factories import BatchFactory
from tests.purchases.factories import (
    ADDRESS,
    account_of,
    buyer,
    next_weekday,
    order,
    shop,
    supplier_account_of,
)
from tests.purchases.invariants import assert_purchases_consistent

pytestmark = pytest.mark.django_db
State = Order.State


@pytest.fixture
def s():
    return shop(quantity=10)


@pytest.fixture
def who():
    return buyer()


class _Refused:
    def __init__(self, code: str) -> None:
        self.code = code
        self.error: OrderRefused | None = None

    def __enter__(self) -> "_Refused":
        return self

    def __exit__(self, kind, error, tb) -> bool:
        assert kind is OrderRefused, f"expected a refusal {self.code!r}, got {kind}"
        assert error.code == self.code, (error.code, error.messages)
        self.error = error
        return True

    @property
    def text(self) -> str:
        return " ".join(self.error.messages)


def state_of(order_: Order) -> str:
    return Order.objects.get(pk=order_.pk).state


def stock_held(s) -> int:
    stock = Stock.objects.filter(batch=s.batch).first()
    return stock.held if stock else 0


# Checkout -------------------------------------------------------------------------------------------------------------


def test_checkout_in_credits_holds_the_total_from_buyer_to_supplier(s, who):
    placed = order(s, who, quantity=3)
    assert placed.total == 1500
    assert placed.hold.state == Hold.State.PENDING
    assert placed.hold.debit_account == account_of(who)
    assert placed.hold.credit_account == supplier_account_of(s.supplier)
    assert account_of(who).available == 10_000 - 1500
    assert stock_held(s) == 3
    assert [line.unit_price for line in placed.lines.all()] == [500]
    assert placed.events.get().role == OrderEvent.Role.BUYER
    assert_purchases_consistent()


def test_checkout_in_cash_for_delivery_adds_the_fee_and_keeps_the_address(s):
    placed = order(s, buyer(credits=0), payment=Means.CASH, method=Method.DELIVERY, quantity=2)
    assert (placed.subtotal, placed.delivery_fee, placed.total, placed.currency) == (900, 300, 1200, "EUR")
    assert placed.hold is None
    assert placed.delivery_address() == "Ama Mensah, 12 Palm Street, AK-039 Kumasi, Ghana"
    assert_purchases_consistent()


def test_delivery_is_free_from_the_threshold():
    s = shop(quantity=30)
    below = order(s, buyer(credits=0), payment=Means.CASH, method=Method.DELIVERY, quantity=11)
    assert (below.subtotal, below.delivery_fee) == (4950, 300)
    free = order(s, buyer(credits=0), payment=Means.CASH, method=Method.DELIVERY, quantity=12)
    assert (free.subtotal, free.delivery_fee, free.total) == (5400, 0, 5400)


def test_pickup_records_the_place_as_it_was(s, who):
    placed = order(s, who)
    assert placed.place_name == s.facility.name
    assert placed.place_address == "1 Market Road, Kumasi"


def test_a_batch_offer_takes_the_place_of_the_product_offer(s, who):
    from purchases.models import Offer

    Offer.objects.create(product=s.batch.product, batch=s.batch, price_credits=420)
    assert order(s, who).total == 420


def test_the_same_key_returns_the_first_order_and_moves_nothing_twice(s, who):
    first = order(s, who, key="double-click")
    again = order(s, who, key="double-click")
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert Hold.objects.count() == 1
    assert stock_held(s) == 1


def test_the_same_key_for_another_order_is_refused(s, who):
    order(s, who, key="k1")
    with _Refused("idempotency_key_reused"):
        order(s, who, key="k1", quantity=2)
    assert stock_held(s) == 1


def test_the_last_unit_goes_to_one_buyer_and_the_next_is_told_it_sold_out():
    s = shop(quantity=1)
    order(s, buyer())
    late = buyer()
    with _Refused("out_of_stock") as no:
        order(s, late)
    assert "has sold out" in no.text
    assert s.batch.lot in no.text
    assert account_of(late).pending_debits == 0
    assert Order.objects.count() == 1
    assert_purchases_consistent()


def test_asking_for_more_than_is_left_says_how_many_are_left():
    s = shop(quantity=3)
    with _Refused("out_of_stock") as no:
        order(s, buyer(), quantity=5)
    assert "Only 3 of" in no.text
    assert stock_held(s) == 0


def test_insufficient_credit_is_refused_with_what_can_be_spent(s):
    poor = buyer(credits=200)
    ledger.credit_limit_set(account=account_of(poor), credit_limit=100, reason="A small limit")
    with _Refused("insufficient_credit") as no:
        order(s, poor)
    assert "has 3.00 credits to spend; this order costs 5.00 credits" in no.text
    assert Order.objects.count() == 0
    assert stock_held(s) == 0
    assert_purchases_consistent()


def test_a_suspended_supplier_takes_no_orders(s, who):
    catalog.supplier_status_set(supplier=s.supplier, status="suspended", reason="Unanswered safety reports")
    with _Refused("not_for_sale") as no:
        order(s, who)
    assert "suspended" in no.text


def test_an_archived_or_expired_batch_or_unpublished_product_is_not_for_sale(s, who):
    catalog.batch_archive(batch=s.batch, reason="Recalled")
    with _Refused("not_for_sale"):
        order(s, who)
    expired = BatchFactory(
        product=s.batch.product, produced_on=datetime.date(2020, 1, 1), expires_on=datetime.date(2020, 6, 1)
    )
    with _Refused("not_for_sale"):
        services.checkout(
            buyer=who, lines=[LineIn(expired.pk, 1)], payment=Means.CREDITS,
            fulfilment=Fulfilment(Method.PICKUP, facility_id=s.facility.pk), day=None, key="x",
        )  # fmt: skip


def test_a_means_the_offer_has_no_price_in_is_refused(who):
    s = shop(price_credits=None)
    with _Refused("not_for_sale") as no:
        order(s, who)
    assert "not sold in credits" in no.text


def test_batches_of_two_suppliers_are_two_orders(s, who):
    other = shop()
    with _Refused("invalid"):
        services.checkout(
            buyer=who, lines=[LineIn(s.batch.pk, 1), LineIn(other.batch.pk, 1)], payment=Means.CREDITS,
            fulfilment=Fulfilment(Method.PICKUP, facility_id=s.facility.pk), day=None, key="two",
        )  # fmt: skip


def test_a_pickup_at_another_suppliers_facility_is_refused(s, who):
    other = shop()
    with _Refused("invalid"):
        services.checkout(
            buyer=who, lines=[LineIn(s.batch.pk, 1)], payment=Means.CREDITS,
            fulfilment=Fulfilment(Method.PICKUP, facility_id=other.facility.pk), day=None, key="elsewhere",
        )  # fmt: skip


@pytest.mark.parametrize(("field", "value"), [("line1", ""), ("city", "  "), ("country", "XX"), ("postcode", "9" * 30)])
def test_a_bad_address_is_refused_by_field(s, who, field, value):
    address = services.Address(**{**ADDRESS.__dict__, field: value})
    with _Refused("invalid") as no:
        services.checkout(
            buyer=who, lines=[LineIn(s.batch.pk, 1)], payment=Means.CREDITS,
            fulfilment=Fulfilment(Method.DELIVERY, address=address), day=None, key="addr",
        )  # fmt: skip
    assert list(no.error.message_dict) == [f"address.{field}"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("quantity", [0, -1, 10_001])
def test_impossible_quantities_are_refused(s, who, quantity):
    with _Refused("invalid"):
        order(s, who, quantity=quantity)


def test_a_scheduled_day_must_be_one_the_calendar_offers(s, who):
    saturday = next_weekday(5)
    assert order(s, who, day=saturday).scheduled_for == saturday
    with _Refused("date_unavailable") as no:
        order(s, who, day=saturday + timedelta(days=1))
    assert "next days" in no.text
    Closure.objects.create(supplier=s.supplier, day=saturday + timedelta(days=7), reason="Harvest festival")
    with _Refused("date_unavailable"):
        order(s, who, day=saturday + timedelta(days=7))
    with _Refused("date_unavailable"):
        order(s, who, day=saturday + timedelta(days=400))


def test_a_day_past_its_cutoff_is_not_offered(s, who):
    saturday = next_weekday(5)
    just_after_cutoff = timezone.make_aware(datetime.datetime.combine(saturday, datetime.time(9))) - timedelta(hours=23)
    with _Refused("date_unavailable"):
        services.checkout(
            buyer=who, lines=[LineIn(s.batch.pk, 1)], payment=Means.CREDITS,
            fulfilment=Fulfilment(Method.PICKUP, facility_id=s.facility.pk), day=saturday, key="late",
            now=just_after_cutoff,
        )  # fmt: skip


def test_a_scheduled_order_must_be_handed_over_by_the_end_of_its_window(s, who):
    saturday = next_weekday(5)
    placed = order(s, who, day=saturday)
    assert timezone.localtime(placed.dispatch_by) == timezone.make_aware(
        datetime.datetime.combine(saturday, datetime.time(13))
    )
    assert timezone.localtime(placed.changeable_until) == timezone.make_aware(
        datetime.datetime.combine(saturday - timedelta(days=1), datetime.time(9))
    )
    assert placed.hold.expires_at > placed.dispatch_by + timedelta(days=7)


# Steps ----------------------------------------------------------------------------------------------------------------


def test_credits_pickup_from_placed_to_closed(s, who):
    placed = order(s, who, quantity=2, day=next_weekday(5))
    services.order_confirm(order=placed, actor=s.owner)
    services.order_ready(order=placed, actor=s.owner)
    assert state_of(placed) == State.READY
    services.order_deliver(order=placed, actor=who)
    placed.refresh_from_db()
    assert placed.state == State.DELIVERED
    assert placed.hold.state == Hold.State.POSTED
    assert supplier_account_of(s.supplier).balance == 1000
    later = placed.delivered_at + timedelta(days=31)
    assert services.orders_enforce(now=later)["closed"] == 1
    assert state_of(placed) == State.CLOSED
    events = list(placed.events.values_list("action", "role"))
    assert events == [
        ("place", "buyer"), ("confirm", "supplier"), ("ready", "supplier"), ("deliver", "buyer"), ("close", "system"),
    ]  # fmt: skip
    assert_purchases_consistent()


def test_a_delivery_is_dispatched_not_made_ready(s, who):
    placed = order(s, who, method=Method.DELIVERY)
    with _Refused("wrong_state"):
        services.order_ready(order=placed, actor=s.owner)
    services.order_dispatch(order=placed, actor=s.owner, note="With Kumasi Couriers, tracking KC123")
    assert state_of(placed) == State.DISPATCHED
    with _Refused("wrong_state"):
        services.order_dispatch(order=placed, actor=s.owner)


def test_a_pickup_is_made_ready_not_dispatched(s, who):
    placed = order(s, who)
    with _Refused("wrong_state"):
        services.order_dispatch(order=placed, actor=s.owner)


def test_the_supplier_hands_over_and_credits_wait_for_the_buyer_or_the_window(s, who):
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=s.owner)
    placed.refresh_from_db()
    assert placed.state == State.DELIVERED
    assert placed.paid_at is None
    assert placed.hold.state == Hold.State.PENDING
    services.order_deliver(order=placed, actor=who)  # the buyer confirms receipt
    placed.refresh_from_db()
    assert placed.hold.state == Hold.State.POSTED
    assert placed.events.last().action == "confirm_receipt"
    with _Refused("wrong_state"):
        services.order_deliver(order=placed, actor=who)
    assert_purchases_consistent()


def test_a_cash_order_is_received_once(s):
    shopper = buyer(credits=0)
    placed = order(s, shopper, payment=Means.CASH)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=shopper)
    with _Refused("wrong_state"):
        services.order_deliver(order=placed, actor=shopper)
    assert [e.action for e in placed.events.all()] == ["place", "ready", "deliver"]


def test_credits_are_paid_when_the_confirmation_window_ends(s, who):
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    placed.refresh_from_db()
    assert services.orders_enforce(now=placed.confirm_by - timedelta(minutes=1))["paid"] == 0
    done = services.orders_enforce(now=placed.confirm_by + timedelta(minutes=1))
    assert done["paid"] == 1
    placed.refresh_from_db()
    assert placed.state == State.DELIVERED
    assert placed.hold.state == Hold.State.POSTED
    assert placed.events.last().role == OrderEvent.Role.SYSTEM
    assert services.orders_enforce(now=placed.confirm_by + timedelta(minutes=2))["paid"] == 0  # twice: nothing more
    assert_purchases_consistent()


def test_a_missed_dispatch_deadline_cancels_and_returns_stock_and_credits(s, who):
    placed = order(s, who, quantity=4)
    assert services.orders_enforce(now=placed.dispatch_by - timedelta(minutes=1))["cancelled"] == 0
    assert services.orders_enforce(now=placed.dispatch_by + timedelta(minutes=1))["cancelled"] == 1
    placed.refresh_from_db()
    assert placed.state == State.CANCELLED
    assert placed.hold.state == Hold.State.VOIDED
    assert stock_held(s) == 0
    assert account_of(who).available == 10_000
    assert "did not hand it over" in placed.events.last().note
    with _Refused("wrong_state"):
        services.order_ready(order=placed, actor=s.owner)
    assert_purchases_consistent()


def test_handing_over_after_the_deadline_is_refused(s, who):
    placed = order(s, who)
    with _Refused("wrong_state") as no:
        services.order_ready(order=placed, actor=s.owner, now=placed.dispatch_by + timedelta(minutes=1))
    assert "deadline" in no.text


def test_the_buyer_cancels_an_order_for_now_until_the_supplier_confirms(s, who):
    placed = order(s, who, quantity=2)
    services.order_cancel(order=placed, actor=who)
    placed.refresh_from_db()
    assert placed.state == State.CANCELLED
    assert placed.hold.state == Hold.State.VOIDED
    assert stock_held(s) == 0
    confirmed = order(s, who)
    services.order_confirm(order=confirmed, actor=s.owner)
    with _Refused("wrong_state") as no:
        services.order_cancel(order=confirmed, actor=who)
    assert "ask them to cancel" in no.text
    assert_purchases_consistent()


def test_the_buyer_cancels_a_scheduled_order_until_its_cutoff_even_when_confirmed(s, who):
    placed = order(s, who, day=next_weekday(5))
    services.order_confirm(order=placed, actor=s.owner)
    with _Refused("wrong_state"):
        services.order_cancel(order=placed, actor=who, now=placed.changeable_until + timedelta(minutes=1))
    services.order_cancel(order=placed, actor=who, now=placed.changeable_until - timedelta(minutes=1))
    assert state_of(placed) == State.CANCELLED
    assert_purchases_consistent()


def test_the_supplier_cancels_with_a_reason_the_buyer_reads(s, who):
    placed = order(s, who)
    with _Refused("invalid"):
        services.order_cancel(order=placed, actor=s.owner, reason="  ")
    services.order_cancel(order=placed, actor=s.owner, reason="The cold store failed overnight.")
    event = Order.objects.get(pk=placed.pk).events.last()
    assert (event.role, event.note) == ("supplier", "The cold store failed overnight.")


def test_nothing_handed_over_can_be_cancelled(s, who):
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    with _Refused("wrong_state"):
        services.order_cancel(order=placed, actor=s.owner, reason="Changed my mind")


def test_the_buyer_moves_a_scheduled_order_to_another_offered_day(s, who):
    saturday = next_weekday(5)
    placed = order(s, who, day=saturday)
    services.order_reschedule(order=placed, actor=who, day=saturday + timedelta(days=7))
    placed.refresh_from_db()
    assert placed.scheduled_for == saturday + timedelta(days=7)
    assert placed.events.last().action == "reschedule"
    with _Refused("date_unavailable"):
        services.order_reschedule(order=placed, actor=who, day=saturday + timedelta(days=8))
    with _Refused("permission_denied"):
        services.order_reschedule(order=placed, actor=s.owner, day=saturday)


# Who may do what ------------------------------------------------------------------------------------------------------


def test_only_the_supplier_confirms_and_hands_over(s, who):
    placed = order(s, who)
    with _Refused("permission_denied"):
        services.order_confirm(order=placed, actor=who)
    with _Refused("permission_denied"):
        services.order_ready(order=placed, actor=who)


def test_someone_elses_order_is_not_found_for_strangers_and_other_suppliers(s, who):
    placed = order(s, who)
    other = shop()
    for outsider in (UserFactory(), other.owner, None):
        for step in (services.order_confirm, services.order_cancel, services.order_deliver):
            with _Refused("not_found"):
                step(order=placed, actor=outsider)
    with _Refused("not_found"):
        services.dispute_open(order=placed, actor=UserFactory(), reason="unsafe", description="x")
    assert state_of(placed) == State.PLACED


def test_a_viewer_of_the_supplier_cannot_act(s, who):
    from products.models import SupplierMember
    from tests.products.factories import SupplierMemberFactory

    viewer = UserFactory()
    SupplierMemberFactory(supplier=s.supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    with _Refused("not_found"):
        services.order_confirm(order=order(s, who), actor=viewer)


def test_an_operator_may_act_for_the_supplier(s, who):
    operator = UserFactory(is_staff=True)
    placed = order(s, who)
    services.order_confirm(order=placed, actor=operator)
    assert placed.events.last().role == OrderEvent.Role.OPERATOR


# Cash -----------------------------------------------------------------------------------------------------------------


def test_the_supplier_confirms_a_cash_receipt_once(s):
    placed = order(s, buyer(credits=0), payment=Means.CASH)
    payment = services.cash_receive(order=placed, actor=s.owner)
    assert (payment.amount, payment.currency, payment.method) == (450, "EUR", "cash_at_pickup")
    assert Order.objects.get(pk=placed.pk).paid_at is not None
    with _Refused("wrong_state"):
        services.cash_receive(order=placed, actor=s.owner)


def test_a_card_payment_needs_the_providers_reference_and_never_a_card_number(s):
    placed = order(s, buyer(credits=0), payment=Means.CASH, cash_method="card")
    with _Refused("invalid"):
        services.cash_receive(order=placed, actor=s.owner, provider="Stripe")
    with _Refused("invalid") as no:
        services.cash_receive(order=placed, actor=s.owner, provider="Stripe", reference="4111 1111 1111 1111")
    assert "card number" in no.text
    services.cash_receive(order=placed, actor=s.owner, provider="Stripe", reference="pi_3Nabc123")
    second = order(s, buyer(credits=0), payment=Means.CASH, cash_method="card")
    with _Refused("invalid"):
        services.cash_receive(order=second, actor=s.owner, provider="Stripe", reference="pi_3Nabc123")


def test_a_too_long_provider_name_is_refused_as_such(s):
    placed = order(s, buyer(credits=0), payment=Means.CASH, cash_method="card")
    with _Refused("invalid") as no:
        services.cash_receive(order=placed, actor=s.owner, provider="P" * 81, reference="pi_1")
    assert list(no.error.message_dict) == ["provider"]


def test_an_unpublished_products_batch_is_unknown_to_checkout(s, who):
    catalog.product_unpublish(product=s.batch.product)
    with _Refused("not_found") as no:
        order(s, who)
    assert s.batch.product.name not in no.text


def test_a_credits_order_has_no_cash_receipt(s, who):
    with _Refused("wrong_state"):
        services.cash_receive(order=order(s, who), actor=s.owner)


def test_only_the_supplier_records_cash(s):
    shopper = buyer(credits=0)
    placed = order(s, shopper, payment=Means.CASH)
    with _Refused("permission_denied"):
        services.cash_receive(order=placed, actor=shopper)


# Disputes and the guarantee -------------------------------------------------------------------------------------------


def _delivered(s, who, **kwargs):
    placed = order(s, who, **kwargs)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=who)
    return Order.objects.get(pk=placed.pk)


def test_nothing_can_be_disputed_before_it_is_handed_over(s, who):
    with _Refused("wrong_state"):
        services.dispute_open(order=order(s, who), actor=who, reason="not_received", description="Where is it?")


def test_a_dispute_upheld_after_payment_is_refunded_by_the_guarantee_fund_and_claimed_from_the_supplier(s, who):
    # The supplier has spent what it was paid: the claim takes it down to its floor, the rest is its debt.
    placed = _delivered(s, who, quantity=2)
    supplier = supplier_account_of(s.supplier)
    ledger.credit_limit_set(account=supplier, credit_limit=300, reason="Test floor")
    ledger.transfer(payer=supplier, payee=account_of(buyer(credits=0)), amount=1000, key="spent", system="tests")
    operator = UserFactory(is_staff=True)
    dispute = services.dispute_open(
        order=placed,
        actor=who,
        reason="unsafe",
        description="The bar smelt of solvent.",
        evidence_url="https://example.org/p.jpg",
    )
    assert state_of(placed) == State.DISPUTED
    services.dispute_answer(dispute=dispute, actor=s.owner, response="We are testing the lot.")
    with _Refused("invalid"):
        services.dispute_decide(dispute=dispute, actor=operator, upheld=True, reason="")
    with _Refused("permission_denied"):
        services.dispute_decide(dispute=dispute, actor=s.owner, upheld=False, reason="Not our fault")
    buyer_before = account_of(who).balance
    decided = services.dispute_decide(dispute=dispute, actor=operator, upheld=True, reason="Lab test found solvent.")
    assert decided.state == Dispute.State.UPHELD
    assert account_of(who).balance == buyer_before + 1000  # at once, from the fund
    assert decided.guarantee_refund.debit_account == ledger.system_account(Account.System.GUARANTEE_FUND)
    assert decided.refunded == 1000
    assert decided.recovered == 300  # down to the supplier's floor
    assert decided.outstanding == 700
    assert supplier_account_of(s.supplier).balance == -300
    assert state_of(placed) == State.CLOSED
    assert "owes the network" in Order.objects.get(pk=placed.pk).events.last().note
    assert_purchases_consistent()
    # Once the supplier earns again, the network claims the rest.
    ledger.transfer(payer=account_of(buyer()), payee=supplier, amount=2000, key="earned", system="tests")
    assert services.guarantee_claims_recover() == 700
    assert Dispute.objects.get(pk=dispute.pk).outstanding == 0
    assert ledger.system_account(Account.System.GUARANTEE_FUND).balance == 0
    assert services.guarantee_claims_recover() == 0
    assert_purchases_consistent()


def test_a_dispute_upheld_before_payment_returns_the_held_credits(s, who):
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    dispute = services.dispute_open(order=placed, actor=who, reason="not_as_described", description="Not 70 %")
    placed.refresh_from_db()
    assert services.orders_enforce(now=placed.confirm_by + timedelta(hours=1))["paid"] == 0  # a dispute stops it
    services.dispute_decide(dispute=dispute, actor=UserFactory(is_staff=True), upheld=True, reason="Label wrong.")
    placed.refresh_from_db()
    assert placed.hold.state == Hold.State.VOIDED
    assert account_of(who).available == 10_000
    assert not Transfer.objects.filter(kind=Transfer.Kind.ADJUSTMENT).exists()
    assert_purchases_consistent()


def test_a_rejected_dispute_pays_the_supplier(s, who):
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    dispute = services.dispute_open(order=placed, actor=who, reason="not_received", description="Not there")
    services.dispute_decide(dispute=dispute, actor=UserFactory(is_staff=True), upheld=False, reason="Signed for.")
    placed.refresh_from_db()
    assert placed.state == State.CLOSED
    assert placed.hold.state == Hold.State.POSTED
    assert supplier_account_of(s.supplier).balance == 500
    assert_purchases_consistent()


def test_a_dispute_is_opened_once_and_decided_once(s, who):
    placed = _delivered(s, who)
    dispute = services.dispute_open(order=placed, actor=who, reason="unsafe", description="Sharp edge")
    with _Refused("wrong_state"):
        services.dispute_open(order=placed, actor=who, reason="unsafe", description="Again")
    operator = UserFactory(is_staff=True)
    services.dispute_decide(dispute=dispute, actor=operator, upheld=False, reason="No evidence.")
    with _Refused("wrong_state"):
        services.dispute_decide(dispute=dispute, actor=operator, upheld=True, reason="Changed my mind.")


def test_disputes_close_after_the_dispute_window(s, who):
    placed = _delivered(s, who)
    with _Refused("wrong_state"):
        services.dispute_open(
            order=placed, actor=who, reason="unsafe", description="Late", now=placed.delivered_at + timedelta(days=31)
        )


def test_only_the_buyer_disputes(s, who):
    placed = _delivered(s, who)
    with _Refused("permission_denied"):
        services.dispute_open(order=placed, actor=s.owner, reason="unsafe", description="x")


# The ledger's own refusals, through an order --------------------------------------------------------------------------


def test_an_expired_hold_cannot_pay_the_supplier(s, who):
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    ledger.holds_expire(now=placed.hold.expires_at + timedelta(minutes=1))
    with _Refused("hold_expired") as no:
        services.order_deliver(order=placed, actor=who)
    assert "released" in no.text
    assert state_of(placed) == State.READY
    assert_purchases_consistent()


def test_suspending_a_supplier_returns_every_unpaid_credit_order(s, who):
    waiting = order(s, who, quantity=2)
    handed = order(s, who)
    services.order_ready(order=handed, actor=s.owner)
    paid = _delivered(s, who)
    cash = order(s, buyer(credits=0), payment=Means.CASH)
    catalog.supplier_status_set(supplier=s.supplier, status="suspended", reason="Breach of terms 4.2")
    for o in (waiting, handed, cash):
        o.refresh_from_db()
        assert o.state == State.CANCELLED, o
        assert "suspended" in o.events.last().note
    assert waiting.hold.state == Hold.State.VOIDED
    assert handed.hold.state == Hold.State.VOIDED
    assert Order.objects.get(pk=paid.pk).state == State.DELIVERED
    assert account_of(who).pending_debits == 0
    assert_purchases_consistent()


def test_restricting_a_supplier_keeps_its_orders(s, who):
    placed = order(s, who)
    catalog.supplier_status_set(supplier=s.supplier, status="restricted", reason="Warning period")
    assert state_of(placed) == State.PLACED
    with _Refused("not_for_sale"):
        order(s, who)
