"""My credits: the pages a shopper or a supplier's member uses to see, pay, top up and download their credits."""

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from network_credits import services
from network_credits.forms import CreditsField
from network_credits.models import Account, ExternalPayment, Transfer, luhn_digit
from products.models import SupplierMember
from tests.products.factories import SupplierFactory, SupplierMemberFactory

pytestmark = pytest.mark.django_db

MINE = reverse("network_credits:mine")
PAY = reverse("network_credits:pay")
TOP_UP = reverse("network_credits:top_up")


def statement_url(account: Account, **query: str) -> str:
    url = reverse("network_credits:statement", args=[account.number])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def funded(user, hundredths: int = 5000) -> Account:
    """The user's member account, topped up by `hundredths`."""
    account = services.account_open_for_member(user=user, name=user.public_name)
    services.top_up(
        account=account,
        amount=hundredths,
        provider=ExternalPayment.Provider.CARD,
        reference=f"seed-{uuid.uuid4()}",
        currency="EUR",
        amount_minor=hundredths,
        key=str(uuid.uuid4()),
        system="tests",
    )
    return account


@pytest.fixture
def cocoa(own_supplier) -> Account:
    return services.account_open_for_supplier(supplier_id=own_supplier.pk, name=own_supplier.legal_name)


def the_key(response) -> str:
    return re.search(r'name="key" value="([0-9a-f-]{36})"', response.content.decode())[1]


def pay_data(key: str, to: str, amount: str, memo: str = "", action: str = "review", **extra: str) -> dict:
    return {"key": key, "to_account": to, "amount": amount, "memo": memo, "action": action, **extra}


def balances(*accounts: Account) -> list[int]:
    return [Account.objects.get(pk=account.pk).balance for account in accounts]


# My credits ---------------------------------------------------------------------------------------------------------


def test_my_credits_shows_each_account_with_its_figures(owner, cocoa):
    mine = funded(owner.user, 2550)
    services.credit_limit_set(account=mine, credit_limit=1000, reason="Trusted member", actor=None)
    response = owner.client.get(MINE)
    body = response.content.decode()
    assert response.status_code == 200
    assert mine.formatted_number in body
    assert cocoa.formatted_number in body
    assert "Own Cocoa Co" in body
    assert "25.50" in body  # balance
    assert "35.50" in body  # available: balance + limit
    assert "10.00" in body  # credit limit
    assert "500.00" in body  # the supplier's default limit and its available
    assert reverse("network_credits:statement", args=[mine.number]) in body
    assert reverse("network_credits:statement", args=[cocoa.number]) in body
    assert PAY in body
    assert TOP_UP in body
    assert "Open my credit account" not in body
    assert response["Cache-Control"].startswith("max-age=0")  # never_cache: a page with money on it


def test_the_header_links_to_my_credits_for_signed_in_people(shopper, client):
    assert f'href="{MINE}"' in shopper.client.get("/").content.decode()
    assert f'href="{MINE}"' not in client.get("/").content.decode()


def test_my_credits_asks_a_stranger_to_log_in(client):
    for url in (MINE, PAY, TOP_UP):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_a_shopper_without_an_account_opens_one(shopper):
    body = shopper.client.get(MINE).content.decode()
    assert "Open my credit account" in body
    assert "csrfmiddlewaretoken" in body
    response = shopper.client.post(MINE)
    assert response.status_code == 302
    account = Account.objects.get(user=shopper.user)
    assert account.kind == Account.Kind.MEMBER
    assert account.name == shopper.user.public_name  # not the e-mail address: payers see this name
    body = shopper.client.get(MINE).content.decode()
    assert account.formatted_number in body
    assert "Open my credit account" not in body
    shopper.client.post(MINE)  # again: still one account
    assert Account.objects.filter(user=shopper.user).count() == 1


def test_forms_refuse_a_post_without_the_csrf_token(shopper):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper.user)
    assert client.post(MINE).status_code == 403
    assert not Account.objects.filter(user=shopper.user).exists()


def test_my_credits_query_count_does_not_grow_with_accounts(owner, django_assert_num_queries):
    funded(owner.user)
    for n in range(4):
        supplier = SupplierFactory(legal_name=f"Supplier {n}")
        SupplierMemberFactory(supplier=supplier, user=owner.user, role=SupplierMember.Role.EDITOR)
        services.account_open_for_supplier(supplier_id=supplier.pk, name=supplier.legal_name)
    # session, user, their access (memberships), their accounts, the header's "dashboard?" check
    with django_assert_num_queries(5):
        response = owner.client.get(MINE)
    assert response.content.decode().count('class="credit-account ') == 5


