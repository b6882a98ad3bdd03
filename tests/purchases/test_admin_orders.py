"""Orders in the supplier dashboard: each member sees only their own supplier's orders, takes their steps with
buttons that call the services, and reads refusals as messages; pick and pack lists and the CSV export are scoped
the same way."""

import csv
import datetime
import io

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from network_credits.models import Hold
from products.models import SupplierMember
from purchases.models import CashPayment, Means, Method, Order, OrderEvent, Stock
from tests.accounts.factories import UserFactory
from tests.products.factories import BatchFactory, SupplierMemberFactory
from tests.purchases.factories import buyer, next_weekday, order, shop

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"admin:purchases_order_{name}", args=args)


@pytest.fixture
def own_shop(owner):
    return shop(supplier=owner.supplier, owner=owner.user, quantity=50)


@pytest.fixture
def other_shop(other_member):
    return shop(supplier=other_member.supplier, owner=other_member.user, quantity=50)


@pytest.fixture
def ama():
    return buyer(email="ama@example.org")


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client: Client, placed: Order, step: str, **data):
    return client.post(url("act", placed.pk, step), data, follow=True)


def state_of(placed: Order) -> str:
    return Order.objects.get(pk=placed.pk).state


def viewer_of(supplier) -> Client:
    user = UserFactory(email="viewer@own.example")
    SupplierMemberFactory(supplier=supplier, user=user, role=SupplierMember.Role.VIEWER)
    client = Client()
    client.force_login(user)
    return client


# The list -------------------------------------------------------------------------------------------------------------


def test_owner_lists_only_own_orders_with_state_buyer_total_and_deadline(owner, own_shop, other_shop, ama):
    mine = order(own_shop, ama, payment=Means.CASH, quantity=2)
    theirs = order(other_shop, buyer(email="theirs@example.org"))
    response = owner.client.get(url("changelist"))
    assert response.status_code == 200
    assert listed(response) == [mine]
    body = response.content.decode()
    assert "ama@example.org" in body
    assert "€9.00" in body
    assert "Cash, to collect" in body
    assert f"#{theirs.pk}<" not in body
    assert "theirs@example.org" not in body


def test_operator_lists_every_suppliers_orders(operator, own_shop, other_shop, ama):
    orders = {order(own_shop, ama), order(other_shop, ama)}
    response = operator.client.get(url("changelist"))
    assert response.status_code == 200
    assert set(listed(response)) == orders
    assert own_shop.supplier.legal_name in response.content.decode()


def test_orders_list_filters_by_state_payment_fulfilment_and_day(owner, own_shop, ama):
    saturday = next_weekday(5)
    later = order(own_shop, ama, day=saturday)
    now_cash = order(own_shop, ama, payment=Means.CASH, method=Method.DELIVERY)
    own_shop.owner = owner.user
    act(owner.client, now_cash, "confirm")
    client = owner.client
    assert listed(client.get(url("changelist"), {"state__exact": "confirmed"})) == [now_cash]
    assert listed(client.get(url("changelist"), {"payment__exact": "credits"})) == [later]
    assert listed(client.get(url("changelist"), {"fulfilment__exact": "delivery"})) == [now_cash]
    assert listed(client.get(url("changelist"), {"day": "asap"})) == [now_cash]
    assert listed(client.get(url("changelist"), {"day": saturday.isoformat()})) == [later]
    assert listed(client.get(url("changelist"), {"q": f"#{later.pk}"})) == [later]


def test_orders_waiting_are_listed_soonest_deadline_first(owner, own_shop, ama):
    later = order(own_shop, ama, day=next_weekday(5))
    sooner = order(own_shop, ama)
    response = owner.client.get(url("changelist"), {"state__exact": "placed"})
    assert listed(response) == sorted([later, sooner], key=lambda o: o.dispatch_by)


