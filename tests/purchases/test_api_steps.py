"""The steps of an order's life through the API: each party takes its own, once per Idempotency-Key; a step the state
does not allow is a 409, another party's step a 403, an order one cannot see a 404 — and none of them changes a row."""

import datetime
import itertools

import pytest

from network_credits import services as ledger
from network_credits.models import Account, Hold
from products.models import SupplierMember
from provenance.services import facility_create
from purchases.models import CashPayment, Dispute, Method, Order, OrderEvent, Window
from tests.products.factories import SupplierMemberFactory
from tests.purchases.factories import account_of, buyer, next_weekday, order, shop, supplier_account_of
from tests.purchases.test_api import ORDERS, SATURDAY, post, trace

pytestmark = pytest.mark.django_db

_keys = itertools.count(1)


@pytest.fixture
def s(owner):
    """own_supplier's shop: 10 units at €4.50 or 5.00 credits, Saturday pick-ups, Wednesday deliveries."""
    return shop(supplier=owner.supplier, owner=owner.user)


@pytest.fixture
def ama():
    """A shopper with 100.00 credits."""
    return buyer(email="ama.mensah@example.org", display_name="Ama")


def take(user, order_id: int, name: str, body: dict | None = None, key: str | None = None):
    """POST one step, with a new Idempotency-Key unless one is given."""
    return post(user, f"{ORDERS}{order_id}/{name}/", body or {}, key=key or f"{name}-{next(_keys)}")


def ok(response) -> dict:
    assert response.status_code == 200, response.json()
    return response.json()


def actions(body: dict) -> list[str]:
    return [event["action"] for event in body["timeline"]]


# Each party's steps -------------------------------------------------------------------------------------------------


def test_credits_for_pickup_confirmed_made_ready_and_received_pays_the_supplier(s, ama, owner):
    placed = order(s, ama, quantity=2, day=next_weekday(SATURDAY))
    confirmed = ok(take(owner.user, placed.pk, "confirm"))
    assert confirmed["state"] == "confirmed"
    ready = ok(take(owner.user, placed.pk, "ready", {"note": "On the shelf by the door."}))
    assert ready["state"] == "ready"
    assert ready["timeline"][-1]["note"] == "On the shelf by the door."
    assert ready["confirm_by"] is not None
    assert ready["payment"]["paid_at"] is None
    received = ok(take(ama, placed.pk, "deliver"))
    assert received["state"] == "delivered"
    assert received["payment"]["paid_at"] is not None
    assert received["payment"]["hold"]["state"] == "posted"
    assert actions(received) == ["place", "confirm", "ready", "deliver"]
    assert [e["role"] for e in received["timeline"]] == ["buyer", "supplier", "supplier", "buyer"]
    assert supplier_account_of(s.supplier).balance == 1000
    assert account_of(ama).balance == 10_000 - 1000
    assert sum(Account.objects.values_list("balance", flat=True)) == 0


def test_cash_delivery_dispatched_handed_over_and_its_payment_recorded_by_the_supplier(s, ama, owner):
    placed = order(s, ama, payment="cash", method=Method.DELIVERY, cash_method="card")
    ok(take(owner.user, placed.pk, "confirm"))
    dispatched = ok(take(owner.user, placed.pk, "dispatch", {"note": "Courier: parcel 77-41"}))
    assert dispatched["state"] == "dispatched"
    delivered = ok(take(owner.user, placed.pk, "deliver"))
    assert (delivered["state"], delivered["delivered_at"] is not None) == ("delivered", True)
    assert delivered["payment"]["paid_at"] is None
    paid = ok(
        take(owner.user, placed.pk, "cash-received", {"method": "card", "provider": "Stripe", "reference": "ch_1"})
    )
    assert paid["payment"]["paid_at"] is not None
    receipt = paid["payment"]["cash_receipt"]
    assert (receipt["method"], receipt["provider"], receipt["reference"]) == ("card", "Stripe", "ch_1")
    assert actions(paid) == ["place", "confirm", "dispatch", "deliver", "paid"]
    payment = CashPayment.objects.get(order=placed)
    assert (payment.amount, payment.currency, payment.recorded_by) == (750, "EUR", owner.user)


