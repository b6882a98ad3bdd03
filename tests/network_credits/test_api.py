"""Network credits through the integrator API: own accounts only, one payment per key, refusals leave no trace."""

import csv
import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditEntry
from network_credits import services
from network_credits.models import MAX_AMOUNT, Account, CreditLimitChange, Entry, Transfer, luhn_digit
from products.models import SupplierMember
from tests.conftest import database_is_postgres
from tests.products.factories import SupplierFactory, SupplierMemberFactory

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/credits/accounts/"
TRANSFERS = "/api/v1/credits/transfers/"
ADJUSTMENTS = "/api/v1/credits/adjustments/"


def api(persona) -> APIClient:
    """An API client authenticated the way integrators are: with the persona's token."""
    client = APIClient()
    if persona.user is not None:
        token, _ = Token.objects.get_or_create(user=persona.user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(persona, path, body, key: str | None = "key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api(persona).post(path, body, format="json", **headers)


def unused_number() -> str:
    body = "999999999"
    return body + luhn_digit(body)


def trace() -> tuple:
    """What a rejected request must leave unchanged: transfers, entries, and every account's position."""
    return (
        Transfer.objects.count(),
        Entry.objects.count(),
        sorted(Account.objects.values_list("number", "balance", "pending_debits", "status", "credit_limit")),
    )


@pytest.fixture
def ledger(owner, other_member, shopper, operator):
    """Accounts for own_supplier, other_supplier and the shopper (who bought 100.00 credits ten days ago)."""
    own = services.account_open_for_supplier(supplier_id=owner.supplier.pk, name=owner.supplier.legal_name)
    other = services.account_open_for_supplier(
        supplier_id=other_member.supplier.pk, name=other_member.supplier.legal_name
    )
    member = services.account_open_for_member(user=shopper.user, name="Sam Shopper")
    with services.clock(lambda: timezone.now() - timedelta(days=10)):
        services.top_up(
            account=member,
            amount=10_000,
            provider="card",
            reference="ch_1",
            currency="EUR",
            amount_minor=10_000,
            key="top-up-1",
            system="test",
        )
    return {"own": own, "other": other, "member": member}


def refreshed(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


# Accounts -----------------------------------------------------------------------------------------------------------


def test_accounts_list_shows_the_callers_own_accounts_with_what_they_can_spend(
    ledger, shopper, owner, django_assert_num_queries
):
    services.hold(payer=ledger["member"], payee=ledger["own"], amount=1_500, key="hold-1", system="test")
    client = api(shopper)
    with django_assert_num_queries(3):  # the token with its user, the person's supplier access, the page
        response = client.get(ACCOUNTS)
    assert response.status_code == 200
    [account] = response.json()["results"]
    assert account == {
        "number": ledger["member"].number,
        "kind": "member",
        "name": "Sam Shopper",
        "balance": 10_000,
        "available": 10_000 - 1_500 + 0,
        "pending_debits": 1_500,
        "credit_limit": 0,
        "upper_limit": None,
        "status": "active",
    }
    owned = api(owner).get(ACCOUNTS).json()["results"]
    assert [(a["number"], a["kind"], a["available"]) for a in owned] == [(ledger["own"].number, "supplier", 50_000)]


def test_accounts_list_costs_the_same_queries_however_many_accounts(ledger, owner, django_assert_num_queries):
    services.account_open_for_member(user=owner.user)
    for _ in range(4):
        supplier = SupplierFactory()
        services.account_open_for_supplier(supplier_id=supplier.pk, name=supplier.legal_name)
        SupplierMemberFactory(supplier=supplier, user=owner.user, role=SupplierMember.Role.VIEWER)
    client = api(owner)
    with django_assert_num_queries(3):
        response = client.get(ACCOUNTS)
    assert len(response.json()["results"]) == 6


def test_strangers_must_authenticate(ledger, stranger):
    client = api(stranger)
    number = ledger["own"].number
    for path in (ACCOUNTS, f"{ACCOUNTS}{number}/", f"{ACCOUNTS}{number}/statement/"):
        assert client.get(path).status_code == 401
    response = post(stranger, TRANSFERS, {"to": number, "amount": 100})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("persona", "account", "status"),
    [
        ("owner", "own", 200),
        ("operator", "own", 200),
        ("operator", "member", 200),
        ("shopper", "member", 200),
        ("other_member", "own", 404),
        ("shopper", "own", 404),
        ("owner", "member", 404),
    ],
)
def test_an_account_is_read_by_its_holders_and_operators_and_hidden_from_others(
    ledger, persona, account, status, request
):
    number = ledger[account].number
    client = api(request.getfixturevalue(persona))
    for path in (f"{ACCOUNTS}{number}/", f"{ACCOUNTS}{number}/statement/", f"{ACCOUNTS}{number}/statement/?format=csv"):
        response = client.get(path)
        assert response.status_code == status, path
        if status == 404:
            assert response.json()["code"] == "not_found"  # as for a number no account has


def test_unknown_and_malformed_account_numbers_are_not_found(ledger, operator):
    client = api(operator)
    assert client.get(f"{ACCOUNTS}{unused_number()}/").status_code == 404
    assert client.get(f"{ACCOUNTS}12345/").status_code == 404


# Statements ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def history(ledger, shopper, owner):
    """The shopper's account: 100.00 bought ten days ago, then three payments to own_supplier and a refund of part
    of the first, on three days (so that a period can leave some out)."""
    now = timezone.now()
    steps = [
        (now - timedelta(days=5), lambda: pay(shopper, ledger["own"], 2_500, "s1", "Cocoa")),
        (now - timedelta(days=3), lambda: pay(shopper, ledger["own"], 1_000, "s2", "=HYPERLINK(evil)")),
        (now - timedelta(days=3), lambda: pay(shopper, ledger["own"], 250, "s3", "")),
        (now - timedelta(days=1), lambda: refund_first(owner)),
    ]
    for moment, step in steps:
        with services.clock(lambda moment=moment: moment):
            step()
    return ledger


def pay(persona, payee: Account, amount: int, key: str, memo: str) -> None:
    payer = services.account_open_for_member(user=persona.user)
    services.transfer(payer=payer, payee=payee, amount=amount, memo=memo, key=key, actor=persona.user)


def refund_first(owner) -> None:
    first = Transfer.objects.get(idempotency_key="s1")
    services.refund(original=first, amount=500, key="r1", actor=owner.user)


def test_statement_lists_entries_with_running_balances(history, shopper, django_assert_num_queries):
    number = history["member"].number
    client = api(shopper)
    today = timezone.localdate()
    with django_assert_num_queries(5):  # token, access, the account, the balance before, the entries with transfers
        response = client.get(f"{ACCOUNTS}{number}/statement/")
    assert response.status_code == 200
    body = response.json()
    assert body["account"] == number
    assert (body["from"], body["to"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    assert body["opening_balance"] == 0
    amounts = [entry["amount"] for entry in body["entries"]]
    assert amounts == [10_000, -2_500, -1_000, -250, 500]
    running = 0
    for entry in body["entries"]:
        running += entry["amount"]
        assert entry["balance_after"] == running
    assert body["closing_balance"] == running == refreshed(history["member"]).balance == 6_750
    assert (body["total_in"], body["total_out"]) == (10_500, 3_750)
    assert body["entries"][1]["counterparty"] == history["own"].number
    assert body["entries"][1]["description"].startswith("Payment to ")
    assert body["entries"][4]["kind"] == "refund"


def test_statement_for_a_period_opens_with_the_balance_before_it(history, shopper):
    number = history["member"].number
    day = timezone.localdate() - timedelta(days=3)
    body = api(shopper).get(f"{ACCOUNTS}{number}/statement/", {"from": day.isoformat(), "to": day.isoformat()}).json()
    assert body["opening_balance"] == 10_000 - 2_500
    assert [entry["amount"] for entry in body["entries"]] == [-1_000, -250]
    assert body["closing_balance"] == 10_000 - 2_500 - 1_250


def test_statement_downloads_as_csv_that_adds_up(history, shopper, django_assert_num_queries):
    number = history["member"].number
    client = api(shopper)
    with django_assert_num_queries(5):
        response = client.get(f"{ACCOUNTS}{number}/statement/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith(f'attachment; filename="statement-{number}-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    opening, *entries, closing = rows
    assert (opening["kind"], closing["kind"]) == ("opening", "closing")
    balance = Decimal(opening["balance_after"])
    for row in entries:
        balance += Decimal(row["amount"])
        assert Decimal(row["balance_after"]) == balance
    assert Decimal(closing["balance_after"]) == balance == Decimal("67.50")
    assert [row["kind"] for row in entries] == ["top_up", "payment", "payment", "payment", "refund"]
    assert entries[2]["description"].endswith(": =HYPERLINK(evil)")  # inside the text: no formula
    # Accept: text/csv asks for the same file.
    by_accept = client.get(f"{ACCOUNTS}{number}/statement/", HTTP_ACCEPT="text/csv")
    assert by_accept.content == response.content


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"from": "yesterday"},
        {"to": "01/02/2026"},
        {"from": "2026-03-10", "to": "2026-03-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"from": "0001-01-01"},
        {"to": "9999-12-31"},
        {"from": "2026-03-01", "format": "csv", "to": "2026-02-01"},
    ],
)
def test_statement_with_bad_dates_is_a_400_in_json(history, shopper, query):
    response = api(shopper).get(f"{ACCOUNTS}{history['member'].number}/statement/", query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()["errors"]) <= {"from", "to"}


# Transfers ----------------------------------------------------------------------------------------------------------


def test_a_shopper_pays_a_supplier_by_its_account_number(ledger, shopper):
    before = trace()
    response = post(shopper, TRANSFERS, {"to": ledger["own"].formatted_number, "amount": 1_050, "memo": "Cocoa"})
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("kind", "from", "to", "amount", "memo", "original")} == {
        "kind": "payment",
        "from": ledger["member"].number,
        "to": ledger["own"].number,
        "amount": 1_050,
        "memo": "Cocoa",
        "original": None,
    }
    assert "Idempotent-Replayed" not in response
    assert Transfer.objects.count() == before[0] + 1
    assert (refreshed(ledger["member"]).balance, refreshed(ledger["own"]).balance) == (8_950, 1_050)


def test_a_supplier_owner_pays_from_the_suppliers_account_and_must_say_which_when_holding_two(ledger, owner):
    assert post(owner, TRANSFERS, {"to": ledger["other"].number, "amount": 100}).status_code == 201
    assert refreshed(ledger["own"]).balance == -100  # within its credit limit
    services.account_open_for_member(user=owner.user)
    before = trace()
    response = post(owner, TRANSFERS, {"to": ledger["other"].number, "amount": 100}, key="key-2")
    assert response.status_code == 400
    assert "several" in response.json()["errors"]["from"][0]
    assert trace() == before
    # Naming the account the first request was paid from, with its key, is the same request again.
    explicit = post(owner, TRANSFERS, {"from": ledger["own"].number, "to": ledger["other"].number, "amount": 100})
    assert (explicit.status_code, explicit["Idempotent-Replayed"]) == (201, "true")
    assert refreshed(ledger["own"]).balance == -100


def test_someone_with_no_account_cannot_pay(ledger, operator):
    before = trace()
    response = post(operator, TRANSFERS, {"to": ledger["own"].number, "amount": 100})
    assert response.status_code == 400
    assert "no account" in response.json()["errors"]["from"][0]
    assert trace() == before


@pytest.mark.parametrize(
    ("persona", "payer"),
    [("other_member", "own"), ("shopper", "own"), ("owner", "member"), ("operator", "member")],
)
def test_paying_from_someone_elses_account_is_forbidden_and_leaves_no_trace(ledger, persona, payer, request):
    before = trace()
    body = {"from": ledger[payer].number, "to": ledger["other"].number, "amount": 100}
    if payer == "member":
        body["to"] = ledger["own"].number
    response = post(request.getfixturevalue(persona), TRANSFERS, body)
    assert response.status_code == 403
    assert trace() == before


def test_a_viewer_of_a_supplier_may_read_its_account_but_not_pay_from_it(ledger, owner, other_member):
    SupplierMemberFactory(supplier=owner.supplier, user=other_member.user, role=SupplierMember.Role.VIEWER)
    assert api(other_member).get(f"{ACCOUNTS}{ledger['own'].number}/").status_code == 200
    before = trace()
    body = {"from": ledger["own"].number, "to": ledger["other"].number, "amount": 100}
    assert post(other_member, TRANSFERS, body).status_code == 403
    assert trace() == before


@pytest.mark.parametrize(
    ("to", "message"),
    [(unused_number(), "No account has this number."), ("1234567890", "check digit"), ("12 34", "10 digits")],
)
def test_paying_an_unknown_or_mistyped_number_is_a_400_on_to(ledger, shopper, to, message):
    before = trace()
    response = post(shopper, TRANSFERS, {"to": to, "amount": 100})
    assert response.status_code == 400
    assert message in response.json()["errors"]["to"][0]
    assert trace() == before


@pytest.mark.parametrize(
    "amount",
    [10.5, "10.50", "1050", 10.0, 0, -5, True, False, None, "abc", [100], {"value": 1}, MAX_AMOUNT + 1, 10**30],
)
def test_a_bad_amount_is_a_400_that_says_what_an_amount_is(ledger, shopper, amount):
    before = trace()
    response = post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": amount})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "amount" in response.json()["errors"]
    assert trace() == before


def test_the_largest_amount_is_accepted_when_the_credit_is_there(ledger, shopper, operator):
    services.credit_limit_set(account=ledger["member"], credit_limit=MAX_AMOUNT, reason="test", actor=operator.user)
    assert post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": MAX_AMOUNT}).status_code == 201


@pytest.mark.parametrize(
    ("arrange", "body", "code"),
    [
        (lambda w, op: None, lambda w: {"to": w["own"].number, "amount": 10_001}, "insufficient_credit"),
        (
            lambda w, op: services.account_freeze(account=w["own"], reason="test", actor=op),
            lambda w: {"to": w["own"].number, "amount": 100},
            "account_frozen",
        ),
        (
            lambda w, op: services.account_freeze(account=w["member"], reason="test", actor=op),
            lambda w: {"to": w["own"].number, "amount": 100},
            "account_frozen",
        ),
        (
            lambda w, op: services.credit_limit_set(
                account=w["own"], credit_limit=0, upper_limit=50, reason="test", actor=op
            ),
            lambda w: {"to": w["own"].number, "amount": 100},
            "over_upper_limit",
        ),
        (lambda w, op: None, lambda w: {"to": w["member"].number, "amount": 100}, "same_account"),
    ],
)
def test_refusals_are_422_with_the_ledgers_code_and_leave_no_trace(ledger, shopper, operator, arrange, body, code):
    arrange(ledger, operator.user)
    before = trace()
    response = post(shopper, TRANSFERS, body(ledger))
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert trace() == before
    assert not Transfer.objects.filter(idempotency_key="key-1").exists()


def test_spending_exactly_what_is_available_is_allowed(ledger, shopper):
    assert post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 10_000}).status_code == 201
    assert refreshed(ledger["member"]).available == 0


