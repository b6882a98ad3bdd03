"""What in purchases needs attention, for the dashboard's home (see core.dashboard):

- orders waiting for their supplier: to confirm, and (once confirmed) to hand over. One item per supplier and kind,
  its deadlines soonest first; a single order links straight to its page, several to the list of them, soonest
  deadline first. An order not handed over by its deadline is cancelled (and its credits go back to the buyer).
- disputes waiting for the supplier's answer (for its members) and, for operators, disputes waiting for a decision.

One query each, whatever the number of orders or disputes.
"""

from collections.abc import Iterator
from itertools import groupby
from urllib.parse import urlencode

from django.db.models import Count, F, Min, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import dateformat, timezone

from core.access import Access
from core.dashboard import AttentionItem, readable_rows
from purchases.models import Dispute, Method, Order

State = Order.State
SHOWN = 5  # the soonest deadlines an item names


def _deadline(order: Order) -> str:
    return dateformat.format(timezone.localtime(order.dispatch_by), "D j M, H:i")


def _what(order: Order) -> str:
    return "pick-up" if order.fulfilment == Method.PICKUP else "delivery"


def orders_waiting(access: Access) -> Iterator[AttentionItem]:
    """Orders to confirm and orders to hand over, per supplier, soonest deadline first."""
    group = [F("supplier_id"), F("state")]
    orders = (
        readable_rows(Order.objects.filter(state__in=[State.PLACED, State.CONFIRMED]), access, "supplier")
        .annotate(
            rank=Window(RowNumber(), partition_by=group, order_by=[F("dispatch_by").asc(), F("pk").asc()]),
            waiting=Window(Count("pk"), partition_by=group),
            oldest=Window(Min("placed_at"), partition_by=group),
        )
        .filter(rank__lte=SHOWN)
        .select_related("supplier")
        .order_by("supplier_id", "state", "rank")
    )
    for (_, state), rows in groupby(orders, key=lambda order: (order.supplier_id, order.state)):
        soonest = list(rows)
        first = soonest[0]
        supplier = first.supplier
        to_confirm = state == State.PLACED
        if first.waiting == 1:
            title = f"Order #{first.pk} to {'confirm' if to_confirm else 'hand over'}"
            day = (
                f"on {dateformat.format(first.scheduled_for, 'D j M')}"
                if first.scheduled_for
                else "as soon as possible"
            )
            detail = (
                f"{first.total_text()}, {_what(first)} {day}. Hand it over by {_deadline(first)}, or it is cancelled."
            )
            url = reverse("admin:purchases_order_change", args=[first.pk])
            action = "Confirm it" if to_confirm else "Hand it over"
        else:
            title = f"{first.waiting} orders to {'confirm' if to_confirm else 'hand over'}"
            listed = "; ".join(f"#{order.pk} by {_deadline(order)}" for order in soonest)
            more = f"; and {first.waiting - len(soonest)} more" if first.waiting > len(soonest) else ""
            detail = f"Soonest deadline first: {listed}{more}. An order not handed over by then is cancelled."
            query = urlencode({"state__exact": state, "supplier__id__exact": supplier.pk})
            url = f"{reverse('admin:purchases_order_changelist')}?{query}"
            action = "Confirm them" if to_confirm else "Hand them over"
        yield AttentionItem(
            since=first.oldest,
            title=title,
            detail=detail,
            url=url,
            supplier_id=supplier.pk,
            supplier_name=supplier.legal_name,
            action=action,
        )


def _excerpt(text: str, length: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def disputes_to_answer(access: Access) -> Iterator[AttentionItem]:
    """Disputes a buyer opened that the supplier has not answered yet (its members' homes; operators decide)."""
    if access.operator:
        return
    disputes = readable_rows(Dispute.objects.filter(state=Dispute.State.OPEN), access, "order__supplier")
    for dispute in disputes.select_related("order__supplier").order_by("opened_at"):
        supplier = dispute.order.supplier
        yield AttentionItem(
            since=dispute.opened_at,
            title=f"A problem reported with order #{dispute.order_id}: {dispute.get_reason_display().lower()}",
            detail=f"“{_excerpt(dispute.description)}” Answer it: the network decides once it has your side.",
            url=reverse("admin:purchases_dispute_change", args=[dispute.pk]),
            supplier_id=supplier.pk,
            supplier_name=supplier.legal_name,
            action="Answer",
        )


def disputes_to_decide(access: Access) -> Iterator[AttentionItem]:
    """Disputes waiting for the network's decision (operators' home): answered ones, and open ones too, which an
    operator may decide without the supplier's answer."""
    if not access.operator:
        return
    undecided = Dispute.objects.filter(state__in=[Dispute.State.OPEN, Dispute.State.ANSWERED])
    for dispute in undecided.select_related("order__supplier").order_by("opened_at"):
        supplier = dispute.order.supplier
        answered = dispute.state == Dispute.State.ANSWERED
        yield AttentionItem(
            since=dispute.responded_at if answered and dispute.responded_at else dispute.opened_at,
            title=f"Decide the dispute on order #{dispute.order_id}: {dispute.get_reason_display().lower()}",
            detail=(
                f"{supplier.legal_name} has answered: “{_excerpt(dispute.supplier_response)}”"
                if answered
                else f"Not answered by {supplier.legal_name} yet. The buyer says: “{_excerpt(dispute.description)}”"
            ),
            url=reverse("admin:purchases_dispute_change", args=[dispute.pk]),
            supplier_id=supplier.pk,
            supplier_name=supplier.legal_name,
            action="Decide",
        )
