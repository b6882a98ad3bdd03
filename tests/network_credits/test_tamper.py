"""Trying to break the ledger as a malicious or clumsy client would: SQL typed by hand, the ORM used around the
services, parallel overspending. Each attempt fails loudly and leaves the ledger as it was.

SQLite keeps part of these rules (updates of entries and transfers, entries on the wrong account, accounts opening
at 0, holds resolved twice); PostgreSQL keeps all of them (migration 0002).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from network_credits import services
from network_credits.models import Account, Entry, Hold, Transfer
from tests.conftest import database_is_postgres
from tests.network_credits.factories import fresh, member_account, supplier_account
from tests.network_credits.test_services import SIM, ledger_state, pay

pytestmark = pytest.mark.django_db
postgres_only = [
    pytest.mark.postgres,
    pytest.mark.skipif(not database_is_postgres(), reason="the database enforces this rule on PostgreSQL only"),
]


def postgres(test):
    for mark in postgres_only:
        test = mark(test)
    return test


class refused_by_the_database:
    """The block fails with a database error (checked at once, and at commit for the deferred checks), and
    everything the ledger holds is as before."""

    def __enter__(self):
        self.before = ledger_state()
        self.raises = pytest.raises(DatabaseError)
        self.raises.__enter__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        return self

    def __exit__(self, kind, error, trace):
        if kind is None and connection.vendor == "postgresql":
            try:
                connection.check_constraints()  # what COMMIT would check now
            except DatabaseError as deferred:
                kind, error, trace = type(deferred), deferred, deferred.__traceback__
        self.atomic.__exit__(kind, error, trace)
        handled = self.raises.__exit__(kind, error, trace)
        assert ledger_state() == self.before
        return handled


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@pytest.fixture
def paid():
    """A payment of 1,000 from a member to a supplier."""
    payer, payee = member_account(credit_limit=10_000), supplier_account(credit_limit=10_000)
    return pay(payer, payee, 1_000, "paid").transfer


# Entries and transfers never change -----------------------------------------------------------------------------------


def test_an_entry_cannot_be_updated(paid):
    entry = paid.entries.get(side=Entry.Side.CREDIT)
    with refused_by_the_database():
        sql("UPDATE network_credits_entry SET amount = amount + 100000 WHERE id = %s", [entry.pk])
    assert Entry.objects.get(pk=entry.pk).amount == 1_000


def test_an_entry_balance_after_cannot_be_rewritten(paid):
    entry = paid.entries.get(side=Entry.Side.DEBIT)
    with refused_by_the_database():
        Entry.objects.filter(pk=entry.pk).update(balance_after=0)


def test_a_transfer_cannot_be_updated(paid):
    with refused_by_the_database():
        Transfer.objects.filter(pk=paid.pk).update(amount=1)
    with refused_by_the_database():
        Transfer.objects.filter(pk=paid.pk).update(
            credit_account=paid.debit_account_id, debit_account=paid.credit_account_id
        )


@postgres
def test_an_entry_cannot_be_deleted(paid):
    with refused_by_the_database():
        sql("DELETE FROM network_credits_entry WHERE transfer_id = %s", [paid.pk])


@postgres
def test_a_transfer_cannot_be_deleted(paid):
    with refused_by_the_database():
        Transfer.objects.filter(pk=paid.pk)._raw_delete(connection.alias)


# Balances change only by entries ------------------------------------------------------------------------------------


@postgres
def test_an_account_balance_cannot_be_set_directly(paid):
    with refused_by_the_database():
        sql("UPDATE network_credits_account SET balance = balance + 5000 WHERE id = %s", [paid.credit_account_id])
    with refused_by_the_database():
        Account.objects.filter(pk=paid.debit_account_id).update(pending_debits=0, balance=0)


def test_an_account_cannot_open_with_credits(db):
    with refused_by_the_database():
        Account.objects.create(kind=Account.Kind.SUPPLIER, supplier_id=777, name="Rich", balance=1_000_000)
    with refused_by_the_database():
        Account.objects.create(kind=Account.Kind.SUPPLIER, supplier_id=778, name="Held", pending_credits=10)


def test_a_hand_written_entry_cannot_take_an_account_below_its_floor(paid):
    """Lowering a limit is allowed (it traps no one); but a balance is not moved under a floor by hand."""
    payer = fresh(paid.debit_account)
    Account.objects.filter(pk=payer.pk).update(credit_limit=0)  # allowed: nothing moves
    with refused_by_the_database():
        Entry.objects.create(
            transfer=Transfer.objects.create(
                kind=Transfer.Kind.PAYMENT,
                debit_account=payer,
                credit_account=paid.credit_account,
                amount=1,
                initiator="mallory",
                idempotency_key="below",
                request_hash="x",
            ),
            account=payer,
            side=Entry.Side.DEBIT,
            amount=-1,
            balance_after=payer.balance - 1,
            pending_debits_after=0,
        )


# Transfers balance ----------------------------------------------------------------------------------------------------


def forged(payer: Account, payee: Account, amount: int, *, key: str, kind: str = Transfer.Kind.PAYMENT, **fields):
    return Transfer.objects.create(
        kind=kind,
        debit_account=payer,
        credit_account=payee,
        amount=amount,
        initiator="mallory",
        idempotency_key=key,
        request_hash="forged",
        **fields,
    )


def entry(transfer: Transfer, account: Account, side: str, amount: int, pending: int = 0) -> Entry:
    stored = fresh(account)
    return Entry.objects.create(
        transfer=transfer,
        account=account,
        side=side,
        amount=amount,
        pending=pending,
        balance_after=stored.balance + amount,
        pending_debits_after=stored.pending_debits - (pending if side == Entry.Side.DEBIT else 0),
    )


@postgres
def test_a_transfer_whose_entries_do_not_balance_fails_at_commit(paid):
    payer, payee = paid.debit_account, paid.credit_account
    with refused_by_the_database():
        forgery = forged(payer, payee, 100, key="unbalanced")
        entry(forgery, payer, Entry.Side.DEBIT, -90)
        entry(forgery, payee, Entry.Side.CREDIT, 100)


@postgres
def test_a_transfer_with_one_entry_or_none_fails_at_commit(paid):
    payer, payee = paid.debit_account, paid.credit_account
    with refused_by_the_database():
        entry(forged(payer, payee, 100, key="one-sided"), payee, Entry.Side.CREDIT, 100)
    with refused_by_the_database():
        forged(payer, payee, 100, key="no-entries")


@postgres
def test_balanced_entries_must_move_the_transfer_s_amount(paid):
    payer, payee = paid.debit_account, paid.credit_account
    with refused_by_the_database():
        forgery = forged(payer, payee, 100, key="says-100-moves-5000")
        entry(forgery, payer, Entry.Side.DEBIT, -5_000)
        entry(forgery, payee, Entry.Side.CREDIT, 5_000)


def test_an_entry_on_a_third_account_fails(paid):
    third = member_account(credit_limit=10_000)
    with refused_by_the_database():
        forgery = forged(paid.debit_account, paid.credit_account, 100, key="third")
        entry(forgery, paid.debit_account, Entry.Side.DEBIT, -100)
        entry(forgery, third, Entry.Side.CREDIT, 100)


def test_an_entry_added_to_a_settled_transfer_fails(paid):
    third = member_account(credit_limit=10_000)
    with refused_by_the_database():
        entry(paid, third, Entry.Side.CREDIT, 100)


# Holds resolve once, and only by their own resolution ---------------------------------------------------------------


@pytest.fixture
def held():
    payer, payee = member_account(credit_limit=10_000), supplier_account(credit_limit=0)
    return services.hold(payer=payer, payee=payee, amount=2_000, key="held", system=SIM)


def test_a_hold_resolved_twice_by_direct_update_fails(held):
    services.hold_post(hold=held, amount=500, key="post", system=SIM)
    with refused_by_the_database():
        Hold.objects.filter(pk=held.pk).update(state=Hold.State.VOIDED, posted_amount=None)
    with refused_by_the_database():
        sql(
            "UPDATE network_credits_hold SET state = 'pending', posted_amount = NULL, resolved_at = NULL WHERE id = %s",
            [held.pk],
        )


@postgres
def test_a_hold_cannot_be_marked_resolved_without_its_resolution(held):
    with refused_by_the_database():
        Hold.objects.filter(pk=held.pk).update(state=Hold.State.VOIDED, resolved_at=timezone.now())


@postgres
def test_a_hold_cannot_be_deleted(held):
    with refused_by_the_database():
        Hold.objects.filter(pk=held.pk)._raw_delete(connection.alias)


def test_a_second_resolution_of_a_hold_fails(held):
    services.hold_void(hold=held, key="void", system=SIM)
    payer, payee = held.debit_account, held.credit_account
    with refused_by_the_database():
        forged(payer, payee, 2_000, key="post-after-void", kind=Transfer.Kind.POST, hold=held)


@postgres
def test_a_post_between_other_accounts_than_its_hold_s_fails(held):
    """A post names a hold: it must move credits between that hold's payer and payee, not anyone else's."""
    other_payer, other_payee = member_account(credit_limit=10_000), supplier_account(credit_limit=0)
    services.hold(payer=other_payer, payee=other_payee, amount=2_000, key="other", system=SIM)
    with refused_by_the_database():
        forgery = forged(other_payer, other_payee, 2_000, key="wrong-accounts", kind=Transfer.Kind.POST, hold=held)
        entry(forgery, other_payer, Entry.Side.DEBIT, -2_000, pending=2_000)
        entry(forgery, other_payee, Entry.Side.CREDIT, 2_000, pending=-2_000)
        Hold.objects.filter(pk=held.pk).update(state=Hold.State.POSTED, posted_amount=2_000, resolved_at=timezone.now())


@postgres
def test_a_hold_row_for_a_transfer_that_reserved_nothing_fails(paid):
    """A hold is created with its own hold transfer; one made up over a payment would release credits never held."""
    with refused_by_the_database():
        Hold.objects.create(
            transfer=paid,
            debit_account=paid.debit_account,
            credit_account=paid.credit_account,
            amount=1_000,
            expires_at=timezone.now() + timedelta(days=1),
        )


@postgres
def test_a_hold_marked_posted_by_its_void_fails(held):
    payer, payee = held.debit_account, held.credit_account
    with refused_by_the_database():
        forgery = forged(payer, payee, 2_000, key="void-as-post", kind=Transfer.Kind.VOID, hold=held)
        entry(forgery, payer, Entry.Side.DEBIT, 0, pending=2_000)
        entry(forgery, payee, Entry.Side.CREDIT, 0, pending=-2_000)
        Hold.objects.filter(pk=held.pk).update(state=Hold.State.POSTED, posted_amount=2_000, resolved_at=timezone.now())


# Refunds never exceed their original ----------------------------------------------------------------------------------


@postgres
def test_a_refund_exceeding_the_original_by_raw_insert_fails(paid):
    services.refund(original=paid, amount=600, key="first-refund", system=SIM)
    payer, payee = paid.credit_account, paid.debit_account
    with refused_by_the_database():
        forgery = forged(payer, payee, 401, key="too-much-back", kind=Transfer.Kind.REFUND, original=paid)
        entry(forgery, payer, Entry.Side.DEBIT, -401)
        entry(forgery, payee, Entry.Side.CREDIT, 401)


@postgres
def test_a_refund_in_the_wrong_direction_by_raw_insert_fails(paid):
    with refused_by_the_database():
        forgery = forged(
            paid.debit_account, paid.credit_account, 100, key="backwards", kind=Transfer.Kind.REFUND, original=paid
        )
        entry(forgery, paid.debit_account, Entry.Side.DEBIT, -100)
        entry(forgery, paid.credit_account, Entry.Side.CREDIT, 100)


# Frozen accounts ------------------------------------------------------------------------------------------------------


def test_a_frozen_account_receives_nothing_even_by_hand(paid):
    payee = paid.credit_account
    services.account_freeze(account=payee, reason="Suspended")
    with refused_by_the_database():
        forgery = forged(paid.debit_account, payee, 100, key="to-frozen")
        entry(forgery, paid.debit_account, Entry.Side.DEBIT, -100)
        entry(forgery, payee, Entry.Side.CREDIT, 100)


# Overspending in parallel ---------------------------------------------------------------------------------------------


@postgres
@pytest.mark.django_db(transaction=True)
def test_overspending_with_parallel_requests_leaves_the_floor_intact():
    payer, payee = member_account(credit_limit=1_000), supplier_account(credit_limit=0)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def spend(n: int) -> None:
        try:
            barrier.wait()
            pay(payer, payee, 300, f"spend-{n}")
            outcomes.append("paid")
        except services.LedgerRefusal as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["insufficient_credit"] * 5 + ["paid"] * 3
    assert fresh(payer).balance == -900
    assert fresh(payee).balance == 900
    assert Transfer.objects.count() == 3