# Idempotency --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "code"), [(None, "idempotency_key_required"), ("has space", "idempotency_key_invalid")]
)
def test_moving_credits_needs_a_valid_idempotency_key(ledger, shopper, key, code):
    before = trace()
    response = post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 100}, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert trace() == before


def test_a_repeat_with_the_same_key_returns_the_first_transfer_and_moves_nothing_more(ledger, shopper):
    body = {"to": ledger["own"].number, "amount": 700, "memo": "once"}
    first = post(shopper, TRANSFERS, body, key="retry-after-timeout")
    again = post(shopper, TRANSFERS, body, key="retry-after-timeout")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Transfer.objects.filter(idempotency_key="retry-after-timeout").count() == 1
    assert refreshed(ledger["member"]).balance == 10_000 - 700


def test_the_same_key_with_another_body_is_a_422_and_leaves_no_trace(ledger, shopper):
    post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 700}, key="k")
    before = trace()
    response = post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 701}, key="k")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert trace() == before


def test_keys_are_each_persons_own(ledger, shopper, owner):
    body = {"to": ledger["other"].number, "amount": 100}
    assert post(shopper, TRANSFERS, body, key="shared").status_code == 201
    response = post(owner, TRANSFERS, body, key="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Transfer.objects.filter(idempotency_key="shared").count() == 2


def test_a_refused_request_does_not_use_up_its_key(ledger, shopper):
    assert post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 20_000}, key="k").status_code == 422
    response = post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 2_000}, key="k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


