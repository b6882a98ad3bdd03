"""The parts of an order's page, all read-only: its lines, the payment received, its dispute, and its timeline."""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html

from purchases import money
from purchases.admin.scoped import ReadOnlyInline
from purchases.admin.wording import when
from purchases.models import CashPayment, Dispute, OrderEvent, OrderLine

# How the timeline names each step (OrderEvent.action).
STEP_NAMES = {
    "place": "Placed",
    "confirm": "Confirmed",
    "dispatch": "Dispatched",
    "ready": "Ready for pick-up",
    "deliver": "Handed over (delivered)",
    "confirm_receipt": "Receipt confirmed by the buyer",
    "auto_confirm": "Delivered, paid after the confirmation window",
    "paid": "Payment received",
    "cancel": "Cancelled",
    "reschedule": "Rescheduled",
    "dispute": "Problem reported",
    "answer": "Supplier answered",
    "upheld": "Dispute upheld (closed)",
    "rejected": "Dispute rejected (closed)",
    "close": "Closed",
}


class OrderLineInline(ReadOnlyInline, admin.TabularInline):
    model = OrderLine
    verbose_name = "line"
    fields = ["product", "lot", "quantity", "unit_price_shown", "amount"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("batch__product", "order")

    @admin.display(description="product")
    def product(self, obj: OrderLine) -> str:
        return obj.batch.product.name

    @admin.display(description="lot")
    def lot(self, obj: OrderLine) -> str:
        return obj.batch.lot

    @admin.display(description="unit price")
    def unit_price_shown(self, obj: OrderLine) -> str:
        return obj.order.amount_text(obj.unit_price)

    @admin.display(description="amount")
    def amount(self, obj: OrderLine) -> str:
        return obj.order.amount_text(obj.line_total)


class CashPaymentInline(ReadOnlyInline, admin.StackedInline):
    model = CashPayment
    verbose_name = verbose_name_plural = "payment received"
    fields = ["method", "provider", "reference", "amount_received", "received", "recorded_by_email"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[CashPayment]:
        return super().get_queryset(request).select_related("recorded_by")

    @admin.display(description="amount")
    def amount_received(self, obj: CashPayment) -> str:
        return money.text(obj.amount, currency=obj.currency)

    @admin.display(description="received")
    def received(self, obj: CashPayment) -> str:
        return when(obj.received_at)

    @admin.display(description="recorded by")
    def recorded_by_email(self, obj: CashPayment) -> str:
        return obj.recorded_by.email if obj.recorded_by else "—"


class DisputeInline(ReadOnlyInline, admin.StackedInline):
    model = Dispute
    verbose_name = verbose_name_plural = "dispute"
    fields = ["reason", "state", "opened_at", "description", "open_it"]
    readonly_fields = fields

    @admin.display(description="")
    def open_it(self, obj: Dispute) -> str:
        url = reverse("admin:purchases_dispute_change", args=[obj.pk])
        return format_html('<a href="{}">Open the dispute: answers, decision and refunds</a>', url)


class OrderEventInline(ReadOnlyInline, admin.TabularInline):
    """The order's timeline: every step, who took it and when (append-only)."""

    model = OrderEvent
    verbose_name = "step"
    verbose_name_plural = "timeline"
    fields = ["moment", "step", "who", "said"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="when")
    def moment(self, obj: OrderEvent) -> str:
        return dateformat.format(timezone.localtime(obj.at), "j M, H:i")

    @admin.display(description="step")
    def step(self, obj: OrderEvent) -> str:
        return STEP_NAMES.get(obj.action, obj.action.replace("_", " ").capitalize())

    @admin.display(description="note")
    def said(self, obj: OrderEvent) -> str:
        return obj.note  # empty when there is none, rather than a dash

    @admin.display(description="by")
    def who(self, obj: OrderEvent) -> str:
        # The network's operators act for the network: their names are the network's business.
        if obj.role in (OrderEvent.Role.BUYER, OrderEvent.Role.SUPPLIER) and obj.actor is not None:
            return f"{obj.get_role_display()}: {obj.actor.email}"
        return obj.get_role_display()
