"""The credit ledger: accounts, the log of their limits, immutable transfers, their entries, and holds.

Mutual credit: every account opens at 0 and a member may go down to its credit limit; credits are created by trade,
so all balances sum to 0 at every instant. Amounts are integers of hundredths of a credit.

An account's position has two layers. `balance` is what has been posted; `pending_debits` is what its open holds
reserve for others and `pending_credits` what others' holds reserve for it. Each transfer has exactly two entries,
one on the payer's side (`debit`) and one on the payee's (`credit`): `amount` changes the posted balance and
`pending` the pending layer, and both sum to 0 over the transfer. The database keeps all of this true whatever code
writes to it (migrations 0002 and 0003): see DESIGN.md, network_credits.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# One transfer moves at most this many hundredths (ten million credits): anything more is a typo or an attack.
MAX_AMOUNT = 1_000_000_000
NUMBER_LENGTH = 10


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for a string of digits (as card and many account numbers use)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def new_account_number() -> str:
    """Ten digits, the last a Luhn check digit, so that a mistyped digit is caught before any credit moves."""
    body = str(secrets.randbelow(9 * 10 ** (NUMBER_LENGTH - 2)) + 10 ** (NUMBER_LENGTH - 2))
    return body + luhn_digit(body)


def normalise_account_number(text: str) -> str:
    """An account number as people write it ("4821 0937 56", "4821-0937-56") → its ten digits; ValidationError if
    it is not one."""
    digits = "".join(ch for ch in str(text) if ch not in " -.")
    if len(digits) != NUMBER_LENGTH or not digits.isdigit():
        raise ValidationError(f"An account number is {NUMBER_LENGTH} digits.", code="account_number_invalid")
    if luhn_digit(digits[:-1]) != digits[-1]:
        raise ValidationError(
            "This is not a valid account number: its check digit does not match (a digit mistyped?).",
            code="account_number_invalid",
        )
    return digits


def credits_text(hundredths: int, *, grouped: bool = True) -> str:
    """1050 → "10.50", -5 → "-0.05", 123456 → "1,234.56" (or "1234.56" ungrouped, for CSV and form fields): an
    integer of hundredths (credits, or a currency's minor units) as people read it, without going through a float."""
    sign = "-" if hundredths < 0 else ""
    whole, cents = divmod(abs(hundredths), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouped else f"{sign}{whole}.{cents:02d}"


def format_account_number(number: str) -> str:
    return f"{number[:4]} {number[4:8]} {number[8:]}"


class Account(models.Model):
    """Someone's credit account: a member (a shopper), a supplier, or one of the network's own system accounts."""

    class Kind(models.TextChoices):
        MEMBER = "member", "member"
        SUPPLIER = "supplier", "supplier"
        SYSTEM = "system", "system"

    class System(models.TextChoices):
        ISSUANCE = "issuance", "issuance (credits sold for hard currency)"
        GUARANTEE_FUND = "guarantee_fund", "guarantee fund"
        FEES = "fees", "fees"

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        FROZEN = "frozen", "frozen"  # receives nothing and starts no payment; may still refund what it owes
        CLOSED = "closed", "closed"

    number = models.CharField(max_length=NUMBER_LENGTH, unique=True, default=new_account_number, editable=False)
    name = models.CharField(max_length=200, help_text="Whose account, as it is shown to those who pay it.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_accounts",
        help_text="The member who owns it (member accounts).",
    )
    # The catalog's supplier id, kept as a number: the ledger imports no other app.
    supplier_id = models.BigIntegerField(null=True, blank=True, help_text="The supplier who owns it.")
    system = models.CharField(max_length=20, choices=System.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    credit_limit = models.BigIntegerField(
        default=0, help_text="How far below zero the balance may go, in hundredths (the floor is −credit limit)."
    )
    upper_limit = models.BigIntegerField(
        null=True, blank=True, help_text="The most the balance may reach, in hundredths; empty for no limit."
    )
    balance = models.BigIntegerField(default=0, editable=False)
    pending_debits = models.BigIntegerField(default=0, editable=False, help_text="Reserved by its open holds.")
    pending_credits = models.BigIntegerField(default=0, editable=False, help_text="Reserved for it by others' holds.")
    opened_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="credits_account_limit_not_negative"),
            models.CheckConstraint(
                condition=Q(upper_limit__isnull=True) | Q(upper_limit__gte=0), name="credits_account_upper_limit"
            ),
            models.CheckConstraint(
                condition=Q(pending_debits__gte=0, pending_credits__gte=0), name="credits_account_pending_positive"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="member", user__isnull=False, supplier_id__isnull=True, system="")
                    | Q(kind="supplier", user__isnull=True, supplier_id__isnull=False, system="")
                    | Q(kind="system", user__isnull=True, supplier_id__isnull=True) & ~Q(system="")
                ),
                name="credits_account_owner_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(balance=0, pending_debits=0, pending_credits=0),
                name="credits_account_closed_only_when_empty",
            ),
            models.UniqueConstraint(fields=["user"], condition=Q(kind="member"), name="credits_one_account_per_member"),
            models.UniqueConstraint(fields=["supplier_id"], name="credits_one_account_per_supplier"),
            models.UniqueConstraint(fields=["system"], condition=Q(kind="system"), name="credits_one_system_account"),
        ]

    def __str__(self) -> str:
        return f"{format_account_number(self.number)} {self.name}"

    @property
    def formatted_number(self) -> str:
        return format_account_number(self.number)

    @property
    def is_system(self) -> bool:
        return self.kind == self.Kind.SYSTEM

    @property
    def floor(self) -> int | None:
        """The lowest the balance minus its holds may go, or None for a system account (they have no floor)."""
        return None if self.is_system else -self.credit_limit

    @property
    def available(self) -> int:
        """What it can spend now: balance − its holds + its credit limit."""
        return self.balance - self.pending_debits + self.credit_limit