@pytest.mark.postgres
@pytest.mark.skipif(not database_is_postgres(), reason="concurrent requests need PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_identical_requests_at_the_same_moment_make_one_transfer(ledger, shopper):
    body = {"to": ledger["own"].number, "amount": 300, "memo": "race"}
    barrier = threading.Barrier(6)
    responses = []

    def send() -> None:
        client = api(shopper)
        barrier.wait()
        try:
            responses.append(client.post(TRANSFERS, body, format="json", HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 5
    assert Transfer.objects.filter(idempotency_key="race").count() == 1
    assert refreshed(ledger["member"]).balance == 10_000 - 300
    assert sum(Account.objects.values_list("balance", flat=True)) == 0


@pytest.mark.postgres
@pytest.mark.skipif(not database_is_postgres(), reason="concurrent requests need PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_parallel_payments_never_spend_more_than_is_available(ledger, shopper):
    barrier = threading.Barrier(8)
    statuses = []

    def send(n: int) -> None:
        client = api(shopper)
        barrier.wait()
        try:
            body = {"to": ledger["own"].number, "amount": 3_000}
            statuses.append(client.post(TRANSFERS, body, format="json", HTTP_IDEMPOTENCY_KEY=f"p{n}").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201] * 3 + [422] * 5
    assert refreshed(ledger["member"]).balance == 1_000


# Reading transfers and refunds --------------------------------------------------------------------------------------


@pytest.fixture
def payment(ledger, shopper) -> str:
    response = post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 2_000, "memo": "Cocoa"}, key="pay")
    assert response.status_code == 201
    return response.json()["id"]


@pytest.mark.parametrize(
    ("persona", "status"), [("shopper", 200), ("owner", 200), ("operator", 200), ("other_member", 404)]
)
def test_a_transfer_is_read_by_its_payers_and_payees_holders(payment, persona, status, request):
    response = api(request.getfixturevalue(persona)).get(f"{TRANSFERS}{payment}/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["amount"] == 2_000


def test_unknown_transfers_are_not_found(ledger, operator, stranger):
    assert api(operator).get(f"{TRANSFERS}00000000-0000-4000-8000-000000000000/").status_code == 404
    assert api(operator).get(f"{TRANSFERS}not-a-uuid/").status_code == 404


def test_the_payee_refunds_part_of_a_payment_never_more_than_it(payment, ledger, owner):
    response = post(owner, f"{TRANSFERS}{payment}/refund/", {"amount": 500, "memo": "One bar was broken"}, key="r1")
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["original"]) == ("refund", payment)
    assert (response.json()["from"], response.json()["to"]) == (ledger["own"].number, ledger["member"].number)
    replay = post(owner, f"{TRANSFERS}{payment}/refund/", {"amount": 500, "memo": "One bar was broken"}, key="r1")
    assert replay["Idempotent-Replayed"] == "true"
    before = trace()
    too_much = post(owner, f"{TRANSFERS}{payment}/refund/", {"amount": 1_501}, key="r2")
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "refund_exceeds_original"
    assert "1500" in too_much.json()["errors"]["amount"][0]
    assert trace() == before
    rest = post(owner, f"{TRANSFERS}{payment}/refund/", {}, key="r3")
    assert rest.json()["amount"] == 1_500
    assert refreshed(ledger["member"]).balance == 10_000


@pytest.mark.parametrize(("persona", "status"), [("shopper", 403), ("other_member", 404), ("operator", 403)])
def test_only_the_payees_holders_refund(payment, persona, status, request):
    before = trace()
    response = post(request.getfixturevalue(persona), f"{TRANSFERS}{payment}/refund/", {"amount": 100}, key="r")
    assert response.status_code == status
    assert trace() == before


def test_a_member_cannot_refund_their_own_top_up(ledger, shopper):
    top_up = Transfer.objects.get(kind=Transfer.Kind.TOP_UP)
    before = trace()
    response = post(shopper, f"{TRANSFERS}{top_up.pk}/refund/", {}, key="undo-top-up")
    assert (response.status_code, response.json()["code"]) == (422, "not_returnable")
    assert trace() == before


# Operators ----------------------------------------------------------------------------------------------------------


def test_an_operator_sets_limits_with_a_reason_logged_and_audited(ledger, operator):
    url = f"{ACCOUNTS}{ledger['member'].number}/limit/"
    response = api(operator).post(url, {"credit_limit": 5_000, "upper_limit": 100_000, "reason": "Trusted member"})
    assert response.status_code == 200
    assert (response.json()["credit_limit"], response.json()["upper_limit"]) == (5_000, 100_000)
    assert response.json()["available"] == 15_000
    kept = api(operator).post(url, {"credit_limit": 4_000, "reason": "Lower"}).json()
    assert kept["upper_limit"] == 100_000  # left out: kept
    cleared = api(operator).post(url, {"credit_limit": 4_000, "upper_limit": None, "reason": "No cap"}).json()
    assert cleared["upper_limit"] is None
    change = CreditLimitChange.objects.filter(account=ledger["member"]).order_by("id").first()
    assert (change.credit_limit_before, change.credit_limit, change.changed_by, change.reason) == (
        0,
        5_000,
        operator.user,
        "Trusted member",
    )
    assert AuditEntry.objects.filter(action="credits.limit_changed").count() == 3


@pytest.mark.parametrize(
    "body",
    [
        {"credit_limit": 5_000},
        {"credit_limit": 5_000, "reason": "  "},
        {"credit_limit": -1, "reason": "x"},
        {"credit_limit": 10.5, "reason": "x"},
        {"credit_limit": 100, "upper_limit": "lots", "reason": "x"},
    ],
)
def test_a_bad_limit_is_a_400(ledger, operator, body):
    before = trace()
    response = api(operator).post(f"{ACCOUNTS}{ledger['member'].number}/limit/", body, format="json")
    assert response.status_code == 400
    assert trace() == before


def test_an_operator_freezes_and_unfreezes_an_account(ledger, operator, shopper):
    url = f"{ACCOUNTS}{ledger['own'].number}/"
    frozen = api(operator).post(f"{url}freeze/", {"reason": "Under review"})
    assert (frozen.status_code, frozen.json()["status"]) == (200, "frozen")
    assert post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 100}).json()["code"] == "account_frozen"
    active = api(operator).post(f"{url}unfreeze/", {"reason": "Cleared"})
    assert (active.status_code, active.json()["status"]) == (200, "active")
    assert post(shopper, TRANSFERS, {"to": ledger["own"].number, "amount": 100}, key="k2").status_code == 201
    assert list(
        AuditEntry.objects.filter(action__startswith="credits.account_").order_by("id").values_list("reason", flat=True)
    ) == ["Under review", "Cleared"]


