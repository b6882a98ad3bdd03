"""How the dashboard words an order: its moments, its day, where it is handed over and where its money stands."""

from datetime import date
from typing import Any

from django.utils import dateformat, timezone

from network_credits.models import Hold
from purchases.models import Means, Method, Order

State = Order.State


def _day(day: date) -> str:
    # Sat 6 Dec; with the year when it is not this year's.
    return dateformat.format(day, "D j M" if day.year == timezone.localdate().year else "D j M Y")


def when(moment: Any) -> str:
    """A moment as the dashboard writes it, in the platform's time zone: Sat 6 Dec, 13:00."""
    if not moment:
        return "—"
    local = timezone.localtime(moment)
    return f"{_day(local.date())}, {local:%H:%M}"


def day_text(order: Order) -> str:
    return _day(order.scheduled_for) if order.scheduled_for else "as soon as possible"


def where_text(order: Order) -> str:
    if order.fulfilment == Method.PICKUP:
        place = ", ".join(part for part in (order.place_name, order.place_address) if part)
        return f"Pick-up at {place}"
    return f"Delivery to {order.delivery_address()}"


def settlement_text(order: Order) -> str:
    """Where the order's money stands."""
    if order.payment == Means.CASH:
        if order.paid_at:
            return f"{order.total_text()} received on {when(order.paid_at)}."
        if order.state == State.CANCELLED:
            return "Not paid."
        return f"{order.total_text()} to collect ({order.get_cash_method_display().lower()})."
    if order.paid_at:
        return f"{order.total_text()} paid to you on {when(order.paid_at)}. Guaranteed by the network."
    hold = order.hold
    if hold is not None and hold.state == Hold.State.PENDING:
        payday = f", or on {when(order.confirm_by)}" if order.confirm_by else ""
        return (
            f"{order.total_text()} reserved from the buyer's credits: paid to you when they confirm receipt"
            f"{payday}. Guaranteed by the network."
        )
    return f"{order.total_text()} in credits, returned to the buyer."
