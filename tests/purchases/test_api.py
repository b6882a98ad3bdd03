"""Orders through the integrator API: placing one (cash or credits, pick-up or delivery, now or on a day offered),
once per Idempotency-Key; refusals that say why and leave nothing behind; who sees which orders."""

import threading

import pytest
import requests
import schemathesis
import yaml
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.core.transport import Response

from network_credits.models import Hold, Transfer
from products.models import SupplierMember
from purchases.models import Order, OrderEvent, OrderLine, Stock
from tests.conftest import database_is_postgres
from tests.products.factories import BatchFactory, SupplierMemberFactory
from tests.purchases.factories import account_of, buyer, next_weekday, order, shop

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
SATURDAY, WEDNESDAY, MONDAY = 5, 2, 0
ADDRESS = {"name": "Ama Mensah", "line1": "12 Palm Street", "city": "Kumasi", "postcode": "AK-039", "country": "GH"}


def api(user) -> APIClient:
    """An API client authenticated the way integrators are: with the user's token."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(user, path, body=None, key: str | None = "key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api(user).post(path, body if body is not None else {}, format="json", **headers)


def pickup(s, *, quantity: int = 1, payment: str = "credits", date=None, **more) -> dict:
    return {
        "lines": [{"batch": s.batch.pk, "quantity": quantity}],
        "payment": payment,
        "fulfilment": {"method": "pickup", "facility": s.facility.pk},
        "date": date.isoformat() if date else None,
        **more,
    }


def delivery(s, *, quantity: int = 1, payment: str = "cash", date=None, address=None, **more) -> dict:
    return {
        **pickup(s, quantity=quantity, payment=payment, date=date, **more),
        "fulfilment": {"method": "delivery", "address": address or ADDRESS},
    }


def trace() -> tuple:
    """What a refused request must leave as it was: orders and their lines and steps, holds, stock, the ledger."""
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        OrderEvent.objects.count(),
        Hold.objects.count(),
        Transfer.objects.count(),
        sorted(Stock.objects.values_list("batch_id", "held")),
    )


@pytest.fixture
def s(owner):
    """own_supplier's shop: 10 units of a batch at €4.50 or 5.00 credits, Saturday pick-ups, Wednesday deliveries."""
    return shop(supplier=owner.supplier, owner=owner.user)


@pytest.fixture
def ama():
    """A shopper with 100.00 credits."""
    return buyer(email="ama.mensah@example.org", display_name="Ama")


# Placing an order ---------------------------------------------------------------------------------------------------


def test_a_shopper_buys_with_credits_for_pickup_next_saturday(s, ama):
    saturday = next_weekday(SATURDAY)
    response = post(ama, ORDERS, pickup(s, quantity=2, date=saturday))
    assert response.status_code == 201, response.json()
    body = response.json()
    order_id = body["id"]
    assert response["Location"] == f"{ORDERS}{order_id}/"
    assert "Idempotent-Replayed" not in response
    assert body["state"] == "placed"
    assert body["supplier"] == {"slug": s.supplier.slug, "name": s.supplier.legal_name}
    [line] = body["lines"]
    assert line == {
        "batch": s.batch.pk,
        "product": s.batch.product_id,
        "product_name": s.batch.product.name,
        "lot": s.batch.lot,
        "quantity": 2,
        "unit_price": {"means": "credits", "amount": 500, "currency": None, "text": "5.00 credits"},
        "line_total": {"means": "credits", "amount": 1000, "currency": None, "text": "10.00 credits"},
    }
    assert body["total"] == {"means": "credits", "amount": 1000, "currency": None, "text": "10.00 credits"}
    assert body["delivery_fee"]["amount"] == 0
    payment = body["payment"]
    assert (payment["means"], payment["cash_method"], payment["paid_at"]) == ("credits", None, None)
    assert payment["guaranteed_by_network"] is True
    assert (payment["hold"]["state"], payment["hold"]["amount"]) == ("pending", 1000)
    assert body["fulfilment"] == {
        "method": "pickup",
        "facility": s.facility.pk,
        "place_name": s.facility.name,
        "place_address": "1 Market Road, Kumasi",
    }
    assert body["date"] == saturday.isoformat()
    assert body["changeable_until"] < body["dispatch_by"]
    assert [(e["action"], e["to_state"], e["role"], e["actor"]) for e in body["timeline"]] == [
        ("place", "placed", "buyer", "Ama")
    ]
    assert body["dispute"] is None
    assert body["url"] == f"http://testserver/orders/{order_id}/"
    # The stock and the credits are held at once.
    assert Stock.objects.get(batch=s.batch).held == 2
    assert account_of(ama).pending_debits == 1000
    assert Order.objects.get(pk=order_id).hold.state == Hold.State.PENDING