def test_an_operator_adjusts_and_reverses_with_reasons(payment, ledger, operator):
    body = {"from": ledger["other"].number, "to": ledger["own"].number, "amount": 300, "reason": "Double charge"}
    adjusted = post(operator, ADJUSTMENTS, body, key="adj-1")
    assert adjusted.status_code == 201
    assert (adjusted.json()["kind"], adjusted.json()["memo"]) == ("adjustment", "Double charge")
    assert post(operator, ADJUSTMENTS, body, key="adj-1")["Idempotent-Replayed"] == "true"
    assert AuditEntry.objects.filter(action="credits.adjusted").count() == 1
    reversed_ = post(operator, f"{TRANSFERS}{payment}/reversal/", {"reason": "Fraud"}, key="rev-1")
    assert reversed_.status_code == 201
    assert (reversed_.json()["kind"], reversed_.json()["amount"]) == ("reversal", 2_000)
    assert refreshed(ledger["member"]).balance == 10_000
    before = trace()
    again = post(operator, f"{TRANSFERS}{payment}/reversal/", {"reason": "Fraud"}, key="rev-2")
    assert (again.status_code, again.json()["code"]) == (422, "refund_exceeds_original")
    assert trace() == before


def test_adjustments_need_a_reason_and_known_accounts(ledger, operator):
    before = trace()
    no_reason = {"from": ledger["other"].number, "to": ledger["own"].number, "amount": 300}
    assert post(operator, ADJUSTMENTS, no_reason).status_code == 400
    unknown = {**no_reason, "to": unused_number(), "reason": "x"}
    assert "to" in post(operator, ADJUSTMENTS, unknown).json()["errors"]
    assert trace() == before


