"""The shopper's pages of purchases: checkout from a batch page, My orders, and an order with its timeline and what
the buyer may do with it (confirm receipt, cancel, change the day or pick-up point, report a problem).

The pages work without JavaScript. The checkout form carries a key made when it was shown, so sending it twice (a
double click, a refresh, the back button) places one order. The rules are the services'; a refusal is shown on the
form next to the field it concerns, and nothing was ordered or changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from network_credits import selectors as credits
from network_credits.models import Account, Hold
from products import selectors as catalog
from products.access import access_for
from purchases import calendar, facilities, money, selectors, services
from purchases.forms import CancelForm, CheckoutForm, DisputeForm, RescheduleForm, Way
from purchases.models import Means, Method, Order, OrderEvent, SalesTerms, Window
from purchases.refusals import OrderRefused
from purchases.selectors import BuyBox, Price
from purchases.services.checkout import MAX_UNITS

ORDERS_PER_PAGE = 50
# What each step of the timeline was, in words (the services name them by action).
ACTIONS = {
    "place": "Ordered",
    "confirm": "Confirmed",
    "dispatch": "Dispatched",
    "ready": "Ready for pick-up",
    "deliver": "Delivered",
    "confirm_receipt": "Receipt confirmed",
    "auto_confirm": "Paid after the confirmation window",
    "paid": "Payment received",
    "cancel": "Cancelled",
    "reschedule": "Changed",
    "dispute": "Problem reported",
    "answer": "Supplier answered",
    "upheld": "Dispute upheld",
    "rejected": "Dispute rejected",
    "close": "Closed",
}


# Reads these pages need beyond purchases.selectors ----------------------------------------------------------------


def _day_text(day: date, window: Window) -> str:
    return f"{date_format(day, 'l j F')}, {window.starts_at:%H:%M}–{window.ends_at:%H:%M}"


def _delivery_way(supplier_id: int) -> Way:
    days = calendar.days_offered(supplier_id=supplier_id, method=Method.DELIVERY)
    return Way(
        value="delivery",
        method=Method.DELIVERY,
        label="Delivery to your address",
        days=[(day, _day_text(day, window)) for day, window in days],
    )


def _pickup_ways(supplier_id: int, places: list[facilities.Place]) -> list[Way]:
    """Each pick-up point with the days offered there: two queries a point (a supplier has a few)."""
    return [
        Way(
            value=Way.pickup_value(place.id),
            method=Method.PICKUP,
            label=f"Pick-up at {place.name}",
            facility_id=place.id,
            address=place.address,
            days=[
                (day, _day_text(day, window))
                for day, window in calendar.days_offered(
                    supplier_id=supplier_id, method=Method.PICKUP, facility_id=place.id
                )
            ],
        )
        for place in places
    ]


def _checkout_ways(box: BuyBox) -> list[Way]:
    supplier_id = box.batch.product.supplier_id
    ways = _pickup_ways(supplier_id, box.pickup_points)
    return [*ways, _delivery_way(supplier_id)] if box.delivers else ways


def _order_ways(order: Order) -> list[Way]:
    """Where and when an order may be moved to: any pick-up point of its supplier, or delivery days."""
    if order.fulfilment == Method.DELIVERY:
        return [_delivery_way(order.supplier_id)]
    points = calendar.pickup_points(order.supplier_id)
    places = facilities.places_of(order.supplier_id, points) if points else {}
    return _pickup_ways(order.supplier_id, [places[pk] for pk in points if pk in places])


def _member_account(user: Any) -> Account | None:
    """The person's own credit account (what they pay orders from), if they opened one."""
    accounts = credits.accounts_of(user=user, access=access_for(user))
    return next((account for account in accounts if account.kind == Account.Kind.MEMBER), None)


def _terms(supplier_id: int) -> SalesTerms | None:
    return SalesTerms.objects.filter(supplier_id=supplier_id).first()


# Checkout ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    label: str
    quantity: int
    unit: str
    total: str


@dataclass(frozen=True)
class Summary:
    """What the order would cost as the form stands: the service works the real total out when it is placed."""

    lines: list[Line]
    subtotal: str
    delivery_fee: str  # '' when the supplier does not deliver
    total_pickup: str  # '' when there is no pick-up point
    total_delivery: str
    not_sold: list[str]  # lines not sold in the chosen means


def _quantity(value: Any) -> int:
    try:
        return max(0, min(int(value or 0), MAX_UNITS))
    except (TypeError, ValueError):
        return 0