class CreditLimitChange(models.Model):
    """One change of an account's limits: who, when, from what to what, and why. Append-only."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="limit_changes")
    credit_limit_before = models.BigIntegerField()
    credit_limit = models.BigIntegerField()
    upper_limit_before = models.BigIntegerField(null=True, blank=True)
    upper_limit = models.BigIntegerField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    changed_by_name = models.CharField(max_length=200, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="credits_limit_change_has_reason")]

    def __str__(self) -> str:
        return f"{self.account.number}: {self.credit_limit_before} → {self.credit_limit}"


class Transfer(models.Model):
    """One movement of credits from a payer (debit account) to a payee (credit account). Immutable."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "payment"
        HOLD = "hold", "hold"  # reserves the amount on the payer; resolved later by a post or a void
        POST = "post", "post"  # posts (part of) a hold; the rest returns to the payer
        VOID = "void", "void"  # releases a hold (voided, or expired)
        REFUND = "refund", "refund"  # the payee gives back (part of) an earlier payment or post
        REVERSAL = "reversal", "reversal"  # an operator undoes the rest of an earlier payment or post
        TOP_UP = "top_up", "top-up"  # credits bought with hard currency, from the issuance account
        ADJUSTMENT = "adjustment", "adjustment"  # an operator's correction, with a reason

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(help_text="Hundredths of a credit: held, posted, released or paid.")
    memo = models.CharField(max_length=200, blank=True)
    # No index of their own: the unique constraint on hold and the index on original below cover them.
    hold = models.ForeignKey(
        "Hold",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resolutions",
        db_index=False,
        help_text="post, void",
    )
    original = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="returns",
        db_index=False,
        help_text="refund, reversal",
    )
    initiator = models.CharField(max_length=64, help_text="Who asked for it: user:<id>, or a system job's name.")
    idempotency_key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of what was asked, to tell a repeat apart.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0, amount__lte=MAX_AMOUNT), name="credits_transfer_amount_in_range"
            ),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")), name="credits_transfer_between_two_accounts"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["post", "void"], hold__isnull=False) | ~Q(kind__in=["post", "void"]),
                name="credits_transfer_resolution_names_its_hold",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["refund", "reversal"], original__isnull=False)
                | ~Q(kind__in=["refund", "reversal"]),
                name="credits_transfer_return_names_its_original",
            ),
            models.UniqueConstraint(fields=["initiator", "idempotency_key"], name="credits_transfer_key_unique"),
            # A hold is resolved (posted, voided or expired) at most once.
            models.UniqueConstraint(fields=["hold"], name="credits_hold_resolved_once"),
        ]
        indexes = [models.Index(fields=["original"], name="credits_transfer_original")]

    def __str__(self) -> str:
        return f"{self.get_kind_display().capitalize()} of {credits_text(self.amount)} credits"