@pytest.mark.parametrize("persona", ["owner", "shopper", "other_member"])
def test_only_operators_set_limits_freeze_adjust_and_reverse(payment, ledger, persona, request):
    who = request.getfixturevalue(persona)
    number = ledger["own"].number
    before = trace()
    limits_before = CreditLimitChange.objects.count()
    writes = [
        (f"{ACCOUNTS}{number}/limit/", {"credit_limit": 10**8, "reason": "me"}),
        (f"{ACCOUNTS}{number}/freeze/", {"reason": "me"}),
        (f"{ACCOUNTS}{number}/unfreeze/", {"reason": "me"}),
        (ADJUSTMENTS, {"from": ledger["other"].number, "to": number, "amount": 100, "reason": "me"}),
        (f"{TRANSFERS}{payment}/reversal/", {"reason": "me"}),
    ]
    for path, body in writes:
        response = post(who, path, body)
        assert response.status_code == 403, path
    assert trace() == before
    assert CreditLimitChange.objects.count() == limits_before


# The supplier resource ----------------------------------------------------------------------------------------------


def test_a_suppliers_account_number_is_public_in_its_resource(ledger, stranger, owner, django_assert_num_queries):
    for _ in range(4):
        supplier = SupplierFactory()
        services.account_open_for_supplier(supplier_id=supplier.pk, name=supplier.legal_name)
    SupplierFactory()  # one without an account
    client = api(stranger)
    with django_assert_num_queries(2):  # the page of suppliers, their account numbers
        response = client.get("/api/v1/suppliers/")
    numbers = {s["slug"]: s["credit_account"] for s in response.json()["results"]}
    assert len(numbers) == 7
    assert numbers[owner.supplier.slug] == ledger["own"].number
    assert sum(number is None for number in numbers.values()) == 1
    detail = client.get(f"/api/v1/suppliers/{owner.supplier.slug}/").json()
    assert detail["credit_account"] == ledger["own"].number
    # Anyone may pay it, by that number.
    assert post_as_shopper_to(detail["credit_account"]).status_code == 201


