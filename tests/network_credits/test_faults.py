"""Faults in the middle of a transfer: the database connection killed while the transfer's transaction is open, the
reply lost after the commit, an error raised half-way. Retried with the same key, exactly one transfer results."""

from __future__ import annotations

import contextlib
import threading
import time
from unittest import mock

import pytest
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from network_credits import services
from network_credits.models import Account, Entry, Hold, Transfer
from tests.conftest import database_is_postgres
from tests.network_credits.factories import fresh, member_account, supplier_account
from tests.network_credits.test_services import SIM, ledger_state

needs_postgres = pytest.mark.skipif(
    not database_is_postgres(), reason="killing a backend needs PostgreSQL (DATABASE_URL)"
)


def pay(payer: Account, payee: Account, key: str = "the-request") -> services.Moved:
    return services.transfer(payer=payer, payee=payee, amount=1_234, key=key, memo="Order 17", system=SIM)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_waiting_on_a_lock(pid: int) -> None:
    for _ in range(500):
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type, state FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited on a lock")


@pytest.mark.parametrize("blocked_on", ["payer", "payee"])
@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_connection_killed_mid_transfer_then_retried_gives_exactly_one_transfer(blocked_on):
    payer, payee = member_account(credit_limit=10_000), supplier_account(credit_limit=0)
    locked_row = payer if blocked_on == "payer" else payee
    holding, release = threading.Event(), threading.Event()
    victim_pid: list[int] = []
    victim_error: list[BaseException] = []
    started = threading.Event()

    def blocker() -> None:
        # Another session holds the account's row lock, so the transfer waits at a known point: its transfer row
        # (and its idempotency key) is written, its transaction open, the account locks not all taken.
        try:
            with transaction.atomic():
                list(Account.objects.select_for_update(no_key=True).filter(pk=locked_row.pk))
                holding.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    def victim() -> None:
        try:
            victim_pid.append(backend_pid())
            started.set()
            pay(payer, payee)
        except BaseException as error:  # noqa: BLE001 — looked at on the test's thread
            victim_error.append(error)
        finally:
            with contextlib.suppress(DatabaseError):
                connection.close()

    lock_thread = threading.Thread(target=blocker)
    lock_thread.start()
    assert holding.wait(timeout=30)
    transfer_thread = threading.Thread(target=victim)
    transfer_thread.start()
    assert started.wait(timeout=30)
    wait_until_waiting_on_a_lock(victim_pid[0])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [victim_pid[0]])
    transfer_thread.join(timeout=30)
    release.set()
    lock_thread.join(timeout=30)

    assert len(victim_error) == 1, victim_error
    assert isinstance(victim_error[0], OperationalError | InterfaceError), victim_error
    assert Transfer.objects.count() == 0  # the killed transaction left nothing behind, not even its key
    assert (fresh(payer).balance, fresh(payee).balance) == (0, 0)

    retried = pay(payer, payee)  # the client retries with the same key, on a fresh connection
    assert not retried.replayed
    again = pay(payer, payee)
    assert again.replayed
    assert again.transfer.pk == retried.transfer.pk
    assert Transfer.objects.count() == 1
    assert Entry.objects.count() == 2
    assert (fresh(payer).balance, fresh(payee).balance) == (-1_234, 1_234)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_reply_lost_after_commit_then_retried_is_replayed():
    payer, payee = member_account(credit_limit=10_000), supplier_account(credit_limit=0)
    first = pay(payer, payee)
    # The connection dies before the client learns the answer (here: it kills itself).
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    with contextlib.suppress(DatabaseError):
        connection.close()
    retried = pay(payer, payee)
    assert retried.replayed
    assert retried.transfer.pk == first.transfer.pk
    assert Transfer.objects.count() == 1
    assert (fresh(payer).balance, fresh(payee).balance) == (-1_234, 1_234)


@pytest.mark.django_db
def test_an_error_half_way_through_a_movement_writes_nothing_and_the_retry_does_it_once():
    # A hold goes through the same steps as every movement on both databases (a payment on PostgreSQL is one SQL
    # statement, with no half-way to fail at from Python: the tests above kill its backend instead).
    payer, payee = member_account(credit_limit=10_000), supplier_account(credit_limit=0)
    before = ledger_state()
    real_bulk_create = Entry.objects.bulk_create

    def entries_then_crash(*args, **kwargs):
        real_bulk_create(*args, **kwargs)  # the entries are written, the balances moved ...
        raise RuntimeError("the worker died")  # ... and then the process fails before the commit

    def hold() -> Hold:
        return services.hold(payer=payer, payee=payee, amount=1_234, key="order-1", system="tests")

    with mock.patch.object(Entry.objects, "bulk_create", side_effect=entries_then_crash), pytest.raises(RuntimeError):
        hold()
    assert ledger_state() == before

    held = hold()
    assert hold().pk == held.pk  # the same request again: the same hold
    assert Transfer.objects.count() == 1
    assert (fresh(payer).pending_debits, fresh(payee).pending_credits) == (1_234, 1_234)