def test_a_shopper_buys_with_cash_for_delivery_now(s, ama):
    response = post(ama, ORDERS, delivery(s, quantity=2, cash_method="card"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["subtotal"] == {"means": "cash", "amount": 900, "currency": "EUR", "text": "€9.00"}
    assert body["delivery_fee"] == {"means": "cash", "amount": 300, "currency": "EUR", "text": "€3.00"}
    assert body["total"] == {"means": "cash", "amount": 1200, "currency": "EUR", "text": "€12.00"}
    payment = body["payment"]
    assert (payment["means"], payment["cash_method"], payment["hold"]) == ("cash", "card", None)
    assert payment["guaranteed_by_network"] is False
    assert body["fulfilment"] == {"method": "delivery", "address": {**ADDRESS, "line2": ""}}
    assert body["date"] is None
    assert Hold.objects.count() == 0
    assert account_of(ama).pending_debits == 0
    assert Stock.objects.get(batch=s.batch).held == 2


def test_cash_is_paid_at_pickup_unless_the_buyer_says_otherwise(s, ama):
    body = post(ama, ORDERS, pickup(s, payment="cash")).json()
    assert body["payment"]["cash_method"] == "cash_at_pickup"
    assert body["total"]["text"] == "€4.50"


def test_a_delivery_on_the_next_wednesday_gets_that_days_deadlines(s, ama):
    wednesday = next_weekday(WEDNESDAY)
    response = post(ama, ORDERS, delivery(s, payment="credits", date=wednesday))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["date"] == wednesday.isoformat()
    assert body["dispatch_by"].startswith(wednesday.isoformat())  # the window's end, on that day
    assert body["total"]["amount"] == 500 + 300


def test_an_order_buys_several_batches_of_one_supplier(s, ama):
    second = BatchFactory(product=s.batch.product, quantity=5)
    body = {**pickup(s), "lines": [{"batch": s.batch.pk, "quantity": 1}, {"batch": second.pk, "quantity": 3}]}
    response = post(ama, ORDERS, body)
    assert response.status_code == 201, response.json()
    assert [(line["lot"], line["quantity"]) for line in response.json()["lines"]] == [
        (s.batch.lot, 1),
        (second.lot, 3),
    ]
    assert response.json()["total"]["amount"] == 4 * 500


# Idempotency --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "code"), [(None, "idempotency_key_required"), ("has space", "idempotency_key_invalid"), ("", None)]
)
def test_placing_an_order_needs_a_valid_idempotency_key(s, ama, key, code):
    before = trace()
    response = post(ama, ORDERS, pickup(s), key=key)
    assert response.status_code == 400
    assert response.json()["code"] == (code or "idempotency_key_invalid")
    assert trace() == before


def test_a_double_click_makes_one_order_and_one_hold(s, ama):
    first = post(ama, ORDERS, pickup(s, quantity=3), key="checkout-1")
    again = post(ama, ORDERS, pickup(s, quantity=3), key="checkout-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert Hold.objects.count() == 1
    assert Stock.objects.get(batch=s.batch).held == 3
    assert account_of(ama).pending_debits == 1500


def test_the_same_key_for_another_order_is_a_422_and_leaves_no_trace(s, ama):
    post(ama, ORDERS, pickup(s, quantity=1), key="k")
    before = trace()
    response = post(ama, ORDERS, pickup(s, quantity=2), key="k")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert trace() == before


def test_keys_are_each_buyers_own(s, ama):
    assert post(ama, ORDERS, pickup(s), key="shared").status_code == 201
    other = post(buyer(), ORDERS, pickup(s), key="shared")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert Order.objects.count() == 2


def test_a_refused_order_does_not_use_up_its_key(owner, ama):
    s = shop(supplier=owner.supplier, owner=owner.user, quantity=2)
    assert post(ama, ORDERS, pickup(s, quantity=3), key="k").status_code == 422
    response = post(ama, ORDERS, pickup(s, quantity=2), key="k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


@pytest.mark.postgres
@pytest.mark.skipif(not database_is_postgres(), reason="concurrent requests need PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_identical_checkouts_at_the_same_moment_make_one_order(s, ama):
    barrier = threading.Barrier(5)
    responses = []

    def send() -> None:
        client = api(ama)
        barrier.wait()
        try:
            responses.append(client.post(ORDERS, pickup(s, quantity=2), format="json", HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 4
    assert (Order.objects.count(), Hold.objects.count()) == (1, 1)
    assert Stock.objects.get(batch=s.batch).held == 2


# Refusals -----------------------------------------------------------------------------------------------------------


def test_more_than_is_left_is_refused_naming_the_lot_and_leaves_no_trace(owner, ama):
    s = shop(supplier=owner.supplier, owner=owner.user, quantity=3)
    order(s, buyer(), quantity=1)
    before = trace()
    response = post(ama, ORDERS, pickup(s, quantity=3))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "out_of_stock"
    expected = f"Only 2 of {s.batch.product.name}, lot {s.batch.lot}, are left; you asked for 3."
    assert body["message"] == expected
    assert body["errors"] == {"lines": [expected]}
    assert trace() == before
    assert account_of(ama).pending_debits == 0


def test_a_sold_out_lot_says_so(owner, ama):
    s = shop(supplier=owner.supplier, owner=owner.user, quantity=1)
    order(s, buyer())
    response = post(ama, ORDERS, pickup(s))
    assert (response.status_code, response.json()["code"]) == (422, "out_of_stock")
    assert f"lot {s.batch.lot}, has sold out" in response.json()["message"]


def test_not_enough_credit_is_a_422_that_holds_nothing(s):
    poor = buyer(credits=400)
    before = trace()
    response = post(poor, ORDERS, pickup(s))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "insufficient_credit"
    assert body["errors"] == {
        "payment": ["Your credit account has 4.00 credits to spend; this order costs 5.00 credits."]
    }
    assert trace() == before
    assert account_of(poor).pending_debits == 0


def test_a_day_the_calendar_does_not_offer_is_a_422_with_the_days_it_does(s, ama):
    monday = next_weekday(MONDAY)
    before = trace()
    response = post(ama, ORDERS, pickup(s, date=monday))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "date_unavailable"
    assert body["message"].startswith(f"{monday:%A %d %B %Y} is not offered for pick-up here; the next days are Sat ")
    assert body["errors"] == {"date": [body["message"]]}
    assert trace() == before


def test_delivery_is_not_offered_on_a_pickup_day(s, ama):
    response = post(ama, ORDERS, delivery(s, date=next_weekday(SATURDAY)))
    assert (response.status_code, response.json()["code"]) == (422, "date_unavailable")


@pytest.mark.parametrize(
    ("address", "errors"),
    [
        ({**ADDRESS, "country": "XX"}, {"country"}),
        ({**ADDRESS, "postcode": "  ", "city": ""}, {"postcode", "city"}),
        ({**ADDRESS, "postcode": "1" * 21}, {"postcode"}),
        ({k: v for k, v in ADDRESS.items() if k != "line1"}, {"line1"}),
    ],
)
def test_a_bad_address_is_a_400_on_its_fields_and_leaves_no_trace(s, ama, address, errors):
    before = trace()
    response = post(ama, ORDERS, delivery(s, address=address))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]["fulfilment"]["address"]) == errors
    assert trace() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"batch": 1, "quantity": 0}]}, "lines"),
        ({"lines": [{"batch": 1, "quantity": 2.5}]}, "lines"),
        ({"lines": "everything"}, "lines"),
        ({"payment": "gold"}, "payment"),
        ({"cash_method": "cheque", "payment": "cash"}, "cash_method"),
        ({"fulfilment": {"method": "teleport"}}, "fulfilment"),
        ({"fulfilment": {"method": "pickup"}}, "fulfilment"),
        ({"fulfilment": {"method": "delivery"}}, "fulfilment"),
        ({"fulfilment": "pickup"}, "fulfilment"),
        ({"date": "next saturday"}, "date"),
        ({"date": "01/02/2027"}, "date"),
    ],
)
def test_a_malformed_order_is_a_400_on_the_field(s, ama, change, field):
    before = trace()
    response = post(ama, ORDERS, {**pickup(s), **change})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["errors"]) == {field}
    assert trace() == before


