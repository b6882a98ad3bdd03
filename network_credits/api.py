"""Network credits through the integrator API: one's own accounts and statements, payments, refunds, and the
operators' limits, freezes, adjustments and reversals. Registered by socialbiz/api_urls.py on the v1 router.

Reads and writes go through network_credits.selectors and .services, the same as the pages. Who sees what: a person
reads their own member account and their suppliers' accounts (operators read all); anything else is a 404, so an
account's existence is not confirmed to those who may not read it. Paying needs more: the member themself, or an
owner of the supplier (selectors.can_pay_from).

Idempotency: every POST that moves credits needs an `Idempotency-Key`, and it is the ledger's own idempotency key
(Transfer.idempotency_key, unique per person). The ledger claims the key in the same transaction as the transfer,
so a retry after a dropped connection, or a twin sent at the same moment (it waits on the key's unique index),
gets the first transfer back (201, `Idempotent-Replayed: true`); the same key for a different request is a 422
`idempotency_key_reused`. A refused request claims nothing: its key may be used again. The key is not also
recorded by core.idempotency: a second table would add a lock and, around the ledger's transaction, take away its
retries of deadlocks and serialization failures.

Refusals (services.LedgerRefusal) keep their code as the error's `code`: see REFUSAL_STATUS for the statuses.
Naming an account in a body that does not exist, or whose number is malformed, is a 400 with a field error.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import Access
from core.api.errors import APIError, error_body
from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import KEY_PATTERN, idempotent_call
from network_credits import selectors, services
from network_credits.models import MAX_AMOUNT, Account, Entry, Transfer, normalise_account_number
from network_credits.services import LedgerRefusal

# Refusal codes that are about the request's own values (400); every other refusal is a rule of the ledger the
# request is well-formed against but may not pass now (422): insufficient_credit, account_frozen, account_closed,
# over_upper_limit, same_account, refund_exceeds_original, not_returnable, hold_*, system_account,
# idempotency_key_reused.
REFUSAL_STATUS = {"amount_invalid": 400, "account_number_invalid": 400, "key_invalid": 400, "reason": 400}
REFUSED_422 = (
    "Refused by the ledger's rules, or the Idempotency-Key was used for a different request; nothing was written. "
    "`code` says which: insufficient_credit, account_frozen, account_closed, over_upper_limit, same_account, "
    "refund_exceeds_original, not_returnable, system_account, idempotency_key_reused."
)
OPERATOR_REFUSED = (
    "Refused, nothing written: the account is {}, or the Idempotency-Key was used for a different request "
    "(`idempotency_key_reused`)."
)
ERROR_REF = {"$ref": "#/components/schemas/Error"}  # the shape core.api.errors documents
STATEMENT_DAYS_DEFAULT = 30
STATEMENT_DAYS_MAX = 366
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)  # far from date.min and date.max: periods stay dates
REFUNDABLE = {Transfer.Kind.PAYMENT, Transfer.Kind.POST}
UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

KEY_REQUIRED = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=True,
    description="Required: 1 to 255 visible ASCII characters, new for each new request. A repeat with the "
    "same key and body returns the first transfer (201, header `Idempotent-Replayed: true`) without moving "
    "credits again; the same key with a different body is a 422 `idempotency_key_reused`.",
)
KEY_OPTIONAL = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Optional here: a repeat with the same key and body returns the first response without "
    "doing the work again; the same key with a different body is a 422.",
)


def refused(description: str = REFUSED_422) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_REF, description=description)


def access_of(request: Request) -> Access:
    """The request user's supplier access, as the dashboard works it out (once per request)."""
    return admin.site.access(request)  # type: ignore[attr-defined]  # the project's DashboardSite


# Fields


