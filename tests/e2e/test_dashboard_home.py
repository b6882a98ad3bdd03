"""The supplier's dashboard home on a phone: what needs attention reads top to bottom, with no sideways scrolling.

The screenshot is saved under test-output/e2e/ for a person to look at.
"""

import datetime
import re

import pytest
from django.utils import timezone

from products.models import SupplierMember
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import CHROMIUM, OUTPUT, PHONE
from tests.products.factories import (
    BatchFactory,
    DeclarationFactory,
    ProductFactory,
    SupplierFactory,
    SupplierMemberFactory,
    public_product,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def cocoa_owner(transactional_db) -> str:
    supplier = SupplierFactory(legal_name="Kakao Kollektiv Ghana Ltd.", slug="kakao", country="GH")
    user = UserFactory(email="ama@kakao.example")
    SupplierMemberFactory(supplier=supplier, user=user, role=SupplierMember.Role.OWNER)
    draft = ProductFactory(supplier=supplier, name="Cocoa husk tea")
    DeclarationFactory(product=draft, kind="benefit")
    chocolate = public_product(supplier=supplier, name="Dark Chocolate 70 %")
    DeclarationFactory(
        product=chocolate,
        kind="benefit",
        topic="environment",
        statement="Grown without synthetic pesticides, certified organic by an accredited body.",
        valid_until=timezone.localdate() + datetime.timedelta(days=12),
    )
    BatchFactory(product=chocolate, lot="CH26-0117")
    BatchFactory(product=ProductFactory(supplier=supplier, name="Cocoa nibs, roasted", gtin=None), lot="NB-04")
    return user.email


def test_owner_reads_what_needs_attention_on_a_phone(live_server, cocoa_owner, phone_page):
    page = phone_page
    page.goto(live_server.url + "/dashboard/login/?next=/dashboard/")
    page.get_by_label("Email").fill(cocoa_owner)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")

    section = page.locator("section.attention")
    assert "Needs your attention" in section.inner_text()
    assert section.locator("li.attention-item").count() == 5
    page.screenshot(path=OUTPUT / "dashboard-home-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    action = section.get_by_role("link", name="Add a risk: Cocoa husk tea cannot be published yet")
    box = action.bounding_box()
    assert box["height"] >= 24  # a target a thumb can hit
    action.click()
    page.wait_for_url(re.compile(r"/dashboard/products/product/\d+/change/#declarations-group$"))
    assert "Cocoa husk tea" in page.locator("#content").inner_text()
