"""Every write to the ledger: opening accounts, transfers, holds and their resolution, refunds, top-ups, limits.

Each movement of credits goes through `_move`: it claims the caller's idempotency key (a repeat with the same
request gets the first transfer back; the same key for a different request is refused), locks the two accounts in id
order, checks the rules, and writes the transfer with its two entries. The database applies each entry to its
account and refuses anything that would break an invariant (migration 0002), so a bug here, or SQL typed by hand,
cannot lose or invent a credit; the checks here come first so that people get a clear reason.

Callers outside a transaction get retries of serialization failures and deadlocks with jittered back-off; inside
one, the caller's transaction decides.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from core.audit import audit_record
from network_credits.models import (
    MAX_AMOUNT,
    Account,
    CreditLimitChange,
    Entry,
    ExternalPayment,
    Hold,
    Transfer,
    credits_text,
    normalise_account_number,
)
from network_credits.selectors import Statement, start_of_day, statement  # noqa: F401 — the issue's name for it

T = TypeVar("T")
RETRIES = 8
# SQLSTATEs worth a retry: serialization_failure, deadlock_detected.
RETRYABLE = {"40001", "40P01"}

# Kinds that start a movement; a frozen payer may not start them (it may still refund what it owes).
STARTS = {Transfer.Kind.PAYMENT, Transfer.Kind.HOLD}


# The ledger's clock: the time it stamps on what it writes. Only the demo (a believable history) and deterministic
# tests set it, with `clock(at)`; everything else gets the real time.
_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("network_credits_clock", default=None)


def ledger_now() -> datetime:
    source = _clock.get()
    return source() if source is not None else timezone.now()


@contextmanager
def clock(source: Callable[[], datetime]) -> Iterator[None]:
    """Stamp what the ledger writes inside the block with `source()` instead of the real time."""
    token = _clock.set(source)
    try:
        yield
    finally:
        _clock.reset(token)


class LedgerRefusal(ValidationError):
    """A movement the rules refuse, with a code the API turns into its status (see network_credits.api)."""

    def __init__(self, message: str | dict[str, str], *, code: str) -> None:
        super().__init__(message, code=code)
        self.code = code  # also when the message is a dict of field errors, where Django keeps no code


@dataclass(frozen=True)
class Moved:
    """A transfer, and whether it was done now or is the first result of the same request sent before."""

    transfer: Transfer
    replayed: bool = False


# Accounts -----------------------------------------------------------------------------------------------------------


def _default_limit(kind: str) -> int:
    return int(
        settings.CREDITS_DEFAULT_SUPPLIER_LIMIT
        if kind == Account.Kind.SUPPLIER
        else settings.CREDITS_DEFAULT_MEMBER_LIMIT
    )


@transaction.atomic
def account_open_for_member(*, user: Any, name: str = "") -> Account:
    """A member's own account (opened once; opening it again returns it)."""
    existing = Account.objects.filter(kind=Account.Kind.MEMBER, user=user).first()
    if existing is not None:
        return existing
    account = Account(kind=Account.Kind.MEMBER, user=user, name=(name or str(user))[:200])
    account.credit_limit = _default_limit(account.kind)
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def account_open_for_supplier(*, supplier_id: int, name: str) -> Account:
    """A supplier's account (opened once; opening it again returns it, renamed if the supplier was)."""
    existing = Account.objects.filter(supplier_id=supplier_id).first()
    if existing is not None:
        if name and existing.name != name[:200]:
            existing.name = name[:200]
            existing.save(update_fields=["name"])
        return existing
    account = Account(kind=Account.Kind.SUPPLIER, supplier_id=supplier_id, name=name[:200])
    account.credit_limit = _default_limit(account.kind)
    account.full_clean()
    account.save()
    return account


SYSTEM_NAMES: dict[str, str] = {
    Account.System.ISSUANCE: "The network: credits sold for hard currency",
    Account.System.GUARANTEE_FUND: "The network: guarantee fund",
    Account.System.FEES: "The network: fees",
}