def post_as_shopper_to(number: str):
    member = Account.objects.get(kind=Account.Kind.MEMBER)
    client = APIClient()
    client.force_authenticate(member.user)
    return client.post(TRANSFERS, {"to": number, "amount": 100}, format="json", HTTP_IDEMPOTENCY_KEY="pay-supplier")


# The schema ---------------------------------------------------------------------------------------------------------


def test_schema_documents_the_credit_endpoints_their_keys_and_refusals():
    import yaml

    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    paths = schema["paths"]
    moving = [
        paths["/api/v1/credits/transfers/"]["post"],
        paths["/api/v1/credits/transfers/{id}/refund/"]["post"],
        paths["/api/v1/credits/transfers/{id}/reversal/"]["post"],
        paths["/api/v1/credits/adjustments/"]["post"],
    ]
    for operation in moving:
        [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["required"] is True
        assert "insufficient_credit" in operation["responses"]["422"]["description"]
        assert set(operation["responses"]) >= {"201", "400", "401", "403", "404", "422"}
    amount = schema["components"]["schemas"]["TransferInRequest"]["properties"]["amount"]
    assert (amount["type"], amount["minimum"], amount["maximum"]) == ("integer", 1, MAX_AMOUNT)
    statement = paths["/api/v1/credits/accounts/{number}/statement/"]["get"]["responses"]["200"]["content"]
    assert set(statement) == {"application/json", "text/csv"}
    assert "credit_account" in schema["components"]["schemas"]["SupplierOut"]["properties"]