def test_a_card_payment_needs_the_providers_reference_and_never_a_card_number(s, ama, owner):
    placed = order(s, ama, payment="cash", cash_method="card")
    before = trace()
    missing = take(owner.user, placed.pk, "cash-received", {"provider": "Stripe"})
    assert missing.status_code == 400
    assert "reference" in missing.json()["errors"]
    card = take(owner.user, placed.pk, "cash-received", {"provider": "Stripe", "reference": "4242 4242 4242 4242"})
    assert card.status_code == 400
    assert "card number" in card.json()["errors"]["reference"][0]
    assert trace() == before
    assert not CashPayment.objects.exists()


def test_cash_at_pickup_is_recorded_without_a_reference(s, ama, owner):
    placed = order(s, ama, payment="cash")
    paid = ok(take(owner.user, placed.pk, "cash-received"))
    assert paid["payment"]["cash_receipt"]["method"] == "cash_at_pickup"


def test_the_supplier_hands_over_and_the_buyer_then_confirms_receipt(s, ama, owner):
    placed = order(s, ama)
    ok(take(owner.user, placed.pk, "ready"))
    handed = ok(take(owner.user, placed.pk, "deliver"))
    assert (handed["state"], handed["payment"]["paid_at"]) == ("delivered", None)
    assert handed["payment"]["hold"]["state"] == "pending"
    confirmed = ok(take(ama, placed.pk, "deliver"))
    assert confirmed["payment"]["hold"]["state"] == "posted"
    assert actions(confirmed)[-1] == "confirm_receipt"
    assert supplier_account_of(s.supplier).balance == 500


def test_the_buyer_cancels_an_unconfirmed_order_and_gets_stock_and_credits_back(s, ama):
    placed = order(s, ama, quantity=3)
    assert account_of(ama).pending_debits == 1500
    cancelled = ok(take(ama, placed.pk, "cancel"))
    assert cancelled["state"] == "cancelled"
    assert cancelled["payment"]["hold"]["state"] == "voided"
    assert account_of(ama).pending_debits == 0
    assert account_of(ama).balance == 10_000
    assert placed.lines.get().batch.stock.held == 0


@pytest.mark.parametrize("persona", ["owner", "operator"])
def test_the_supplier_or_an_operator_cancels_only_with_a_reason(s, ama, persona, request):
    who = request.getfixturevalue(persona).user
    placed = order(s, ama)
    before = trace()
    silent = take(who, placed.pk, "cancel", {})
    assert silent.status_code == 400
    assert silent.json()["errors"] == {"reason": ["Tell the buyer why you cancel their order."]}
    assert trace() == before
    cancelled = ok(take(who, placed.pk, "cancel", {"reason": "The harvest failed."}))
    assert cancelled["state"] == "cancelled"
    assert cancelled["timeline"][-1]["note"] == "The harvest failed."
    assert cancelled["timeline"][-1]["role"] == ("supplier" if persona == "owner" else "operator")


def test_the_buyer_moves_a_pickup_to_another_saturday_and_pickup_point(s, ama, owner):
    saturday = next_weekday(SATURDAY)
    placed = order(s, ama, payment="cash", day=saturday)
    later = ok(take(ama, placed.pk, "reschedule", {"date": (saturday + datetime.timedelta(days=7)).isoformat()}))
    assert later["date"] == (saturday + datetime.timedelta(days=7)).isoformat()
    assert actions(later)[-1] == "reschedule"
    market = facility_create(owner=owner.supplier, name="Saturday market", country="GH", address="Stall 4")
    Window.objects.create(
        supplier=owner.supplier,
        method=Method.PICKUP,
        facility_id=market.pk,
        weekday=Window.Weekday.SATURDAY,
        starts_at=datetime.time(8),
        ends_at=datetime.time(12),
    )
    moved = ok(take(ama, placed.pk, "reschedule", {"date": saturday.isoformat(), "facility": market.pk}))
    assert moved["fulfilment"] == {
        "method": "pickup",
        "facility": market.pk,
        "place_name": "Saturday market",
        "place_address": "Stall 4",
    }
    assert moved["date"] == saturday.isoformat()