def test_a_batch_that_does_not_exist_is_a_400_on_lines(s, ama):
    response = post(ama, ORDERS, {**pickup(s), "lines": [{"batch": s.batch.pk + 1000, "quantity": 1}]})
    assert response.status_code == 400
    assert f"no batch {s.batch.pk + 1000}" in response.json()["errors"]["lines"][0]


def test_another_suppliers_facility_is_no_pickup_point(s, ama, other_member):
    elsewhere = shop(supplier=other_member.supplier, owner=other_member.user)
    before = trace()
    response = post(ama, ORDERS, {**pickup(s), "fulfilment": {"method": "pickup", "facility": elsewhere.facility.pk}})
    assert response.status_code == 400
    assert "has no pick-up point" in response.json()["errors"]["fulfilment"][0]
    assert trace() == before


def test_batches_of_two_suppliers_need_two_orders(s, ama, other_member):
    elsewhere = shop(supplier=other_member.supplier, owner=other_member.user)
    lines = [{"batch": s.batch.pk, "quantity": 1}, {"batch": elsewhere.batch.pk, "quantity": 1}]
    response = post(ama, ORDERS, {**pickup(s), "lines": lines})
    assert response.status_code == 400
    assert "one supplier" in response.json()["errors"]["lines"][0]


def test_a_withdrawn_lot_is_not_for_sale(s, ama):
    s.batch.archived_at = s.batch.created_at
    s.batch.archived_reason = "Recalled"
    s.batch.save()
    before = trace()
    response = post(ama, ORDERS, pickup(s))
    assert (response.status_code, response.json()["code"]) == (422, "not_for_sale")
    assert f"Lot {s.batch.lot} is withdrawn from sale." in response.json()["errors"]["lines"]
    assert trace() == before