def system_account(system: str) -> Account:
    """One of the network's system accounts, opened the first time it is needed."""
    if system not in SYSTEM_NAMES:
        raise ValueError(f"Unknown system account {system!r}.")
    found = Account.objects.filter(kind=Account.Kind.SYSTEM, system=system).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Account.objects.create(kind=Account.Kind.SYSTEM, system=system, name=SYSTEM_NAMES[system])
    except IntegrityError:  # opened at the same moment by another request
        return Account.objects.get(kind=Account.Kind.SYSTEM, system=system)


def account_by_number(number: str) -> Account:
    """The account with this number, as people write it; ValidationError for a malformed or unknown number."""
    digits = normalise_account_number(number)
    try:
        return Account.objects.get(number=digits)
    except Account.DoesNotExist:
        raise ValidationError("No account has this number.", code="account_not_found") from None


# Limits and status --------------------------------------------------------------------------------------------------


def _amount(value: Any, *, field: str = "amount", allow_zero: bool = False) -> int:
    """An amount of hundredths: an integer in range; anything else is a clear error."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerRefusal(
            {field: "An amount is a whole number of hundredths of a credit (1050 is 10.50 credits)."},
            code="amount_invalid",
        )
    if value < (0 if allow_zero else 1) or value > MAX_AMOUNT:
        low = 0 if allow_zero else 1
        raise LedgerRefusal(
            {
                field: f"An amount is between {low} and {MAX_AMOUNT} hundredths of a credit "
                f"({credits_text(MAX_AMOUNT)} credits)."
            },
            code="amount_invalid",
        )
    return value


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": "Say why: the reason is kept in the account's history."}, code="reason")
    return reason.strip()


def _person(actor: Any) -> Any:
    """The signed-in person behind an action, or None for a system job (or an anonymous caller)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def _actor_name(actor: Any) -> str:
    person = _person(actor)
    return (getattr(person, "email", "") or str(person)) if person is not None else ""


@transaction.atomic
def credit_limit_set(
    *, account: Account, credit_limit: int, reason: str, actor: Any = None, upper_limit: int | None | str = "keep"
) -> CreditLimitChange:
    """Set an account's credit limit (and optionally its upper limit), logged with who and why.

    Lowering a limit below what the account already owes is allowed: it then cannot spend, only earn or repay.
    """
    reason = _reason(reason)
    credit_limit = _amount(credit_limit, field="credit_limit", allow_zero=True)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    new_upper = locked.upper_limit if upper_limit == "keep" else upper_limit
    if new_upper is not None:
        new_upper = _amount(new_upper, field="upper_limit", allow_zero=True)
    if locked.is_system:
        raise LedgerRefusal("The network's system accounts have no limits to set.", code="system_account")
    change = CreditLimitChange(
        account=locked,
        credit_limit_before=locked.credit_limit,
        credit_limit=credit_limit,
        upper_limit_before=locked.upper_limit,
        upper_limit=new_upper,
        changed_by=_person(actor),
        changed_by_name=_actor_name(actor),
        changed_at=ledger_now(),
        reason=reason,
    )
    change.full_clean()
    change.save()
    locked.credit_limit, locked.upper_limit = credit_limit, new_upper
    locked.save(update_fields=["credit_limit", "upper_limit"])
    audit_record(
        actor=actor,
        action="credits.limit_changed",
        target=locked,
        supplier_id=locked.supplier_id,
        changes={
            "credit_limit": [change.credit_limit_before, credit_limit],
            "upper_limit": [change.upper_limit_before, new_upper],
        },
        reason=reason,
    )
    account.credit_limit, account.upper_limit = credit_limit, new_upper
    return change


ACTIONS: dict[str, str] = {
    Account.Status.FROZEN: "credits.account_frozen",
    Account.Status.ACTIVE: "credits.account_unfrozen",
    Account.Status.CLOSED: "credits.account_closed",
}