# Paying -------------------------------------------------------------------------------------------------------------


def test_pay_by_account_number_after_a_confirmation_that_names_the_payee(shopper, cocoa):
    payer = funded(shopper.user, 5000)
    key = the_key(shopper.client.get(PAY))
    typed = f"{cocoa.number[:4]} {cocoa.number[4:8]} {cocoa.number[8:]}"

    review = shopper.client.post(PAY, pay_data(key, typed, "10.50", memo="Cocoa, 2 bars"))
    body = review.content.decode()
    assert review.status_code == 200
    assert "Check and pay" in body
    assert "Own Cocoa Co" in body
    assert cocoa.formatted_number in body
    assert "Pay 10.50 credits" in body
    assert not Transfer.objects.filter(kind=Transfer.Kind.PAYMENT).exists()  # nothing paid before the confirmation

    confirmed = pay_data(key, typed, "10.50", memo="Cocoa, 2 bars", action="pay")
    response = shopper.client.post(PAY, confirmed)
    assert response.status_code == 302
    assert response.url == statement_url(payer)
    again = shopper.client.post(PAY, confirmed)  # a double click, or a refresh of the confirmation
    assert again.status_code == 302

    payments = Transfer.objects.filter(kind=Transfer.Kind.PAYMENT)
    assert payments.count() == 1
    payment = payments.get()
    assert (payment.debit_account_id, payment.credit_account_id, payment.amount) == (payer.pk, cocoa.pk, 1050)
    assert payment.memo == "Cocoa, 2 bars"
    assert payment.created_by == shopper.user
    assert balances(payer, cocoa) == [5000 - 1050, 1050]

    statement = shopper.client.get(response.url).content.decode()
    assert "Paid 10.50 credits to" in statement  # the message
    assert "already made, once" in statement  # the second submission said so
    assert f"Payment to {cocoa}: Cocoa, 2 bars" in statement
    assert "-10.50" in statement
    assert "39.50" in statement


def test_change_goes_back_to_the_form_with_what_was_typed(shopper, cocoa):
    funded(shopper.user)
    key = the_key(shopper.client.get(PAY))
    response = shopper.client.post(PAY, pay_data(key, cocoa.number, "3", action="edit"))
    body = response.content.decode()
    assert "Continue" in body
    assert f'value="{cocoa.number}"' in body
    assert 'value="3"' in body
    assert key in body
    assert not Transfer.objects.filter(kind=Transfer.Kind.PAYMENT).exists()


def test_the_payee_can_be_filled_in_from_a_link(shopper, cocoa):
    funded(shopper.user)
    body = shopper.client.get(PAY + f"?to={cocoa.number}").content.decode()
    assert f'value="{cocoa.number}"' in body


def test_each_pay_form_gets_its_own_key(shopper):
    funded(shopper.user)
    assert the_key(shopper.client.get(PAY)) != the_key(shopper.client.get(PAY))


def _bad_number(number: str) -> str:
    wrong_check = str((int(number[-1]) + 1) % 10)
    return number[:-1] + wrong_check


@pytest.mark.parametrize(
    ("to", "amount", "error"),
    [
        (None, "10.505", "at most two decimals"),
        (None, "0", "more than zero"),
        (None, "0.00", "more than zero"),
        (None, "-5", "more than zero"),
        (None, "ten", "like 12 or 10.50"),
        (None, "1e3", "like 12 or 10.50"),
        (None, "99999999999", "At most 10,000,000.00 credits"),
        (None, "", "This field is required"),
        ("1234", "5", "An account number is 10 digits"),
        ("bad-check", "5", "check digit does not match"),
        ("400000000" + luhn_digit("400000000"), "5", "No account has this number"),  # well formed, unknown
    ],
)
@pytest.mark.parametrize("action", ["review", "pay"])
def test_bad_payments_are_shown_on_the_form_and_pay_nothing(shopper, cocoa, to, amount, error, action):
    payer = funded(shopper.user, 5000)
    number = _bad_number(cocoa.number) if to == "bad-check" else (to or cocoa.number)
    transfers = Transfer.objects.count()
    key = the_key(shopper.client.get(PAY))
    response = shopper.client.post(PAY, pay_data(key, number, amount, action=action))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert "Continue" in response.content.decode()  # the form again, not the confirmation
    assert Transfer.objects.count() == transfers
    assert balances(payer, cocoa) == [5000, 0]