def test_orders_list_query_count_does_not_grow_with_orders(owner, own_shop, django_assert_num_queries):
    for n in range(2):
        order(own_shop, buyer(email=f"first{n}@example.org"), payment=Means.CASH if n else Means.CREDITS)
    owner.client.get(url("changelist"))  # the session and the like, once
    # The session, the user, the access, the user's permissions (two: the sidebar's other apps), two counts, the page
    with django_assert_num_queries(8):
        few = owner.client.get(url("changelist"))
    for n in range(8):
        order(own_shop, buyer(email=f"more{n}@example.org"), payment=Means.CASH if n % 2 else Means.CREDITS)
    with django_assert_num_queries(8):
        many = owner.client.get(url("changelist"))
    assert len(listed(few)) == 2
    assert len(listed(many)) == 10


def test_operator_orders_list_query_count_does_not_grow_with_orders(
    operator, own_shop, other_shop, django_assert_num_queries
):
    order(own_shop, buyer())
    with django_assert_num_queries(7):  # and the supplier filter's choices
        operator.client.get(url("changelist"))
    for _ in range(4):
        order(own_shop, buyer())
        order(other_shop, buyer())
    with django_assert_num_queries(7):
        assert len(listed(operator.client.get(url("changelist")))) == 9


# An order's page ------------------------------------------------------------------------------------------------------