def _status_set(*, account: Account, status: str, reason: str, actor: Any) -> Account:
    reason = _reason(reason)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.status == Account.Status.CLOSED:
        raise LedgerRefusal("This account is closed.", code="account_closed")
    if status == Account.Status.CLOSED and (locked.balance or locked.pending_debits or locked.pending_credits):
        raise LedgerRefusal(
            "An account is closed only when it owes nothing, is owed nothing and has no open holds.",
            code="account_not_empty",
        )
    if status == Account.Status.CLOSED and locked.is_system:
        raise LedgerRefusal("The network's system accounts are never closed.", code="system_account")
    if locked.status != status:
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=ACTIONS[status],
            target=locked,
            supplier_id=locked.supplier_id,
            changes={"status": [before, status]},
            reason=reason,
        )
    account.status = locked.status
    return locked


@transaction.atomic
def account_freeze(*, account: Account, reason: str, actor: Any = None) -> Account:
    """Freeze an account: it receives nothing and starts no payment until unfrozen (it may still refund)."""
    return _status_set(account=account, status=Account.Status.FROZEN, reason=reason, actor=actor)


@transaction.atomic
def account_unfreeze(*, account: Account, reason: str, actor: Any = None) -> Account:
    """Make a frozen account active again."""
    return _status_set(account=account, status=Account.Status.ACTIVE, reason=reason, actor=actor)


@transaction.atomic
def account_close(*, account: Account, reason: str, actor: Any = None) -> Account:
    """Close an account for good: only at a zero balance with no open holds; it never moves credits again."""
    return _status_set(account=account, status=Account.Status.CLOSED, reason=reason, actor=actor)


# Moving credits -----------------------------------------------------------------------------------------------------


def initiator_of(actor: Any, system: str = "") -> str:
    """Whose idempotency keys these are: a person's (user:<id>), or a system job's."""
    if _person(actor) is not None:
        return f"user:{actor.pk}"
    if not system:
        raise ValueError("A movement without a person needs the name of the system job that asks for it.")
    return f"system:{system}"


def _request_hash(**request: Any) -> str:
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _key(key: str) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= 255:
        raise LedgerRefusal({"idempotency_key": "An idempotency key is 1 to 255 characters."}, code="key_invalid")
    return key


def _replay(initiator: str, key: str, request_hash: str) -> Transfer | None:
    earlier = Transfer.objects.filter(initiator=initiator, idempotency_key=key).first()
    if earlier is not None and earlier.request_hash != request_hash:
        raise LedgerRefusal(
            "This idempotency key was already used for a different request; use a new key for a new request.",
            code="idempotency_key_reused",
        )
    return earlier


def _retrying(work: Callable[[], T]) -> T:
    """Run `work` (a transaction of its own), again after a serialization failure or a deadlock."""
    if connection.in_atomic_block:
        return work()
    for attempt in range(RETRIES):
        try:
            return work()
        except (OperationalError, DatabaseError) as error:
            code = getattr(error.__cause__, "pgcode", None) or getattr(error.__cause__, "sqlstate", None)
            if code not in RETRYABLE or attempt == RETRIES - 1:
                raise
            time.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311 — jitter, not secrecy
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Effect:
    """What a transfer does to each side: posted amount and pending change (see models.Entry)."""

    debit_amount: int
    debit_pending: int
    credit_amount: int
    credit_pending: int


