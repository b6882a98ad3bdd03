"""The ledger in the dashboard: accounts (with the log of their limits), transfers with their entries, and holds.

A supplier's members see their supplier's account and what moved on it; members' accounts and the network's own
accounts only operators. Nothing here writes a balance, a transfer, an entry or a hold: those are the services'
work, and the database refuses the rest. Operators set an account's limits and freeze or unfreeze it on its page,
with a reason, through the services (which log and audit it); everything else is read-only for everyone.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from core.access import Access
from core.dashboard import ScopedAdmin, ScopedInline
from network_credits import selectors, services
from network_credits.forms import CreditsField
from network_credits.models import Account, CreditLimitChange, Entry, ExternalPayment, Hold, Transfer

credits_text = selectors.credits_text


class ReadOnlyInline(ScopedInline):
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ScopedAdmin):
    """Rows the ledger writes and never changes: shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Accounts -------------------------------------------------------------------------------------------------------------


class AccountOperatorForm(forms.ModelForm):
    """What an operator may change on an account: its limits and whether it is frozen, always with a reason."""

    credit_limit_credits = CreditsField(
        allow_zero=True,
        label="Credit limit (credits)",
        help_text="How far below zero the balance may go. Lowering it below what the account owes is allowed: it "
        "then can only earn or repay.",
    )
    upper_limit_credits = CreditsField(
        allow_zero=True,
        required=False,
        label="Upper limit (credits)",
        help_text="Empty for no upper limit.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why: kept in the account's history and the audit log. Needed for any change of limits or status.",
    )
    top_up_credits = CreditsField(
        required=False,
        label="Credits bought (top-up)",
        help_text="When the member's money has arrived: one credit for one unit of the network's currency.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    top_up_provider = forms.ChoiceField(
        required=False, label="Paid by", choices=[("", "—"), *ExternalPayment.Provider.choices]
    )
    top_up_reference = forms.CharField(
        required=False,
        max_length=100,
        label="Payment reference",
        help_text="The bank's, the provider's or the desk's reference: one payment buys credits once.",
    )

    class Meta:
        model = Account
        fields = ["status"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        wanted = [data.get(name) for name in ("top_up_credits", "top_up_provider", "top_up_reference")]
        if any(wanted) and not all(wanted):
            raise forms.ValidationError("A top-up needs the credits bought, how they were paid and the reference.")
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in Account.Status.choices if value != Account.Status.CLOSED
        ]
        self.fields["status"].help_text = "A frozen account receives nothing and makes no payment (it may refund)."
        self.initial.setdefault("credit_limit_credits", self.instance.credit_limit)
        self.initial.setdefault("upper_limit_credits", self.instance.upper_limit)


class LimitChangeInline(ReadOnlyInline, admin.TabularInline):
    model = CreditLimitChange
    verbose_name = "limit change"
    fields = [
        "changed_at",
        "credit_limit_was",
        "credit_limit_now",
        "upper_limit_was",
        "upper_limit_now",
        "by",
        "reason",
    ]
    readonly_fields = fields

    @admin.display(description="credit limit before")
    def credit_limit_was(self, obj: CreditLimitChange) -> str:
        return credits_text(obj.credit_limit_before)

    @admin.display(description="credit limit")
    def credit_limit_now(self, obj: CreditLimitChange) -> str:
        return credits_text(obj.credit_limit)

    @admin.display(description="upper limit before")
    def upper_limit_was(self, obj: CreditLimitChange) -> str:
        return "none" if obj.upper_limit_before is None else credits_text(obj.upper_limit_before)

    @admin.display(description="upper limit")
    def upper_limit_now(self, obj: CreditLimitChange) -> str:
        return "none" if obj.upper_limit is None else credits_text(obj.upper_limit)

    @admin.display(description="by")
    def by(self, obj: CreditLimitChange) -> str:
        return obj.changed_by_name or "the network"


class CreditsColumns:
    """Amounts of an account in credits with two decimals (the ledger stores hundredths)."""

    @admin.display(description="balance", ordering="balance")
    def balance_credits(self, obj: Account) -> str:
        return credits_text(obj.balance)

    @admin.display(description="available")
    def available_credits(self, obj: Account) -> str:
        return credits_text(obj.available)

    @admin.display(description="held by its holds")
    def held_credits(self, obj: Account) -> str:
        return credits_text(obj.pending_debits)

    @admin.display(description="held for it by others")
    def incoming_credits(self, obj: Account) -> str:
        return credits_text(obj.pending_credits)

    @admin.display(description="credit limit", ordering="credit_limit")
    def limit_credits(self, obj: Account) -> str:
        return credits_text(obj.credit_limit)

    @admin.display(description="upper limit")
    def upper_credits(self, obj: Account) -> str:
        return "none" if obj.upper_limit is None else credits_text(obj.upper_limit)