def test_a_batch_without_a_credit_price_is_not_sold_in_credits(owner, ama):
    s = shop(supplier=owner.supplier, owner=owner.user, price_credits=None)
    response = post(ama, ORDERS, pickup(s))
    assert (response.status_code, response.json()["code"]) == (422, "not_for_sale")
    assert "is not sold in credits" in response.json()["errors"]["payment"][0]


def test_ordering_needs_authentication(s, stranger):
    before = trace()
    assert post(None, ORDERS, pickup(s)).status_code == 401
    assert api(None).get(ORDERS).status_code == 401
    assert trace() == before


# Available units on the batch resource ------------------------------------------------------------------------------


def test_available_units_drop_when_ordered_and_come_back_when_cancelled(s, ama):
    def available() -> int:
        return api(None).get(f"/api/v1/batches/{s.batch.pk}/").json()["available"]

    assert available() == 10
    placed = post(ama, ORDERS, pickup(s, quantity=4)).json()
    assert available() == 6
    listed = api(None).get("/api/v1/batches/", {"product": s.batch.product_id}).json()["results"]
    assert [b["available"] for b in listed] == [6]
    cancelled = post(ama, f"{ORDERS}{placed['id']}/cancel/", {}, key="cancel-1")
    assert cancelled.status_code == 200, cancelled.json()
    assert available() == 10


# Reading orders -----------------------------------------------------------------------------------------------------


@pytest.fixture
def orders(s, ama, other_member):
    """Ama's orders from own_supplier (one in cash, two lines each), another buyer's, and one to other_supplier."""
    second = BatchFactory(product=s.batch.product, quantity=50)
    lines = [{"batch": s.batch.pk, "quantity": 1}, {"batch": second.pk, "quantity": 1}]
    made = {"ama": [], "other": [], "elsewhere": []}
    for n, payment in enumerate(["credits", "cash", "credits"]):
        made["ama"].append(post(ama, ORDERS, {**pickup(s, payment=payment), "lines": lines}, key=f"a{n}").json()["id"])
    made["other"].append(order(s, buyer(), quantity=2).pk)
    elsewhere = shop(supplier=other_member.supplier, owner=other_member.user)
    made["elsewhere"].append(order(elsewhere, ama).pk)
    return made


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [o["id"] for o in response.json()["results"]]


def test_a_buyer_lists_their_own_orders_newest_first(orders, ama):
    assert ids(api(ama).get(ORDERS)) == sorted(orders["ama"] + orders["elsewhere"], reverse=True)