def _check(account: Account, *, side: str, amount: int, pending: int, kind: str) -> None:
    """The rules an entry must keep, checked before the database checks them again."""
    receives = (amount > 0) or (side == Entry.Side.CREDIT and pending > 0)
    if account.status == Account.Status.CLOSED:
        raise LedgerRefusal(f"Account {account.formatted_number} is closed.", code="account_closed")
    if receives and account.status != Account.Status.ACTIVE:
        raise LedgerRefusal(
            f"Account {account.formatted_number} is frozen: it cannot receive credits.", code="account_frozen"
        )
    if side == Entry.Side.DEBIT and kind in STARTS and account.status != Account.Status.ACTIVE:
        raise LedgerRefusal(
            f"Account {account.formatted_number} is frozen: it cannot make payments.", code="account_frozen"
        )
    if account.is_system:
        return
    if side == Entry.Side.DEBIT:
        before = account.balance - account.pending_debits
        after = before + amount + pending  # pending < 0 reserves more
        if after < -account.credit_limit and after < before:
            raise LedgerRefusal(
                f"Not enough credit: account {account.formatted_number} can spend at most "
                f"{credits_text(max(account.available, 0))} credits now (balance {credits_text(account.balance)}, "
                f"held {credits_text(account.pending_debits)}, credit limit {credits_text(account.credit_limit)}).",
                code="insufficient_credit",
            )
    elif account.upper_limit is not None:
        before = account.balance + account.pending_credits
        after = before + amount + pending
        if after > account.upper_limit and after > before:
            raise LedgerRefusal(
                f"Account {account.formatted_number} would go above its upper limit of "
                f"{credits_text(account.upper_limit)} credits.",
                code="over_upper_limit",
            )


def new_transfer(
    *,
    kind: str,
    payer: Account,
    payee: Account,
    amount: int,
    initiator: str,
    key: str,
    request_hash: str,
    actor: Any = None,
    memo: str = "",
    hold: Hold | None = None,
    original: Transfer | None = None,
) -> Transfer:
    """The (unsaved) transfer row of a movement, stamped with the ledger's clock: both payment paths write it."""
    return Transfer(
        kind=kind,
        debit_account_id=payer.pk,
        credit_account_id=payee.pk,
        amount=amount,
        memo=memo[:200],
        hold=hold,
        original=original,
        initiator=initiator,
        idempotency_key=key,
        request_hash=request_hash,
        created_by=_person(actor),
        created_at=ledger_now(),
    )


def _move(
    *,
    kind: str,
    payer: Account,
    payee: Account,
    amount: int,
    effect: _Effect,
    initiator: str,
    key: str,
    request_hash: str,
    actor: Any = None,
    memo: str = "",
    hold: Hold | None = None,
    original: Transfer | None = None,
    before_entries: Callable[[Account, Account, Transfer], None] | None = None,
) -> Moved:
    """Write one transfer and its two entries, or return the first result of the same request."""
    if payer.pk == payee.pk:
        raise LedgerRefusal("An account cannot pay itself.", code="same_account")
    earlier = _replay(initiator, key, request_hash)
    if earlier is not None:
        return Moved(earlier, replayed=True)
    with transaction.atomic():
        transfer = new_transfer(
            kind=kind,
            payer=payer,
            payee=payee,
            amount=amount,
            initiator=initiator,
            key=key,
            request_hash=request_hash,
            actor=actor,
            memo=memo,
            hold=hold,
            original=original,
        )
        try:
            # Claiming the key first: a twin sent at the same moment waits here for the first to finish.
            with transaction.atomic():
                transfer.save(force_insert=True)
        except IntegrityError:
            earlier = _replay(initiator, key, request_hash)
            if earlier is None:
                raise
            return Moved(earlier, replayed=True)
        # FOR NO KEY UPDATE: the transfer's and entries' foreign keys take KEY SHARE locks on the same rows.
        locked = {
            account.pk: account
            for account in Account.objects.select_for_update(no_key=True)
            .filter(pk__in=[payer.pk, payee.pk])
            .order_by("pk")
        }
        locked_payer, locked_payee = locked[payer.pk], locked[payee.pk]
        applied_at = ledger_now()  # under the locks: an account's entries are in time order as well as id order
        _check(locked_payer, side=Entry.Side.DEBIT, amount=effect.debit_amount, pending=effect.debit_pending, kind=kind)
        _check(
            locked_payee, side=Entry.Side.CREDIT, amount=effect.credit_amount, pending=effect.credit_pending, kind=kind
        )
        if before_entries is not None:
            before_entries(locked_payer, locked_payee, transfer)
        Entry.objects.bulk_create(
            [
                Entry(
                    transfer=transfer,
                    account_id=payer.pk,
                    side=Entry.Side.DEBIT,
                    amount=effect.debit_amount,
                    pending=effect.debit_pending,
                    balance_after=locked_payer.balance + effect.debit_amount,
                    pending_debits_after=locked_payer.pending_debits - effect.debit_pending,
                    created_at=applied_at,
                ),
                Entry(
                    transfer=transfer,
                    account_id=payee.pk,
                    side=Entry.Side.CREDIT,
                    amount=effect.credit_amount,
                    pending=effect.credit_pending,
                    balance_after=locked_payee.balance + effect.credit_amount,
                    pending_debits_after=locked_payee.pending_debits,
                    created_at=applied_at,
                ),
            ]
        )
    # The database applied the entries to the accounts; the callers' instances follow.
    payer.balance = locked_payer.balance + effect.debit_amount
    payer.pending_debits = locked_payer.pending_debits - effect.debit_pending
    payer.pending_credits = locked_payer.pending_credits
    payee.balance = locked_payee.balance + effect.credit_amount
    payee.pending_debits = locked_payee.pending_debits
    payee.pending_credits = locked_payee.pending_credits + effect.credit_pending
    payer.status, payee.status = locked_payer.status, locked_payee.status
    return Moved(transfer)


