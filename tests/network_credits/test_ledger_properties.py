"""Random sequences of everything the ledger does, against a plain-Python model of it, every invariant after every step.

The machine opens a few member, supplier and system accounts in a savepoint of its own (rolled back after each
example), then runs transfers, holds, posts (in part, or of more than held), voids, expiries, refunds, reversals,
top-ups, adjustments, freezes and limit changes (lowered below the debt, too). The model predicts every refusal, by
its code; after each step the stored ledger must equal the model and keep every invariant of DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from network_credits import services
from network_credits.models import Account, Entry, Hold, Transfer
from network_credits.services import LedgerRefusal
from tests.accounts.factories import UserFactory

SIM = "simulation"
INITIATOR = f"system:{SIM}"
REFUNDABLE = {"payment", "post"}
REVERSIBLE = REFUNDABLE | {"top_up", "adjustment"}
STARTS = {"payment", "hold"}

amounts = st.integers(min_value=1, max_value=4_000)
# An amount, or one at the edge of what the rules allow: ("edge", d) is the most allowed plus d.
edgy = amounts | st.tuples(st.just("edge"), st.integers(min_value=-1, max_value=1))


def resolve(choice: int | tuple, most: int | None) -> int:
    """The amount a choice stands for, given the most the rules would allow (None: no such edge)."""
    if isinstance(choice, tuple):
        return max(1, (most if most is not None else 1_000) + choice[1])
    return choice


picks = st.integers(min_value=0, max_value=10_000)  # an index into what exists, taken modulo its length
# Members 0 and 1, suppliers 2 and 3, then the issuance and fees system accounts (chosen less often).
rarely = st.sampled_from([False, False, False, True])
parties = st.sampled_from([0, 1, 2, 3, 0, 1, 2, 3, 4, 5])


@dataclass
class ModelAccount:
    pk: int
    kind: str
    credit_limit: int
    upper_limit: int | None = None
    status: str = "active"
    balance: int = 0
    pending_debits: int = 0
    pending_credits: int = 0
    # How low (or high) the account may stand because a limit was changed under it; None when within its limits.
    trapped_low: int | None = None
    trapped_high: int | None = None

    @property
    def is_system(self) -> bool:
        return self.kind == "system"

    @property
    def position(self) -> int:
        return self.balance - self.pending_debits


@dataclass
class ModelTransfer:
    pk: Any
    kind: str
    payer: int  # index into the machine's accounts
    payee: int
    amount: int
    returned: int = 0


@dataclass
class ModelHold:
    pk: int
    payer: int
    payee: int
    amount: int
    expires_at: datetime
    state: str = "pending"


@dataclass(frozen=True)
class Effect:
    debit_amount: int
    debit_pending: int
    credit_amount: int
    credit_pending: int


def plain(amount: int) -> Effect:
    return Effect(-amount, 0, amount, 0)


@dataclass
class Request:
    """A request that succeeded, to send again: it must come back as the same transfer, changing nothing."""

    send: Any
    pk: Any
    signature: tuple = field(default=())


class LedgerMachine(RuleBasedStateMachine):
    users: list[Any] = []
    operator: Any = None

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.accounts: list[Account] = []
        self.model: list[ModelAccount] = []
        first, second = self.users
        self._open(services.account_open_for_member(user=first), 3_000)
        self._open(services.account_open_for_member(user=second), 1_000, upper_limit=4_000)
        self._open(services.account_open_for_supplier(supplier_id=800_001, name="S1"), 5_000)
        self._open(services.account_open_for_supplier(supplier_id=800_002, name="S2"), 0)
        self.issuance = len(self.accounts)
        self._open(services.system_account(Account.System.ISSUANCE))
        self._open(services.system_account(Account.System.FEES))
        self.transfers: list[ModelTransfer] = []
        self.holds: list[ModelHold] = []
        self.requests: list[Request] = []
        self.references: list[str] = []
        self.keys = 0

    def _open(self, account: Account, limit: int = 0, upper_limit: int | None = None) -> None:
        if not account.is_system:
            services.credit_limit_set(account=account, credit_limit=limit, upper_limit=upper_limit, reason="Opening")
        self.accounts.append(account)
        self.model.append(ModelAccount(pk=account.pk, kind=account.kind, credit_limit=limit, upper_limit=upper_limit))

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # The model ------------------------------------------------------------------------------------------------------

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def refusal(self, kind: str, payer: int, payee: int, effect: Effect) -> str | None:
        """What the ledger must refuse this movement with, checked in the order the services check it."""
        if payer == payee:
            return "same_account"
        p, q = self.model[payer], self.model[payee]
        if kind in STARTS and p.status != "active":
            return "account_frozen"
        if not p.is_system:
            before = p.position
            after = before + effect.debit_amount + effect.debit_pending
            if after < -p.credit_limit and after < before:
                return "insufficient_credit"
        if (effect.credit_amount > 0 or effect.credit_pending > 0) and q.status != "active":
            return "account_frozen"
        if not q.is_system and q.upper_limit is not None:
            before = q.balance + q.pending_credits
            after = before + effect.credit_amount + effect.credit_pending
            if after > q.upper_limit and after > before:
                return "over_upper_limit"
        return None

    def apply(self, payer: int, payee: int, effect: Effect) -> None:
        p, q = self.model[payer], self.model[payee]
        p.balance += effect.debit_amount
        p.pending_debits -= effect.debit_pending
        q.balance += effect.credit_amount
        q.pending_credits += effect.credit_pending

    def attempt(self, expected: str | None, send: Any) -> Any:
        """Send a request; it must be refused with `expected`, or succeed when the model expects no refusal."""
        if expected is None:
            return send()
        with pytest.raises(LedgerRefusal) as refused:
            send()
        assert refused.value.code == expected, refused.value
        return None

    def record(self, moved: services.Moved, kind: str, payer: int, payee: int, amount: int, send: Any) -> None:
        assert not moved.replayed
        self.transfers.append(ModelTransfer(moved.transfer.pk, kind, payer, payee, amount))
        self.requests.append(Request(send, moved.transfer.pk))

    # Rules ----------------------------------------------------------------------------------------------------------

    def spendable(self, payer: int) -> int | None:
        model = self.model[payer]
        return None if model.is_system else model.position + model.credit_limit

    def receivable(self, payee: int) -> int | None:
        model = self.model[payee]
        if model.is_system or model.upper_limit is None:
            return None
        return model.upper_limit - model.balance - model.pending_credits

    @rule(payer=parties, payee=parties, choice=edgy)
    def transfer(self, payer: int, payee: int, choice: Any) -> None:
        amount = resolve(choice, self.spendable(payer))
        key = self.key()

        def send() -> services.Moved:
            return services.transfer(
                payer=self.accounts[payer], payee=self.accounts[payee], amount=amount, key=key, system=SIM
            )

        if self.model[payer].is_system or self.model[payee].is_system:
            expected: str | None = "system_account"  # payments never touch the network's own accounts
        else:
            expected = self.refusal("payment", payer, payee, plain(amount))
        moved = self.attempt(expected, send)
        if moved is not None:
            self.apply(payer, payee, plain(amount))
            self.record(moved, "payment", payer, payee, amount, send)

    @rule(payer=parties, payee=parties, choice=edgy)
    def adjustment(self, payer: int, payee: int, choice: Any) -> None:
        amount = resolve(choice, self.receivable(payee))
        key = self.key()

        def send() -> services.Moved:
            return services.adjustment(
                payer=self.accounts[payer],
                payee=self.accounts[payee],
                amount=amount,
                reason="Correction",
                key=key,
                actor=self.operator,
            )

        moved = self.attempt(self.refusal("adjustment", payer, payee, plain(amount)), send)
        if moved is not None:
            self.apply(payer, payee, plain(amount))
            self.record(moved, "adjustment", payer, payee, amount, send)

    @rule(payer=parties, payee=parties, choice=edgy, days=st.integers(min_value=1, max_value=4))
    def hold(self, payer: int, payee: int, choice: Any, days: int) -> None:
        amount = resolve(choice, self.spendable(payer))
        key = self.key()
        expires_at = timezone.now() + timedelta(days=days)

        def send() -> Hold:
            return services.hold(
                payer=self.accounts[payer],
                payee=self.accounts[payee],
                amount=amount,
                key=key,
                expires_at=expires_at,
                system=SIM,
            )

        effect = Effect(0, -amount, 0, amount)
        held = self.attempt(self.refusal("hold", payer, payee, effect), send)
        if held is not None:
            self.apply(payer, payee, effect)
            self.transfers.append(ModelTransfer(held.transfer_id, "hold", payer, payee, amount))
            self.holds.append(ModelHold(held.pk, payer, payee, amount, held.expires_at))
            self.requests.append(Request(send, held.pk))

    @rule(pick=picks, choice=st.none() | edgy)
    def hold_post(self, pick: int, choice: Any) -> None:
        if not self.holds:
            return
        model = self.holds[pick % len(self.holds)]
        part = None if choice is None else resolve(choice, model.amount)
        key = self.key()
        posted = model.amount if part is None else part

        def send() -> services.Moved:
            return services.hold_post(hold=Hold.objects.get(pk=model.pk), amount=part, key=key, system=SIM)

        effect = Effect(-posted, model.amount, posted, -model.amount)
        if model.state != "pending":
            expected = "hold_not_pending"
        elif posted > model.amount:
            expected = "hold_amount_exceeded"
        else:
            expected = self.refusal("post", model.payer, model.payee, effect)
        moved = self.attempt(expected, send)
        if moved is not None:
            self.apply(model.payer, model.payee, effect)
            model.state = "posted"
            self.record(moved, "post", model.payer, model.payee, posted, send)

    @rule(pick=picks)
    def hold_void(self, pick: int) -> None:
        if not self.holds:
            return
        model = self.holds[pick % len(self.holds)]
        key = self.key()

        def send() -> services.Moved:
            return services.hold_void(hold=Hold.objects.get(pk=model.pk), key=key, system=SIM)

        effect = Effect(0, model.amount, 0, -model.amount)
        expected = (
            "hold_not_pending" if model.state != "pending" else self.refusal("void", model.payer, model.payee, effect)
        )
        moved = self.attempt(expected, send)
        if moved is not None:
            self.apply(model.payer, model.payee, effect)
            model.state = "voided"
            self.record(moved, "void", model.payer, model.payee, model.amount, send)

    @rule(days=st.integers(min_value=0, max_value=4))
    def holds_expire(self, days: int) -> None:
        now = timezone.now() + timedelta(days=days, hours=12)
        due = [h for h in self.holds if h.state == "pending" and h.expires_at <= now]
        assert services.holds_expire(now=now) == len(due)
        for model in due:
            self.apply(model.payer, model.payee, Effect(0, model.amount, 0, -model.amount))
            model.state = "expired"
            resolution = Transfer.objects.get(hold_id=model.pk)
            self.transfers.append(ModelTransfer(resolution.pk, "void", model.payer, model.payee, model.amount))
        assert services.holds_expire(now=now) == 0  # running it again changes nothing

    def _give_back(self, kind: str, pick: int, choice: Any, any_kind: bool) -> None:
        returnable = REFUNDABLE if kind == "refund" else REVERSIBLE
        choices = [t for t in self.transfers if any_kind or t.kind in returnable]
        if not choices:
            return
        original = choices[pick % len(choices)]
        part = None if choice is None else resolve(choice, original.amount - original.returned)
        key = self.key()
        stored = Transfer.objects.get(pk=original.pk)

        def send() -> services.Moved:
            if kind == "reversal":
                return services.reversal(original=stored, reason="Undone", key=key, actor=self.operator)
            return services.refund(original=stored, amount=part, key=key, system=SIM)

        rest = original.amount - original.returned
        value = rest if part is None else part
        if original.kind not in returnable:
            expected = "not_returnable"
        elif value <= 0 or value > rest:
            expected = "refund_exceeds_original"
        else:
            expected = self.refusal(kind, original.payee, original.payer, plain(value))
        moved = self.attempt(expected, send)
        if moved is not None:
            assert moved.transfer.amount == value
            self.apply(original.payee, original.payer, plain(value))
            original.returned += value
            self.record(moved, kind, original.payee, original.payer, value, send)

    @rule(pick=picks, choice=st.none() | edgy, any_kind=rarely)
    def refund(self, pick: int, choice: Any, any_kind: bool) -> None:
        self._give_back("refund", pick, choice, any_kind)

    @rule(pick=picks, any_kind=rarely)
    def reversal(self, pick: int, any_kind: bool) -> None:
        self._give_back("reversal", pick, None, any_kind)

    @rule(account=parties, choice=edgy, reuse=st.none() | picks)
    def top_up(self, account: int, choice: Any, reuse: int | None) -> None:
        amount = resolve(choice, self.receivable(account))
        key = self.key()
        reference = (
            f"pi_{key}" if reuse is None or not self.references else self.references[reuse % len(self.references)]
        )

        def send() -> services.Moved:
            return services.top_up(
                account=self.accounts[account],
                amount=amount,
                provider="card",
                reference=reference,
                currency="EUR",
                amount_minor=amount,
                key=key,
                system=SIM,
            )

        if self.model[account].is_system:
            expected = "system_account"
        else:
            expected = self.refusal("top_up", self.issuance, account, plain(amount))
            if expected is None and reference in self.references:
                expected = "external_payment_used"
        moved = self.attempt(expected, send)
        if moved is not None:
            self.apply(self.issuance, account, plain(amount))
            self.references.append(reference)
            self.record(moved, "top_up", self.issuance, account, amount, send)

    @rule(account=parties, frozen=st.booleans())
    def freeze(self, account: int, frozen: bool) -> None:
        change = services.account_freeze if frozen else services.account_unfreeze
        change(account=self.accounts[account], reason="Simulation", actor=self.operator)
        self.model[account].status = "frozen" if frozen else "active"

    @rule(
        account=parties,
        limit=st.integers(min_value=0, max_value=6_000),
        upper=st.sampled_from(["keep", None]) | st.integers(min_value=0, max_value=8_000),
    )
    def credit_limit_set(self, account: int, limit: int, upper: Any) -> None:
        model = self.model[account]

        def send() -> Any:
            return services.credit_limit_set(
                account=self.accounts[account],
                credit_limit=limit,
                upper_limit=upper,
                reason="Review",
                actor=self.operator,
            )

        if model.is_system:
            self.attempt("system_account", send)
            return
        send()
        model.credit_limit = limit
        if upper != "keep":
            model.upper_limit = upper
        # A limit changed under an account may leave it outside: it may stay there, and only improve.
        model.trapped_low = model.position if model.position < -limit else None
        high = model.balance + model.pending_credits
        model.trapped_high = high if model.upper_limit is not None and high > model.upper_limit else None

    @rule(pick=picks)
    def send_again(self, pick: int) -> None:
        """The same request with the same key: the first transfer comes back and nothing changes."""
        if not self.requests:
            return
        request = self.requests[pick % len(self.requests)]
        again = request.send()
        if isinstance(again, Hold):
            assert again.pk == request.pk
        else:
            assert again.replayed
            assert again.transfer.pk == request.pk

    @rule(pick=picks, amount=amounts)
    def reuse_key(self, pick: int, amount: int) -> None:
        """Another request under a key already used (by this initiator): refused, nothing written."""
        used = list(
            Transfer.objects.filter(initiator=INITIATOR)
            .order_by("created_at", "pk")
            .values_list("idempotency_key", flat=True)
        )
        if not used:
            return
        key = used[pick % len(used)]
        with pytest.raises(LedgerRefusal) as refused:
            services.transfer(
                payer=self.accounts[0], payee=self.accounts[1], amount=amount, key=key, memo="another", system=SIM
            )
        assert refused.value.code == "idempotency_key_reused"

    @rule(account=parties)
    def statement(self, account: int) -> None:
        whole = services.statement(
            account=self.accounts[account], start=date(2000, 1, 1), end=timezone.now().date() + timedelta(days=1)
        )
        running = whole.opening_balance
        assert running == 0
        for entry in whole.entries:
            running += entry.amount
            assert entry.balance_after == running
        assert whole.closing_balance == self.model[account].balance

    # Invariants ---------------------------------------------------------------------------------------------------

    @invariant()
    def ledger_keeps_every_invariant(self) -> None:
        if connection.vendor == "postgresql":
            connection.check_constraints()  # fires the deferred checks of every transfer written so far, now
        stored = {
            row[0]: row[1:]
            for row in Account.objects.filter(pk__in=[m.pk for m in self.model]).values_list(
                "pk", "balance", "pending_debits", "pending_credits", "status", "credit_limit", "upper_limit"
            )
        }
        for model in self.model:
            assert stored[model.pk] == (
                model.balance,
                model.pending_debits,
                model.pending_credits,
                model.status,
                model.credit_limit,
                model.upper_limit,
            ), model
        assert sum(m.balance for m in self.model) == 0
        assert sum(m.pending_debits for m in self.model) == sum(m.pending_credits for m in self.model)

        # Each stored position is the sum of its entries, and the entries run in sequence (in the order applied).
        entries = list(
            Entry.objects.order_by("id").values_list(
                "transfer_id", "account_id", "side", "amount", "pending", "balance_after", "pending_debits_after"
            )
        )
        running = {m.pk: [0, 0, 0] for m in self.model}
        by_transfer: dict[Any, list[tuple]] = {}
        for transfer_id, account_id, side, amount, pending, balance_after, pending_after in entries:
            position = running[account_id]
            position[0] += amount
            if side == Entry.Side.DEBIT:
                position[1] -= pending
            else:
                position[2] += pending
            assert (balance_after, pending_after) == (position[0], position[1])
            by_transfer.setdefault(transfer_id, []).append((account_id, side, amount, pending))
        for model in self.model:
            assert tuple(running[model.pk]) == (model.balance, model.pending_debits, model.pending_credits)

        # Each transfer: exactly two entries, payer's debit and payee's credit, summing to 0.
        transfers = list(
            Transfer.objects.values_list("pk", "kind", "debit_account_id", "credit_account_id", "amount", "hold_id")
        )
        assert len(transfers) == len(self.transfers)
        assert {t[0] for t in transfers} == {t.pk for t in self.transfers}
        for pk, kind, debit, credit, amount, _hold in transfers:
            two = sorted(by_transfer[pk], key=lambda e: e[1])
            assert [(e[0], e[1]) for e in two] == [(credit, "credit"), (debit, "debit")]
            assert sum(e[2] for e in two) == 0
            assert sum(e[3] for e in two) == 0
            assert -two[1][2] == (0 if kind in ("hold", "void") else amount)

        # Holds resolve at most once, and their state says whether they were.
        resolutions: dict[int, int] = {}
        for _pk, _kind, _d, _c, _a, hold_id in transfers:
            if hold_id is not None:
                resolutions[hold_id] = resolutions.get(hold_id, 0) + 1
        for hold_id, state in Hold.objects.values_list("pk", "state"):
            model = next(h for h in self.holds if h.pk == hold_id)
            assert state == model.state
            assert resolutions.get(hold_id, 0) == (0 if state == "pending" else 1)

        # Refunds and reversals of a transfer never exceed it.
        for original in self.transfers:
            returned = sum(Transfer.objects.filter(original_id=original.pk).values_list("amount", flat=True))
            assert returned == original.returned <= original.amount

        # No account below its floor (or above its upper limit) unless a limit change left it there, and then it
        # only improved.
        for model in self.model:
            if model.is_system:
                continue
            if model.position < -model.credit_limit:
                assert model.trapped_low is not None, model
                assert model.position >= model.trapped_low, model
                model.trapped_low = model.position
            else:
                model.trapped_low = None
            high = model.balance + model.pending_credits
            if model.upper_limit is not None and high > model.upper_limit:
                assert model.trapped_high is not None, model
                assert high <= model.trapped_high, model
                model.trapped_high = high
            else:
                model.trapped_high = None


@pytest.mark.django_db
@override_settings(CREDITS_TOP_UP_DAILY_MAX=10**9)  # the daily cap has tests of its own (test_services)
def test_random_sequences_never_lose_or_invent_a_credit():
    LedgerMachine.users = [UserFactory(password=None), UserFactory(password=None)]
    LedgerMachine.operator = UserFactory(password=None, is_staff=True, is_superuser=True)
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
