"""A shopper points a phone at the QR code on a demo pack: Debian's chromium driven by Playwright against the live
server, at a phone's size. The screenshot is saved as test-output/e2e/batch-phone.png for a person to look at."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from core.gs1 import batch_uri, item_uri
from products.models import Batch
from provenance.lineage import batch_lineage
from tests.e2e.conftest import CHROMIUM, OUTPUT, PHONE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def shirt(transactional_db, live_server, settings) -> Batch:
    """The demo batch with the longest chain (a shirt: Indian cotton farms to a Portuguese workshop), with QR codes
    on the live server. Made before the browser starts: Playwright runs an event loop, where the ORM may not."""
    settings.RESOLVER_ROOT = live_server.url
    call_command("seed_demo", verbosity=0)
    batches = Batch.objects.filter(product__published_at__isnull=False, product__gtin__isnull=False)
    return max(batches.select_related("product"), key=lambda batch: len(batch_lineage(batch).hops))


def test_shopper_scans_a_pack_and_reads_where_it_comes_from_on_a_phone(live_server, shirt, phone_page):
    page = phone_page
    page_path = f"/batches/{shirt.pk}/"
    response = page.goto(batch_uri(shirt))  # what the QR code on the pack says

    assert response.request.redirected_from.response().status == 307
    assert response.status == 200
    assert urlsplit(page.url).path == page_path

    assert page.get_by_role("heading", level=1).inner_text() == "Organic Cotton Work Shirt"
    assert page.locator("script:not([type='application/ld+json'])").count() == 0  # nothing to run

    # Risks and benefits side by side in equal measure: same top edge, same width, neither below the other.
    risks, benefits = page.locator(".column.risks"), page.locator(".column.benefits")
    risk_box, benefit_box = risks.bounding_box(), benefits.bounding_box()
    assert abs(risk_box["y"] - benefit_box["y"]) < 1
    assert abs(risk_box["width"] - benefit_box["width"]) < 2
    assert risk_box["x"] + risk_box["width"] <= benefit_box["x"]
    assert benefit_box["x"] + benefit_box["width"] <= PHONE["width"]
    assert "Verified by a third party" in risks.inner_text()

    # Where it comes from: the drawing, its list, the map, and whether the records verify.
    chain = page.get_by_role("img", name=re.compile(r"^Where it comes from: \d+ steps$"))
    chain.scroll_into_view_if_needed()
    assert chain.is_visible()
    chain_box = chain.bounding_box()
    assert chain_box["width"] > 300
    assert chain_box["x"] + chain_box["width"] <= PHONE["width"]
    steps = page.locator("ol.steps > li")
    shown = int(re.search(r"(\d+) steps", page.locator("#chain-title").text_content()).group(1))
    assert steps.count() == shown == page.locator("svg.chain g.hop").count()
    assert "Wadhwan organic cotton farms" in steps.first.inner_text()
    assert page.get_by_role("img", name=re.compile("^Map of the")).is_visible()
    assert "Records verified:" in page.locator("#origins").inner_text()

    # The in-page links a resolver's link types point at.
    page.get_by_role("link", name="Certificates").click()
    assert page.url.endswith("#certificates")
    assert "GOTS" in page.locator("#certificates").inner_text()
    for anchor in ("origins", "use", "risks-benefits", "reviews", "buy"):
        assert page.locator(f"#{anchor}").count() == 1

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling

    # The code on one serialised item leads to the same page, with the item marked.
    page.goto(item_uri(shirt, "0042"))
    assert urlsplit(page.url).path == page_path
    assert page.locator(".item").inner_text() == "Item 0042 of this batch"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUTPUT / "batch-phone.png", full_page=True)