def _plain(amount: int) -> _Effect:
    return _Effect(debit_amount=-amount, debit_pending=0, credit_amount=amount, credit_pending=0)


def transfer(
    *, payer: Account, payee: Account, amount: int, key: str, actor: Any = None, memo: str = "", system: str = ""
) -> Moved:
    """Pay `amount` hundredths from payer to payee, once per idempotency key."""
    if payer.is_system or payee.is_system:
        raise LedgerRefusal(
            "The network's own accounts are not paid or paid from directly: credits are bought with a top-up.",
            code="system_account",
        )
    amount = _amount(amount)
    key = _key(key)
    initiator = initiator_of(actor, system)
    digest = _request_hash(kind="payment", payer=payer.number, payee=payee.number, amount=amount, memo=memo)
    pay = payment_path()
    return _retrying(
        lambda: pay(
            payer=payer,
            payee=payee,
            amount=amount,
            initiator=initiator,
            key=key,
            request_hash=digest,
            actor=actor,
            memo=memo,
        )
    )


def payment_path() -> Callable[..., Moved]:
    """How `transfer` writes a payment: on PostgreSQL in one round trip, with the credits_payment function
    (migration 0004; network_credits/postgres.py), which does what `_payment` does with the same checks, refusals
    and rows; elsewhere with `_payment`. The benchmark and the tests that compare the two replace it."""
    if connection.vendor == "postgresql":
        from network_credits import postgres  # it imports this module

        return postgres.payment
    return _payment


def _payment(
    *,
    payer: Account,
    payee: Account,
    amount: int,
    initiator: str,
    key: str,
    request_hash: str,
    actor: Any = None,
    memo: str = "",
) -> Moved:
    """A payment through `_move`, the path every movement takes."""
    return _move(
        kind=Transfer.Kind.PAYMENT,
        payer=payer,
        payee=payee,
        amount=amount,
        effect=_plain(amount),
        initiator=initiator,
        key=key,
        request_hash=request_hash,
        actor=actor,
        memo=memo,
    )


def adjustment(
    *, payer: Account, payee: Account, amount: int, reason: str, key: str, actor: Any = None, system: str = ""
) -> Moved:
    """An operator's correction between two accounts, or a network job's (`system`: the guarantee claiming back what
    a supplier owes), with a written reason (kept as the memo and audited)."""
    amount = _amount(amount)
    reason = _reason(reason)
    initiator = initiator_of(actor, system)
    digest = _request_hash(kind="adjustment", payer=payer.number, payee=payee.number, amount=amount, memo=reason)

    def work() -> Moved:
        with transaction.atomic():
            moved = _move(
                kind=Transfer.Kind.ADJUSTMENT,
                payer=payer,
                payee=payee,
                amount=amount,
                effect=_plain(amount),
                initiator=initiator,
                key=_key(key),
                request_hash=digest,
                actor=actor,
                memo=reason,
            )
            if not moved.replayed:
                audit_record(
                    actor=actor,
                    action="credits.adjusted",
                    target=moved.transfer,
                    supplier_id=payer.supplier_id or payee.supplier_id,
                    changes={"amount": [None, amount], "from": [None, payer.number], "to": [None, payee.number]},
                    reason=reason,
                )
            return moved

    return _retrying(work)


