"""Reads of the ledger that pages and the API share: whose accounts, statements, transfers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.access import Access
from core.spreadsheet import safe_cell
from network_credits.models import Account, Entry, Hold, Transfer, credits_text  # noqa: F401 — shared


def accounts_of(*, user: Any, access: Access) -> QuerySet[Account]:
    """The accounts a person holds: their own member account and those of the suppliers they work for."""
    if not getattr(user, "is_authenticated", False):
        return Account.objects.none()
    return Account.objects.filter(
        Q(kind=Account.Kind.MEMBER, user=user) | Q(kind=Account.Kind.SUPPLIER, supplier_id__in=access.readable)
    ).order_by("kind", "name", "pk")


def can_read(account: Account, *, user: Any, access: Access) -> bool:
    """Operators read every account; others only their own and their suppliers'."""
    if access.operator:
        return True
    if account.kind == Account.Kind.MEMBER:
        return bool(getattr(user, "is_authenticated", False)) and account.user_id == user.pk
    return account.kind == Account.Kind.SUPPLIER and account.supplier_id in access.readable


def can_pay_from(account: Account, *, user: Any, access: Access) -> bool:
    """Who may spend from an account: the member themself, a supplier's owners (not operators: they adjust)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if account.kind == Account.Kind.MEMBER:
        return account.user_id == user.pk
    return account.kind == Account.Kind.SUPPLIER and account.supplier_id in access.owned


def supplier_account_numbers(supplier_ids: Iterable[int]) -> dict[int, str]:
    """Supplier id → its public account number, in one query."""
    rows = Account.objects.filter(kind=Account.Kind.SUPPLIER, supplier_id__in=list(supplier_ids))
    return {supplier_id: number for supplier_id, number in rows.values_list("supplier_id", "number") if supplier_id}


def transfers_of(account: Account) -> QuerySet[Transfer]:
    """An account's transfers, newest first, with both accounts loaded."""
    return (
        Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
        .select_related("debit_account", "credit_account")
        .order_by("-created_at", "pk")
    )


def open_holds_of(account: Account) -> QuerySet[Hold]:
    return Hold.objects.filter(debit_account=account, state=Hold.State.PENDING).select_related("credit_account")


# Statements ---------------------------------------------------------------------------------------------------------


def counterparty(entry: Entry) -> Account:
    """The other account of an entry's transfer."""
    transfer = entry.transfer
    return transfer.credit_account if entry.side == Entry.Side.DEBIT else transfer.debit_account


def describe(entry: Entry) -> str:
    """What an entry was, for people: "Payment to 4821 0937 56 Own Cocoa Co: memo"."""
    transfer = entry.transfer
    other = counterparty(entry)
    outgoing = entry.side == Entry.Side.DEBIT
    words = {
        Transfer.Kind.PAYMENT: "Payment to" if outgoing else "Payment from",
        Transfer.Kind.HOLD: "Held for" if outgoing else "Held by",
        Transfer.Kind.POST: "Paid (from a hold) to" if outgoing else "Paid (from a hold) by",
        Transfer.Kind.VOID: "Hold released, for" if outgoing else "Hold released, by",
        Transfer.Kind.REFUND: "Refund to" if outgoing else "Refund from",
        Transfer.Kind.REVERSAL: "Reversal to" if outgoing else "Reversal from",
        Transfer.Kind.TOP_UP: "Credits sold to" if outgoing else "Top-up from",
        Transfer.Kind.ADJUSTMENT: "Adjustment to" if outgoing else "Adjustment from",
    }[Transfer.Kind(transfer.kind)]
    if transfer.kind == Transfer.Kind.TOP_UP and not outgoing:
        return f"Top-up: {transfer.memo}"  # the network's issuance account is no one to name
    text = f"{words} {other}"
    return f"{text}: {transfer.memo}" if transfer.memo else text


@dataclass(frozen=True)
class Statement:
    account: Account
    start: date
    end: date  # inclusive
    opening_balance: int
    closing_balance: int
    entries: list[Entry]

    @property
    def total_in(self) -> int:
        return sum(entry.amount for entry in self.entries if entry.amount > 0)

    @property
    def total_out(self) -> int:
        return -sum(entry.amount for entry in self.entries if entry.amount < 0)


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day`, in the site's time zone: where statements and daily caps begin a day."""
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_current_timezone())


def statement(*, account: Account, start: date, end: date) -> Statement:
    """The account's entries from `start` to `end` (both days included) with the balance after each."""
    if end < start:
        raise ValidationError({"to": "The end of the period comes after its start."}, code="period_invalid")
    since, until = start_of_day(start), start_of_day(end + timedelta(days=1))
    before = Entry.objects.filter(account=account, created_at__lt=since).order_by("-id").only("balance_after").first()
    entries = list(
        Entry.objects.filter(account=account, created_at__gte=since, created_at__lt=until)
        .select_related("transfer", "transfer__debit_account", "transfer__credit_account")
        .order_by("id")  # the order they were applied in: each was written holding its account's lock
    )
    opening = before.balance_after if before else 0
    closing = entries[-1].balance_after if entries else opening
    return Statement(
        account=account, start=start, end=end, opening_balance=opening, closing_balance=closing, entries=entries
    )


STATEMENT_CSV_HEADER = [
    "date",
    "transfer",
    "kind",
    "description",
    "counterparty",
    "amount",
    "held_change",
    "balance_after",
    "held_after",
]


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: one row per entry, amounts in credits with two decimals (a dot), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(STATEMENT_CSV_HEADER)
    writer.writerow(
        [
            "",
            "",
            "opening",
            f"Opening balance on {statement.start.isoformat()}",
            "",
            "",
            "",
            _decimal_cell(statement.opening_balance),
            "",
        ]
    )
    for entry in statement.entries:
        writer.writerow(
            [
                entry.created_at.isoformat(),
                str(entry.transfer_id),
                entry.transfer.kind,
                safe_cell(describe(entry)),
                counterparty(entry).number,
                _decimal_cell(entry.amount),
                _decimal_cell(-entry.pending if entry.side == Entry.Side.DEBIT else entry.pending),
                _decimal_cell(entry.balance_after),
                _decimal_cell(entry.pending_debits_after),
            ]
        )
    writer.writerow(
        [
            "",
            "",
            "closing",
            f"Closing balance on {statement.end.isoformat()}",
            "",
            "",
            "",
            _decimal_cell(statement.closing_balance),
            "",
        ]
    )
    return buffer.getvalue()


def _decimal_cell(hundredths: int) -> str:
    return credits_text(hundredths, grouped=False)