class AmountField(serializers.IntegerField):
    """Hundredths of a credit as a JSON integer: never a string, a fraction or a boolean (1050 is 10.50 credits)."""

    default_error_messages = {
        "invalid": "An amount is a whole number of hundredths of a credit, as a JSON integer (1050 is 10.50 credits).",
        "min_value": "An amount is at least {min_value} hundredths of a credit.",
        "max_value": "An amount is at most {max_value} hundredths of a credit.",
    }

    def __init__(self, *, min_value: int = 1, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Hundredths of a credit, as an integer: 1050 is 10.50 credits.")
        super().__init__(min_value=min_value, max_value=MAX_AMOUNT, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class AccountNumberField(serializers.CharField):
    """An account number as people write it ("4821 0937 56"), checked (ten digits, Luhn) and kept as its digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "An account number: ten digits, spaces or dashes allowed.")
        super().__init__(max_length=20, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return normalise_account_number(text)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


# Fields named after Python keywords (`from`) are declared with a trailing underscore (`from_`). A comment, not a
# docstring: the schema would show a docstring as the description of every serializer using it.
class KeywordNames:
    def get_fields(self) -> dict[str, serializers.Field]:
        return {name.removesuffix("_"): field for name, field in super().get_fields().items()}  # type: ignore[misc]


# Output


class AccountOut(serializers.ModelSerializer):
    available = serializers.IntegerField(
        read_only=True, help_text="What it can spend now: balance − pending_debits + credit_limit, in hundredths."
    )

    class Meta:
        model = Account
        fields = [
            "number",
            "kind",
            "name",
            "balance",
            "available",
            "pending_debits",
            "credit_limit",
            "upper_limit",
            "status",
        ]


class TransferOut(KeywordNames, serializers.ModelSerializer):
    from_ = serializers.CharField(source="debit_account.number", read_only=True, help_text="The payer's account.")
    to = serializers.CharField(source="credit_account.number", read_only=True, help_text="The payee's account.")

    class Meta:
        model = Transfer
        fields = ["id", "kind", "from_", "to", "amount", "memo", "original", "created_at"]


class StatementEntryOut(serializers.ModelSerializer):
    transfer = serializers.UUIDField(source="transfer_id", read_only=True)
    kind = serializers.ChoiceField(source="transfer.kind", choices=Transfer.Kind.choices, read_only=True)
    description = serializers.SerializerMethodField(help_text='For people: "Payment to 4821 0937 56 Own Cocoa Co".')
    counterparty = serializers.SerializerMethodField(help_text="The other account's number.")
    held_change = serializers.SerializerMethodField(help_text="Change of the amount held (by or for this account).")
    held_after = serializers.IntegerField(source="pending_debits_after", read_only=True)

    class Meta:
        model = Entry
        fields = [
            "id",
            "created_at",
            "transfer",
            "kind",
            "description",
            "counterparty",
            "amount",
            "held_change",
            "balance_after",
            "held_after",
        ]

    def get_description(self, entry: Entry) -> str:
        return selectors.describe(entry)

    def get_counterparty(self, entry: Entry) -> str:
        return selectors.counterparty(entry).number

    def get_held_change(self, entry: Entry) -> int:
        return -entry.pending if entry.side == Entry.Side.DEBIT else entry.pending


class StatementOut(KeywordNames, serializers.Serializer):
    account = serializers.CharField(source="account.number")
    from_ = serializers.DateField(source="start", help_text="The first day, included.")
    to = serializers.DateField(source="end", help_text="The last day, included.")
    opening_balance = serializers.IntegerField(help_text="The balance before the first day.")
    closing_balance = serializers.IntegerField(help_text="The balance at the end of the last day.")
    total_in = serializers.IntegerField()
    total_out = serializers.IntegerField()
    entries = StatementEntryOut(many=True, help_text="In the order they were applied, each with the balance after it.")


# Input: shapes and types here; the ledger's rules are the services'.


class TransferIn(KeywordNames, serializers.Serializer):
    from_ = AccountNumberField(
        required=False,
        help_text="The account to pay from; may be left out when you hold exactly one account you may pay from.",
    )
    to = AccountNumberField(help_text="The account to pay: a supplier's is its `credit_account`.")
    amount = AmountField()
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RefundIn(serializers.Serializer):
    amount = AmountField(required=False, help_text="Hundredths to give back; all that is left of it if left out.")
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why: kept in the account's history and the audit log.")


class ShortReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why: the transfer's memo, and in the audit log.")


class AdjustmentIn(KeywordNames, ShortReasonIn):
    from_ = AccountNumberField()
    to = AccountNumberField()
    amount = AmountField()


class LimitIn(ReasonIn):
    credit_limit = AmountField(min_value=0, help_text="How far below zero the balance may go, in hundredths.")
    upper_limit = AmountField(
        min_value=0,
        required=False,
        allow_null=True,
        help_text="The most the balance may reach, in hundredths; null for none; left out, it is kept.",
    )


class DayField(serializers.DateField):
    default_error_messages = {"out_of_range": "A day from {first} to {last}."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, input_formats=["%Y-%m-%d"], **kwargs)

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            self.fail("out_of_range", first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
        return day


class StatementQuery(KeywordNames, serializers.Serializer):
    from_ = DayField()
    to = DayField()

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        end = data.get("to") or timezone.localdate()
        start = data.get("from") or end - timedelta(days=STATEMENT_DAYS_DEFAULT - 1)
        if end < start:
            raise serializers.ValidationError({"to": ["The end of the period comes after its start."]})
        if (end - start).days >= STATEMENT_DAYS_MAX:
            raise serializers.ValidationError({"from": [f"A statement covers at most {STATEMENT_DAYS_MAX} days."]})
        return {"start": start, "end": end}


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def account_named(number: str, field: str) -> Account:
    """The account a body names; a 400 on that field if there is none (the number itself was checked)."""
    account = Account.objects.filter(number=number).first()
    if account is None:
        raise exceptions.ValidationError({field: ["No account has this number."]})
    return account


# Views


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data.encode() if isinstance(data, str) else b""


class IsOperator(permissions.BasePermission):
    message = "Only the network's operators may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return access_of(request).operator


class LedgerViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, LedgerRefusal):
            return self.refusal_response(exc)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Errors keep the API's one JSON shape, also when the client asked for CSV.
        if response.status_code >= 400 and isinstance(getattr(request, "accepted_renderer", None), CSVRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @staticmethod
    def refusal_response(refusal: LedgerRefusal) -> Response:
        code = refusal.code or "refused"
        http_status = REFUSAL_STATUS.get(code, 422)
        errors = refusal.message_dict if hasattr(refusal, "error_dict") else None
        return Response(error_body(http_status, code, " ".join(refusal.messages), errors), status=http_status)

    def idempotency_key(self, request: Request) -> str:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            raise APIError(
                status_code=400,
                code="idempotency_key_required",
                message=f"A request that moves credits needs an {IDEMPOTENCY_HEADER} header.",
            )
        if not KEY_PATTERN.match(key):
            raise APIError(
                status_code=400,
                code="idempotency_key_invalid",
                message=f"An {IDEMPOTENCY_HEADER} is 1 to 255 visible ASCII characters, without spaces.",
            )
        return key

    def moved(self, moved: services.Moved) -> Response:
        headers = {"Idempotent-Replayed": "true"} if moved.replayed else {}
        transfer = Transfer.objects.select_related("debit_account", "credit_account").get(pk=moved.transfer.pk)
        return Response(TransferOut(transfer).data, status=status.HTTP_201_CREATED, headers=headers)


@extend_schema(tags=["credits"])
@extend_schema_view(
    list=extend_schema(
        summary="Your credit accounts",
        description="Your own member account and those of the suppliers you work for.",
    ),
    retrieve=extend_schema(summary="One of your credit accounts (operators: any)"),
    statement=extend_schema(
        summary="An account's statement",
        description=f"Entries from `from` to `to` (both days included; by default the last {STATEMENT_DAYS_DEFAULT} "
        f"days, at most {STATEMENT_DAYS_MAX}), each with the balance after it, in the order they were applied. "
        "As JSON, or as a CSV file with `?format=csv` (or `Accept: text/csv`): amounts in credits with two decimals.",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="The first day (YYYY-MM-DD)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="The last day (YYYY-MM-DD); today if left out."),
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: a file to download."),
        ],
        responses={
            (200, "application/json"): StatementOut,
            (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR, description="The statement as CSV."),
        },
    ),
    limit=extend_schema(
        summary="Set an account's limits (operators)",
        request=LimitIn,
        responses={200: AccountOut, 422: refused(OPERATOR_REFUSED.format("a system account (`system_account`)"))},
        parameters=[KEY_OPTIONAL],
    ),
    freeze=extend_schema(
        summary="Freeze an account (operators)",
        description="A frozen account receives nothing and starts no payment; it may still refund.",
        request=ReasonIn,
        responses={200: AccountOut, 422: refused(OPERATOR_REFUSED.format("closed (`account_closed`)"))},
        parameters=[KEY_OPTIONAL],
    ),
    unfreeze=extend_schema(
        summary="Unfreeze an account (operators)",
        request=ReasonIn,
        responses={200: AccountOut, 422: refused(OPERATOR_REFUSED.format("closed (`account_closed`)"))},
        parameters=[KEY_OPTIONAL],
    ),
)
class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, LedgerViewSet):
    serializer_class = AccountOut
    lookup_field = "number"
    lookup_value_regex = "[0-9]{10}"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Account]:
        if self.action == "list":
            return selectors.accounts_of(user=self.request.user, access=access_of(self.request))
        return Account.objects.all()

    def get_object(self) -> Account:
        account = get_object_or_404(Account, number=self.kwargs["number"])
        if not selectors.can_read(account, user=self.request.user, access=access_of(self.request)):
            raise exceptions.NotFound()  # someone else's: not confirmed to exist
        return account

    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer], serializer_class=StatementOut)
    def statement(self, request: Request, number: str) -> Response:
        account = self.get_object()
        period = validated(StatementQuery, request.query_params)
        found = selectors.statement(account=account, start=period["start"], end=period["end"])
        if request.accepted_renderer.format != "csv":
            return Response(StatementOut(found).data)
        filename = f"statement-{account.number}-{found.start.isoformat()}-{found.end.isoformat()}.csv"
        return Response(
            selectors.statement_csv(found),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def operator_action(self, request: Request, work: Any) -> Response:
        account = self.get_object()
        return idempotent_call(request, lambda: Response(AccountOut(work(account)).data), required=False)

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated, IsOperator])
    def limit(self, request: Request, number: str) -> Response:
        def work(account: Account) -> Account:
            data = validated(LimitIn, request.data)
            upper = data.get("upper_limit", "keep")  # left out: kept; null: none
            services.credit_limit_set(
                account=account,
                credit_limit=data["credit_limit"],
                upper_limit=upper,
                reason=data["reason"],
                actor=request.user,
            )
            return account

        return self.operator_action(request, work)

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated, IsOperator])
    def freeze(self, request: Request, number: str) -> Response:
        def work(account: Account) -> Account:
            reason = validated(ReasonIn, request.data)["reason"]
            return services.account_freeze(account=account, reason=reason, actor=request.user)

        return self.operator_action(request, work)

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated, IsOperator])
    def unfreeze(self, request: Request, number: str) -> Response:
        def work(account: Account) -> Account:
            reason = validated(ReasonIn, request.data)["reason"]
            return services.account_unfreeze(account=account, reason=reason, actor=request.user)

        return self.operator_action(request, work)


@extend_schema(tags=["credits"])
@extend_schema_view(
    create=extend_schema(
        summary="Pay credits to an account",
        description="From one of your accounts (the member's own, or a supplier's you own) to any account by its "
        "number. An unknown `to` is a 400 on that field; paying from an account you may not pay from is a 403.",
        request=TransferIn,
        responses={201: TransferOut, 422: refused()},
        parameters=[KEY_REQUIRED],
    ),
    retrieve=extend_schema(summary="A transfer (its payer's and payee's holders; operators)"),
    refund=extend_schema(
        summary="Give back (part of) a payment (the payee's holders)",
        description="Never more than the original, summed over all its refunds and reversals.",
        request=RefundIn,
        responses={201: TransferOut, 422: refused()},
        parameters=[KEY_REQUIRED],
    ),
    reversal=extend_schema(
        summary="Reverse what is left of a transfer (operators)",
        request=ShortReasonIn,
        responses={201: TransferOut, 422: refused()},
        parameters=[KEY_REQUIRED],
    ),
)
class TransferViewSet(mixins.RetrieveModelMixin, LedgerViewSet):
    serializer_class = TransferOut
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Transfer]:
        return Transfer.objects.select_related("debit_account", "credit_account")

    def get_object(self) -> Transfer:
        transfer = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        user, access = self.request.user, access_of(self.request)
        if not any(
            selectors.can_read(account, user=user, access=access)
            for account in (transfer.debit_account, transfer.credit_account)
        ):
            raise exceptions.NotFound()
        return transfer

    def create(self, request: Request) -> Response:
        key = self.idempotency_key(request)
        data = validated(TransferIn, request.data)
        payee = account_named(data["to"], "to")
        payer = self.payer(request, data.get("from"))
        return self.moved(
            services.transfer(
                payer=payer, payee=payee, amount=data["amount"], memo=data["memo"], key=key, actor=request.user
            )
        )

    def payer(self, request: Request, number: str | None) -> Account:
        user, access = request.user, access_of(request)
        if number is None:
            mine = [
                account
                for account in selectors.accounts_of(user=user, access=access)
                if selectors.can_pay_from(account, user=user, access=access)
            ]
            if len(mine) != 1:
                many = "several accounts you may pay from: say which" if mine else "no account you may pay from"
                raise exceptions.ValidationError({"from": [f"You hold {many}."]})
            return mine[0]
        payer = account_named(number, "from")
        if not selectors.can_pay_from(payer, user=user, access=access):
            raise exceptions.PermissionDenied("You may pay only from your own account or a supplier's you own.")
        return payer

    @action(detail=True, methods=["post"])
    def refund(self, request: Request, pk: str) -> Response:
        key = self.idempotency_key(request)
        transfer = self.get_object()
        if not selectors.can_pay_from(transfer.credit_account, user=request.user, access=access_of(request)):
            raise exceptions.PermissionDenied("Only the payee's holders may refund a transfer.")
        if transfer.kind not in REFUNDABLE:
            # The ledger would take a top-up back too, but the member would not get the money back by it.
            raise LedgerRefusal(
                "Only a payment can be refunded; an operator reverses a top-up or an adjustment.", code="not_returnable"
            )
        data = validated(RefundIn, request.data)
        return self.moved(
            services.refund(
                original=transfer, amount=data.get("amount"), memo=data["memo"], key=key, actor=request.user
            )
        )

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated, IsOperator])
    def reversal(self, request: Request, pk: str) -> Response:
        key = self.idempotency_key(request)
        transfer = self.get_object()
        reason = validated(ShortReasonIn, request.data)["reason"]
        return self.moved(services.reversal(original=transfer, reason=reason, key=key, actor=request.user))


@extend_schema(tags=["credits"])
@extend_schema_view(
    create=extend_schema(
        summary="Adjust between two accounts (operators)",
        description="A correction with a written reason: kept as the transfer's memo and in the audit log.",
        request=AdjustmentIn,
        responses={201: TransferOut, 422: refused()},
        parameters=[KEY_REQUIRED],
    ),
)
class AdjustmentViewSet(LedgerViewSet):
    serializer_class = TransferOut
    permission_classes = [permissions.IsAuthenticated, IsOperator]

    def create(self, request: Request) -> Response:
        key = self.idempotency_key(request)
        data = validated(AdjustmentIn, request.data)
        payer, payee = account_named(data["from"], "from"), account_named(data["to"], "to")
        return self.moved(
            services.adjustment(
                payer=payer, payee=payee, amount=data["amount"], reason=data["reason"], key=key, actor=request.user
            )
        )
