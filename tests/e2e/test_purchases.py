"""A shopper buys on a phone, as a new user would: scan the pack's code → read the batch page → buy with credits for
pick-up next Saturday → (the supplier has it ready) → confirm receipt; then buy with cash for delivery now.
Debian's chromium driven by Playwright at 390×844; screenshots go to /work/screens/ (and test-output/e2e/) for a
person to look at, each page checked by axe-core (when installed) and for sideways scrolling."""

import datetime
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.gs1 import batch_uri
from network_credits.models import Hold
from provenance.services import facility_create
from purchases import services
from purchases.models import Means, Method, Offer, Order, PriceSplit, SalesTerms, Window
from tests.accounts.factories import PASSWORD
from tests.e2e.conftest import CHROMIUM, OUTPUT, PHONE
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS, BROKEN_IDS, FAILING, SVG_TEXT_CONTRAST, describe
from tests.products.factories import BatchFactory, SupplierFactory, SupplierMemberFactory, public_product
from tests.purchases.factories import account_of, buyer, next_weekday, supplier_account_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]
SCREENS = Path("/work/screens")


@pytest.fixture
def shop(transactional_db, live_server, settings) -> dict:
    """A cocoa cooperative selling a lot of chocolate in cash and credits, with a Saturday pick-up at its shop and
    Wednesday deliveries, its price split declared; a shopper with 60 credits. Made before the browser starts:
    Playwright runs an event loop, where the ORM may not."""
    settings.RESOLVER_ROOT = live_server.url
    supplier = SupplierFactory(legal_name="Kakao Kollektiv Ghana Ltd.", slug="kakao", country="GH")
    owner = SupplierMemberFactory(supplier=supplier).user
    product = public_product(supplier=supplier, name="Dark chocolate 70 %", description="Single-origin bar, 100 g.")
    batch = BatchFactory(product=product, lot="KK-2026-11", quantity=40, produced_on=datetime.date(2026, 11, 2))
    Offer.objects.create(product=product, price=450, currency="EUR", price_credits=500)
    place = facility_create(
        owner=supplier, name="Kakao shop, Kumasi", country="GH", address="14 Adum Road, Kumasi", kind="shop"
    )
    for method, weekday, start, end in ((Method.PICKUP, 5, 9, 13), (Method.DELIVERY, 2, 14, 18)):
        Window.objects.create(
            supplier=supplier,
            method=method,
            facility_id=place.pk,
            weekday=weekday,
            starts_at=datetime.time(start),
            ends_at=datetime.time(end),
            cutoff_hours=24,
        )
    SalesTerms.objects.update_or_create(
        supplier=supplier,
        defaults={
            "delivery_flat": 300,
            "delivery_flat_credits": 300,
            "delivery_free_above": 5000,
            "payment_instructions": "Card: the payment link on your order e-mail. Transfer: GH21 0001 2345 6789.",
        },
    )
    PriceSplit.objects.create(
        product=product,
        producers=42,
        processing=23,
        transport=8,
        retail=27,
        evidence_level="documented",
        evidence_url="https://kakao.example.org/books-2026",
        note="From the cooperative's 2026 accounts.",
    )
    shopper = buyer(credits=6000, email="ama@example.org", display_name="Ama")
    return {"batch": batch, "owner": owner, "shopper": shopper, "saturday": next_weekday(5), "place": place}


def shot(page, name: str, *, element: str | None = None) -> None:
    """A screenshot for a person to look at, and the checks a phone page must pass."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"purchases-{name}.png"
    if element:
        page.locator(element).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)
    shutil.copy(path, OUTPUT / path.name)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{name} scrolls sideways"
    if AXE.exists():  # axe-core, when npm has installed it (see test_accessibility)
        page.add_script_tag(path=AXE)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        failing = [violation for violation in results["violations"] if violation["impact"] in FAILING]
        assert not failing, f"axe-core on {page.url}:\n{describe(failing)}"
        assert page.evaluate(BROKEN_IDS) == []
        assert page.evaluate(SVG_TEXT_CONTRAST) == []


def words(locator) -> str:
    """A locator's text with its whitespace (tabs between table cells, new lines) collapsed."""
    return " ".join(locator.inner_text().split())


