"""services.transfer on PostgreSQL (one call of credits_payment, network_credits/postgres.py) does what the Python path
(services._payment, the path on SQLite) does: the same results, refusals, codes, messages and rows, on the same inputs.

Each case is played twice on twin accounts set up alike, once by each path, and what each did is compared with the
account numbers replaced by the accounts' roles. Transactional tests: outside a transaction the fast path is one
statement in autocommit, as in production.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from network_credits import services
from network_credits.models import Account, Entry, Transfer
from tests.accounts.factories import UserFactory
from tests.conftest import database_is_postgres

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not database_is_postgres(), reason="the fast path is PostgreSQL's (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def python_path(**request: Any) -> services.Moved:
    """services.transfer as it is on SQLite: payments through services._payment, here on PostgreSQL."""
    with mock.patch.object(services, "payment_path", return_value=services._payment):
        return services.transfer(**request)


PATHS = {"python": python_path, "fast": services.transfer}


def member(*, credit_limit: int = 0, top_up: int = 0, upper_limit: int | None = None) -> Account:
    account = services.account_open_for_member(user=UserFactory(password=None))
    if credit_limit or upper_limit is not None:
        services.credit_limit_set(account=account, credit_limit=credit_limit, upper_limit=upper_limit, reason="Test")
    if top_up:
        services.top_up(
            account=account,
            amount=top_up,
            provider="card",
            reference=f"ref-{account.number}",
            currency="EUR",
            amount_minor=top_up,
            key=f"top-up-{account.number}",
            system="tests",
        )
    return account


def fresh(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


class World:
    """One of the twins: its accounts by role, and what the payments played in it did."""

    def __init__(self, accounts: dict[str, Account], tag: str) -> None:
        self.accounts, self.tag = accounts, tag  # the tag keeps the twins' idempotency keys apart
        self.roles = {a.pk: role for role, a in accounts.items()}
        self.roles.update({a.formatted_number: role for role, a in accounts.items()})
        self.hashes: dict[str, int] = {}  # request hashes by order of appearance (they hash the account numbers)

    def words(self, text: str) -> str:
        for name, role in self.roles.items():
            if isinstance(name, str):
                text = text.replace(name, f"<{role}>")
        return text

    def play(self, pay: Callable[..., services.Moved], payer: str, payee: str, **request: Any) -> tuple:
        before = set(Transfer.objects.values_list("pk", flat=True))
        payer_account, payee_account = self.accounts[payer], self.accounts[payee]
        if isinstance(request.get("key"), str) and request["key"]:
            request = {**request, "key": f"{self.tag}:{request['key']}"}
        try:
            moved = pay(payer=payer_account, payee=payee_account, **request)
        except services.LedgerRefusal as refusal:
            result: tuple = ("refused", refusal.code, self.words(str(refusal.messages)))
        else:
            stored = Transfer.objects.get(pk=moved.transfer.pk)
            fields = [f.attname for f in Transfer._meta.concrete_fields]
            # The instance returned is the stored row, field for field.
            assert [getattr(moved.transfer, f) for f in fields] == [getattr(stored, f) for f in fields]
            assert not moved.transfer._state.adding
            result = ("moved", moved.replayed, self.transfer(stored))
            if not moved.replayed:  # the caller's instances follow the database
                for account in (payer_account, payee_account):
                    assert self.position(account) == self.position(fresh(account))
        written = [self.transfer(t) for t in Transfer.objects.exclude(pk__in=before).order_by("created_at")]
        return result, written, {role: self.position(fresh(a)) for role, a in self.accounts.items()}

    def transfer(self, transfer: Transfer) -> tuple:
        entries = [
            (self.roles[e.account_id], e.side, e.amount, e.pending, e.balance_after, e.pending_debits_after)
            for e in Entry.objects.filter(transfer=transfer).order_by("side")
        ]
        return (
            transfer.kind,
            self.roles[transfer.debit_account_id],
            self.roles[transfer.credit_account_id],
            transfer.amount,
            transfer.memo,
            transfer.initiator,
            transfer.idempotency_key.removeprefix(f"{self.tag}:"),
            self.hashes.setdefault(transfer.request_hash, len(self.hashes)),
            transfer.created_by_id,
            entries,
        )

    @staticmethod
    def position(account: Account) -> tuple:
        return (account.balance, account.pending_debits, account.pending_credits, account.status)


def twins(setup: Callable[[], dict[str, Account]]) -> dict[str, World]:
    return {name: World(setup(), name) for name in PATHS}


def play_both(setup: Callable[[], dict[str, Account]], steps: list[tuple[str, str, dict[str, Any]]]) -> list[tuple]:
    """Play `steps` (payer role, payee role, request) in a world of each path; assert both did the same."""
    worlds = twins(setup)
    outcomes = {
        name: [world.play(PATHS[name], *step[:2], **step[2]) for step in steps] for name, world in worlds.items()
    }
    assert outcomes["fast"] == outcomes["python"]
    return outcomes["fast"]


def two_members(**payer: Any) -> Callable[[], dict[str, Account]]:
    return lambda: {"payer": member(**payer), "payee": member()}


def pay(amount: Any, key: Any = "k1", **more: Any) -> dict[str, Any]:
    return {"amount": amount, "key": key, "system": "tests", **more}


def test_a_payment_writes_the_same_rows():
    [(result, written, positions)] = play_both(two_members(credit_limit=10_000), [("payer", "payee", pay(2_500))])
    assert result[:2] == ("moved", False)
    assert written == [result[2]]
    assert positions == {"payer": (-2_500, 0, 0, "active"), "payee": (2_500, 0, 0, "active")}


@pytest.mark.parametrize(
    ("payer", "amount", "code"),
    [
        ({"credit_limit": 10_000}, 10_000, None),  # spending exactly to the limit
        ({"credit_limit": 10_000}, 10_001, "insufficient_credit"),
        ({"top_up": 5_000}, 5_000, None),
        ({"top_up": 5_000, "credit_limit": 1_000}, 6_001, "insufficient_credit"),
        ({}, 1, "insufficient_credit"),
        ({"credit_limit": 10_000}, 0, "amount_invalid"),
        ({"credit_limit": 10_000}, 10.5, "amount_invalid"),
        ({"credit_limit": 10_000}, True, "amount_invalid"),
    ],
)
def test_limits_are_kept_alike(payer, amount, code):
    [(result, written, _)] = play_both(two_members(**payer), [("payer", "payee", pay(amount))])
    if code is None:
        assert result[0] == "moved"
        assert len(written) == 1
    else:
        assert result[:2] == ("refused", code)
        assert written == []


def frozen_or_closed(side: str, status: str) -> Callable[[], dict[str, Account]]:
    def setup() -> dict[str, Account]:
        accounts = {"payer": member(credit_limit=5_000), "payee": member(credit_limit=5_000)}
        change = services.account_freeze if status == "frozen" else services.account_close
        change(account=accounts[side], reason="Test")
        return accounts

    return setup


@pytest.mark.parametrize(
    ("side", "status"), [("payer", "frozen"), ("payee", "frozen"), ("payer", "closed"), ("payee", "closed")]
)
def test_frozen_and_closed_accounts_are_refused_alike(side, status):
    [(result, written, _)] = play_both(frozen_or_closed(side, status), [("payer", "payee", pay(100))])
    assert result[:2] == ("refused", f"account_{status}")
    assert written == []


def test_upper_limits_are_kept_alike():
    setup = lambda: {"payer": member(credit_limit=50_000), "payee": member(upper_limit=3_000)}  # noqa: E731
    steps = [("payer", "payee", pay(3_000)), ("payer", "payee", pay(1, key="k2"))]
    outcomes = play_both(setup, steps)
    assert [o[0][0] for o in outcomes] == ["moved", "refused"]
    assert outcomes[1][0][1] == "over_upper_limit"


def test_a_lowered_limit_traps_no_one_alike():
    def setup() -> dict[str, Account]:
        accounts = {"payer": member(credit_limit=10_000), "other": member(credit_limit=10_000)}
        key = f"before-{accounts['payer'].number}"
        services.transfer(payer=accounts["payer"], payee=accounts["other"], amount=8_000, key=key, system="t")
        services.credit_limit_set(account=accounts["payer"], credit_limit=2_000, reason="Lowered")
        return accounts

    steps = [
        ("payer", "other", pay(1)),  # over the new limit: cannot spend
        ("other", "payer", pay(500, key="k2")),  # may earn (it improves the balance though still over)
    ]
    outcomes = play_both(setup, steps)
    assert [o[0][:2] for o in outcomes] == [("refused", "insufficient_credit"), ("moved", False)]


def test_payments_from_or_to_a_system_account_are_refused_before_either_path():
    account = member(credit_limit=1_000)
    fees = services.system_account(Account.System.FEES)
    for payer, payee in ((fees, account), (account, fees)):
        with pytest.raises(services.LedgerRefusal) as refused:
            services.transfer(payer=payer, payee=payee, amount=100, key=f"system-{payer.pk}", system="tests")
        assert refused.value.code == "system_account"
    assert not Transfer.objects.filter(idempotency_key__startswith="system-").exists()


def test_paying_oneself_is_refused_alike():
    for pay_with in PATHS.values():
        account = member(credit_limit=1_000)
        with pytest.raises(services.LedgerRefusal) as refused:
            pay_with(payer=account, payee=account, amount=100, key="self", system="tests")
        assert refused.value.code == "same_account"
    assert not Transfer.objects.filter(idempotency_key="self").exists()


def test_repeats_and_reused_keys_alike():
    steps = [
        ("payer", "payee", pay(1_000)),
        ("payer", "payee", pay(1_000)),  # the same request again: the first result
        ("payer", "payee", pay(1_001)),  # the same key for another request
        ("payer", "payee", pay(1_000, memo="other")),  # the memo is part of the request
        ("payee", "payer", pay(1_000)),  # so are the accounts
    ]
    outcomes = play_both(two_members(credit_limit=10_000), steps)
    assert [o[0][:2] for o in outcomes] == [
        ("moved", False),
        ("moved", True),
        ("refused", "idempotency_key_reused"),
        ("refused", "idempotency_key_reused"),
        ("refused", "idempotency_key_reused"),
    ]
    assert outcomes[1][0][2] == outcomes[0][0][2]
    assert [len(o[1]) for o in outcomes] == [1, 0, 0, 0, 0]


def test_a_refusal_does_not_use_up_its_key_alike():
    def setup() -> dict[str, Account]:
        return {"payer": member(), "payee": member(credit_limit=5_000), "bank": member(credit_limit=5_000)}

    steps = [
        ("payer", "payee", pay(2_000)),  # refused: nothing to spend
        ("bank", "payer", pay(3_000, key="k2")),
        ("payer", "payee", pay(2_000)),  # the same key, now that it can pay
    ]
    outcomes = play_both(setup, steps)
    assert [o[0][:2] for o in outcomes] == [("refused", "insufficient_credit"), ("moved", False), ("moved", False)]


def test_people_and_memos_are_recorded_alike():
    user = UserFactory(password=None)
    long_memo = "for the harvest " * 20  # cut at 200 characters
    request = pay(300, memo=long_memo, system="", actor=user)
    [(result, _, _)] = play_both(two_members(credit_limit=5_000), [("payer", "payee", request)])
    assert result[2][4] == long_memo[:200]
    assert result[2][5] == f"user:{user.pk}"
    assert result[2][8] == user.pk


def test_a_key_is_required_alike():
    for pay_with in PATHS.values():
        accounts = two_members(credit_limit=5_000)()
        for key in ("", "k" * 256, None):
            with pytest.raises(services.LedgerRefusal) as refused:
                pay_with(payer=accounts["payer"], payee=accounts["payee"], amount=1, key=key, system="tests")
            assert refused.value.code == "key_invalid"


def test_the_ledger_clock_stamps_the_entries():
    from datetime import UTC, datetime

    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    accounts = two_members(credit_limit=5_000)()
    with services.clock(lambda: at):
        moved = services.transfer(payer=accounts["payer"], payee=accounts["payee"], amount=10, key="c", system="t")
    assert moved.transfer.created_at == at
    assert set(Entry.objects.filter(transfer=moved.transfer).values_list("created_at", flat=True)) == {at}


def test_a_payment_is_one_round_trip():
    accounts = two_members(credit_limit=5_000)()
    with CaptureQueriesContext(connection) as queries:
        services.transfer(payer=accounts["payer"], payee=accounts["payee"], amount=10, key="one", system="tests")
    assert len(queries) == 1


def test_inside_a_transaction_a_refusal_undoes_only_the_payment():
    accounts = two_members(credit_limit=5_000)()
    with transaction.atomic():
        services.transfer(payer=accounts["payer"], payee=accounts["payee"], amount=4_000, key="a", system="tests")
        with pytest.raises(services.LedgerRefusal):
            services.transfer(payer=accounts["payer"], payee=accounts["payee"], amount=4_000, key="b", system="t")
        # The transaction goes on.
        services.transfer(payer=accounts["payee"], payee=accounts["payer"], amount=500, key="c", system="tests")
    assert fresh(accounts["payer"]).balance == -3_500
    assert Transfer.objects.filter(kind="payment").count() == 2
    with transaction.atomic():
        services.transfer(payer=accounts["payer"], payee=accounts["payee"], amount=100, key="d", system="tests")
        transaction.set_rollback(True)
    assert not Transfer.objects.filter(idempotency_key="d").exists()


def test_twins_sent_at_the_same_moment_pay_once():
    accounts = two_members(credit_limit=5_000)()
    barrier = threading.Barrier(6)
    results: list[Any] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(
                services.transfer(payer=accounts["payer"], payee=accounts["payee"], amount=700, key="twin", system="t")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert len({moved.transfer.pk for moved in results}) == 1
    assert sorted(moved.replayed for moved in results) == [False] + [True] * 5
    assert fresh(accounts["payer"]).balance == -700
