"""Orders in the dashboard: the list (scoped, filtered, exported as CSV), an order's page with its lines, payment,
dispute and timeline, the buttons that take its next step, and the pick and pack lists.

Nobody adds, edits or deletes an order here: its steps are buttons (POST, with CSRF) that call the services with the
person as actor; a refusal (OrderRefused) is shown as an error message and changes nothing. Members with the viewer
role read orders and never see the buttons.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat, timezone

from network_credits.models import Hold
from products.models import Supplier
from purchases import facilities, selectors, services
from purchases.admin.forms import CancelForm, CashReceiptForm
from purchases.admin.order_inlines import CashPaymentInline, DisputeInline, OrderEventInline, OrderLineInline
from purchases.admin.scoped import PurchasesAdmin
from purchases.admin.wording import day_text, settlement_text, when, where_text
from purchases.models import Means, Method, Order, OrderLine

State = Order.State

# What the order waits for, by state (the panel above an order's details).
NEXT = {
    State.PLACED: "Waiting for you to confirm it.",
    State.CONFIRMED: "Get it ready and hand it over.",
    State.READY: "Mark it handed over when the buyer collects it.",
    State.DISPATCHED: "On its way: mark it delivered when it arrives.",
    State.DELIVERED: "Handed over.",
    State.CLOSED: "Nothing more to do.",
    State.CANCELLED: "Nothing more to do.",
    State.DISPUTED: "The buyer reported a problem: answer it on the dispute's page.",
}


# The steps an order's buttons take ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    done: str  # the message once it is done
    run: Callable[[Order, Any, Any], Any]  # (order, actor, POST data)


def _cancel(order: Order, actor: Any, data: Any) -> Any:
    form = CancelForm(data)
    if not form.is_valid():
        raise ValidationError([message for errors in form.errors.values() for message in errors])
    return services.order_cancel(order=order, actor=actor, reason=form.cleaned_data["reason"])


def _cash(order: Order, actor: Any, data: Any) -> Any:
    form = CashReceiptForm(data)
    if not form.is_valid():
        raise ValidationError([message for errors in form.errors.values() for message in errors])
    return services.cash_receive(order=order, actor=actor, **form.cleaned_data)


STEPS = {
    step.name: step
    for step in [
        Step("confirm", "Confirm the order", "is confirmed", lambda o, a, d: services.order_confirm(order=o, actor=a)),
        Step(
            "ready", "Ready for pick-up", "is ready for pick-up", lambda o, a, d: services.order_ready(order=o, actor=a)
        ),
        Step("dispatch", "Dispatched", "is on its way", lambda o, a, d: services.order_dispatch(order=o, actor=a)),
        Step(
            "deliver",
            "Handed over to the buyer",
            "is handed over",
            lambda o, a, d: services.order_deliver(order=o, actor=a),
        ),
        Step("cash", "Record the payment", "is recorded as paid", _cash),
        Step("cancel", "Cancel the order", "is cancelled", _cancel),
    ]
}


def steps_shown(order: Order) -> list[str]:
    """The buttons an order's state calls for. Only a guide: each service decides again under its lock, and its
    refusal is what the person reads (a deadline passed, say)."""
    shown = []
    if order.state == State.PLACED:
        shown.append("confirm")
    if order.state in (State.PLACED, State.CONFIRMED):
        shown.append("ready" if order.fulfilment == Method.PICKUP else "dispatch")
    if order.state in (State.READY, State.DISPATCHED):
        shown.append("deliver")
    if order.payment == Means.CASH and order.paid_at is None and order.state != State.CANCELLED:
        shown.append("cash")
    if order.state in (State.PLACED, State.CONFIRMED):
        shown.append("cancel")
    return shown


# The list -------------------------------------------------------------------------------------------------------------


class DayFilter(admin.SimpleListFilter):
    """The day an order is handed over on (or "as soon as possible"); a date in the address works too."""

    title = "day"
    parameter_name = "day"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("today", "Today"),
            ("tomorrow", "Tomorrow"),
            ("week", "The next 7 days"),
            ("asap", "As soon as possible"),
            ("past", "Before today"),
        ]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Order]) -> models.QuerySet[Order]:
        today, value = timezone.localdate(), self.value()
        if value is None:
            return queryset
        if value == "asap":
            return queryset.filter(scheduled_for__isnull=True)
        days = {
            "today": (today, today),
            "tomorrow": (today + timedelta(days=1), today + timedelta(days=1)),
            "week": (today, today + timedelta(days=6)),
        }
        if value == "past":
            return queryset.filter(scheduled_for__lt=today)
        if value in days:
            return queryset.filter(scheduled_for__range=days[value])
        try:
            return queryset.filter(scheduled_for=date.fromisoformat(value))
        except ValueError:
            raise IncorrectLookupParameters(f"{value} is not a day.") from None


@admin.register(Order)
class OrderAdmin(PurchasesAdmin):
    list_display = [
        "number",
        "state",
        "buyer_email",
        "total_shown",
        "payment_status",
        "fulfilment",
        "day",
        "hand_over_by",
    ]
    list_display_links = ["number"]
    list_filter = ["state", "payment", "fulfilment", DayFilter]
    list_select_related = ["buyer", "supplier", "hold"]
    search_fields = ["buyer__email", "address_name", "place_name"]
    search_help_text = "An order's number, or the buyer's e-mail address or name."
    actions = None
    view_on_site = False
    inlines = [OrderLineInline, CashPaymentInline, DisputeInline, OrderEventInline]
    fieldsets = [
        (None, {"fields": ["state", "supplier", "buyer_email", "placed"]}),
        ("Payment", {"fields": ["payment_means", ("subtotal_text", "fee_text", "total_shown"), "settlement"]}),
        ("Hand-over", {"fields": ["where", "day", "changeable", "hand_over_by", "settles", "delivered"]}),
    ]

    # Columns and fields

    @admin.display(description="order", ordering="id")
    def number(self, obj: Order) -> str:
        return f"#{obj.pk}"

    @admin.display(description="buyer", ordering="buyer__email")
    def buyer_email(self, obj: Order) -> str:
        return obj.buyer.email

    @admin.display(description="total", ordering="total")
    def total_shown(self, obj: Order) -> str:
        return obj.total_text()

    @admin.display(description="subtotal")
    def subtotal_text(self, obj: Order) -> str:
        return obj.amount_text(obj.subtotal)

    @admin.display(description="delivery fee")
    def fee_text(self, obj: Order) -> str:
        return obj.amount_text(obj.delivery_fee)

    @admin.display(description="paid in")
    def payment_means(self, obj: Order) -> str:
        if obj.payment == Means.CREDITS:
            return "Network credits: guaranteed by the network"
        return f"{obj.get_cash_method_display()}, in {obj.currency}"

    @admin.display(description="payment", ordering="paid_at")
    def payment_status(self, obj: Order) -> str:
        if obj.paid_at:
            status = "paid"
        elif obj.payment == Means.CASH:
            status = "not paid" if obj.state == State.CANCELLED else "to collect"
        else:
            status = "reserved" if obj.hold is not None and obj.hold.state == Hold.State.PENDING else "returned"
        return f"{obj.get_payment_display()}, {status}"

    @admin.display(description="where money stands")
    def settlement(self, obj: Order) -> str:
        return settlement_text(obj)

    @admin.display(description="where")
    def where(self, obj: Order) -> str:
        return where_text(obj)

    @admin.display(description="day", ordering="scheduled_for")
    def day(self, obj: Order) -> str:
        return day_text(obj)

    @admin.display(description="hand over by", ordering="dispatch_by")
    def hand_over_by(self, obj: Order) -> str:
        return when(obj.dispatch_by)

    @admin.display(description="placed", ordering="placed_at")
    def placed(self, obj: Order) -> str:
        return when(obj.placed_at)

    @admin.display(description="the buyer may change or cancel until")
    def changeable(self, obj: Order) -> str:
        return when(obj.changeable_until)

    @admin.display(description="credits paid to you by")
    def settles(self, obj: Order) -> str:
        if obj.paid_at:
            return f"paid on {when(obj.paid_at)}"
        if obj.confirm_by:
            return f"{when(obj.confirm_by)}, unless the buyer confirms receipt sooner or reports a problem"
        return "the confirmation window starts when you hand it over"

    @admin.display(description="delivered")
    def delivered(self, obj: Order) -> str:
        return when(obj.delivered_at)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.payment == Means.CREDITS:
            return self.fieldsets
        hand_over = [name for name in self.fieldsets[2][1]["fields"] if name != "settles"]  # credits only
        return [*self.fieldsets[:2], ("Hand-over", {"fields": hand_over})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for _, options in self.fieldsets for row in options["fields"] for name in _names(row)]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # A receipt and a dispute only when the order has one: no empty boxes on the page.
        shown = super().get_inline_instances(request, obj)
        if obj is None or not hasattr(obj, "cash_payment"):
            shown = [inline for inline in shown if not isinstance(inline, CashPaymentInline)]
        if obj is None or not hasattr(obj, "dispute"):
            shown = [inline for inline in shown if not isinstance(inline, DisputeInline)]
        return shown

    def get_list_display(self, request: HttpRequest) -> Any:
        access = self.access(request)
        several = access.operator or len(access.readable) > 1
        return [*self.list_display, "supplier"] if several else self.list_display

    def get_list_filter(self, request: HttpRequest) -> Any:
        access = self.access(request)
        several = access.operator or len(access.readable) > 1
        return [*self.list_filter, ("supplier", admin.RelatedOnlyFieldListFilter)] if several else self.list_filter

    def get_ordering(self, request: HttpRequest) -> Any:
        # Orders waiting for the supplier are listed soonest deadline first (the home's links open this list).
        if request.GET.get("state__exact") in (State.PLACED, State.CONFIRMED):
            return ["dispatch_by", "pk"]
        return ["-placed_at", "-pk"]

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        number = re.fullmatch(r"\s*#?(\d{1,18})\s*", search_term or "")
        if number:
            return queryset.filter(pk=int(number[1])), False
        return super().get_search_results(request, queryset, search_term)

    # Nobody writes an order here: its steps are the buttons.

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def may_act(self, request: HttpRequest, order: Order) -> bool:
        """Owners and editors of the order's supplier, and operators (the services check again)."""
        return self.access(request).can_edit(order.supplier_id)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            may_act = self.may_act(request, obj)
            context |= {
                "order": obj,
                "order_next": NEXT.get(obj.state, ""),
                "order_deadline": when(obj.dispatch_by) if obj.state in (State.PLACED, State.CONFIRMED) else "",
                "order_settlement": settlement_text(obj),
                "order_where": where_text(obj),
                "order_day": day_text(obj),
                "order_steps": [STEPS[name] for name in steps_shown(obj)] if may_act else [],
                "order_reader": not may_act,
                "cancel_form": CancelForm(),
                "cash_form": CashReceiptForm(initial={"method": obj.cash_method}),
            }
            if obj.state == State.DISPUTED and hasattr(obj, "dispute"):
                context["order_dispute_url"] = reverse("admin:purchases_dispute_change", args=[obj.dispute.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Order]:
        return super().get_queryset(request).select_related("buyer", "supplier", "hold", "dispute", "cash_payment")

    def _refuse_another_supplier(self, request: HttpRequest) -> None:
        """A list (or its CSV) filtered by hand to a supplier the person does not work for is not found, rather than
        an empty list that says the supplier exists."""
        access = self.access(request)
        if access.operator:
            return
        for name, value in request.GET.items():
            if name.split("__")[0] == "supplier" and not (value.isdigit() and int(value) in access.readable):
                raise Http404("No such supplier here.")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        self._refuse_another_supplier(request)
        return super().changelist_view(request, extra_context)

    # Pages of its own

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("pick-list/", view(self.pick_list_view), name=f"{name}_picklist"),
            path("export.csv", view(self.export_view), name=f"{name}_export"),
            path("<path:object_id>/act/<slug:step>/", view(self.act_view), name=f"{name}_act"),
            *super().get_urls(),
        ]

    def act_view(self, request: HttpRequest, object_id: str, step: str) -> HttpResponse:
        """Take one step of an order (a button on its page), with the person as the actor."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self.get_object(request, object_id)  # another supplier's order: 404
        if step not in STEPS:
            raise Http404(f"No step {step}.")
        if not self.may_act(request, order):
            raise PermissionDenied
        chosen = STEPS[step]
        try:
            chosen.run(order, request.user, request.POST)
        except ValidationError as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
        else:
            self.log_change(request, order, f"{chosen.label} (from the dashboard)")
            self.message_user(request, f"Order #{order.pk} {chosen.done}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:purchases_order_change", args=[order.pk]))

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The orders of the list as it is filtered, as CSV (purchases.selectors.orders_csv)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        self._refuse_another_supplier(request)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:purchases_order_changelist") + "?e=1")
        lines = OrderLine.objects.select_related("batch__product").order_by("id")
        orders = changelist.queryset.prefetch_related(Prefetch("lines", queryset=lines))
        response = HttpResponse(selectors.orders_csv(orders), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="orders-{timezone.localdate():%Y-%m-%d}.csv"'
        return response

    def pick_list_view(self, request: HttpRequest) -> HttpResponse:
        """What to pick and pack for one day, at one facility or all: a printable page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        access = self.access(request)
        chosen = request.GET.get("supplier", "")
        suppliers = Supplier.objects.order_by("legal_name")
        if not access.operator:
            suppliers = suppliers.filter(pk__in=access.readable)
        if chosen:
            if not chosen.isdigit():
                raise Http404("No such supplier.")
            supplier: Supplier | None = get_object_or_404(suppliers, pk=int(chosen))  # another's: 404
        else:
            supplier = suppliers.first() if len(access.readable) == 1 and not access.operator else None
        today = timezone.localdate()
        try:
            day = date.fromisoformat(request.GET["day"]) if request.GET.get("day") else today
        except ValueError:
            self.message_user(request, "That is not a day: showing today.", messages.WARNING)
            day = today
        places = facilities.places_of(supplier.pk) if supplier else {}
        facility = request.GET.get("facility", "")
        facility_id = int(facility) if facility.isdigit() else None
        if facility and facility_id not in places:
            raise Http404("Not one of the supplier's facilities.")
        rows, orders = (
            selectors.pick_list(supplier=supplier, day=day, facility_id=facility_id) if supplier else ([], [])
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Pick and pack: {dateformat.format(day, 'l j F Y')}",
            "supplier": supplier,
            "suppliers": suppliers if access.operator or len(access.readable) > 1 else [],
            "day": day,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "places": places,
            "facility_id": facility_id,
            "place_name": places[facility_id].name if facility_id in places else "",
            "rows": rows,
            "units": sum(row.quantity for row in rows),
            "packs": [
                {"order": order, "where": where_text(order), "money": settlement_text(order), "day": day_text(order)}
                for order in orders
            ],
        }
        return TemplateResponse(request, "admin/purchases/order/pick_list.html", context)


def _names(row: Any) -> tuple[str, ...]:
    return tuple(row) if isinstance(row, list | tuple) else (row,)