def in_thread(function, *args):
    """Run ORM code away from Playwright's event loop."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(function, *args).result()


def test_shopper_scans_reads_buys_with_credits_for_saturday_pick_up_and_confirms_receipt(live_server, shop, phone_page):
    page = phone_page
    saturday = shop["saturday"]

    # Scan: the code on the pack leads to the batch page.
    page.goto(batch_uri(shop["batch"]))
    assert page.get_by_role("heading", level=1).inner_text() == "Dark chocolate 70 %"

    # Read: how to buy, the guarantee, where the money goes.
    page.get_by_role("link", name="How to buy").click()
    buy = page.locator("#buy")
    assert "€4.50 or 5.00 credits a unit" in buy.inner_text()
    assert "40 units available" in buy.inner_text()
    assert "Pick up at Kakao shop, Kumasi" in buy.inner_text()
    assert "Bought with network credits: guaranteed by the network." in buy.inner_text()
    assert f"{saturday:%A} {saturday.day} {saturday:%B}" in buy.inner_text()
    split = page.get_by_role("img", name="Where the money goes")
    assert split.is_visible()
    assert split.bounding_box()["x"] + split.bounding_box()["width"] <= PHONE["width"]
    assert "Documented" in page.locator("#money").inner_text()
    assert "The network takes no fee on sales" in page.locator("#money").inner_text()
    shot(page, "1-batch-page")
    shot(page, "1-buy-box", element="#buy")
    shot(page, "1-money", element="#money")

    # Buy with credits: the form goes to checkout, by way of logging in.
    page.get_by_label("How many").fill("2")
    page.get_by_label("Network credits: 5.00 credits a unit").check()
    page.get_by_role("button", name="Buy", exact=True).click()
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Email address").fill("ama@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/orders/checkout/**")
    assert page.get_by_label("Dark chocolate 70 %, lot KK-2026-11").input_value() == "2"
    assert page.get_by_label("Network credits").is_checked()
    assert "You have 60.00 credits to spend" in page.locator(".checkout-form").inner_text()
    page.get_by_label("Pick-up at Kakao shop, Kumasi: no fee").check()
    page.get_by_label("Day").select_option(saturday.isoformat())
    assert "With pick-up (no fee) 10.00 credits" in words(page.locator(".summary"))
    shot(page, "2-checkout-credits")
    page.get_by_role("button", name="Place the order").click()
    page.wait_for_url("**/orders/*/")
    assert "placed: 10.00 credits" in page.locator(".messages").inner_text()
    assert "Bought with network credits: guaranteed by the network." in page.locator(".guarantee").inner_text()
    assert "You can change or cancel it until" in page.locator(".next").inner_text()
    shot(page, "3-order-placed")

    def supplier_has_it_ready() -> int:
        placed = Order.objects.get(buyer=shop["shopper"])
        assert (placed.scheduled_for, placed.payment, placed.facility_id) == (
            saturday,
            Means.CREDITS,
            shop["place"].pk,
        )
        services.order_confirm(order=placed, actor=shop["owner"])
        services.order_ready(order=placed, actor=shop["owner"], note="On the shelf by the door, name on the bag.")
        return placed.pk

    order_id = in_thread(supplier_has_it_ready)
    page.reload()
    assert page.locator(".order-state").inner_text() == "Ready for pick-up"
    assert "On the shelf by the door" in page.locator(".timeline").inner_text()
    page.get_by_role("button", name="I have received it").click()
    page.wait_for_url(f"**/orders/{order_id}/")
    assert "you confirmed you received" in page.locator(".messages").inner_text()
    assert page.locator(".order-state").inner_text() == "Delivered"
    steps = page.locator(".timeline .step")
    assert steps.count() == 4
    assert "Receipt confirmed" in steps.last.inner_text()
    assert "by You" in steps.last.inner_text()
    shot(page, "4-order-received")

    def settled() -> tuple:
        placed = Order.objects.select_related("hold").get(pk=order_id)
        return (
            placed.state,
            placed.hold.state,
            supplier_account_of(placed.supplier).balance,
            account_of(shop["shopper"]).balance,
        )

    assert in_thread(settled) == (Order.State.DELIVERED, Hold.State.POSTED, 1000, 5000)

    # My orders lists it.
    page.get_by_role("link", name="My orders").first.click()
    assert f"Order #{order_id}" in page.locator(".orders").inner_text()
    shot(page, "5-my-orders")


def test_shopper_buys_with_cash_for_delivery_now(live_server, shop, phone_page):
    page = phone_page
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email address").fill("ama@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")

    page.goto(live_server.url + f"/batches/{shop['batch'].pk}/#buy")
    page.get_by_label("Cash: €4.50 a unit").check()
    page.get_by_role("button", name="Buy", exact=True).click()
    page.wait_for_url("**/orders/checkout/**")
    assert page.get_by_label("Cash", exact=True).is_checked()
    page.get_by_label("Bank transfer").check()
    assert "GH21 0001 2345 6789" in page.locator(".instructions").inner_text()
    assert "Card numbers are never asked for here" in page.locator(".checkout-form").inner_text()
    page.get_by_label("Delivery to your address").check()
    page.get_by_role("button", name="Place the order").click()  # no address yet: each missing part is marked
    assert page.locator(".has-error").count() == 4
    assert "Your order is not placed yet." in page.locator("#checkout-errors").inner_text()
    shot(page, "6-checkout-cash-errors")
    page.get_by_label("Name").fill("Ama Mensah")
    page.get_by_label("Street and number").fill("12 Palm Street")
    page.get_by_label("Town or city").fill("Kumasi")
    page.get_by_label("Postcode").fill("AK-039")
    page.get_by_label("Country").select_option("GH")
    assert page.get_by_label("Day").input_value() == ""  # as soon as possible
    assert "With delivery (€3.00) €7.50" in words(page.locator(".summary"))
    shot(page, "6-checkout-cash")
    page.get_by_role("button", name="Place the order").click()
    page.wait_for_url("**/orders/*/")
    assert "placed: €7.50" in page.locator(".messages").inner_text()
    assert "Pay the €7.50 by bank transfer." in page.locator(".next").inner_text()
    assert page.locator(".guarantee").count() == 0
    shot(page, "7-order-cash")

    def placed() -> tuple:
        order = Order.objects.get(buyer=shop["shopper"])
        return order.payment, order.cash_method, order.fulfilment, order.scheduled_for, order.total, order.address_city

    assert in_thread(placed) == (Means.CASH, "bank_transfer", Method.DELIVERY, None, 750, "Kumasi")