def test_owner_reads_an_order_with_its_lines_timeline_and_payment(owner, own_shop, ama):
    placed = order(own_shop, ama, quantity=3, payment=Means.CASH)
    response = owner.client.get(url("change", placed.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<h2 id="order-panel-heading">Placed</h2>' in body
    assert own_shop.batch.lot in body
    assert "€13.50" in body  # 3 × €4.50
    assert "to collect (cash at pick-up or on delivery)" in body
    assert "Pick-up at" in body
    assert own_shop.facility.name in body
    assert "Hand it over by" in body
    assert "Buyer: ama@example.org" in body  # the timeline: placed by the buyer
    assert "Payment received" not in body  # no receipt yet: no box for one
    assert 'name="_save"' not in body  # nothing of an order is edited as a form
    for step in ("confirm", "ready", "cash", "cancel"):
        assert url("act", placed.pk, step) in body
    assert url("act", placed.pk, "dispatch") not in body  # a pick-up is made ready, not dispatched
    assert url("act", placed.pk, "deliver") not in body


def test_operator_reads_any_order(operator, other_shop, ama):
    placed = order(other_shop, ama)
    response = operator.client.get(url("change", placed.pk))
    assert response.status_code == 200
    assert "Guaranteed by the network" in response.content.decode()


def test_member_of_other_supplier_gets_404_for_an_order_and_its_steps(owner, other_member, own_shop, ama):
    placed = order(own_shop, ama)
    client = other_member.client
    assert client.get(url("change", placed.pk)).status_code == 404
    assert client.get(url("history", placed.pk)).status_code == 404
    for step in ("confirm", "ready", "cancel", "cash", "deliver"):
        assert client.post(url("act", placed.pk, step), {"reason": "mine now"}).status_code == 404
    assert state_of(placed) == Order.State.PLACED
    assert not OrderEvent.objects.filter(order=placed).exclude(action="place").exists()


def test_nobody_adds_edits_or_deletes_an_order_directly(operator, own_shop, ama):
    placed = order(own_shop, ama)
    client = operator.client
    assert client.get(url("add")).status_code == 403
    assert client.post(url("change", placed.pk), {"state": "closed", "total": "1"}).status_code == 403
    assert client.post(url("delete", placed.pk), {"post": "yes"}).status_code == 403
    assert state_of(placed) == Order.State.PLACED
    assert Order.objects.filter(pk=placed.pk).exists()


def test_a_step_is_a_post(owner, own_shop, ama):
    placed = order(own_shop, ama)
    assert owner.client.get(url("act", placed.pk, "confirm")).status_code == 405
    assert state_of(placed) == Order.State.PLACED


def test_a_step_needs_the_csrf_token(owner, own_shop, ama):
    placed = order(own_shop, ama)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    assert client.post(url("act", placed.pk, "confirm")).status_code == 403
    assert state_of(placed) == Order.State.PLACED


# Steps ----------------------------------------------------------------------------------------------------------------


def test_owner_confirms_makes_ready_hands_over_and_records_cash(owner, own_shop, ama):
    placed = order(own_shop, ama, payment=Means.CASH)
    response = act(owner.client, placed, "confirm")
    assert f"Order #{placed.pk} is confirmed." in flashed(response)
    assert state_of(placed) == Order.State.CONFIRMED
    body = response.content.decode()
    assert url("act", placed.pk, "confirm") not in body  # only the steps the state allows
    assert url("act", placed.pk, "ready") in body

    act(owner.client, placed, "ready")
    assert state_of(placed) == Order.State.READY
    response = act(owner.client, placed, "cash", method="cash_at_pickup", provider="", reference="")
    assert f"Order #{placed.pk} is recorded as paid." in flashed(response)
    payment = CashPayment.objects.get(order=placed)
    assert (payment.amount, payment.currency, payment.recorded_by) == (450, "EUR", owner.user)
    act(owner.client, placed, "deliver")
    placed.refresh_from_db()
    assert placed.state == Order.State.DELIVERED
    assert placed.paid_at is not None
    steps = list(placed.events.values_list("action", "role", "actor"))
    assert steps == [
        ("place", "buyer", ama.pk),
        ("confirm", "supplier", owner.user.pk),
        ("ready", "supplier", owner.user.pk),
        ("paid", "supplier", owner.user.pk),
        ("deliver", "supplier", owner.user.pk),
    ]


def test_owner_dispatches_a_delivery(owner, own_shop, ama):
    placed = order(own_shop, ama, method=Method.DELIVERY)
    body = owner.client.get(url("change", placed.pk)).content.decode()
    assert url("act", placed.pk, "dispatch") in body
    assert url("act", placed.pk, "ready") not in body
    response = act(owner.client, placed, "dispatch")
    assert f"Order #{placed.pk} is on its way." in flashed(response)
    assert state_of(placed) == Order.State.DISPATCHED


def test_a_step_the_state_does_not_allow_is_refused_with_a_message(owner, own_shop, ama):
    placed = order(own_shop, ama, method=Method.DELIVERY)
    act(owner.client, placed, "confirm")
    response = act(owner.client, placed, "confirm")
    assert response.status_code == 200
    assert flashed(response) == [f"Order #{placed.pk} is confirmed by the supplier: it cannot be confirmed now."]
    response = act(owner.client, placed, "ready")  # a delivery is dispatched
    assert "use 'dispatch'" in flashed(response)[0]
    response = act(owner.client, placed, "deliver")
    assert "cannot be marked delivered now" in flashed(response)[0]
    assert state_of(placed) == Order.State.CONFIRMED
    assert placed.events.count() == 2
    act(owner.client, placed, "dispatch")
    response = act(owner.client, placed, "cancel", reason="Too late to change our minds")
    assert flashed(response) == [f"Order #{placed.pk} is dispatched: it cannot be cancelled now."]
    assert state_of(placed) == Order.State.DISPATCHED


def test_cancelling_needs_a_reason_and_gives_stock_and_credits_back(owner, own_shop, ama):
    placed = order(own_shop, ama, quantity=4)
    response = act(owner.client, placed, "cancel", reason="")
    assert flashed(response) == ["Tell the buyer why you cancel their order."]
    assert state_of(placed) == Order.State.PLACED
    assert Stock.objects.get(batch=own_shop.batch).held == 4
    response = act(owner.client, placed, "cancel", reason="The oven broke down; sorry.")
    assert f"Order #{placed.pk} is cancelled." in flashed(response)
    placed.refresh_from_db()
    assert placed.state == Order.State.CANCELLED
    assert placed.hold.state == Hold.State.VOIDED
    assert Stock.objects.get(batch=own_shop.batch).held == 0
    assert placed.events.last().note == "The oven broke down; sorry."


def test_a_card_number_as_the_payment_reference_is_refused(owner, own_shop, ama):
    placed = order(own_shop, ama, payment=Means.CASH, cash_method=Order.CashMethod.CARD)
    response = act(owner.client, placed, "cash", method="card", provider="Acme Pay", reference="4242 4242 4242 4242")
    assert flashed(response) == [
        "This looks like a card number. Never record card numbers: give the provider's reference."
    ]
    assert not CashPayment.objects.exists()
    response = act(owner.client, placed, "cash", method="card", provider="Acme Pay", reference="pi_3Nx81")
    assert f"Order #{placed.pk} is recorded as paid." in flashed(response)
    assert CashPayment.objects.get().reference == "pi_3Nx81"


def test_cash_is_not_recorded_twice_or_for_an_order_paid_in_credits(owner, own_shop, ama):
    cash = order(own_shop, ama, payment=Means.CASH)
    act(owner.client, cash, "cash", method="cash_at_pickup")
    response = act(owner.client, cash, "cash", method="cash_at_pickup")
    assert "cannot be marked paid now" in flashed(response)[0]
    credits = order(own_shop, ama)
    assert url("act", credits.pk, "cash") not in owner.client.get(url("change", credits.pk)).content.decode()
    response = act(owner.client, credits, "cash", method="cash_at_pickup")
    assert flashed(response) == [f"Order #{credits.pk} is paid in credits."]
    assert CashPayment.objects.count() == 1


def test_a_missed_deadline_refuses_the_hand_over_with_its_reason(owner, own_shop, ama):
    placed = order(own_shop, ama)
    Order.objects.filter(pk=placed.pk).update(dispatch_by=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    response = act(owner.client, placed, "ready")
    assert "The deadline to hand over" in flashed(response)[0]
    assert state_of(placed) == Order.State.PLACED


def test_viewer_reads_orders_but_cannot_take_a_step(own_supplier, owner, own_shop, ama):
    placed = order(own_shop, ama)
    client = viewer_of(own_supplier)
    assert listed(client.get(url("changelist"))) == [placed]
    response = client.get(url("change", placed.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "/act/" not in body
    assert "the supplier's owners and editors take its steps" in body
    assert client.post(url("act", placed.pk, "confirm")).status_code == 403
    assert state_of(placed) == Order.State.PLACED


def test_an_unknown_step_is_not_found(owner, own_shop, ama):
    placed = order(own_shop, ama)
    assert owner.client.post(url("act", placed.pk, "refund")).status_code == 404


# CSV ------------------------------------------------------------------------------------------------------------------


def rows_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_export_has_the_filtered_orders_and_their_lines(owner, own_shop, other_shop, ama):
    second = BatchFactory(product=own_shop.batch.product, lot="SECOND-2", quantity=5)
    cash = order(own_shop, ama, payment=Means.CASH, method=Method.DELIVERY, quantity=2)
    credits = order(own_shop, ama, quantity=1)
    order(other_shop, buyer(email="theirs@example.org"))
    response = owner.client.get(url("export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    rows = {row["order"]: row for row in rows_of(response)}
    assert set(rows) == {str(cash.pk), str(credits.pk)}
    row = rows[str(cash.pk)]
    assert (row["state"], row["buyer"], row["payment"], row["currency"]) == ("placed", "ama@example.org", "cash", "EUR")
    assert (row["subtotal"], row["delivery_fee"], row["total"]) == ("900", "300", "1200")
    assert row["place_or_address"] == "Ama Mensah, 12 Palm Street, AK-039 Kumasi, Ghana"
    assert row["lines"] == f"2 x {own_shop.batch.product.name} lot {own_shop.batch.lot}"
    assert rows[str(credits.pk)]["currency"] == "credits"
    assert second.lot not in response.content.decode()

    filtered = rows_of(owner.client.get(url("export"), {"payment__exact": "credits"}))
    assert [row["order"] for row in filtered] == [str(credits.pk)]


def test_csv_export_never_has_another_suppliers_orders(other_member, own_shop, other_shop, ama):
    order(own_shop, ama)
    theirs = order(other_shop, buyer())
    client = other_member.client
    for lookup in ("supplier__id__exact", "supplier", "supplier__id__in"):
        assert client.get(url("export"), {lookup: own_shop.supplier.pk}).status_code == 404
        assert client.get(url("changelist"), {lookup: own_shop.supplier.pk}).status_code == 404
    assert [row["order"] for row in rows_of(client.get(url("export")))] == [str(theirs.pk)]
    own = client.get(url("export"), {"supplier__id__exact": other_shop.supplier.pk})
    assert [row["order"] for row in rows_of(own)] == [str(theirs.pk)]


def test_orders_list_links_to_the_export_with_its_filters(owner, own_shop, ama):
    order(own_shop, ama)
    body = owner.client.get(url("changelist"), {"state__exact": "placed"}).content.decode()
    assert f"{url('export')}?state__exact=placed" in body
    assert url("picklist") in body


# Pick and pack --------------------------------------------------------------------------------------------------------


def test_pick_list_totals_units_per_batch_for_the_day(owner, own_shop, ama):
    saturday = next_weekday(5)
    first = order(own_shop, ama, quantity=3, day=saturday)
    second = order(own_shop, buyer(email="kofi@example.org"), quantity=2, day=saturday, payment=Means.CASH)
    other_day = order(own_shop, ama, quantity=7, day=saturday + datetime.timedelta(days=7))
    response = owner.client.get(url("picklist"), {"day": saturday.isoformat()})
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert (row.product, row.lot, row.quantity, sorted(row.orders)) == (
        own_shop.batch.product.name,
        own_shop.batch.lot,
        5,
        sorted([first.pk, second.pk]),
    )
    assert response.context["units"] == 5
    assert [pack["order"] for pack in response.context["packs"]] == [first, second]
    body = response.content.decode()
    assert "Pick: 5 units for 2 orders" in body
    assert "kofi@example.org" in body
    assert "€9.00 to collect" in body
    assert f"#{other_day.pk}" not in body


def test_pick_list_at_one_facility(owner, own_shop, ama):
    saturday = next_weekday(5)
    order(own_shop, ama, quantity=3, day=saturday)
    response = owner.client.get(
        url("picklist"), {"day": saturday.isoformat(), "facility": own_shop.facility.pk, "supplier": owner.supplier.pk}
    )
    assert response.context["units"] == 3
    assert own_shop.facility.name in response.content.decode()


def test_pick_list_of_another_supplier_is_not_found(other_member, own_shop, other_shop, ama):
    saturday = next_weekday(5)
    order(own_shop, ama, quantity=3, day=saturday)
    client = other_member.client
    assert client.get(url("picklist"), {"supplier": own_shop.supplier.pk}).status_code == 404
    assert client.get(url("picklist"), {"facility": own_shop.facility.pk}).status_code == 404
    response = client.get(url("picklist"), {"day": saturday.isoformat()})
    assert response.status_code == 200
    assert response.context["units"] == 0
    assert response.context["supplier"] == other_shop.supplier


def test_operator_chooses_the_supplier_of_a_pick_list(operator, own_shop, other_shop, ama):
    saturday = next_weekday(5)
    order(own_shop, ama, quantity=2, day=saturday)
    response = operator.client.get(url("picklist"), {"day": saturday.isoformat()})
    assert response.status_code == 200
    assert "Choose the supplier" in response.content.decode()
    response = operator.client.get(url("picklist"), {"day": saturday.isoformat(), "supplier": own_shop.supplier.pk})
    assert response.context["units"] == 2


@pytest.mark.parametrize("persona", ["shopper", "stranger"])
def test_shoppers_and_strangers_are_kept_out(persona, request, own_shop, ama):
    placed = order(own_shop, ama)
    client = request.getfixturevalue(persona).client
    for target in (url("changelist"), url("change", placed.pk), url("picklist"), url("export")):
        response = client.get(target)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    client.post(url("act", placed.pk, "confirm"))
    assert state_of(placed) == Order.State.PLACED