@admin.register(Account)
class AccountAdmin(CreditsColumns, ScopedAdmin):
    supplier_path = "supplier_id"  # a plain column: the ledger imports no other app
    list_display = ["account_number", "name", "kind", "status", "balance_credits", "available_credits", "limit_credits"]
    list_filter = ["kind", "status"]
    search_fields = ["number", "name"]
    inlines = [LimitChangeInline]
    position = (
        "Position",
        {
            "fields": [
                ("balance_credits", "available_credits"),
                ("held_credits", "incoming_credits"),
                ("limit_credits", "upper_credits"),
            ]
        },
    )
    shown = ["account_number", "name", "kind", "owner", "system", "status", "opened_at"]

    def supplier_id_of(self, obj: Any) -> int:
        return obj.supplier_id  # type: ignore[return-value]

    @admin.display(description="number", ordering="number")
    def account_number(self, obj: Account) -> str:
        return obj.formatted_number

    @admin.display(description="owner")
    def owner(self, obj: Account) -> str:
        if obj.kind == Account.Kind.SUPPLIER:
            try:  # the catalog's page of the supplier, by URL name: the ledger imports no other app
                url = reverse("admin:products_supplier_change", args=[obj.supplier_id])
            except NoReverseMatch:
                return f"supplier #{obj.supplier_id}"
            return format_html('<a href="{}">supplier #{}</a>', url, obj.supplier_id)
        if obj.kind == Account.Kind.MEMBER:  # only operators see members' accounts
            return f"{obj.user} <{getattr(obj.user, 'email', '')}>"
        return "the network"

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        # An account number is searched for as people write it: "4821 0937 56".
        digits = search_term.replace(" ", "").replace("-", "")
        return super().get_search_results(request, queryset, digits if digits.isdigit() else search_term)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # members open their own; a supplier's opens with it; system accounts open when first needed

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.access(request).operator:
            return False
        if obj is not None and (obj.is_system or obj.status == Account.Status.CLOSED):
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None and self.has_change_permission(request, obj):
            kwargs["form"] = AccountOperatorForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        every = [name for name in self.shown if name != "system" or (obj is not None and obj.is_system)]
        shown = [name for name in every if name != "status"]
        fieldsets: list[Any] = [(None, {"fields": every}), self.position]
        if obj is not None and self.has_change_permission(request, obj):
            fieldsets = [
                (None, {"fields": shown}),
                self.position,
                (
                    "Limits and status (operators)",
                    {"fields": ["credit_limit_credits", "upper_limit_credits", "status", "reason"]},
                ),
                (
                    "Record a top-up (operators, once the money has arrived)",
                    {"fields": ["top_up_credits", "top_up_provider", "top_up_reference"]},
                ),
            ]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        editable = {"status"} if obj is not None and self.has_change_permission(request, obj) else set()
        shown = [name for name in self.shown if name not in editable]
        return [*shown, *(name for row in self.position[1]["fields"] for name in row)]

    def service_save(self, request: HttpRequest, obj: Account, form: forms.ModelForm, change: bool) -> Account:
        data, reason = form.cleaned_data, form.cleaned_data.get("reason", "")
        upper = data.get("upper_limit_credits")
        if data["credit_limit_credits"] != obj.credit_limit or upper != obj.upper_limit:
            services.credit_limit_set(
                account=obj,
                credit_limit=data["credit_limit_credits"],
                upper_limit=upper,
                reason=reason,
                actor=request.user,
            )
        if data["status"] != obj.status:
            change_status = (
                services.account_freeze if data["status"] == Account.Status.FROZEN else services.account_unfreeze
            )
            change_status(account=obj, reason=reason, actor=request.user)
        if data.get("top_up_credits"):
            provider, reference = data["top_up_provider"], data["top_up_reference"].strip()
            services.top_up(
                account=obj,
                amount=data["top_up_credits"],
                provider=provider,
                reference=reference,
                currency=settings.CREDITS_CURRENCY,
                amount_minor=data["top_up_credits"],
                key=f"dashboard:{provider}:{reference}",  # the same payment recorded twice is one top-up
                actor=request.user,
            )
        return obj


# Transfers and holds --------------------------------------------------------------------------------------------------