def test_paying_more_than_is_available_says_how_much_can_be_spent(shopper, cocoa):
    payer = funded(shopper.user, 1000)
    key = the_key(shopper.client.get(PAY))
    response = shopper.client.post(PAY, pay_data(key, cocoa.number, "10.01", action="pay"))
    body = response.content.decode()
    assert "Not enough credit" in body
    assert "at most 10.00 credits" in body
    assert balances(payer, cocoa) == [1000, 0]
    assert not Transfer.objects.filter(kind=Transfer.Kind.PAYMENT).exists()
    # Spending exactly what is available is allowed, and the same form (same key) can be sent again corrected.
    response = shopper.client.post(PAY, pay_data(key, cocoa.number, "10", action="pay"))
    assert response.status_code == 302
    assert balances(payer, cocoa) == [0, 1000]


def test_a_frozen_payee_is_refused_on_the_form(shopper, cocoa):
    payer = funded(shopper.user, 1000)
    services.account_freeze(account=cocoa, reason="Suspended", actor=None)
    key = the_key(shopper.client.get(PAY))
    response = shopper.client.post(PAY, pay_data(key, cocoa.number, "1", action="pay"))
    assert "frozen" in response.content.decode()
    assert balances(payer, cocoa) == [1000, 0]


def test_paying_oneself_is_refused(shopper):
    payer = funded(shopper.user, 1000)
    key = the_key(shopper.client.get(PAY))
    response = shopper.client.post(PAY, pay_data(key, payer.number, "1", action="pay"))
    assert "cannot pay itself" in response.content.decode()
    assert balances(payer) == [1000]


def test_a_key_already_used_for_another_payment_pays_nothing_more(shopper, cocoa):
    payer = funded(shopper.user, 5000)
    key = the_key(shopper.client.get(PAY))
    shopper.client.post(PAY, pay_data(key, cocoa.number, "1", action="pay"))
    response = shopper.client.post(PAY, pay_data(key, cocoa.number, "2", action="pay"))  # back, edited, resent
    body = response.content.decode()
    assert "already used for another payment" in body
    assert the_key(response) != key  # sending the form now is a new payment
    assert balances(payer, cocoa) == [4900, 100]


def test_a_person_with_several_accounts_chooses_which_to_pay_from(owner, cocoa, other_supplier):
    mine = funded(owner.user, 1000)
    other = services.account_open_for_supplier(supplier_id=other_supplier.pk, name=other_supplier.legal_name)
    body = owner.client.get(PAY).content.decode()
    assert f'<option value="{mine.number}"' in body
    assert f'<option value="{cocoa.number}"' in body
    key = the_key(owner.client.get(PAY))
    data = pay_data(key, other.number, "200", action="pay", from_account=cocoa.number)
    assert owner.client.post(PAY, data).status_code == 302
    assert balances(mine, cocoa, other) == [1000, -20000, 20000]  # the supplier's credit limit at work


def test_an_editor_cannot_pay_from_the_suppliers_account(own_supplier, cocoa, other_supplier):
    from tests.accounts.factories import UserFactory

    editor = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=editor, role=SupplierMember.Role.EDITOR)
    client = Client()
    client.force_login(editor)
    other = services.account_open_for_supplier(supplier_id=other_supplier.pk, name=other_supplier.legal_name)
    assert "no account you can pay from" in client.get(PAY).content.decode()
    response = client.post(PAY, pay_data(str(uuid.uuid4()), other.number, "1", action="pay", from_account=cocoa.number))
    assert balances(cocoa, other) == [0, 0]
    assert response.status_code == 200