def top_up(
    *,
    account: Account,
    amount: int,
    provider: str,
    reference: str,
    currency: str,
    amount_minor: int,
    key: str,
    actor: Any = None,
    system: str = "",
) -> Moved:
    """A member buys credits with hard currency: the issuance account goes down by as much, and the payment made
    outside (with the provider's reference) is recorded with it. The same payment never buys credits twice."""
    amount = _amount(amount)
    amount_minor = _amount(amount_minor, field="amount_minor")
    if provider not in ExternalPayment.Provider.values:
        raise LedgerRefusal({"provider": f"Unknown payment provider {provider!r}."}, code="provider_invalid")
    reference = reference.strip()
    if not reference or len(reference) > 100:
        raise LedgerRefusal({"reference": "The payment's reference (1 to 100 characters)."}, code="reference")
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise LedgerRefusal({"currency": "An ISO 4217 currency code, like EUR."}, code="currency_invalid")
    if account.kind == Account.Kind.SYSTEM:
        raise LedgerRefusal("System accounts are not topped up.", code="system_account")
    initiator = initiator_of(actor, system)
    digest = _request_hash(
        kind="top_up",
        account=account.number,
        amount=amount,
        provider=provider,
        reference=reference,
        currency=currency,
        amount_minor=amount_minor,
    )
    issuance = system_account(Account.System.ISSUANCE)

    def record_payment(payer: Account, payee: Account, moved: Transfer) -> None:
        # Under the account's lock, so that two top-ups sent at the same moment cannot both pass the cap.
        since = start_of_day(ledger_now().astimezone(timezone.get_current_timezone()).date())
        bought = (
            Transfer.objects.filter(kind=Transfer.Kind.TOP_UP, credit_account=payee, created_at__gte=since)
            .exclude(pk=moved.pk)
            .aggregate(total=Sum("amount"))["total"]
            or 0
        )
        cap = settings.CREDITS_TOP_UP_DAILY_MAX
        if bought + amount > cap:
            raise LedgerRefusal(
                {
                    "amount": f"An account can buy at most {credits_text(cap)} credits a day; today it has bought "
                    f"{credits_text(bought)}, so at most {credits_text(max(cap - bought, 0))} more."
                },
                code="top_up_daily_max",
            )
        if ExternalPayment.objects.filter(provider=provider, reference=reference).exists():
            raise LedgerRefusal({"reference": "This payment has already bought credits."}, code="external_payment_used")
        payment = ExternalPayment(
            transfer=moved, provider=provider, reference=reference, currency=currency, amount_minor=amount_minor
        )
        payment.full_clean(exclude=["transfer"])
        payment.save()

    return _retrying(
        lambda: _move(
            kind=Transfer.Kind.TOP_UP,
            payer=issuance,
            payee=account,
            amount=amount,
            effect=_plain(amount),
            initiator=initiator,
            key=_key(key),
            request_hash=digest,
            actor=actor,
            memo=f"{currency} {credits_text(amount_minor, grouped=False)} paid by {provider.replace('_', ' ')}, "
            f"ref. {reference}",
            before_entries=record_payment,
        )
    )


