"""How to buy, on the batch page a QR code leads to: prices, units left (or why it cannot be bought), how, where and
when, the network's guarantee, and where the money goes; a GET form to checkout that works on the shared cached page;
fresh after every order, and a fixed number of queries however many orders there are."""

import contextlib
import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core import pages
from products import services as catalog
from purchases import services
from purchases.models import Means, Method, Offer, PriceSplit, SalesTerms
from tests.core.conftest import celery_eager
from tests.purchases.factories import buyer, next_weekday, order, shop
from tests.storefront.test_batch_page import BUY_BOX_CALENDAR_QUERIES, BUY_BOX_QUERIES, REVIEWS_QUERIES

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# A batch with no trace events: the batch with its product and declarations, the lineage walks (up and down), its
# events, and the evidence of its declarations; the community section; then the buy box of a supplier with a
# calendar.
PAGE_WITHOUT_EVENTS_QUERIES = 1 + 1 + 2 + 1 + 1 + REVIEWS_QUERIES + BUY_BOX_QUERIES + BUY_BOX_CALENDAR_QUERIES


def page(client, batch) -> str:
    response = client.get(reverse("storefront:batch", kwargs={"batch_id": batch.pk}))
    assert response.status_code == 200
    return response.content.decode()


def section(body: str, anchor: str) -> str:
    start = body.index(f'<section id="{anchor}"')
    return body[start : body.index("</section>", start)]


def text(html: str) -> str:
    """The words of some HTML, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Writes in the block commit: the pages they change are marked stale and rendered again (see test_page_cache)."""

    @contextlib.contextmanager
    def block():
        pages._pending.__dict__.clear()
        with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
            yield

    return block


# What the buy box says


def test_buy_box_shows_both_prices_units_left_ways_fees_and_the_next_days(client):
    s = shop(quantity=10)

    buy = text(section(page(client, s.batch), "buy"))

    assert "€4.50 or 5.00 credits a unit" in buy
    assert f"10 units available of lot {s.batch.lot}." in buy
    assert f"Pick up at {s.facility.name}, 1 Market Road, Kumasi: no fee." in buy
    assert "Delivery , paying in cash: €3.00; free from €50.00." in buy
    assert "Delivery , paying in credits: 3.00 credits." in buy
    assert "ready or on its way within 48 hours" in buy
    saturday, wednesday = next_weekday(5), next_weekday(2)
    assert f"{saturday:%A} {saturday.day} {saturday:%B}" in buy
    assert f"{wednesday:%A} {wednesday.day} {wednesday:%B}" in buy


def test_buy_box_states_the_networks_guarantee_and_counts_the_credit_sales(client):
    s = shop(quantity=10)
    for _ in range(2):
        who = buyer()
        placed = order(s, who, quantity=1)
        services.order_ready(order=placed, actor=s.owner)
        services.order_deliver(order=placed, actor=who)  # receipt confirmed: the credits are paid
    order(s, buyer())  # held, not paid: not a sale yet
    order(s, buyer(credits=0), payment=Means.CASH)

    buy = text(section(page(client, s.batch), "buy"))

    assert "Bought with network credits: guaranteed by the network." in buy
    assert "the network's guarantee fund refunds you at once" in buy
    assert "2 sales of this lot paid in credits so far" in buy


def test_the_buy_form_asks_how_many_and_how_to_pay_and_goes_to_checkout_by_get_without_a_csrf_token(client):
    s = shop(quantity=4)

    buy = section(page(client, s.batch), "buy")

    form = re.search(r"<form[^>]*>.*?</form>", buy, re.S).group(0)
    assert f'method="get" action="/orders/checkout/{s.batch.pk}/"' in form
    assert "csrfmiddlewaretoken" not in form
    assert re.search(r'<input type="number" id="buy-quantity" name="quantity" value="1" min="1" max="4"', form)
    assert '<input type="radio" name="payment" value="cash" checked>' in form
    assert '<input type="radio" name="payment" value="credits">' in form


def test_a_batch_sold_only_in_credits_sends_its_means_along(client):
    s = shop(price=None)

    buy = section(page(client, s.batch), "buy")

    assert '<input type="hidden" name="payment" value="credits">' in buy
    assert "€" not in text(buy)


def test_a_sold_out_batch_says_so_and_offers_no_form(client):
    s = shop(quantity=2)
    order(s, buyer(), quantity=2)

    buy = section(page(client, s.batch), "buy")

    assert f"<strong>Sold out.</strong> Every unit of lot {s.batch.lot} is sold or held in an order." in buy
    assert "<form" not in buy


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("suspend", "is suspended and takes no orders."),
        ("archive", "is withdrawn from sale."),
        ("expire", "is past its expiry date."),
        ("stop", "Not offered for sale."),
    ],
)
def test_a_batch_that_cannot_be_bought_says_why_and_offers_no_form(client, change, reason):
    s = shop()
    if change == "suspend":
        catalog.supplier_status_set(supplier=s.supplier, status="suspended", reason="Unpaid wages.")
    elif change == "archive":
        catalog.batch_archive(batch=s.batch, reason="Recalled.")
    elif change == "expire":
        type(s.batch).objects.filter(pk=s.batch.pk).update(expires_on=TODAY - datetime.timedelta(days=1))
    else:
        Offer.objects.filter(pk=s.offer.pk).update(active=False)

    buy = section(page(client, s.batch), "buy")

    assert reason in buy
    assert "<form" not in buy