def test_a_credit_order_moves_to_a_later_saturday_with_its_credits_still_reserved(s, ama):
    saturday = next_weekday(SATURDAY)
    placed = order(s, ama, day=saturday)
    later = saturday + datetime.timedelta(days=14)
    moved = ok(take(ama, placed.pk, "reschedule", {"date": later.isoformat()}))
    assert moved["date"] == later.isoformat()
    assert moved["payment"]["hold"]["state"] == "pending"
    assert moved["payment"]["hold"]["expires_at"] > moved["dispatch_by"]
    assert account_of(ama).pending_debits == 500


def test_rescheduling_to_a_day_not_offered_or_a_stranger_place_changes_nothing(s, ama, other_member):
    placed = order(s, ama, day=next_weekday(SATURDAY))
    elsewhere = shop(supplier=other_member.supplier, owner=other_member.user)
    before = trace()
    monday = take(ama, placed.pk, "reschedule", {"date": next_weekday(0).isoformat()})
    assert (monday.status_code, monday.json()["code"]) == (422, "date_unavailable")
    foreign = take(ama, placed.pk, "reschedule", {"date": None, "facility": elsewhere.facility.pk})
    assert foreign.status_code == 400
    assert "has no pick-up point" in foreign.json()["errors"]["facility"][0]
    assert trace() == before
    assert Order.objects.get(pk=placed.pk).scheduled_for == next_weekday(SATURDAY)


def test_an_upheld_dispute_after_payment_is_refunded_by_the_networks_guarantee(s, ama, owner, operator):
    placed = order(s, ama, quantity=2)
    ok(take(owner.user, placed.pk, "ready"))
    ok(take(ama, placed.pk, "deliver"))
    assert account_of(ama).balance == 9000
    disputed = ok(
        take(ama, placed.pk, "dispute", {"reason": "not_as_described", "description": "The bars were broken."})
    )
    assert disputed["state"] == "disputed"
    assert (disputed["dispute"]["state"], disputed["dispute"]["reason"]) == ("open", "not_as_described")
    answered = ok(take(owner.user, placed.pk, "dispute/answer", {"response": "They left us whole."}))
    assert (answered["dispute"]["state"], answered["dispute"]["supplier_response"]) == (
        "answered",
        "They left us whole.",
    )
    decided = ok(take(operator.user, placed.pk, "dispute/decide", {"upheld": True, "reason": "The photos show it."}))
    assert decided["state"] == "closed"
    dispute = decided["dispute"]
    assert (dispute["state"], dispute["decision_reason"]) == ("upheld", "The photos show it.")
    assert (dispute["refunded"], dispute["recovered"], dispute["outstanding"]) == (1000, 1000, 0)
    assert "guarantee fund refunded 10.00 credits" in decided["timeline"][-1]["note"]
    assert account_of(ama).balance == 10_000
    assert supplier_account_of(s.supplier).balance == 0
    assert sum(Account.objects.values_list("balance", flat=True)) == 0


def test_a_rejected_dispute_before_payment_pays_the_supplier(s, ama, owner, operator):
    placed = order(s, ama)
    ok(take(owner.user, placed.pk, "ready"))
    ok(take(ama, placed.pk, "dispute", {"reason": "not_received", "description": "Nobody was there."}))
    decided = ok(take(operator.user, placed.pk, "dispute/decide", {"upheld": False, "reason": "Camera shows pickup."}))
    assert (decided["state"], decided["dispute"]["state"]) == ("closed", "rejected")
    assert decided["payment"]["hold"]["state"] == "posted"
    assert supplier_account_of(s.supplier).balance == 500


