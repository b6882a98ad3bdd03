"""Many clients at once on PostgreSQL: hot accounts, rings that would deadlock a careless ledger, parallel
overspending, and the same idempotency key sent by two clients at the same moment. Afterwards every invariant holds,
and the ledger says exactly what the clients were told."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from network_credits import services
from network_credits.models import Account, Entry, Hold, Transfer
from tests.conftest import database_is_postgres
from tests.network_credits.factories import fresh, member_account, supplier_account
from tests.network_credits.test_services import SIM

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not database_is_postgres(), reason="concurrent clients need PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def run_clients(count: int, client: Callable[[int], None]) -> None:
    """Run `client(n)` in `count` threads, each with its own connection (closed when it is done)."""
    failures: list[BaseException] = []

    def run(n: int) -> None:
        try:
            client(n)
        except BaseException as error:  # noqa: BLE001 — reported below, on the test's thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert not failures, failures


class Outcomes:
    """What each client was told, per idempotency key: a transfer's id, or a refusal's code."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_key: dict[str, list[tuple[str, Any, bool]]] = defaultdict(list)

    def send(self, key: str, request: Callable[[], services.Moved]) -> None:
        try:
            moved = request()
        except services.LedgerRefusal as refusal:
            outcome = ("refused", refusal.code, False)
        else:
            outcome = ("done", moved.transfer.pk, moved.replayed)
        with self.lock:
            self.by_key[key].append(outcome)

    def transfers_done(self) -> set:
        return {pk for outcomes in self.by_key.values() for kind, pk, _ in outcomes if kind == "done"}


def assert_ledger_consistent() -> None:
    """Every invariant, read from what is stored."""
    totals = Account.objects.aggregate(b=Sum("balance"), pd=Sum("pending_debits"), pc=Sum("pending_credits"))
    assert totals["b"] == 0
    assert totals["pd"] == totals["pc"]
    for account in Account.objects.all():
        if not account.is_system:
            assert account.balance - account.pending_debits >= -account.credit_limit, account
        balance = pending_debits = pending_credits = 0
        for entry in Entry.objects.filter(account=account).order_by("id"):
            balance += entry.amount
            if entry.side == Entry.Side.DEBIT:
                pending_debits -= entry.pending
            else:
                pending_credits += entry.pending
            assert (entry.balance_after, entry.pending_debits_after) == (balance, pending_debits), entry
        assert (account.balance, account.pending_debits, account.pending_credits) == (
            balance,
            pending_debits,
            pending_credits,
        ), account
    for transfer in Transfer.objects.prefetch_related("entries"):
        entries = list(transfer.entries.all())
        assert len(entries) == 2
        assert sum(e.amount for e in entries) == 0
        assert sum(e.pending for e in entries) == 0
        assert {(e.side, e.account_id) for e in entries} == {
            ("debit", transfer.debit_account_id),
            ("credit", transfer.credit_account_id),
        }


def assert_each_key_applied_once(outcomes: Outcomes) -> None:
    for key, told in outcomes.by_key.items():
        done = {pk for kind, pk, _ in told if kind == "done"}
        stored = list(Transfer.objects.filter(idempotency_key=key).values_list("pk", flat=True))
        assert len(done) <= 1, (key, told)
        assert set(stored) == done, (key, told, stored)
        assert sum(not replayed for kind, _, replayed in told if kind == "done") == len(done), (key, told)


def test_hammering_hot_accounts_and_rings_loses_no_credit():
    hot = [member_account(credit_limit=3_000) for _ in range(3)] + [
        supplier_account(credit_limit=3_000) for _ in range(2)
    ]
    outcomes = Outcomes()
    rounds = 25

    def hammer(n: int) -> None:
        rng = random.Random(n)
        for i in range(rounds):
            twin = i % 4 == 0  # sent by this client and its neighbour, identically
            pair = n // 2
            chooser = random.Random(f"{pair}-{i}") if twin else rng
            payer, payee = chooser.sample(hot, 2)
            amount = chooser.randint(1, 1_500)
            key = f"twin-{pair}-{i}" if twin else f"c{n}-{i}"
            outcomes.send(
                key,
                lambda payer=payer, payee=payee, amount=amount, key=key: services.transfer(
                    payer=payer, payee=payee, amount=amount, key=key, system=SIM
                ),
            )

    run_clients(6, hammer)

    ring = hot[:3]
    barrier = threading.Barrier(6)

    def ring_client(n: int) -> None:
        # Three clients pay around the ring A→B→C→A, three around it the other way, all at the same moment.
        step = n % 3
        payer, payee = (ring[step], ring[(step + 1) % 3]) if n < 3 else (ring[(step + 1) % 3], ring[step])
        for i in range(10):
            barrier.wait(timeout=60)
            key = f"ring-{n}-{i}"
            outcomes.send(
                key, lambda key=key: services.transfer(payer=payer, payee=payee, amount=100, key=key, system=SIM)
            )

    run_clients(6, ring_client)

    assert_ledger_consistent()
    assert_each_key_applied_once(outcomes)
    # What the clients were told adds up to what is stored.
    expected: Counter = Counter()
    for transfer in Transfer.objects.filter(pk__in=outcomes.transfers_done()):
        expected[transfer.debit_account_id] -= transfer.amount
        expected[transfer.credit_account_id] += transfer.amount
    assert Transfer.objects.count() == len(outcomes.transfers_done())
    for account in hot:
        assert fresh(account).balance == expected[account.pk]
    told = Counter(kind if kind == "done" else pk for told in outcomes.by_key.values() for kind, pk, _ in told)
    assert told["done"] > 0, told
    assert set(told) <= {"done", "insufficient_credit"}, told