class Entry(models.Model):
    """One side of a transfer on one account, with the account's position after it. Append-only."""

    class Side(models.TextChoices):
        DEBIT = "debit", "debit"  # the payer's side
        CREDIT = "credit", "credit"  # the payee's side

    # No index of their own: the unique (transfer, side) and the statement's (account, created_at, id) cover them.
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    side = models.CharField(max_length=6, choices=Side.choices)
    amount = models.BigIntegerField(help_text="Change of the posted balance (negative on the payer's side).")
    pending = models.BigIntegerField(
        default=0, help_text="Change of the pending layer: −x when the payer's holds grow by x, +x when they shrink."
    )
    balance_after = models.BigIntegerField()
    pending_debits_after = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["transfer", "side"], name="credits_entry_one_per_side"),
            models.CheckConstraint(
                condition=Q(side="debit", amount__lte=0) | Q(side="credit", amount__gte=0),
                name="credits_entry_sign_matches_side",
            ),
        ]
        indexes = [models.Index(fields=["account", "created_at", "id"], name="credits_entry_statement")]

    def __str__(self) -> str:
        sign = "+" if self.amount >= 0 else ""
        side = self.get_side_display().capitalize()
        return f"{side} {sign}{credits_text(self.amount)} → {credits_text(self.balance_after)}"


class Hold(models.Model):
    """A pending transfer: reserves `amount` on the payer until it is posted (in full or part), voided or expires."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        POSTED = "posted", "posted"
        VOIDED = "voided", "voided"
        EXPIRED = "expired", "expired"

    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="created_hold")
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds_out")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds_in")
    amount = models.BigIntegerField()
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    posted_amount = models.BigIntegerField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0, amount__lte=MAX_AMOUNT), name="credits_hold_amount"),
            models.CheckConstraint(
                condition=Q(state="pending", posted_amount__isnull=True, resolved_at__isnull=True)
                | Q(state="posted", posted_amount__gt=0, posted_amount__lte=F("amount"), resolved_at__isnull=False)
                | Q(state__in=["voided", "expired"], posted_amount__isnull=True, resolved_at__isnull=False),
                name="credits_hold_state_consistent",
            ),
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="credits_hold_expiry")]

    def __str__(self) -> str:
        return f"Hold of {credits_text(self.amount)} credits ({self.state})"


class ExternalPayment(models.Model):
    """The hard-currency side of a top-up: what the member paid, through whom, under which reference."""

    class Provider(models.TextChoices):
        CARD = "card", "card (through the payment provider)"
        BANK_TRANSFER = "bank_transfer", "bank transfer"
        CASH = "cash", "cash at a network desk"

    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="external_payment")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    reference = models.CharField(max_length=100, help_text="The provider's reference for the payment.")
    currency = models.CharField(max_length=3, help_text="ISO 4217 code.")
    amount_minor = models.BigIntegerField(help_text="In the currency's minor unit (cents).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # The same payment never buys credits twice.
            models.UniqueConstraint(fields=["provider", "reference"], name="credits_external_payment_once"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="credits_external_payment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.reference} {self.currency} {self.amount_minor}"