def test_output_is_escaped(shopper, cocoa):
    payer = funded(shopper.user, 1000)
    key = the_key(shopper.client.get(PAY))
    memo = "<script>alert(1)</script>"
    review = shopper.client.post(PAY, pay_data(key, cocoa.number, "1", memo=memo))
    assert "<script>alert(1)" not in review.content.decode()
    shopper.client.post(PAY, pay_data(key, cocoa.number, "1", memo=memo, action="pay"))
    body = shopper.client.get(statement_url(payer)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body


# Topping up ---------------------------------------------------------------------------------------------------------


def top_up_data(key: str, amount: str = "20", provider: str = "card", reference: str = "pi_123") -> dict:
    return {"key": key, "amount": amount, "provider": provider, "reference": reference}


def test_top_up_records_the_payment_and_buys_the_credits(shopper):
    account = services.account_open_for_member(user=shopper.user)
    page = shopper.client.get(TOP_UP)
    assert "external payment" in page.content.decode()
    data = top_up_data(the_key(page), amount="20.00", provider="bank_transfer", reference="SEPA-2026-001")
    response = shopper.client.post(TOP_UP, data)
    assert response.status_code == 302
    assert response.url == statement_url(account)
    shopper.client.post(TOP_UP, data)  # refreshed: bought once
    payment = ExternalPayment.objects.get()
    assert (payment.provider, payment.reference, payment.currency, payment.amount_minor) == (
        "bank_transfer",
        "SEPA-2026-001",
        "EUR",
        2000,
    )
    assert payment.transfer.kind == Transfer.Kind.TOP_UP
    issuance = services.system_account(Account.System.ISSUANCE)
    assert balances(account, issuance) == [2000, -2000]
    body = shopper.client.get(response.url).content.decode()
    assert "Bought 20.00 credits for EUR 20.00" in body
    assert "Top-up: EUR 20.00 paid by bank transfer, ref. SEPA-2026-001" in body


def test_a_payment_reference_buys_credits_once(shopper):
    account = services.account_open_for_member(user=shopper.user)
    shopper.client.post(TOP_UP, top_up_data(str(uuid.uuid4()), reference="pi_1"))
    response = shopper.client.post(TOP_UP, top_up_data(str(uuid.uuid4()), reference="pi_1"))
    assert "already bought credits" in response.content.decode()
    assert balances(account) == [2000]


def test_top_ups_stop_at_the_daily_maximum(shopper, settings):
    settings.CREDITS_TOP_UP_DAILY_MAX = 10_000
    account = services.account_open_for_member(user=shopper.user)
    assert shopper.client.post(TOP_UP, top_up_data(str(uuid.uuid4()), amount="60", reference="a")).status_code == 302
    response = shopper.client.post(TOP_UP, top_up_data(str(uuid.uuid4()), amount="40.01", reference="b"))
    assert "at most 100.00 credits a day" in response.content.decode()
    assert "at most 40.00 more" in response.content.decode()
    assert balances(account) == [6000]
    assert shopper.client.post(TOP_UP, top_up_data(str(uuid.uuid4()), amount="40", reference="c")).status_code == 302
    assert balances(account) == [10_000]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"amount": "5.555"}, "at most two decimals"),
        ({"provider": "bitcoin"}, "Select a valid choice"),
        ({"reference": ""}, "This field is required"),
        ({"reference": "x" * 101}, "at most 100 characters"),
    ],
)
def test_bad_top_ups_buy_nothing(shopper, data, error):
    account = services.account_open_for_member(user=shopper.user)
    response = shopper.client.post(TOP_UP, top_up_data(str(uuid.uuid4())) | data)
    assert error in response.content.decode()
    assert balances(account) == [0]
    assert not ExternalPayment.objects.exists()


def test_without_an_account_pay_and_top_up_send_you_to_open_one(shopper):
    for url in (PAY, TOP_UP):
        body = shopper.client.get(url).content.decode()
        assert "Open your credit account" in body
        assert 'name="key"' not in body


# Statements ---------------------------------------------------------------------------------------------------------


def test_another_persons_statement_is_not_found(shopper, other_member, cocoa):
    account = funded(shopper.user)
    assert other_member.client.get(statement_url(account)).status_code == 404
    assert other_member.client.get(statement_url(cocoa)).status_code == 404  # a supplier they do not work for
    assert other_member.client.get(statement_url(account, format="csv")).status_code == 404
    assert shopper.client.get(statement_url(cocoa)).status_code == 404
    assert shopper.client.get(reverse("network_credits:statement", args=["0000000000"])).status_code == 404
    assert shopper.client.get(reverse("network_credits:statement", args=["nonsense"])).status_code == 404


def test_operators_and_the_suppliers_members_read_its_statement(operator, owner, cocoa):
    assert operator.client.get(statement_url(cocoa)).status_code == 200
    assert owner.client.get(statement_url(cocoa)).status_code == 200


def _ledger_with_history(shopper_user, cocoa: Account) -> Account:
    payer = funded(shopper_user, 10_000)
    for n in range(5):
        services.transfer(payer=payer, payee=cocoa, amount=100 * (n + 1), key=f"t{n}", actor=shopper_user, memo=f"#{n}")
    held = services.hold(payer=payer, payee=cocoa, amount=700, key="h", actor=shopper_user)
    services.hold_post(hold=held, amount=300, key="p", actor=shopper_user)
    return payer