def test_a_dispute_needs_a_known_reason_and_a_description(s, ama, owner):
    placed = order(s, ama)
    ok(take(owner.user, placed.pk, "ready"))
    before = trace()
    for body, field in (
        ({"reason": "too_late", "description": "x"}, "reason"),
        ({"reason": "unsafe"}, "description"),
        ({"reason": "unsafe", "description": "x", "evidence_url": "not a link"}, "evidence_url"),
    ):
        response = take(ama, placed.pk, "dispute", body)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {field}
    assert trace() == before
    assert not Dispute.objects.exists()


# Refusals -----------------------------------------------------------------------------------------------------------


def arrange(s, who, state: str, *, owner, method: str = Method.PICKUP, payment: str = "credits") -> Order:
    """An order of `who` brought to `state` through the services."""
    from purchases import services

    placed = order(s, who, method=method, payment=payment)
    if state in ("confirmed", "ready", "dispatched", "disputed"):
        services.order_confirm(order=placed, actor=owner)
    if state in ("ready", "disputed"):
        services.order_ready(order=placed, actor=owner)
    if state == "dispatched":
        services.order_dispatch(order=placed, actor=owner)
    if state == "disputed":
        services.dispute_open(order=placed, actor=who, reason="unsafe", description="It smelled off.")
    return Order.objects.get(pk=placed.pk)


@pytest.mark.parametrize(
    ("state", "method", "payment", "party", "name", "body", "message"),
    [
        ("confirmed", "pickup", "credits", "owner", "confirm", {}, "is confirmed by the supplier: it cannot be"),
        ("placed", "delivery", "cash", "owner", "ready", {}, "is a delivery: use 'dispatch'"),
        ("placed", "pickup", "credits", "owner", "dispatch", {}, "is a pick-up: use 'ready'"),
        ("placed", "pickup", "credits", "ama", "deliver", {}, "cannot be marked delivered now"),
        ("placed", "pickup", "credits", "ama", "dispute", {"reason": "unsafe", "description": "x"}, "disputed"),
        ("ready", "pickup", "credits", "ama", "cancel", {}, "is ready for pick-up: it cannot be cancelled now"),
        ("placed", "pickup", "credits", "owner", "cash-received", {}, "is paid in credits"),
        ("confirmed", "pickup", "credits", "ama", "reschedule", {"date": None}, "it cannot be changed now"),
        ("placed", "pickup", "credits", "owner", "dispute/answer", {"response": "x"}, "has no dispute"),
        ("ready", "pickup", "credits", "operator", "dispute/decide", {"upheld": True, "reason": "x"}, "no dispute"),
    ],
)
def test_a_step_the_state_does_not_allow_is_a_409_that_changes_nothing(
    s, ama, owner, operator, state, method, payment, party, name, body, message
):
    placed = arrange(s, ama, state, owner=owner.user, method=method, payment=payment)
    who = {"ama": ama, "owner": owner.user, "operator": operator.user}[party]
    before = trace()
    response = take(who, placed.pk, name, body)
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "wrong_state"
    assert message in response.json()["message"]
    assert trace() == before
    assert Order.objects.get(pk=placed.pk).state == state


