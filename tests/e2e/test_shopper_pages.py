"""What a shopper sees on a phone: Debian's chromium driven by Playwright against the live server.

Screenshots are saved under test-output/e2e/ for a person to look at.
"""

import pytest

from products.models import Product
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import CHROMIUM, OUTPUT, PHONE
from tests.products.factories import BatchFactory, DeclarationFactory, SupplierFactory, public_product

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def chocolate(transactional_db) -> Product:
    supplier = SupplierFactory(legal_name="Kakao Kollektiv Ghana Ltd.", slug="kakao", country="GH")
    product = public_product(
        supplier=supplier,
        name="Dark Chocolate 70 %",
        slug="dark-chocolate",
        use="Break off a square and let it melt.",
        care="Keep below 20 °C, away from light.",
    )
    DeclarationFactory(
        product=product,
        kind="risk",
        topic="labour",
        statement="Child labour is reported on cocoa farms in the region; our cooperative audits every farm each year.",
        evidence_level="third_party_verified",
        evidence_url="https://evidence.example.org/audit",
    )
    BatchFactory(product=product, lot="CH26-0117")
    return product


def test_shopper_finds_a_product_and_reads_its_risks_beside_its_benefits(live_server, chocolate, phone_page):
    page = phone_page
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.goto(live_server.url + "/")
    page.screenshot(path=OUTPUT / "home-phone.png", full_page=True)
    page.get_by_role("link", name="Dark Chocolate 70 %").click()
    page.wait_for_url("**/products/kakao/dark-chocolate/")

    risks = page.locator(".column.risks")
    benefits = page.locator(".column.benefits")
    assert "Child labour is reported" in risks.inner_text()
    assert "Paid above the living wage." in benefits.inner_text()
    risk_box, benefit_box = risks.bounding_box(), benefits.bounding_box()
    # Side by side in equal measure on a phone: same top edge, same width, neither below the other.
    assert abs(risk_box["y"] - benefit_box["y"]) < 1
    assert abs(risk_box["width"] - benefit_box["width"]) < 2
    assert risk_box["x"] + risk_box["width"] <= benefit_box["x"]
    assert benefit_box["x"] + benefit_box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    assert "Verified by a third party" in risks.inner_text()
    assert "Keep below 20 °C" in page.locator("dl.fit").inner_text()
    page.screenshot(path=OUTPUT / "product-phone.png", full_page=True)


def test_shopper_signs_up_on_a_phone(live_server, transactional_db, phone_page):
    page = phone_page
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email address").fill("ama@example.org")
    page.get_by_label("Display name").fill("Ama")
    page.get_by_label("Password", exact=True).fill("a-long-enough-passphrase-26")
    page.get_by_label("Password confirmation").fill("a-long-enough-passphrase-26")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("button", name="Log out").is_visible()
    assert page.get_by_role("link", name="Ama").is_visible()


@pytest.fixture
def developer(transactional_db):
    return UserFactory(email="dev@example.org")


def test_a_new_api_token_fits_a_phone_screen(live_server, developer, phone_page):
    # (fixtures that write to the database come before phone_page: Playwright runs an event loop)
    page = phone_page
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email address").fill("dev@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/accounts/api-token/")
    page.get_by_role("button", name="Create a new token").click()
    key = page.locator("#api-token-key").inner_text()
    assert len(key) == 40
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=OUTPUT / "api-token-phone.png", full_page=True)
