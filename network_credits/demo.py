"""The demo ledger: accounts for the demo people and suppliers, believable limits, and a few weeks of history.

The ledger imports no other app, so the caller (socialbiz's seed_demo) passes the people and suppliers in; they are
named here by the demo's e-mail addresses and slugs. Everything goes through the services, with fixed idempotency
keys and payment references, so running it again adds nothing. The history is stamped over the past six weeks with
the ledger's clock (services.clock), in the order it happened.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from network_credits import services
from network_credits.models import Account, CreditLimitChange, Transfer


class Writer(Protocol):
    def write(self, msg: str, /) -> object: ...


# (who, credit limit in hundredths, why) — set by the operator when the accounts were opened.
LIMITS: tuple[tuple[str, int, str], ...] = (
    ("ana@shoppers.example", 10_000, "Member for a year; her local group vouches for her."),
    ("ben@shoppers.example", 5_000, "Regular at the Kumasi market stall; steady repayments."),
    ("chioma@shoppers.example", 0, "New member: credit once she has traded for three months."),
    ("kakao-kollektiv", 200_000, "Established maker with 140 partner farms; limit sized to a month of cocoa buying."),
    ("fio-lento", 150_000, "Seasonal cotton purchases; reviewed every harvest."),
    ("mwangaza-home", 100_000, "Small workshop; limit raised after a year without a dispute."),
)

# (days ago, what) — the history, oldest first. Amounts are hundredths of a credit.
HISTORY: tuple[tuple[float, dict[str, Any]], ...] = (
    (41, {"do": "top_up", "who": "ana@shoppers.example", "amount": 6_000, "provider": "card", "ref": "pi_demo_ana_1"}),
    (
        40,
        {
            "do": "top_up",
            "who": "ben@shoppers.example",
            "amount": 3_000,
            "provider": "bank_transfer",
            "ref": "SEPA-DEMO-BEN-0001",
        },
    ),
    (
        38,
        {
            "do": "pay",
            "from": "kakao-kollektiv",
            "to": "mwangaza-home",
            "amount": 12_000,
            "memo": "Hand soap for the workshop washrooms, 60 bars",
        },
    ),
    (
        35,
        {
            "do": "pay",
            "from": "ana@shoppers.example",
            "to": "kakao-kollektiv",
            "amount": 840,
            "memo": "Dark chocolate 70 %, 2 bars",
        },
    ),
    (
        33,
        {
            "do": "pay",
            "from": "ben@shoppers.example",
            "to": "kakao-kollektiv",
            "amount": 420,
            "memo": "Dark chocolate 70 %, 1 bar",
        },
    ),
    (
        30,
        {
            "do": "pay",
            "from": "ana@shoppers.example",
            "to": "mwangaza-home",
            "amount": 320,
            "memo": "Kitchen and laundry bar soap",
        },
    ),
    (
        28,
        {
            "do": "top_up",
            "who": "ana@shoppers.example",
            "amount": 4_000,
            "provider": "bank_transfer",
            "ref": "SEPA-DEMO-ANA-0002",
        },
    ),
    (
        25,
        {
            "do": "pay",
            "from": "fio-lento",
            "to": "kakao-kollektiv",
            "amount": 4_000,
            "memo": "Chocolate for the spinners' end-of-season party",
        },
    ),
    (
        21,
        {
            "do": "pay",
            "from": "ana@shoppers.example",
            "to": "fio-lento",
            "amount": 4_500,
            "memo": "Organic cotton work shirt, size M",
            "name": "shirt",
        },
    ),
    (
        19,
        {
            "do": "refund",
            "of": "shirt",
            "by": "fio-lento",
            "amount": 500,
            "memo": "Exchanged for size S, which costs less",
        },
    ),
    (
        16,
        {
            "do": "top_up",
            "who": "chioma@shoppers.example",
            "amount": 1_500,
            "provider": "cash",
            "ref": "DESK-KUMASI-0417",
        },
    ),
    (
        14,
        {
            "do": "pay",
            "from": "ana@shoppers.example",
            "to": "kakao-kollektiv",
            "amount": 420,
            "memo": "Roasted cocoa nibs, 100 g",
        },
    ),
    (
        12,
        {
            "do": "hold",
            "from": "ben@shoppers.example",
            "to": "mwangaza-home",
            "amount": 900,
            "memo": "Order: 3 hand soaps",
            "name": "ben-order",
        },
    ),
    (
        10,
        {
            "do": "pay",
            "from": "ana@shoppers.example",
            "to": "ben@shoppers.example",
            "amount": 1_000,
            "memo": "My share of the market stall",
        },
    ),
    (9, {"do": "post", "hold": "ben-order", "amount": 600, "memo": "Delivered: 2 of 3 (one was out of stock)"}),
    (
        6,
        {
            "do": "pay",
            "from": "chioma@shoppers.example",
            "to": "ana@shoppers.example",
            "amount": 250,
            "memo": "Bus fare, thank you!",
        },
    ),
    (
        3,
        {
            "do": "hold",
            "from": "ana@shoppers.example",
            "to": "mwangaza-home",
            "amount": 1_260,
            "memo": "Order: enamel mug and hand soap, pick-up on Saturday",
            "name": "ana-order",
            "expires_in_days": 11,
        },
    ),
    (
        2,
        {"do": "top_up", "who": "ana@shoppers.example", "amount": 2_000, "provider": "cash", "ref": "DESK-KUMASI-0502"},
    ),
    (
        1,
        {
            "do": "pay",
            "from": "ana@shoppers.example",
            "to": "fio-lento",
            "amount": 1_650,
            "memo": "Undyed cotton tea towels, set of 3",
        },
    ),
)


@dataclass
class CreditsDemoSummary:
    accounts: int = 0
    transfers: int = 0

    def __str__(self) -> str:
        if not (self.accounts or self.transfers):
            return "nothing to do: the demo ledger is already there"
        return f"created {self.accounts} accounts, {self.transfers} transfers"


@transaction.atomic
def seed(
    *, members: Mapping[str, Any], suppliers: Mapping[str, tuple[int, str]], operator: Any, stdout: Writer | None = None
) -> CreditsDemoSummary:
    """Open the demo accounts and write their history; idempotent. `members`: e-mail → user; `suppliers`: slug →
    (supplier id, name)."""
    say = stdout or io.StringIO()
    summary = CreditsDemoSummary()
    before = Account.objects.count()
    accounts: dict[str, Account] = {}
    for email, user in members.items():
        accounts[email] = services.account_open_for_member(user=user, name=getattr(user, "display_name", "") or email)
    for slug, (supplier_id, name) in suppliers.items():
        accounts[slug] = services.account_open_for_supplier(supplier_id=supplier_id, name=name)
    for system in Account.System.values:
        services.system_account(system)
    summary.accounts = Account.objects.count() - before

    start = timezone.now() - timedelta(days=42)
    for who, limit, reason in LIMITS:
        account = accounts.get(who)
        if account is not None and not CreditLimitChange.objects.filter(account=account).exists():
            with services.clock(lambda: start):
                services.credit_limit_set(account=account, credit_limit=limit, reason=reason, actor=operator)

    named: dict[str, Any] = {}
    transfers_before = Transfer.objects.count()
    for number, (days_ago, step) in enumerate(HISTORY):
        at = timezone.now() - timedelta(days=days_ago, hours=number % 5)
        with services.clock(lambda at=at: at):  # type: ignore[misc]
            _step(step, number, accounts, members, named)
    summary.transfers = Transfer.objects.count() - transfers_before
    say.write(f"credits: {summary}\n")
    return summary


def _step(
    step: dict[str, Any],
    number: int,
    accounts: Mapping[str, Account],
    members: Mapping[str, Any],
    named: dict[str, Any],
) -> None:
    key = f"demo-{number:02d}"
    do = step["do"]
    if do == "top_up":
        who = step["who"]
        if who not in accounts:
            return
        services.top_up(
            account=accounts[who],
            amount=step["amount"],
            provider=step["provider"],
            reference=step["ref"],
            currency="EUR",
            amount_minor=step["amount"],
            key=key,
            actor=members.get(who),
            system="demo",
        )
        return
    if do in ("pay", "hold"):
        payer, payee = accounts.get(step["from"]), accounts.get(step["to"])
        if payer is None or payee is None:
            return
        actor = members.get(step["from"])
        if do == "pay":
            moved = services.transfer(
                payer=payer, payee=payee, amount=step["amount"], key=key, actor=actor, memo=step["memo"], system="demo"
            )
            named[step.get("name", key)] = moved.transfer
        else:
            expires = services.ledger_now() + timedelta(days=step.get("expires_in_days", 14))
            named[step["name"]] = services.hold(
                payer=payer,
                payee=payee,
                amount=step["amount"],
                key=key,
                expires_at=expires,
                actor=actor,
                memo=step["memo"],
                system="demo",
            )
        return
    if do == "post" and step["hold"] in named:
        services.hold_post(hold=named[step["hold"]], amount=step["amount"], key=key, memo=step["memo"], system="demo")
        return
    if do == "refund" and step["of"] in named:
        services.refund(original=named[step["of"]], amount=step["amount"], key=key, memo=step["memo"], system="demo")