def test_statement_lists_entries_with_running_balances(shopper, cocoa, django_assert_num_queries):
    payer = _ledger_with_history(shopper.user, cocoa)
    # session, user, access, the account, the balance before the period, the entries
    with django_assert_num_queries(7):  # and the header's "dashboard?" check
        response = shopper.client.get(statement_url(payer))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<tr class=") == 8  # top-up, five payments, the hold, its post
    for balance_after in ("100.00", "99.00", "97.00", "94.00", "90.00", "85.00", "82.00"):
        assert f'<td class="num">{balance_after}</td>' in body
    assert "7.00 held" in body
    assert "7.00 released from holds" in body
    assert "Closing" in body


def test_statement_query_count_does_not_grow_with_entries(shopper, cocoa, django_assert_num_queries):
    payer = _ledger_with_history(shopper.user, cocoa)
    for n in range(10):
        services.transfer(payer=payer, payee=cocoa, amount=1, key=f"more{n}", actor=shopper.user)
    with django_assert_num_queries(7):
        shopper.client.get(statement_url(payer))


def test_statement_csv_is_a_download_that_reads_back(shopper, cocoa):
    payer = _ledger_with_history(shopper.user, cocoa)
    page = shopper.client.get(statement_url(payer)).content.decode()
    today = timezone.localdate()
    link = f"?from={(today - timedelta(days=29)).isoformat()}&amp;to={today.isoformat()}&amp;format=csv"
    assert link in page
    response = shopper.client.get(statement_url(payer) + link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="credits-{payer.number}-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [row["kind"] for row in rows] == ["opening", "top_up", *["payment"] * 5, "hold", "post", "closing"]
    assert rows[2]["amount"] == "-1.00"
    assert rows[2]["counterparty"] == cocoa.number
    assert rows[-1]["balance_after"] == "82.00"
    assert rows[-1]["balance_after"] == f"{Account.objects.get(pk=payer.pk).balance / 100:.2f}"


def test_statement_for_a_period_opens_with_the_balance_before_it(shopper, cocoa):
    payer = _ledger_with_history(shopper.user, cocoa)
    today = timezone.localdate()
    tomorrow = (today + timedelta(days=1)).isoformat()
    body = shopper.client.get(statement_url(payer, **{"from": tomorrow, "to": tomorrow})).content.decode()
    assert "Nothing moved on this account in this period." in body
    assert body.count("82.00") >= 2  # opening and closing


def test_a_bad_period_is_an_error_on_the_form(shopper):
    account = funded(shopper.user)
    today = timezone.localdate()
    response = shopper.client.get(
        statement_url(account, **{"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()})
    )
    assert response.status_code == 400
    assert "The end of the period comes after its start." in response.content.decode()
    response = shopper.client.get(statement_url(account, **{"from": "2020-01-01", "to": today.isoformat()}))
    assert "at most 366 days" in response.content.decode()
    response = shopper.client.get(statement_url(account, **{"from": "yesterday", "format": "csv"}))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# Amounts as people type them ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "hundredths"),
    [("10.50", 1050), ("10,5", 1050), ("12", 1200), ("0.01", 1), (" 1 000.00 ", 100_000), ("7.", 700), ("+3", 300)],
)
def test_amounts_are_read_as_people_type_them(typed, hundredths):
    assert CreditsField().clean(typed) == hundredths


def test_on_a_live_network_members_are_told_how_to_pay_and_cannot_record_a_top_up(shopper, settings):
    settings.CREDITS_TOP_UP_SELF_SERVICE = False
    settings.CREDITS_TOP_UP_INSTRUCTIONS = "Pay by bank transfer to IBAN GH00 TEST quoting your account number."
    account = services.account_open_for_member(user=shopper.user, name="Ama")
    page = shopper.client.get(TOP_UP)
    body = page.content.decode()
    assert "IBAN GH00 TEST" in body
    assert account.formatted_number in body
    assert 'name="reference"' not in body  # no form to type a reference into
    response = shopper.client.post(
        TOP_UP,
        {
            "key": str(uuid.uuid4()),
            "account": account.number,
            "amount": "20.00",
            "provider": "cash",
            "reference": "made-up",
        },
    )
    assert response.status_code == 200
    assert not ExternalPayment.objects.exists()
    assert Account.objects.get(pk=account.pk).balance == 0