def _summary(form: CheckoutForm, box: BuyBox) -> Summary:
    means = form["payment"].value() if form["payment"].value() in (Means.CASH, Means.CREDITS) else None
    means = means or form.fields["payment"].initial
    rows: list[tuple[str, int, Price | None]] = [
        (f"{box.batch.product.name}, lot {box.batch.lot}", _quantity(form["quantity"].value()), box.price(means))
    ]
    for other, prices, _available in box.other_batches:
        price = next((p for p in prices if p.means == means), None)
        rows.append((f"{other.product.name}, lot {other.lot}", _quantity(form[f"quantity_{other.pk}"].value()), price))
    priced = next((price for _, _, price in rows if price is not None), None)
    currency = priced.currency if priced else ""

    def text(amount: int) -> str:
        return money.text(amount, currency=currency) if means == Means.CASH else money.credits(amount)

    lines = [
        Line(label, quantity, price.text, text(price.amount * quantity))
        for label, quantity, price in rows
        if quantity and price
    ]
    subtotal = sum(price.amount * quantity for _, quantity, price in rows if quantity and price)
    units = sum(quantity for _, quantity, price in rows if quantity and price)
    terms = box.terms or SalesTerms(supplier=box.batch.product.supplier)
    fee = terms.delivery_fee(means=means, subtotal=subtotal, units=units) if box.delivers else 0
    return Summary(
        lines=lines,
        subtotal=text(subtotal),
        delivery_fee=(text(fee) if fee else "free") if box.delivers else "",
        total_pickup=text(subtotal) if box.pickup_points else "",
        total_delivery=text(subtotal + fee) if box.delivers else "",
        not_sold=[label for label, quantity, price in rows if quantity and price is None],
    )


def _checkout_initial(query: Any, box: BuyBox) -> dict[str, Any]:
    """What the batch page's form asks for (?quantity=&payment=); anything else in it is ignored."""
    initial: dict[str, Any] = {"quantity": max(1, _quantity(query.get("quantity", 1)))}
    if any(price.means == query.get("payment") for price in box.prices):
        initial["payment"] = query["payment"]
    return initial


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = catalog.batch_page(batch_id=batch_id, viewer=request.user)
    if batch is None:
        raise Http404("No such batch.")
    box = selectors.buy_box(batch, with_others=True)
    ways = _checkout_ways(box)
    updating = request.POST.get("action") == "update"
    if request.method == "POST" and not updating:
        form = CheckoutForm(request.POST, box=box, ways=ways)
    else:
        # The form as the batch page asked for it, or as the shopper changed it before asking for a new total.
        initial = request.POST.dict() if updating else _checkout_initial(request.GET, box)
        form = CheckoutForm(None, box=box, ways=ways, initial=initial)
    if request.method == "POST" and not updating and form.is_valid():
        try:
            placed = services.checkout(buyer=request.user, **form.order())
        except OrderRefused as refusal:
            form.refused(refusal)
        else:
            order = placed.order
            if placed.replayed:
                messages.success(request, f"This order was already placed, once: order #{order.pk}.")
            else:
                messages.success(
                    request,
                    f"Order #{order.pk} placed: {order.total_text()}. {order.supplier.legal_name} confirms it next.",
                )
            return redirect(order)
    context = {
        "batch": batch,
        "supplier": batch.product.supplier,
        "box": box,
        "form": form,
        "summary": _summary(form, box),
        "account": _member_account(request.user) if box.price(Means.CREDITS) else None,
        "terms": box.terms,
        "sold_out": not box.available,
    }
    return render(request, "purchases/checkout.html", context, status=400 if form.errors else 200)


# My orders, an order ----------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    orders = Paginator(selectors.orders_of_buyer(request.user), ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "purchases/mine.html", {"orders": orders})


@dataclass(frozen=True)
class Step:
    """A step of the timeline as the buyer reads it."""

    event: OrderEvent
    who: str
    what: str


def _who(event: OrderEvent, order: Order, viewer: Any) -> str:
    if event.role == OrderEvent.Role.BUYER:
        return "You" if order.buyer_id == viewer.pk else "The buyer"
    if event.role == OrderEvent.Role.SUPPLIER:
        return order.supplier.legal_name
    if event.role == OrderEvent.Role.OPERATOR:
        return "The network"
    return "The platform"


def _what(event: OrderEvent) -> str:
    if event.action == "deliver" and event.role == OrderEvent.Role.BUYER:
        return "Receipt confirmed"  # the buyer's word for the hand-over
    return ACTIONS.get(event.action, event.action.replace("_", " ").capitalize())


def _steps(order: Order, viewer: Any) -> list[Step]:
    return [Step(event=event, who=_who(event, order, viewer), what=_what(event)) for event in selectors.timeline(order)]


@dataclass(frozen=True)
class Actions:
    """What the buyer may do with their order now (the services refuse anything else; this chooses the forms)."""

    confirm_receipt: bool
    change: bool
    dispute: bool


def _actions(order: Order, viewer: Any) -> Actions:
    if order.buyer_id != viewer.pk:
        return Actions(False, False, False)
    unpaid_credits = order.payment == Means.CREDITS and order.paid_at is None
    handed_over = order.state in (Order.State.DISPATCHED, Order.State.READY)
    return Actions(
        confirm_receipt=handed_over or (order.state == Order.State.DELIVERED and unpaid_credits),
        change=order.state in (Order.State.PLACED, Order.State.CONFIRMED) and services.buyer_may_change(order),
        dispute=(handed_over or order.state == Order.State.DELIVERED) and getattr(order, "dispute", None) is None,
    )