def hold(
    *,
    payer: Account,
    payee: Account,
    amount: int,
    key: str,
    expires_at: datetime | None = None,
    actor: Any = None,
    memo: str = "",
    system: str = "",
) -> Hold:
    """Reserve `amount` on the payer for the payee until posted, voided or expired (default: CREDITS_HOLD_DAYS)."""
    amount = _amount(amount)
    expires_at = expires_at or ledger_now() + timedelta(days=settings.CREDITS_HOLD_DAYS)
    if expires_at <= ledger_now():
        raise LedgerRefusal({"expires_at": "A hold expires in the future."}, code="expiry_invalid")
    initiator = initiator_of(actor, system)
    digest = _request_hash(kind="hold", payer=payer.number, payee=payee.number, amount=amount, memo=memo)

    def create_hold(locked_payer: Account, locked_payee: Account, moved: Transfer) -> None:
        Hold.objects.create(
            transfer=moved, debit_account=payer, credit_account=payee, amount=amount, expires_at=expires_at
        )

    def work() -> Hold:
        moved = _move(
            kind=Transfer.Kind.HOLD,
            payer=payer,
            payee=payee,
            amount=amount,
            effect=_Effect(debit_amount=0, debit_pending=-amount, credit_amount=0, credit_pending=amount),
            initiator=initiator,
            key=_key(key),
            request_hash=digest,
            actor=actor,
            memo=memo,
            before_entries=create_hold,
        )
        return Hold.objects.get(transfer=moved.transfer)

    return _retrying(work)


def _resolve(*, hold: Hold, state: str, posted: int | None, key: str, initiator: str, actor: Any, memo: str) -> Moved:
    digest = _request_hash(kind=state, hold=hold.pk, amount=posted)
    earlier = _replay(initiator, key, digest)
    if earlier is not None:
        return Moved(earlier, replayed=True)
    with transaction.atomic():
        locked = Hold.objects.select_for_update().get(pk=hold.pk)
        if locked.state != Hold.State.PENDING:
            raise LedgerRefusal(f"This hold was already {locked.state}.", code="hold_not_pending")
        if posted is not None and posted > locked.amount:
            raise LedgerRefusal(
                {"amount": f"A hold of {locked.amount} can post at most {locked.amount}."}, code="hold_amount_exceeded"
            )
        x = locked.amount
        if posted is None:
            effect = _Effect(debit_amount=0, debit_pending=x, credit_amount=0, credit_pending=-x)
        else:
            effect = _Effect(debit_amount=-posted, debit_pending=x, credit_amount=posted, credit_pending=-x)
        moved = _move(
            kind=Transfer.Kind.POST if posted is not None else Transfer.Kind.VOID,
            payer=locked.debit_account,
            payee=locked.credit_account,
            amount=posted if posted is not None else x,
            effect=effect,
            initiator=initiator,
            key=key,
            request_hash=digest,
            actor=actor,
            memo=memo,
            hold=locked,
        )
        if moved.replayed:
            return moved
        locked.state = state
        locked.posted_amount = posted
        locked.resolved_at = moved.transfer.created_at
        locked.save(update_fields=["state", "posted_amount", "resolved_at"])
    hold.state, hold.posted_amount, hold.resolved_at = locked.state, locked.posted_amount, locked.resolved_at
    return moved


def hold_post(
    *, hold: Hold, key: str, amount: int | None = None, actor: Any = None, memo: str = "", system: str = ""
) -> Moved:
    """Post a hold, in full or in part (never more than held); the unposted rest returns to the payer."""
    posted = hold.amount if amount is None else _amount(amount)
    initiator = initiator_of(actor, system)
    return _retrying(
        lambda: _resolve(
            hold=hold,
            state=Hold.State.POSTED,
            posted=posted,
            key=_key(key),
            initiator=initiator,
            actor=actor,
            memo=memo,
        )
    )


def hold_void(*, hold: Hold, key: str, actor: Any = None, memo: str = "", system: str = "") -> Moved:
    """Release a hold: nothing is paid, the whole amount returns to the payer."""
    initiator = initiator_of(actor, system)
    return _retrying(
        lambda: _resolve(
            hold=hold, state=Hold.State.VOIDED, posted=None, key=_key(key), initiator=initiator, actor=actor, memo=memo
        )
    )


