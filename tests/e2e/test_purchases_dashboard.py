"""A supplier's owner takes an order through the dashboard in a browser: sees it on the home, confirms it, makes it
ready for pick-up and records the cash received; then reads the pick and pack list. On a phone and on a desktop.

Screenshots go to /work/screens/purchases-dashboard-*.png (and test-output/e2e/) for a person to look at.
"""

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.urls import reverse

from products.models import SupplierMember
from purchases.models import CashPayment, Means, Order
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import CHROMIUM, OUTPUT, PHONE
from tests.products.factories import SupplierFactory, SupplierMemberFactory
from tests.purchases.factories import buyer, next_weekday, order, shop

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]

SCREENS = Path("/work/screens")
DESKTOP = {"width": 1280, "height": 900}
OWNER = "ama@kakao.example"


@pytest.fixture
def orders(transactional_db) -> dict[str, int]:
    supplier = SupplierFactory(legal_name="Kakao Kollektiv Ghana Ltd.", slug="kakao", country="GH")
    owner = UserFactory(email=OWNER)
    SupplierMemberFactory(supplier=supplier, user=owner, role=SupplierMember.Role.OWNER)
    kakao = shop(supplier=supplier, owner=owner, quantity=40)
    now = order(kakao, buyer(email="kofi@example.org", credits=0), quantity=2, payment=Means.CASH)
    saturday = next_weekday(5)
    order(kakao, buyer(email="efua@example.org"), quantity=3, day=saturday)
    order(kakao, buyer(email="yaw@example.org"), quantity=1, day=saturday, payment=Means.CASH)
    return {"order": now.pk, "supplier": supplier.pk, "saturday": saturday.isoformat()}


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    path = OUTPUT / f"purchases-dashboard-{name}.png"
    page.screenshot(path=path, full_page=True)
    shutil.copy(path, SCREENS / path.name)


def log_in(page, base: str) -> None:
    page.goto(base + "/dashboard/login/?next=/dashboard/")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")


def in_the_database(read):
    with ThreadPoolExecutor(1) as thread:  # the ORM refuses to run in Playwright's event loop
        return thread.submit(read).result()


def test_owner_confirms_readies_and_records_cash_on_a_phone(live_server, orders, browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url)
    number = orders["order"]

    section = page.locator("section.attention")
    assert "3 orders to confirm" in section.inner_text()
    shot(page, "home-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    section.get_by_role("link", name="Confirm them: 3 orders to confirm").click()
    page.wait_for_url("**/purchases/order/?state__exact=placed**")
    shot(page, "orders-phone")
    page.get_by_role("link", name=f"#{number}", exact=True).click()
    page.wait_for_url(re.compile(rf"/purchases/order/{number}/change/"))

    panel = page.locator("section.order-panel")
    assert panel.get_by_role("heading").inner_text() == "Placed"
    assert "€9.00 to collect" in panel.inner_text()
    shot(page, "order-placed-phone")
    confirm = panel.get_by_role("button", name="Confirm the order")
    assert confirm.bounding_box()["height"] >= 40  # a target a thumb can hit
    confirm.click()
    page.wait_for_load_state()
    assert f"Order #{number} is confirmed." in page.locator(".messagelist").inner_text()

    page.locator("section.order-panel").get_by_role("button", name="Ready for pick-up").click()
    page.wait_for_load_state()
    assert f"Order #{number} is ready for pick-up." in page.locator(".messagelist").inner_text()

    panel = page.locator("section.order-panel")
    assert panel.get_by_label("Paid by").input_value() == "cash_at_pickup"
    panel.get_by_label("Payment reference").fill("4242 4242 4242 4242")  # someone types a card number
    panel.get_by_role("button", name="Record the payment").click()
    page.wait_for_load_state()
    assert "Never record card numbers" in page.locator(".messagelist").inner_text()
    shot(page, "order-card-number-refused-phone")
    panel = page.locator("section.order-panel")
    panel.get_by_label("Payment reference").fill("")
    panel.get_by_role("button", name="Record the payment").click()
    page.wait_for_load_state()
    assert f"Order #{number} is recorded as paid." in page.locator(".messagelist").inner_text()
    assert "€9.00 received on" in page.locator("section.order-panel").inner_text()
    timeline = page.locator("#events-group").inner_text()
    assert "Confirmed" in timeline
    assert "Ready for pick-up" in timeline
    assert "Payment received" in timeline
    shot(page, "order-paid-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    def stored():
        placed = Order.objects.get(pk=number)
        return placed.state, placed.paid_at is not None, CashPayment.objects.filter(order=placed).count()

    assert in_the_database(stored) == (Order.State.READY, True, 1)
    context.close()


def test_owner_reads_orders_and_the_pick_list_on_a_desktop(live_server, orders, browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server.url)
    shot(page, "home-desktop")
    page.goto(live_server.url + reverse("admin:purchases_order_changelist"))
    assert page.locator("#result_list tbody tr").count() == 3
    shot(page, "orders-desktop")
    page.goto(live_server.url + reverse("admin:purchases_order_change", args=[orders["order"]]))
    shot(page, "order-desktop")
    page.goto(live_server.url + reverse("admin:purchases_order_changelist"))
    page.get_by_role("link", name="Pick and pack lists").click()
    page.get_by_label("Day").fill(orders["saturday"])
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    content = page.locator("#content").inner_text()
    assert "Pick: 6 units for 3 orders" in content
    assert "efua@example.org" in content
    shot(page, "pick-list-desktop")
    page.emulate_media(media="print")
    shot(page, "pick-list-print")
    context.close()

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = phone.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}{reverse('admin:purchases_order_picklist')}?day={orders['saturday']}")
    assert "Pick: 6 units for 3 orders" in page.locator("#content").inner_text()
    shot(page, "pick-list-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.close()
