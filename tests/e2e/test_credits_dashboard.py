"""The ledger in the dashboard on a phone: an operator reads an account in credits and sets its limit with a
reason. Screenshots go to /tmp/credits-dashboard-*.png (and test-output/e2e/)."""

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.urls import reverse

from network_credits import services
from network_credits.models import Account, ExternalPayment
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import CHROMIUM, OUTPUT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def member_account(transactional_db) -> Account:
    UserFactory(email="operator@network.example", is_staff=True, is_superuser=True)
    ama = UserFactory(email="ama@example.org", display_name="Ama")
    account = services.account_open_for_member(user=ama, name="Ama")
    supplier = services.account_open_for_supplier(supplier_id=1, name="Kakao Kollektiv Ghana Ltd.")
    services.top_up(
        account=account,
        amount=5000,
        provider=ExternalPayment.Provider.CARD,
        reference="pi_1",
        currency="EUR",
        amount_minor=5000,
        key="t",
        actor=ama,
    )
    services.transfer(payer=account, payee=supplier, amount=1240, key="p", actor=ama, memo="Two bars")
    return account


def shot(page, name: str) -> None:
    path = OUTPUT / f"credits-dashboard-{name}.png"
    page.screenshot(path=path, full_page=True)
    shutil.copy(path, Path("/tmp") / path.name)


def test_operator_sets_a_members_limit_on_a_phone(live_server, member_account, phone_page):
    page = phone_page
    page.goto(live_server.url + "/dashboard/login/?next=/dashboard/")
    page.get_by_label("Email").fill("operator@network.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    page.goto(live_server.url + reverse("admin:network_credits_account_changelist"))
    shot(page, "accounts")
    page.goto(live_server.url + reverse("admin:network_credits_account_change", args=[member_account.pk]))
    page.get_by_label("Credit limit (credits)").fill("25")
    page.get_by_label("Reason").fill("Known to the network since 2024")
    shot(page, "account")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/account/")
    page.goto(live_server.url + reverse("admin:network_credits_transfer_changelist"))
    shot(page, "transfers")
    page.locator("#result_list tbody tr").filter(has_text="payment").locator("th a").click()
    assert "12.40" in page.locator("#content").inner_text()
    shot(page, "transfer")
    with ThreadPoolExecutor(1) as thread:  # the ORM refuses to run in Playwright's event loop
        assert thread.submit(lambda: Account.objects.get(pk=member_account.pk).credit_limit).result() == 2500