def _order_page(
    request: HttpRequest,
    order: Order,
    *,
    cancel: CancelForm | None = None,
    reschedule: RescheduleForm | None = None,
    dispute: DisputeForm | None = None,
    refused: OrderRefused | None = None,
    status: int = 200,
) -> HttpResponse:
    """The order's page; after a refused action, with the form that was sent (its errors by its fields) and the
    refusal's own words at the top, where they show whatever the order's state now offers."""
    sent = cancel or reschedule or dispute
    actions = _actions(order, request.user)
    hold = order.hold
    context = {
        "order": order,
        "supplier": order.supplier,
        "lines": list(order.lines.all()),
        "steps": _steps(order, request.user),
        "actions": actions,
        "is_buyer": order.buyer_id == request.user.pk,
        "dispute": getattr(order, "dispute", None),
        "terms": _terms(order.supplier_id) if order.payment == Means.CASH else None,
        "held": hold is not None and hold.state == Hold.State.PENDING,
        "returned": hold is not None and hold.state in (Hold.State.VOIDED, Hold.State.EXPIRED),
        "confirm_days": settings.PURCHASES_CONFIRM_DAYS,
        "dispute_until": (
            order.delivered_at + timedelta(days=settings.PURCHASES_DISPUTE_DAYS) if order.delivered_at else None
        ),
        "cancel_form": cancel or CancelForm(),
        "reschedule_form": reschedule
        or (RescheduleForm(order=order, ways=_order_ways(order)) if actions.change else None),
        "dispute_form": dispute or DisputeForm(),
        "problems": list(sent.non_field_errors()) if sent is not None else (refused.messages if refused else []),
    }
    return render(request, "purchases/order.html", context, status=status)


@never_cache
@login_required
@require_safe
def order(request: HttpRequest, order_id: int) -> HttpResponse:
    found = selectors.order_visible(order_id=order_id, user=request.user, access=access_for(request.user))
    if found is None:
        raise Http404("No such order.")  # someone else's: as if it did not exist
    return _order_page(request, found)


def _own(request: HttpRequest, order_id: int) -> Order:
    """The person's own order (the buyer acts on it), else 404."""
    found = selectors.orders_of_buyer(request.user).filter(pk=order_id).first()
    if found is None:
        raise Http404("No such order.")
    return found


def _refused_status(refusal: OrderRefused) -> int:
    return 409 if refusal.code == "wrong_state" else 400


@login_required
@require_POST
def order_deliver(request: HttpRequest, order_id: int) -> HttpResponse:
    found = _own(request, order_id)
    try:
        services.order_deliver(order=found, actor=request.user)
    except OrderRefused as refusal:
        return _order_page(request, found, refused=refusal, status=_refused_status(refusal))
    paid = " The credits are paid to the supplier now." if found.payment == Means.CREDITS else ""
    messages.success(request, f"Thank you: you confirmed you received order #{found.pk}.{paid}")
    return redirect(found)


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    found = _own(request, order_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.order_cancel(order=found, actor=request.user, reason=form.cleaned_data["reason"])
        except OrderRefused as refusal:
            form.refused(refusal)
            return _order_page(request, found, cancel=form, status=_refused_status(refusal))
        back = " Your credits are back in your account." if found.payment == Means.CREDITS else ""
        messages.success(request, f"Order #{found.pk} is cancelled.{back}")
        return redirect(found)
    return _order_page(request, found, cancel=form, status=400)


@login_required
@require_POST
def order_reschedule(request: HttpRequest, order_id: int) -> HttpResponse:
    found = _own(request, order_id)
    form = RescheduleForm(request.POST, order=found, ways=_order_ways(found))
    if form.is_valid():
        try:
            changed = services.order_reschedule(order=found, actor=request.user, **form.change())
        except OrderRefused as refusal:
            form.refused(refusal)
            return _order_page(request, found, reschedule=form, status=_refused_status(refusal))
        when = date_format(changed.scheduled_for, "l j F") if changed.scheduled_for else "as soon as possible"
        messages.success(request, f"Order #{found.pk} is now for {when}.")
        return redirect(found)
    return _order_page(request, found, reschedule=form, status=400)


@login_required
@require_POST
def order_dispute(request: HttpRequest, order_id: int) -> HttpResponse:
    found = _own(request, order_id)
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            services.dispute_open(order=found, actor=request.user, **form.cleaned_data)
        except OrderRefused as refusal:
            form.refused(refusal)
            return _order_page(request, found, dispute=form, status=_refused_status(refusal))
        messages.success(
            request,
            f"Your report on order #{found.pk} is sent: {found.supplier.legal_name} answers, then the network decides.",
        )
        return redirect(found)
    return _order_page(request, found, dispute=form, status=400)