class BetweenTwoAccounts(ReadOnlyAdmin):
    """Rows between a payer and a payee account: a supplier's members see those where either is their supplier's."""

    supplier_path = "debit_account__supplier_id"

    def scoped(self, queryset: models.QuerySet[Any], access: Access, ids: frozenset[int]) -> models.QuerySet[Any]:
        if access.operator:
            return queryset
        return queryset.filter(Q(debit_account__supplier_id__in=ids) | Q(credit_account__supplier_id__in=ids))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        access = self.access(request)
        if access.operator:
            return super().has_view_permission(request, obj)
        if obj is None:
            return access.member
        return obj.debit_account.supplier_id in access.readable or obj.credit_account.supplier_id in access.readable

    @admin.display(description="amount", ordering="amount")
    def amount_credits(self, obj: Transfer | Hold) -> str:
        return credits_text(obj.amount)

    @admin.display(description="from")
    def payer(self, obj: Transfer | Hold) -> str:
        return str(obj.debit_account)

    @admin.display(description="to")
    def payee(self, obj: Transfer | Hold) -> str:
        return str(obj.credit_account)


class EntryInline(ReadOnlyInline, admin.TabularInline):
    """A transfer's two entries; a supplier's members see only the one on their own account."""

    model = Entry
    fields = ["account", "side", "amount_credits", "held_change", "balance_after_credits", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Entry]:
        queryset = super().get_queryset(request).select_related("account")
        access = self.access(request)
        return queryset if access.operator else queryset.filter(account__supplier_id__in=access.readable)

    @admin.display(description="amount")
    def amount_credits(self, obj: Entry) -> str:
        return credits_text(obj.amount)

    @admin.display(description="held change")
    def held_change(self, obj: Entry) -> str:
        return credits_text(-obj.pending if obj.side == Entry.Side.DEBIT else obj.pending)

    @admin.display(description="balance after")
    def balance_after_credits(self, obj: Entry) -> str:
        return credits_text(obj.balance_after)


class ExternalPaymentInline(ReadOnlyInline, admin.StackedInline):
    """The money side of a top-up."""

    model = ExternalPayment
    verbose_name = "external payment (the money side of a top-up)"
    fields = ["provider", "reference", "currency", "amount", "created_at"]
    readonly_fields = fields

    @admin.display(description="amount")
    def amount(self, obj: ExternalPayment) -> str:
        return credits_text(obj.amount_minor)


@admin.register(Transfer)
class TransferAdmin(BetweenTwoAccounts):
    list_display = ["created_at", "kind", "amount_credits", "payer", "payee", "memo"]
    list_filter = ["kind"]
    list_select_related = ["debit_account", "credit_account"]
    search_fields = ["memo", "debit_account__number", "credit_account__number"]
    inlines = [EntryInline, ExternalPaymentInline]
    shown = [
        "id",
        "kind",
        "created_at",
        "debit_account",
        "credit_account",
        "amount_credits",
        "memo",
        "hold",
        "original",
    ]
    operators_also = ["initiator", "idempotency_key", "created_by"]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        inlines = super().get_inline_instances(request, obj)
        if obj is None or obj.kind != Transfer.Kind.TOP_UP:  # only a top-up has a money side
            inlines = [inline for inline in inlines if not isinstance(inline, ExternalPaymentInline)]
        return inlines

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Who typed it, and their key, are the network's business, not the counterparty's.
        return [*self.shown, *self.operators_also] if self.access(request).operator else self.shown

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_fields(request, obj)


@admin.register(Hold)
class HoldAdmin(BetweenTwoAccounts):
    list_display = ["created_at", "amount_credits", "state", "payer", "payee", "expires_at"]
    list_filter = ["state"]
    list_select_related = ["debit_account", "credit_account"]
    search_fields = ["debit_account__number", "credit_account__number"]
    fields = [
        "transfer",
        "debit_account",
        "credit_account",
        "amount_credits",
        "state",
        "posted_credits",
        "expires_at",
        "created_at",
        "resolved_at",
    ]
    readonly_fields = fields

    @admin.display(description="posted")
    def posted_credits(self, obj: Hold) -> str:
        return "" if obj.posted_amount is None else credits_text(obj.posted_amount)


@admin.register(CreditLimitChange)
class CreditLimitChangeAdmin(ReadOnlyAdmin):
    supplier_path = "account__supplier_id"
    list_display = ["changed_at", "account", "credit_limit_was", "credit_limit_now", "changed_by_name", "reason"]
    list_select_related = ["account"]
    search_fields = ["account__number", "account__name", "reason"]
    fields = [
        "account",
        "changed_at",
        "credit_limit_was",
        "credit_limit_now",
        "upper_limit_was",
        "upper_limit_now",
        "changed_by_name",
        "reason",
    ]
    readonly_fields = fields
    credit_limit_was = LimitChangeInline.credit_limit_was
    credit_limit_now = LimitChangeInline.credit_limit_now
    upper_limit_was = LimitChangeInline.upper_limit_was
    upper_limit_now = LimitChangeInline.upper_limit_now

    def supplier_id_of(self, obj: Any) -> int:
        return obj.account.supplier_id  # type: ignore[return-value]
