"""The checkout page, from the batch page's buy form: the lines, how to pay, where and when, the total; one order
however often the form is sent; every refusal next to the field it concerns, and selling out never silent."""

import datetime
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from network_credits.models import Hold
from products import services as catalog
from purchases.models import Means, Method, Order, Stock
from tests.products.factories import BatchFactory, ProductFactory
from tests.purchases.factories import account_of, buyer, next_weekday, order, shop

pytestmark = pytest.mark.django_db


def url(batch, **query) -> str:
    path = reverse("purchases:checkout", kwargs={"batch_id": batch.pk})
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown(client, batch, **query) -> str:
    response = client.get(url(batch, **query))
    assert response.status_code == 200
    return response.content.decode()


def key_of(body: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', body).group(1)


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def errors_of(body: str, field: str) -> str:
    """The error messages shown next to a field (by the ids its widget names in aria-describedby, or in its
    fieldset)."""
    found = re.search(rf'id="id_{field}_error">(.*?)</div>', body, re.S)
    return text(found.group(1)) if found else ""


def cash_delivery(s, key: str, **more) -> dict:
    return {
        "key": key,
        "quantity": "1",
        "payment": "cash",
        "cash_method": "bank_transfer",
        "where": "delivery",
        "name": "Ama Mensah",
        "line1": "12 Palm Street",
        "city": "Kumasi",
        "postcode": "AK-039",
        "country": "GH",
        "day": "",
        "action": "order",
    } | more


def credits_pickup(s, key: str, **more) -> dict:
    return {
        "key": key,
        "quantity": "2",
        "payment": "credits",
        "where": f"pickup-{s.facility.pk}",
        "day": next_weekday(5).isoformat(),
        "action": "order",
    } | more


# The page


def test_anonymous_visitors_are_sent_to_log_in_and_back_with_their_choice():
    s = shop()

    response = Client().get(url(s.batch, quantity=2, payment="credits"))

    assert response.status_code == 302
    assert response["Location"] == (
        f"/accounts/login/?next=/orders/checkout/{s.batch.pk}/%3Fquantity%3D2%26payment%3Dcredits"
    )


def test_checkout_shows_the_line_how_to_pay_where_and_only_the_days_the_calendar_offers():
    s = shop(quantity=10)
    s.terms.payment_instructions = "Pay by transfer to PT50 0002 0123 1234 5678 9015 4."
    s.terms.save()
    who = buyer(credits=2500)

    body = shown(signed_in(who), s.batch, quantity=2, payment="credits")

    assert 'name="quantity" value="2"' in body
    assert "€4.50 or 5.00 credits a unit; 10 available." in body
    assert re.search(r'name="payment" value="credits" id="id_payment_1" required checked', body)
    assert "You have 25.00 credits to spend" in text(body)
    assert "Pay by transfer to PT50 0002 0123 1234 5678 9015 4." in body
    assert "Card numbers are never asked for here" in body
    assert f'value="pickup-{s.facility.pk}"' in body
    assert 'value="delivery"' in body
    assert "1 Market Road, Kumasi" in body
    days = re.findall(r'<option value="(\d{4}-\d\d-\d\d)">', body)
    assert days
    assert all(datetime.date.fromisoformat(day).weekday() in (5, 2) for day in days)
    pickup = re.search(r'<optgroup label="For pick-up at [^"]+">(.*?)</optgroup>', body, re.S).group(1)
    assert next_weekday(5).isoformat() in pickup
    assert next_weekday(2).isoformat() not in pickup
    totals = text(re.search(r'<table class="order-lines">.*?</table>', body, re.S).group(0))
    assert "2 × " in totals
    assert "10.00 credits" in totals
    assert "With pick-up (no fee) 10.00 credits" in totals
    assert "With delivery (3.00 credits) 13.00 credits" in totals


def test_checkout_offers_the_suppliers_other_batches_for_sale_in_the_same_order():
    s = shop()
    other = BatchFactory(product=s.batch.product, quantity=3, lot="OTHER-1")
    unpublished = BatchFactory(product=ProductFactory(supplier=s.supplier), lot="HIDDEN-1")

    body = shown(signed_in(buyer()), s.batch)

    assert f'name="quantity_{other.pk}"' in body
    assert "lot OTHER-1" in body
    assert "3 available" in body
    assert f'name="quantity_{unpublished.pk}"' not in body


def test_a_batch_that_cannot_be_bought_shows_why_and_no_form():
    s = shop()
    catalog.supplier_status_set(supplier=s.supplier, status="suspended", reason="Unpaid wages.")

    body = shown(signed_in(buyer()), s.batch)

    assert "This cannot be ordered." in body
    assert "is suspended and takes no orders" in body
    assert '<form method="post"' not in body.split("<main", 1)[1]


def test_an_unpublished_batch_has_no_checkout():
    s = shop()
    hidden = BatchFactory(product=ProductFactory(supplier=s.supplier))

    assert signed_in(buyer()).get(url(hidden)).status_code == 404


def test_what_the_supplier_writes_is_escaped_on_the_checkout_page():
    s = shop()
    s.terms.payment_instructions = "<script>alert('pay')</script>"
    s.terms.save()
    s.facility.name = "<b>Shop</b>"
    s.facility.save()

    body = shown(signed_in(buyer()), s.batch)

    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;pay&#x27;)&lt;/script&gt;" in body
    assert "<b>Shop</b>" not in body


def test_updating_the_total_places_no_order_and_keeps_the_form_and_its_key():
    s = shop()
    client = signed_in(buyer())
    key = key_of(shown(client, s.batch))

    response = client.post(url(s.batch), cash_delivery(s, key, quantity="3", action="update"))

    body = response.content.decode()
    assert response.status_code == 200
    assert Order.objects.count() == 0
    assert key_of(body) == key
    assert 'name="quantity" value="3"' in body
    assert 'value="12 Palm Street"' in body
    assert "With delivery (€3.00) €16.50" in text(body)


# Placing orders


def test_cash_for_delivery_now_places_the_order_and_shows_it():
    s = shop()
    who = buyer(credits=0)
    client = signed_in(who)
    key = key_of(shown(client, s.batch))

    response = client.post(url(s.batch), cash_delivery(s, key), follow=True)

    placed = Order.objects.get()
    assert response.redirect_chain == [(placed.get_absolute_url(), 302)]
    assert (placed.buyer, placed.payment, placed.cash_method) == (who, Means.CASH, "bank_transfer")
    assert (placed.fulfilment, placed.scheduled_for, placed.address_city, str(placed.address_country)) == (
        Method.DELIVERY,
        None,
        "Kumasi",
        "GH",
    )
    assert (placed.subtotal, placed.delivery_fee, placed.total, placed.currency) == (450, 300, 750, "EUR")
    assert f"Order #{placed.pk} placed: €7.50." in response.content.decode()
    assert Stock.objects.get(batch=s.batch).held == 1


def test_credits_for_pick_up_next_saturday_holds_the_credits_and_shows_the_order():
    s = shop()
    who = buyer(credits=10_000)
    client = signed_in(who)
    key = key_of(shown(client, s.batch, quantity=2, payment="credits"))

    response = client.post(url(s.batch), credits_pickup(s, key), follow=True)

    placed = Order.objects.get()
    assert response.redirect_chain == [(placed.get_absolute_url(), 302)]
    assert (placed.payment, placed.fulfilment, placed.facility_id) == (Means.CREDITS, Method.PICKUP, s.facility.pk)
    assert placed.scheduled_for == next_weekday(5)
    assert placed.total == 1000
    assert placed.hold.state == Hold.State.PENDING
    assert account_of(who).pending_debits == 1000
    assert "Bought with network credits: guaranteed by the network." in response.content.decode()


def test_the_suppliers_other_batches_go_into_the_same_order():
    s = shop()
    other = BatchFactory(product=s.batch.product, quantity=3, lot="OTHER-1")
    client = signed_in(buyer())
    key = key_of(shown(client, s.batch))

    client.post(url(s.batch), credits_pickup(s, key, quantity="1", **{f"quantity_{other.pk}": "2"}, day=""))

    placed = Order.objects.get()
    assert sorted((line.batch_id, line.quantity) for line in placed.lines.all()) == [(s.batch.pk, 1), (other.pk, 2)]
    assert placed.total == 1500


def test_sending_the_form_twice_places_one_order():
    s = shop()
    client = signed_in(buyer())
    key = key_of(shown(client, s.batch))

    first = client.post(url(s.batch), credits_pickup(s, key))
    again = client.post(url(s.batch), credits_pickup(s, key), follow=True)

    placed = Order.objects.get()
    assert first["Location"] == placed.get_absolute_url()
    assert again.redirect_chain == [(placed.get_absolute_url(), 302)]
    assert f"This order was already placed, once: order #{placed.pk}." in again.content.decode()
    assert Stock.objects.get(batch=s.batch).held == 2


def test_the_same_form_sent_again_with_other_choices_is_refused_and_gets_a_new_key():
    s = shop()
    client = signed_in(buyer())
    key = key_of(shown(client, s.batch))
    client.post(url(s.batch), credits_pickup(s, key))

    response = client.post(url(s.batch), credits_pickup(s, key, quantity="3"))

    body = response.content.decode()
    assert response.status_code == 400
    assert "This form was already used for another order" in body
    assert key_of(body) != key
    assert Order.objects.count() == 1
    client.post(url(s.batch), credits_pickup(s, key_of(body), quantity="3"))
    assert Order.objects.count() == 2


# Refusals, each next to its field


def test_selling_out_between_page_and_checkout_says_so_and_keeps_the_form():
    s = shop(quantity=2)
    client = signed_in(buyer(credits=0))
    key = key_of(shown(client, s.batch))
    order(s, buyer(), quantity=2)  # someone else bought the last units meanwhile

    response = client.post(url(s.batch), cash_delivery(s, key))

    body = response.content.decode()
    assert response.status_code == 400
    assert f"{s.batch.product.name}, lot {s.batch.lot}, has sold out." in errors_of(body, "quantity")
    assert f"Lot {s.batch.lot} has sold out." in text(body)
    alert = text(re.search(r'<div class="errors" role="alert".*?</div>', body, re.S).group(0))
    assert "Your order is not placed yet." in alert
    assert "has sold out" in alert
    assert 'value="12 Palm Street"' in body
    assert 'value="Ama Mensah"' in body
    assert key_of(body) == key
    assert Order.objects.count() == 1


def test_fewer_left_than_asked_says_how_many_are_left():
    s = shop(quantity=5)
    client = signed_in(buyer(credits=0))
    key = key_of(shown(client, s.batch))
    order(s, buyer(), quantity=3)

    response = client.post(url(s.batch), cash_delivery(s, key, quantity="3"))

    assert response.status_code == 400
    assert f"Only 2 of {s.batch.product.name}, lot {s.batch.lot}, are left; you asked for 3." in errors_of(
        response.content.decode(), "quantity"
    )
    assert Order.objects.count() == 1


def test_not_enough_credits_is_said_by_the_payment_choice():
    s = shop()
    client = signed_in(buyer(credits=300))
    key = key_of(shown(client, s.batch))

    response = client.post(url(s.batch), credits_pickup(s, key))

    body = response.content.decode()
    assert response.status_code == 400
    payment = re.search(r"<legend>How you pay</legend>(.*?)</fieldset>", body, re.S).group(1)
    assert "Your credit account has 3.00 credits to spend; this order costs 10.00 credits." in text(payment)
    assert Order.objects.count() == 0


def test_a_day_not_offered_for_the_chosen_way_is_refused_by_the_day_field():
    s = shop()
    client = signed_in(buyer())
    key = key_of(shown(client, s.batch))
    wednesday = next_weekday(2)  # a delivery day, not a pick-up day

    response = client.post(url(s.batch), credits_pickup(s, key, day=wednesday.isoformat()))

    assert response.status_code == 400
    assert "is not offered for pick-up here; the next days are" in errors_of(response.content.decode(), "day")
    assert Order.objects.count() == 0


def test_a_day_the_calendar_never_offers_cannot_even_be_sent():
    s = shop()
    client = signed_in(buyer())
    key = key_of(shown(client, s.batch))
    monday = next_weekday(0)

    response = client.post(url(s.batch), credits_pickup(s, key, day=monday.isoformat()))

    assert response.status_code == 400
    assert "Select a valid choice" in errors_of(response.content.decode(), "day")
    assert Order.objects.count() == 0


def test_a_delivery_without_an_address_marks_each_missing_part():
    s = shop()
    client = signed_in(buyer(credits=0))
    key = key_of(shown(client, s.batch))

    response = client.post(url(s.batch), cash_delivery(s, key, name="", line1=" ", city="", country=""))

    body = response.content.decode()
    assert response.status_code == 400
    for field in ("name", "line1", "city", "country"):
        assert "This part of the address is required." in errors_of(body, field), field
    assert errors_of(body, "postcode") == ""
    assert Order.objects.count() == 0


def test_paying_by_a_means_the_batch_is_not_sold_in_is_refused():
    s = shop(price_credits=None)
    client = signed_in(buyer())
    key = key_of(shown(client, s.batch))

    response = client.post(url(s.batch), credits_pickup(s, key))

    assert response.status_code == 400
    assert 'name="payment" value="credits"' not in response.content.decode()
    assert Order.objects.count() == 0
