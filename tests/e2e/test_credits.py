"""A shopper's credits on a phone: sign in, open an account, top up, pay a supplier by its account number, and
download the statement. Screenshots go to /tmp/credits-*.png (and test-output/e2e/) for a person to look at.
"""

import csv
import io
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from network_credits import services
from network_credits.models import Account, Transfer
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import CHROMIUM, OUTPUT, PHONE
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS, BROKEN_IDS, FAILING, describe
from tests.products.factories import SupplierFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def people(transactional_db) -> dict:
    UserFactory(email="ama@example.org", display_name="Ama")
    supplier = SupplierFactory(legal_name="Kakao Kollektiv Ghana Ltd.", slug="kakao", country="GH")
    account = services.account_open_for_supplier(supplier_id=supplier.pk, name=supplier.legal_name)
    number = account.formatted_number
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)  # one digit wrong: the check digit catches it
    return {"email": "ama@example.org", "supplier_number": number, "mistyped": mistyped, "supplier": account}


def shot(page, name: str) -> None:
    path = OUTPUT / f"credits-{name}.png"
    page.screenshot(path=path, full_page=True)
    shutil.copy(path, Path("/tmp") / path.name)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{name} scrolls sideways"
    if AXE.exists():  # axe-core, when npm has installed it (see test_accessibility)
        page.add_script_tag(path=AXE)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        failing = [violation for violation in results["violations"] if violation["impact"] in FAILING]
        assert not failing, f"axe-core on {page.url}:\n{describe(failing)}"
        assert page.evaluate(BROKEN_IDS) == []


def test_shopper_tops_up_pays_a_supplier_and_downloads_the_statement(live_server, people, phone_page):
    page = phone_page
    page.goto(live_server.url + "/accounts/login/?next=/credits/")
    page.get_by_label("Email address").fill(people["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/credits/")
    shot(page, "1-no-account")

    page.get_by_role("button", name="Open my credit account").click()
    page.wait_for_url("**/credits/")
    assert "is open" in page.locator(".messages").inner_text()
    page.get_by_role("link", name="Top up").click()
    shot(page, "2-top-up")
    page.get_by_label("Credits to buy").fill("50")
    page.get_by_label("Paid by").select_option("card")
    page.get_by_label("Payment reference").fill("pi_3Nf9Xk2eZvKYlo2C")
    page.get_by_role("button", name="Record the top-up").click()
    page.wait_for_url("**/statement/")
    assert "Bought 50.00 credits for EUR 50.00" in page.locator(".messages").inner_text()

    page.get_by_role("link", name="My credits", exact=True).first.click()
    page.get_by_role("link", name="Pay someone").click()
    page.get_by_label("To account number").fill(people["mistyped"])
    page.get_by_label("Amount (credits)").fill("12.405")
    page.get_by_role("button", name="Continue").click()
    assert "check digit does not match" in page.locator(".field.has-error").first.inner_text()
    assert "at most two decimals" in page.locator(".field.has-error").last.inner_text()
    shot(page, "3-pay-errors")
    page.get_by_label("To account number").fill(people["supplier_number"])
    page.get_by_label("Amount (credits)").fill("12,40")
    page.get_by_label("Message for them (optional)").fill("Two bars of dark chocolate")
    shot(page, "3-pay")
    page.get_by_role("button", name="Continue").click()
    assert page.locator(".payee").inner_text() == "Kakao Kollektiv Ghana Ltd."
    shot(page, "4-confirm")
    page.get_by_role("button", name="Pay 12.40 credits").click()
    page.wait_for_url("**/statement/")
    assert "Paid 12.40 credits to" in page.locator(".messages").inner_text()
    assert page.locator("table.statement tbody tr").count() == 2
    shot(page, "5-statement")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download this statement (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("credits-")
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [(row["kind"], row["amount"], row["balance_after"]) for row in rows[1:-1]] == [
        ("top_up", "50.00", "50.00"),
        ("payment", "-12.40", "37.60"),
    ]

    page.goto(live_server.url + "/credits/")
    shot(page, "6-my-credits")
    assert "37.60" in page.locator(".credit-account").inner_text()

    def stored() -> tuple[int, int]:
        supplier = Account.objects.get(pk=people["supplier"].pk)
        return supplier.balance, Transfer.objects.filter(kind=Transfer.Kind.PAYMENT).count()

    with ThreadPoolExecutor(1) as thread:  # the ORM refuses to run in Playwright's event loop
        assert thread.submit(stored).result() == (1240, 1)