def test_a_supplier_member_lists_the_orders_to_their_supplier(orders, owner, other_member):
    assert ids(api(owner.user).get(ORDERS)) == sorted(orders["ama"] + orders["other"], reverse=True)
    assert ids(api(other_member.user).get(ORDERS)) == orders["elsewhere"]


def test_an_operator_lists_every_order(orders, operator):
    assert len(ids(api(operator.user).get(ORDERS))) == 5


def test_orders_are_filtered_by_state_supplier_and_payment(orders, s, ama, operator):
    Order.objects.filter(pk=orders["ama"][0]).update(state=Order.State.CONFIRMED)
    client = api(operator.user)
    assert ids(client.get(ORDERS, {"state": "confirmed"})) == [orders["ama"][0]]
    assert ids(client.get(ORDERS, {"payment": "cash"})) == [orders["ama"][1]]
    assert ids(client.get(ORDERS, {"supplier": s.supplier.slug, "payment": "credits"})) == sorted(
        [orders["ama"][0], orders["ama"][2], *orders["other"]], reverse=True
    )
    assert ids(client.get(ORDERS, {"supplier": "nobody"})) == []


@pytest.mark.parametrize(
    "query", ["state=lost", "payment=gold", "payment=cash&payment=credits", "state=", "page_size=0"]
)
def test_a_filter_it_cannot_apply_is_a_400(orders, operator, query):
    response = api(operator.user).get(f"{ORDERS}?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_listing_costs_the_same_queries_however_many_orders_and_lines(s, ama, owner, django_assert_num_queries):
    batches = [s.batch, *(BatchFactory(product=s.batch.product, quantity=50) for _ in range(2))]

    def place(n: int) -> None:
        lines = [{"batch": b.pk, "quantity": 1} for b in batches[: 1 + n % 3]]
        assert post(ama, ORDERS, {**pickup(s), "lines": lines}, key=f"seed-{n}").status_code == 201

    place(0)
    for client in (api(ama), api(owner.user)):
        with django_assert_num_queries(5):  # token with its user, access, the page, its lines, its timelines
            assert len(client.get(ORDERS).json()["results"]) == 1
    for n in range(1, 6):
        place(n)
    order_id = Order.objects.order_by("id").last().pk
    post(owner.user, f"{ORDERS}{order_id}/confirm/", key="confirm-seed")
    for client in (api(ama), api(owner.user)):
        with django_assert_num_queries(5):
            results = client.get(ORDERS).json()["results"]
        assert len(results) == 6
        assert sum(len(o["lines"]) for o in results) == 1 + 2 + 3 + 1 + 2 + 3
        assert len(results[0]["timeline"]) == 2
    client = api(owner.user)
    with django_assert_num_queries(5):  # one order: the same
        assert client.get(f"{ORDERS}{order_id}/").json()["id"] == order_id


@pytest.mark.parametrize(("persona", "status"), [("ama", 200), ("owner", 200), ("viewer", 200), ("operator", 200)])
def test_an_order_is_read_by_its_buyer_its_suppliers_members_and_operators(
    orders, ama, owner, operator, persona, status
):
    viewer = buyer()
    SupplierMemberFactory(supplier=owner.supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    who = {"ama": ama, "owner": owner.user, "viewer": viewer, "operator": operator.user}[persona]
    response = api(who).get(f"{ORDERS}{orders['ama'][0]}/")
    assert response.status_code == status
    assert response.json()["id"] == orders["ama"][0]


@pytest.mark.parametrize("persona", ["another_buyer", "other_member", "unrelated"])
def test_someone_elses_order_is_not_found(orders, other_member, persona):
    another_buyer = Order.objects.get(pk=orders["other"][0]).buyer  # who has orders of their own at the shop
    who = {"another_buyer": another_buyer, "other_member": other_member.user, "unrelated": buyer(credits=0)}[persona]
    response = api(who).get(f"{ORDERS}{orders['ama'][0]}/")
    assert response.status_code == 404
    assert response.json() == api(who).get(f"{ORDERS}999999/").json()  # as for an order that does not exist


def test_the_timeline_names_people_but_never_shows_their_email(orders, ama, owner):
    order_id = orders["ama"][0]
    assert post(owner.user, f"{ORDERS}{order_id}/confirm/", key="c1").status_code == 200
    owner.user.display_name = ""
    owner.user.save()
    for who in (ama, owner.user):
        response = api(who).get(f"{ORDERS}{order_id}/")
        content = response.content.decode()
        assert ama.email not in content
        assert owner.user.email not in content
        assert [(e["role"], e["actor"]) for e in response.json()["timeline"]] == [
            ("buyer", "Ama"),
            ("supplier", "owner"),
        ]


# The schema ---------------------------------------------------------------------------------------------------------


def test_schema_documents_every_order_endpoint_with_its_key_and_refusals():
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/orders/"])
    assert "get" in paths["/api/v1/orders/{id}/"]
    create = paths["/api/v1/orders/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderInRequest"
    }
    assert set(create["responses"]) >= {"201", "400", "401", "404", "422"}
    assert "out_of_stock" in create["responses"]["422"]["description"]
    steps = [
        "confirm",
        "dispatch",
        "ready",
        "deliver",
        "cancel",
        "dispute",
        "cash-received",
        "reschedule",
        "dispute/answer",
        "dispute/decide",
    ]
    for name in steps:
        operation = paths[f"/api/v1/orders/{{id}}/{name}/"]["post"]
        assert set(operation["responses"]) >= {"200", "400", "401", "403", "404", "409", "422"}, name
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/OrderOut"
        }
    for operation in [create] + [paths[f"/api/v1/orders/{{id}}/{name}/"]["post"] for name in steps]:
        [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert (key["in"], key["required"]) == ("header", True)
    filters = {p["name"] for p in paths["/api/v1/orders/"]["get"]["parameters"]}
    assert {"state", "supplier", "payment", "cursor", "page_size"} <= filters
    components = schema["components"]["schemas"]
    assert set(components["FulfilmentRequest"]["discriminator"]["mapping"]) == {"pickup", "delivery"}
    assert {"id", "state", "lines", "total", "payment", "fulfilment", "timeline", "url"} <= set(
        components["OrderOut"]["properties"]
    )


def test_orders_as_served_match_their_schema_in_every_shape(s, ama, owner, operator):
    from purchases import services

    credits_pickup = order(s, ama, day=next_weekday(SATURDAY))
    cash_delivery = post(ama, ORDERS, delivery(s, cash_method="bank_transfer"), key="d").json()["id"]
    services.cash_receive(order=Order.objects.get(pk=cash_delivery), actor=owner.user, reference="TRF-1")
    disputed = order(s, ama)
    services.order_ready(order=disputed, actor=owner.user)
    services.dispute_open(order=disputed, actor=ama, reason="unsafe", description="It smelled off.")
    services.dispute_answer(dispute=disputed.dispute, actor=owner.user, response="It is fermented.")
    services.dispute_decide(dispute=disputed.dispute, actor=operator.user, upheld=True, reason="Unsafe to eat.")
    schema = schemathesis.openapi.from_dict(APIClient().get("/api/schema/?format=json").json())
    client = api(ama)
    served = client.get(ORDERS)
    conforms(schema, ORDERS, "GET", served)  # raises on the first difference, as the fuzzer does
    page = served.json()
    assert {o["id"] for o in page["results"]} == {credits_pickup.pk, cash_delivery, disputed.pk}
    shapes = {(o["payment"]["means"], o["fulfilment"]["method"], o["dispute"] is not None) for o in page["results"]}
    assert shapes == {("credits", "pickup", False), ("cash", "delivery", False), ("credits", "pickup", True)}
    for order_id in (credits_pickup.pk, cash_delivery, disputed.pk):
        conforms(schema, f"{ORDERS}{{id}}/", "GET", client.get(f"{ORDERS}{order_id}/"))
    refused = post(ama, f"{ORDERS}{credits_pickup.pk}/dispute/", {"reason": "unsafe", "description": "x"})
    conforms(schema, f"{ORDERS}{{id}}/dispute/", "POST", refused)


def conforms(schema, path: str, method: str, response) -> None:
    """Check a response against the operation's schema, as schemathesis checks what it fuzzes."""
    request = requests.Request(method, f"http://testserver{path}").prepare()
    headers = {name: [value] for name, value in response.items()}
    served = Response(response.status_code, headers, response.content, request, elapsed=0.0, verify=False)
    schema[path][method].validate_response(served)