def test_parallel_payments_and_holds_never_overspend_an_account():
    payer, payee = member_account(credit_limit=1_000), supplier_account(credit_limit=0)
    barrier = threading.Barrier(8)
    outcomes = Outcomes()

    def spend(n: int) -> None:
        barrier.wait(timeout=60)
        key = f"spend-{n}"
        if n % 2:
            outcomes.send(key, lambda: services.transfer(payer=payer, payee=payee, amount=300, key=key, system=SIM))
        else:
            outcomes.send(
                key,
                lambda: services.Moved(
                    services.hold(payer=payer, payee=payee, amount=300, key=key, system=SIM).transfer
                ),
            )

    run_clients(8, spend)
    told = Counter(kind if kind == "done" else pk for told in outcomes.by_key.values() for kind, pk, _ in told)
    assert told == {"done": 3, "insufficient_credit": 5}
    stored = fresh(payer)
    assert stored.balance - stored.pending_debits == -900
    assert stored.available == 100
    assert_ledger_consistent()


def test_the_same_key_sent_at_the_same_moment_does_the_work_once():
    payer, payee = member_account(credit_limit=10_000), supplier_account(credit_limit=0)
    barrier = threading.Barrier(6)
    outcomes = Outcomes()

    def send(n: int) -> None:
        barrier.wait(timeout=60)
        outcomes.send("race", lambda: services.transfer(payer=payer, payee=payee, amount=2_500, key="race", system=SIM))

    run_clients(6, send)
    told = outcomes.by_key["race"]
    assert len({pk for _, pk, _ in told}) == 1
    assert sorted(replayed for _, _, replayed in told) == [False] + [True] * 5
    assert Transfer.objects.count() == 1
    assert (fresh(payer).balance, fresh(payee).balance) == (-2_500, 2_500)
    assert_ledger_consistent()


def test_the_same_hold_resolved_by_two_clients_at_once_resolves_once():
    payer, payee = member_account(credit_limit=10_000), supplier_account(credit_limit=0)
    held = services.hold(payer=payer, payee=payee, amount=2_000, key="held", system=SIM)
    barrier = threading.Barrier(6)
    outcomes = Outcomes()

    def resolve(n: int) -> None:
        barrier.wait(timeout=60)
        key = f"resolve-{n}"
        if n % 2:
            outcomes.send(key, lambda: services.hold_post(hold=held, amount=1_500, key=key, system=SIM))
        else:
            outcomes.send(key, lambda: services.hold_void(hold=held, key=key, system=SIM))

    run_clients(6, resolve)
    told = [outcome for outcomes_ in outcomes.by_key.values() for outcome in outcomes_]
    assert sum(kind == "done" for kind, _, _ in told) == 1
    assert sorted(pk for kind, pk, _ in told if kind == "refused") == ["hold_not_pending"] * 5
    stored = Hold.objects.get(pk=held.pk)
    assert stored.state in (Hold.State.POSTED, Hold.State.VOIDED)
    assert fresh(payer).pending_debits == 0
    assert fresh(payer).balance == (-1_500 if stored.state == Hold.State.POSTED else 0)
    assert_ledger_consistent()


def test_refunds_sent_at_once_never_exceed_the_original():
    payer, payee = member_account(credit_limit=10_000), supplier_account(credit_limit=10_000)
    original = services.transfer(payer=payer, payee=payee, amount=1_000, key="buy", system=SIM).transfer
    barrier = threading.Barrier(6)
    outcomes = Outcomes()

    def give_back(n: int) -> None:
        barrier.wait(timeout=60)
        key = f"refund-{n}"
        outcomes.send(key, lambda: services.refund(original=original, amount=300, key=key, system=SIM))

    run_clients(6, give_back)
    told = Counter(kind if kind == "done" else pk for told in outcomes.by_key.values() for kind, pk, _ in told)
    assert told == {"done": 3, "refund_exceeds_original": 3}
    assert sum(Transfer.objects.filter(original=original).values_list("amount", flat=True)) == 900
    assert fresh(payer).balance == -100
    assert_ledger_consistent()