def holds_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Release every pending hold past its expiry (the beat task); returns how many. Safe to run twice."""
    now = now or ledger_now()
    due = list(Hold.objects.filter(state=Hold.State.PENDING, expires_at__lte=now).order_by("expires_at", "pk")[:limit])
    expired = 0
    for due_hold in due:
        try:
            moved = _retrying(
                lambda h=due_hold: _resolve(  # type: ignore[misc]
                    hold=h,
                    state=Hold.State.EXPIRED,
                    posted=None,
                    key=f"expire:{h.pk}",
                    initiator="system:holds_expire",
                    actor=None,
                    memo="Expired",
                )
            )
        except LedgerRefusal:
            continue  # resolved by someone else meanwhile
        expired += not moved.replayed
    return expired


REFUNDABLE = {Transfer.Kind.PAYMENT, Transfer.Kind.POST}
REVERSIBLE = REFUNDABLE | {Transfer.Kind.TOP_UP, Transfer.Kind.ADJUSTMENT}


def _return(
    *, kind: str, original: Transfer, amount: int | None, key: str, actor: Any, memo: str, system: str
) -> Moved:
    # A payee refunds what it was paid; only an operator undoes a top-up (the money goes back outside the ledger)
    # or an adjustment.
    returnable = REFUNDABLE if kind == Transfer.Kind.REFUND else REVERSIBLE
    if original.kind not in returnable:
        what = "refunded" if kind == Transfer.Kind.REFUND else "reversed"
        raise LedgerRefusal(f"A {original.get_kind_display()} cannot be {what}.", code="not_returnable")
    initiator = initiator_of(actor, system)
    requested = None if amount is None else _amount(amount)
    digest = _request_hash(kind=kind, original=original.pk, amount=requested, memo=memo)

    def work() -> Moved:
        earlier = _replay(initiator, _key(key), digest)
        if earlier is not None:
            return Moved(earlier, replayed=True)
        with transaction.atomic():
            # The original is never updated; locking its row serialises the returns of one transfer.
            locked = Transfer.objects.select_for_update().get(pk=original.pk)
            returned = sum(locked.returns.values_list("amount", flat=True))
            rest = locked.amount - returned
            value = rest if requested is None else requested
            if value <= 0 or value > rest:
                raise LedgerRefusal(
                    {"amount": f"At most {rest} of this transfer's {locked.amount} can still be given back."},
                    code="refund_exceeds_original",
                )
            return _move(
                kind=kind,
                payer=locked.credit_account,
                payee=locked.debit_account,
                amount=value,
                effect=_plain(value),
                initiator=initiator,
                key=key,
                request_hash=digest,
                actor=actor,
                memo=memo or f"{'Refund' if kind == Transfer.Kind.REFUND else 'Reversal'} of {locked.pk}",
                original=locked,
            )

    return _retrying(work)


def refund(
    *, original: Transfer, key: str, amount: int | None = None, actor: Any = None, memo: str = "", system: str = ""
) -> Moved:
    """The payee gives back (part of) a payment: never more than the original, summed over all its refunds."""
    return _return(
        kind=Transfer.Kind.REFUND, original=original, amount=amount, key=key, actor=actor, memo=memo, system=system
    )


def reversal(*, original: Transfer, reason: str, key: str, actor: Any) -> Moved:
    """An operator undoes what is left of a transfer (after any refunds), with a written reason, audited."""
    reason = _reason(reason)

    def work() -> Moved:
        with transaction.atomic():
            moved = _return(
                kind=Transfer.Kind.REVERSAL,
                original=original,
                amount=None,
                key=key,
                actor=actor,
                memo=reason,
                system="",
            )
            if not moved.replayed:
                audit_record(
                    actor=actor,
                    action="credits.reversed",
                    target=moved.transfer,
                    supplier_id=None,
                    changes={"original": [None, str(original.pk)], "amount": [None, moved.transfer.amount]},
                    reason=reason,
                )
            return moved

    return _retrying(work)


def accounts_open_for_suppliers(suppliers: Iterable[tuple[int, str]]) -> list[Account]:
    """Open (or return) the accounts of several suppliers: (id, name) pairs."""
    return [account_open_for_supplier(supplier_id=sid, name=name) for sid, name in suppliers]