def test_a_supplier_that_does_not_deliver_says_pick_up_only(client):
    s = shop()
    SalesTerms.objects.filter(pk=s.terms.pk).update(delivers=False)

    buy = text(section(page(client, s.batch), "buy"))

    assert "No delivery: pick-up only." in buy
    assert "paying in cash" not in buy


def test_what_suppliers_write_in_the_buy_box_is_escaped(client):
    s = shop()
    s.facility.name = "<b>Shop</b> & <i>Sons</i>"
    s.facility.address = "<script>alert(1)</script>"
    s.facility.save()
    PriceSplit.objects.create(
        product=s.batch.product, producers=50, processing=20, transport=10, retail=20, note="<img src=x onerror=1>"
    )

    body = page(client, s.batch)

    assert "&lt;b&gt;Shop&lt;/b&gt; &amp; &lt;i&gt;Sons&lt;/i&gt;" in section(body, "buy")
    assert "<script>alert(1)" not in body
    assert "<img src=x" not in body


# Where the money goes


def test_the_price_split_is_a_labelled_stacked_bar_with_a_text_alternative_and_its_evidence_level(client):
    s = shop()
    PriceSplit.objects.create(
        product=s.batch.product,
        producers=40,
        processing=25,
        transport=7,
        retail=28,
        evidence_level="documented",
        evidence_url="https://evidence.example.org/books",
        valid_until=TODAY + datetime.timedelta(days=30),
        note="From our 2026 books.",
    )

    money = section(page(client, s.batch), "money")

    svg = re.search(r'<svg class="price-split"[^>]*role="img"[^>]*>.*?</svg>', money, re.S).group(0)
    assert '<title id="split-title">Where the money goes</title>' in svg
    assert (
        "raw-material producers 40 %, processing 25 %, transport 7 %, retail and the supplier 28 %. "
        "The network takes no fee (0 %).</desc>"
    ) in svg
    widths = [float(w) for w in re.findall(r'<g class="segment \w+"><rect x="[\d.]+" width="([\d.]+)"', svg)]
    assert widths == [136.0, 85.0, 23.8, 95.2]  # of 340: shares of the width
    assert re.findall(r'<text x="[\d.]+" y="22">(\d+) %</text>', svg) == ["40", "25", "28"]  # 7 % has no room
    legend = re.findall(r'<text class="label"[^>]*>([^<]+)</text><text class="share"[^>]*>(\d+) %</text>', svg)
    assert legend == [
        ("Raw-material producers", "40"),
        ("Processing", "25"),
        ("Transport", "7"),
        ("Retail and the supplier", "28"),
        ("The network&#x27;s fee", "0"),
    ]
    assert '<p class="evidence level-documented"><span class="level">Documented</span>' in money
    assert 'href="https://evidence.example.org/books"' in money
    assert "How the shares were worked out: From our 2026 books." in money
    assert "The network takes no fee on sales" in money


def test_a_price_split_past_its_date_shows_its_evidence_expired(client):
    s = shop()
    PriceSplit.objects.create(
        product=s.batch.product,
        producers=25,
        processing=25,
        transport=25,
        retail=25,
        evidence_level="third_party_verified",
        evidence_url="https://evidence.example.org/audit",
        valid_until=TODAY - datetime.timedelta(days=1),
    )

    money = section(page(client, s.batch), "money")

    assert '<p class="evidence level-expired"><span class="level">Evidence expired</span>' in money


def test_no_price_split_says_the_supplier_has_not_declared_one(client):
    s = shop()

    money = section(page(client, s.batch), "money")

    assert "The supplier has not declared where the money goes." in money
    assert "<svg" not in money
    assert "The network takes no fee on sales" in money


# Fresh after an order, and a fixed number of queries


def test_the_cached_page_shows_fresh_availability_after_an_order_and_a_cancellation(client, committed):
    s = shop(quantity=5)
    assert "5 units available" in page(client, s.batch)
    who = buyer()

    with committed():
        placed = order(s, who, quantity=2)
    response = client.get(reverse("storefront:batch", kwargs={"batch_id": s.batch.pk}))
    assert "3 units available" in response.content.decode()
    assert response["X-Cache"] == "hit"  # rendered again ahead, after the order committed

    with committed():
        services.order_cancel(order=placed, actor=who)
    assert "5 units available" in page(client, s.batch)


def test_selling_the_last_units_shows_sold_out_on_the_cached_page(client, committed):
    s = shop(quantity=1)
    assert "1 unit available" in page(client, s.batch)

    with committed():
        order(s, buyer(), quantity=1)

    assert "<strong>Sold out.</strong>" in page(client, s.batch)


@pytest.mark.parametrize("orders", [0, 12])
def test_the_batch_page_query_count_does_not_depend_on_the_number_of_orders(client, django_assert_num_queries, orders):
    s = shop(quantity=100)
    for n in range(orders):
        who = buyer()
        kind = n % 3
        placed = order(
            s,
            who,
            payment=Means.CREDITS if kind else Means.CASH,
            method=Method.PICKUP if kind != 2 else Method.DELIVERY,
            day=next_weekday(5) if kind == 1 else None,
        )
        if kind == 1:
            services.order_ready(order=placed, actor=s.owner)
            services.order_deliver(order=placed, actor=who)
    cache.clear()  # a cold render: nothing of the page in the cache

    with django_assert_num_queries(PAGE_WITHOUT_EVENTS_QUERIES):
        body = page(client, s.batch)

    assert f"{100 - orders} units available" in body
    assert (f"{orders // 3} sale" in body) if orders else ("No sale of this lot has been paid in credits yet." in body)