@pytest.mark.parametrize(
    ("state", "party", "name", "body"),
    [
        ("placed", "ama", "confirm", {}),
        ("confirmed", "ama", "ready", {}),
        ("placed", "ama", "cash-received", {}),
        ("ready", "owner", "dispute", {"reason": "unsafe", "description": "x"}),
        ("placed", "owner", "reschedule", {"date": None}),
        ("disputed", "ama", "dispute/answer", {"response": "x"}),
        ("disputed", "operator", "dispute/answer", {"response": "x"}),
        ("disputed", "owner", "dispute/decide", {"upheld": False, "reason": "x"}),
        ("disputed", "ama", "dispute/decide", {"upheld": True, "reason": "x"}),
        ("placed", "viewer", "confirm", {}),
        ("placed", "viewer", "cancel", {"reason": "x"}),
    ],
)
def test_another_partys_step_is_a_403_that_changes_nothing(s, ama, owner, operator, state, party, name, body):
    viewer = buyer()
    SupplierMemberFactory(supplier=owner.supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    payment = "cash" if name == "cash-received" else "credits"
    placed = arrange(s, ama, state, owner=owner.user, payment=payment)
    who = {"ama": ama, "owner": owner.user, "operator": operator.user, "viewer": viewer}[party]
    before = trace()
    response = take(who, placed.pk, name, body)
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "permission_denied"
    assert trace() == before


@pytest.mark.parametrize(
    "name", ["confirm", "dispatch", "ready", "deliver", "cancel", "dispute", "cash-received", "reschedule"]
)
@pytest.mark.parametrize("persona", ["other_member", "another_buyer"])
def test_an_order_one_cannot_see_is_a_404_for_every_step(s, ama, owner, other_member, persona, name):
    placed = arrange(s, ama, "placed", owner=owner.user)
    who = other_member.user if persona == "other_member" else order(s, buyer()).buyer
    before = trace()
    response = take(who, placed.pk, name, {"reason": "x", "description": "x", "date": None, "response": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert trace() == before


def test_steps_need_authentication(s, ama):
    placed = order(s, ama)
    before = trace()
    for name in ("confirm", "cancel", "dispute/decide"):
        assert take(None, placed.pk, name).status_code == 401
    assert trace() == before


def test_a_released_hold_cannot_be_paid_and_says_so(s, ama, owner):
    placed = arrange(s, ama, "ready", owner=owner.user)
    ledger.hold_void(hold=placed.hold, key="released-elsewhere", system="tests")
    response = take(ama, placed.pk, "deliver")
    assert response.status_code == 422
    assert response.json()["code"] == "hold_expired"
    assert "were released" in response.json()["message"]
    assert Order.objects.get(pk=placed.pk).state == "ready"
    assert Hold.objects.get(pk=placed.hold_id).state == Hold.State.VOIDED


# Idempotency of steps -----------------------------------------------------------------------------------------------


def test_a_retried_step_replays_its_first_answer_instead_of_a_409(s, ama, owner):
    placed = order(s, ama)
    first = take(owner.user, placed.pk, "confirm", key="confirm-once")
    again = take(owner.user, placed.pk, "confirm", key="confirm-once")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert OrderEvent.objects.filter(order=placed, action="confirm").count() == 1
    # A new key is a new request: now the state says no.
    assert take(owner.user, placed.pk, "confirm", key="confirm-twice").status_code == 409


@pytest.mark.parametrize(
    ("key", "code"), [(None, "idempotency_key_required"), ("has space", "idempotency_key_invalid")]
)
def test_a_step_needs_a_valid_idempotency_key(s, ama, owner, key, code):
    placed = order(s, ama)
    before = trace()
    response = post(owner.user, f"{ORDERS}{placed.pk}/confirm/", {}, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert trace() == before


def test_a_key_used_for_one_step_is_refused_for_another(s, ama, owner):
    placed = order(s, ama)
    ok(take(owner.user, placed.pk, "confirm", key="shared"))
    before = trace()
    response = take(owner.user, placed.pk, "ready", key="shared")
    assert (response.status_code, response.json()["code"]) == (422, "idempotency_key_reused")
    assert trace() == before


def test_a_refused_step_does_not_use_up_its_key(s, ama, owner):
    placed = order(s, ama)
    assert take(owner.user, placed.pk, "cancel", {}, key="k").status_code == 400
    response = take(owner.user, placed.pk, "cancel", {"reason": "Out of season."}, key="k")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
