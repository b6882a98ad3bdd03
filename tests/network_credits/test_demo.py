"""The demo ledger: every demo person and supplier has an account with a believable history, and it adds up."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from network_credits import selectors
from network_credits.models import Account, CreditLimitChange, Entry, ExternalPayment, Hold, Transfer
from products.demo import SUPPLIERS
from products.models import Supplier

pytestmark = pytest.mark.django_db


def ledger_state() -> list[tuple]:
    return list(Account.objects.order_by("number").values_list("number", "balance", "pending_debits", "credit_limit"))


def test_demo_opens_accounts_for_every_shopper_supplier_and_the_network(capsys):
    call_command("seed_demo")
    members = Account.objects.filter(kind=Account.Kind.MEMBER)
    assert sorted(members.values_list("user__email", flat=True)) == [
        "ana@shoppers.example",
        "ben@shoppers.example",
        "chioma@shoppers.example",
    ]
    suppliers = set(Supplier.objects.filter(slug__in=[s["slug"] for s in SUPPLIERS]).values_list("pk", flat=True))
    assert set(Account.objects.filter(kind=Account.Kind.SUPPLIER).values_list("supplier_id", flat=True)) == suppliers
    assert set(Account.objects.filter(kind=Account.Kind.SYSTEM).values_list("system", flat=True)) == set(
        Account.System.values
    )
    # Limits were set by the operator, each with a reason; a new member starts without credit.
    assert CreditLimitChange.objects.filter(changed_by__email="operator@socialbiz.example").count() == 6
    assert Account.objects.get(user__email="ana@shoppers.example").credit_limit == 10_000
    assert Account.objects.get(user__email="chioma@shoppers.example").credit_limit == 0
    assert "my credits" in capsys.readouterr().out


def test_demo_history_adds_up_and_reads_as_a_statement():
    call_command("seed_demo")
    assert Account.objects.aggregate(total=Sum("balance"))["total"] == 0
    for account in Account.objects.all():
        entries = Entry.objects.filter(account=account)
        assert account.balance == (entries.aggregate(total=Sum("amount"))["total"] or 0), account
        assert account.is_system or account.balance - account.pending_debits >= -account.credit_limit
    issuance = Account.objects.get(system=Account.System.ISSUANCE)
    assert -issuance.balance == ExternalPayment.objects.aggregate(total=Sum("amount_minor"))["total"]
    assert set(Transfer.objects.values_list("kind", flat=True)) >= {"top_up", "payment", "refund", "hold", "post"}
    holds = Hold.objects.filter(transfer__idempotency_key__startswith="demo-")  # not the demo orders' (purchases)
    assert holds.filter(state=Hold.State.PENDING).count() == 1
    assert holds.get(state=Hold.State.POSTED).posted_amount == 600

    ana = Account.objects.get(user__email="ana@shoppers.example")
    today = timezone.localdate()
    statement = selectors.statement(account=ana, start=today - timedelta(days=60), end=today)
    assert len(statement.entries) >= 12
    assert statement.opening_balance == 0
    assert statement.closing_balance == ana.balance
    running = statement.opening_balance
    for entry in statement.entries:
        running += entry.amount
        assert entry.balance_after == running
    # Six weeks of history, oldest first.
    days = [entry.created_at for entry in statement.entries]
    assert days == sorted(days)
    assert days[-1] - days[0] > timedelta(days=30)


def test_demo_credits_are_not_written_twice():
    call_command("seed_demo")
    first = ledger_state(), Transfer.objects.count()
    call_command("seed_demo")
    assert (ledger_state(), Transfer.objects.count()) == first
