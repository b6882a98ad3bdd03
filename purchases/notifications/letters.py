"""What the buyer and the supplier read about each step of an order: what happened, what happens next and by
when, and the people's own words as they wrote them."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import dateformat, timezone

from purchases import money
from purchases.models import Dispute, Means, Method, Order, OrderEvent

Role = OrderEvent.Role


@dataclass(frozen=True)
class Letter:
    """One e-mail about one step, as its recipient reads it."""

    subject: str
    happened: str
    said: list[tuple[str, str]] = field(default_factory=list)  # (whose words, the words as written)
    next: list[str] = field(default_factory=list)


def when(moment: datetime) -> str:
    """A deadline as people read it, in the platform's time zone: Saturday 5 December 2026, 13:00."""
    return dateformat.format(timezone.localtime(moment), "l j F Y, H:i")


def day_text(day: date) -> str:
    return dateformat.format(day, "l j F Y")


def _slot(order: Order) -> str:
    """When the order is handed over: on a day between the window's hours, or as soon as possible."""
    if order.scheduled_for is None:
        return "as soon as possible"
    text = f"on {day_text(order.scheduled_for)}"
    if order.window is not None:
        text += f", {order.window.starts_at:%H:%M}–{order.window.ends_at:%H:%M}"
    return text


def _place(order: Order) -> str:
    if order.fulfilment == Method.PICKUP:
        return order.place_name + (f", {order.place_address}" if order.place_address else "")
    return order.delivery_address()


def _handover(order: Order) -> str:
    if order.fulfilment == Method.PICKUP:
        return f"pick-up at {_place(order)}, {_slot(order)}"
    return f"delivery to {_place(order)}, {_slot(order)}"


def _payment(order: Order) -> str:
    if order.payment == Means.CREDITS:
        return "in network credits, guaranteed by the network"
    return order.get_cash_method_display().lower()


def _state(event: OrderEvent) -> str:
    """The order's state as the step left it (the e-mail may go out after later steps)."""
    return Order.State(event.to_state).label


def _dispute_until(order: Order) -> datetime | None:
    return order.delivered_at + timedelta(days=settings.PURCHASES_DISPUTE_DAYS) if order.delivered_at else None


def _dispute(order: Order) -> Dispute | None:
    return Dispute.objects.filter(order=order).first()


def _reason(event: OrderEvent, order: Order) -> str:
    """A cancellation's reason as its author wrote it (the service adds the refund of a cash payment after it)."""
    refund = f"The supplier refunds the {order.total_text()} paid."
    note = event.note
    return note[: -len(refund)].strip() if note.endswith(refund) else note


# The steps, as each side reads them -------------------------------------------------------------------------------


def _hand_over_next(order: Order, *, buyer: bool) -> str:
    supplier = order.supplier.legal_name
    doing = "has it ready for pick-up" if order.fulfilment == Method.PICKUP else "dispatches it"
    if buyer:
        back = " and your credits come back to you" if order.payment == Means.CREDITS else ""
        return f"{supplier} {doing} by {when(order.dispatch_by)}. If they do not, the order is cancelled{back}."
    doing = "Have it ready for pick-up" if order.fulfilment == Method.PICKUP else "Dispatch it"
    back = " and the buyer's credits go back to them" if order.payment == Means.CREDITS else ""
    return f"{doing} by {when(order.dispatch_by)}. Past that, the order is cancelled automatically{back}."


def _change_next(order: Order, event: OrderEvent) -> str:
    if order.scheduled_for is not None:
        return f"You can change the day or cancel the order until {when(order.changeable_until)}."
    if event.to_state == Order.State.PLACED:
        return f"You can cancel it until {order.supplier.legal_name} confirms it."
    return f"To cancel it now, ask {order.supplier.legal_name}."


def _confirm_next(order: Order, *, buyer: bool) -> str:
    """After the hand-over: who confirms receipt, and when credits are paid without it."""
    supplier = order.supplier.legal_name
    deadline = f" on {when(order.confirm_by)}" if order.confirm_by else ""
    if order.payment == Means.CREDITS:
        if buyer:
            return (
                "When you have it, confirm you received it on your order page: that pays the "
                f"{order.total_text()} to {supplier}. If something is wrong, report a problem there instead; "
                f"otherwise the credits are paid to {supplier} automatically{deadline}."
            )
        return (
            f"The buyer's {order.total_text()} are paid into your account when they confirm receipt, or "
            f"automatically{deadline} if they report no problem."
        )
    if buyer:
        return "When you have it, confirm you received it on your order page, or report a problem there."
    return "Record the buyer's payment in your dashboard when you receive it." if order.paid_at is None else ""


def _after_delivery_next(order: Order, *, buyer: bool) -> str:
    until = _dispute_until(order)
    if until is None:
        return ""
    if buyer:
        guarantee = ": if it is upheld, the network refunds you at once" if order.payment == Means.CREDITS else ""
        return f"If something is wrong, you can report a problem until {when(until)}{guarantee}."
    return f"The order closes on {when(until)} unless the buyer reports a problem before."


def _place_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    if buyer:
        pay = (
            f"{order.total_text()} are reserved in your credit account. They are paid to {supplier} only when you "
            f"confirm you received the order, or {settings.PURCHASES_CONFIRM_DAYS} days after the hand-over if you "
            "report no problem. The network guarantees what you buy with credits."
        )
        if order.payment == Means.CASH:
            if order.cash_method == Order.CashMethod.CASH_AT_PICKUP:
                at = "pick-up" if order.fulfilment == Method.PICKUP else "delivery"
                pay = f"You pay {order.total_text()} in cash at the {at}."
            else:
                terms = getattr(order.supplier, "sales_terms", None)
                how = terms.payment_instructions.strip() if terms else ""
                pay = f"Pay {order.total_text()} by {order.get_cash_method_display().lower()}" + (
                    f" as {supplier} explains: {how}" if how else f"; {supplier} tells you how."
                )
                pay += " Never send card numbers to anyone."
        return Letter(
            subject=f"Your order #{order.pk} with {supplier}",
            happened=f"You placed an order with {supplier}. It is waiting for them to confirm it.",
            next=[_hand_over_next(order, buyer=True), pay, _change_next(order, event)],
        )
    pay = (
        f"The buyer's {order.total_text()} are reserved for you; they are paid into your account when the buyer "
        f"confirms receipt, or {settings.PURCHASES_CONFIRM_DAYS} days after the hand-over."
        if order.payment == Means.CREDITS
        else f"The buyer pays {order.total_text()} ({_payment(order)}). Record the payment in your dashboard when "
        "you receive it."
    )
    return Letter(
        subject=f"New order #{order.pk} from {order.buyer.public_name}",
        happened=f"{order.buyer.public_name} placed an order for {_handover(order)}.",
        next=["Confirm it in your dashboard.", _hand_over_next(order, buyer=False), pay],
    )


def _confirm_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    if buyer:
        return Letter(
            subject=f"Order #{order.pk} confirmed by {supplier}",
            happened=f"{supplier} confirmed your order.",
            next=[_hand_over_next(order, buyer=True), _change_next(order, event)],
        )
    return Letter(
        subject=f"Order #{order.pk} confirmed",
        happened=f"Order #{order.pk} from {order.buyer.public_name} is confirmed.",
        next=[_hand_over_next(order, buyer=False)],
    )


def _hand_over_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    said = [(f"{supplier} wrote" if buyer else "Your note to the buyer", event.note)] if event.note else []
    if event.action == "ready":
        if buyer:
            bring = (
                f"Bring {order.total_text()} in cash. "
                if order.payment == Means.CASH and order.paid_at is None and order.cash_method == "cash_at_pickup"
                else ""
            )
            return Letter(
                subject=f"Order #{order.pk} is ready for pick-up",
                happened=f"Your order is ready for pick-up at {_place(order)}.",
                said=said,
                next=[f"Pick it up {_slot(order)}. {bring}".strip(), _confirm_next(order, buyer=True)],
            )
        return Letter(
            subject=f"Order #{order.pk} is ready for pick-up",
            happened=f"Order #{order.pk} is ready for {order.buyer.public_name} to pick up at {_place(order)}.",
            said=said,
            next=[_confirm_next(order, buyer=False)],
        )
    if buyer:
        return Letter(
            subject=f"Order #{order.pk} is on its way",
            happened=f"{supplier} dispatched your order to {_place(order)}.",
            said=said,
            next=[_confirm_next(order, buyer=True)],
        )
    return Letter(
        subject=f"Order #{order.pk} dispatched",
        happened=f"Order #{order.pk} is on its way to {order.buyer.public_name}.",
        said=said,
        next=[_confirm_next(order, buyer=False)],
    )


def _deliver_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    paid = order.payment == Means.CREDITS and order.paid_at is not None
    if event.role == Role.BUYER or event.action == "confirm_receipt":
        if buyer:
            return Letter(
                subject=f"Order #{order.pk}: you confirmed receipt",
                happened=f"You confirmed you received order #{order.pk}."
                + (f" {order.total_text()} were paid to {supplier}." if paid else ""),
                next=[_after_delivery_next(order, buyer=True)],
            )
        return Letter(
            subject=f"Order #{order.pk}: receipt confirmed" + (", credits paid" if paid else ""),
            happened=f"{order.buyer.public_name} confirmed they received order #{order.pk}."
            + (f" {order.total_text()} were paid into your account." if paid else ""),
            next=[_after_delivery_next(order, buyer=False)],
        )
    if buyer:
        return Letter(
            subject=f"Order #{order.pk} delivered",
            happened=f"{supplier} recorded that you received order #{order.pk}.",
            next=[
                _confirm_next(order, buyer=True)
                if order.payment == Means.CREDITS and not paid
                else _after_delivery_next(order, buyer=True)
            ],
        )
    return Letter(
        subject=f"Order #{order.pk} delivered",
        happened=f"Order #{order.pk} is recorded as handed over to {order.buyer.public_name}.",
        next=[_confirm_next(order, buyer=False)],
    )


def _auto_confirm_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    if buyer:
        return Letter(
            subject=f"Order #{order.pk}: paid to {supplier}",
            happened=f"The time to confirm order #{order.pk} ended without a reported problem: "
            f"{order.total_text()} were paid to {supplier}.",
            next=[_after_delivery_next(order, buyer=True)],
        )
    return Letter(
        subject=f"Order #{order.pk}: credits paid",
        happened=f"The buyer's time to confirm order #{order.pk} ended without a reported problem: "
        f"{order.total_text()} were paid into your account.",
        next=[_after_delivery_next(order, buyer=False)],
    )


def _paid_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    payment = getattr(order, "cash_payment", None)
    reference = f", reference {payment.reference}" if payment is not None and payment.reference else ""
    how = payment.get_method_display().lower() if payment is not None else _payment(order)
    nothing_more = "Nothing more to pay for this order."
    if buyer:
        return Letter(
            subject=f"Order #{order.pk}: payment received",
            happened=f"{supplier} confirmed they received your payment of {order.total_text()} ({how}{reference}).",
            next=[nothing_more],
        )
    return Letter(
        subject=f"Order #{order.pk}: payment recorded",
        happened=f"The payment of {order.total_text()} for order #{order.pk} is recorded ({how}{reference}).",
        next=[_hand_over_next(order, buyer=False)]
        if event.to_state in (Order.State.PLACED, Order.State.CONFIRMED)
        else [],
    )


def _cancel_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    credits_back = order.payment == Means.CREDITS and order.hold_id is not None and order.paid_at is None
    cash_back = order.payment == Means.CASH and order.paid_at is not None
    said: list[tuple[str, str]] = []
    if event.role == Role.SYSTEM:
        happened = f"Order #{order.pk} was cancelled by the platform. {event.note}".strip()
    elif event.role == Role.BUYER:
        happened = (
            f"You cancelled order #{order.pk}." if buyer else f"{order.buyer.public_name} cancelled order #{order.pk}."
        )
    else:
        who = supplier if event.role == Role.SUPPLIER else "The network"
        happened = f"{who} cancelled your order #{order.pk}." if buyer else f"{who} cancelled order #{order.pk}."
    reason = _reason(event, order) if event.role != Role.SYSTEM else ""
    if reason:
        said.append(("The reason given", reason))
    if buyer:
        outcome = [
            f"The {order.total_text()} reserved are back in your credit account." if credits_back else "",
            f"{supplier} refunds you the {order.total_text()} you paid." if cash_back else "",
        ]
    else:
        outcome = [
            "The units are for sale again.",
            f"The {order.total_text()} reserved went back to the buyer." if credits_back else "",
            f"Refund the buyer the {order.total_text()} they paid." if cash_back else "",
        ]
    return Letter(subject=f"Order #{order.pk} cancelled", happened=happened, said=said, next=outcome)


def _reschedule_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    if buyer:
        return Letter(
            subject=f"Order #{order.pk} changed",
            happened=f"Your order is now for {_handover(order)}.",
            next=[_hand_over_next(order, buyer=True), _change_next(order, event)],
        )
    return Letter(
        subject=f"Order #{order.pk} changed by the buyer",
        happened=f"{order.buyer.public_name} changed order #{order.pk}: it is now for {_handover(order)}.",
        next=[_hand_over_next(order, buyer=False)],
    )


def _dispute_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    dispute = _dispute(order)
    reason = dispute.get_reason_display().lower() if dispute else ""
    said = [("What you wrote" if buyer else "What the buyer wrote", dispute.description)] if dispute else []
    if dispute and dispute.evidence_url:
        said.append(("Evidence", dispute.evidence_url))
    unpaid = order.payment == Means.CREDITS and order.paid_at is None
    if buyer:
        guarantee = (
            "Meanwhile nothing is paid to them."
            if unpaid
            else "If it is upheld, the network's guarantee fund refunds you at once."
            if order.payment == Means.CREDITS
            else ""
        )
        return Letter(
            subject=f"Order #{order.pk}: problem reported",
            happened=f"You reported a problem with order #{order.pk}: {reason}.",
            said=said,
            next=[f"{supplier} answers, then a network operator decides, with written reasons. {guarantee}".strip()],
        )
    return Letter(
        subject=f"Order #{order.pk}: the buyer reported a problem",
        happened=f"{order.buyer.public_name} reported a problem with order #{order.pk}: {reason}.",
        said=said,
        next=[
            "Answer it in your dashboard as soon as you can: a network operator then decides, with written reasons.",
            "The buyer's credits stay reserved meanwhile."
            if unpaid
            else "If it is upheld, the network refunds the buyer from its guarantee fund at once and claims the "
            "amount back from your account."
            if order.payment == Means.CREDITS
            else "",
        ],
    )


def _answer_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    decide = "A network operator now decides, with written reasons; you will get an e-mail when they have."
    if buyer:
        return Letter(
            subject=f"Order #{order.pk}: {supplier} answered",
            happened=f"{supplier} answered the problem you reported with order #{order.pk}.",
            said=[(f"{supplier} wrote", event.note)],
            next=[decide],
        )
    return Letter(
        subject=f"Order #{order.pk}: your answer was sent",
        happened=f"Your answer to the problem with order #{order.pk} is recorded and shown to the buyer.",
        said=[("Your answer", event.note)],
        next=[decide],
    )


def _decision_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    supplier = order.supplier.legal_name
    dispute = _dispute(order)
    upheld = event.action == "upheld"
    said = [("The network's reasons", dispute.decision_reason)] if dispute and dispute.decision_reason else []
    credits = order.payment == Means.CREDITS
    refunded = dispute.refunded if dispute else 0
    if upheld and buyer:
        outcome = (
            f"The network's guarantee fund refunded {money.credits(refunded)} to your credit account."
            if refunded
            else f"The {order.total_text()} reserved are back in your credit account."
            if credits
            else f"{supplier} refunds you the {order.total_text()} you paid."
        )
        happened = f"The network upheld the problem you reported with order #{order.pk}."
    elif upheld:
        outcome = (
            f"The network's guarantee fund refunded the buyer {money.credits(refunded)} and claims it back from your "
            f"account: {money.credits(dispute.recovered)} so far"
            + (
                f"; you still owe the network {money.credits(dispute.outstanding)}, claimed as your balance allows."
                if dispute.outstanding
                else "."
            )
            if refunded and dispute
            else f"The {order.total_text()} reserved went back to the buyer."
            if credits
            else f"Refund the buyer the {order.total_text()} they paid."
        )
        happened = f"The network upheld the buyer's complaint about order #{order.pk}."
    elif buyer:
        outcome = f"The order is settled: {supplier} keeps the {order.total_text()}." if credits else ""
        happened = f"The network rejected the problem you reported with order #{order.pk}."
    else:
        outcome = f"The order is settled: the {order.total_text()} are yours." if credits else ""
        happened = f"The network rejected the buyer's complaint about order #{order.pk}."
    return Letter(
        subject=f"Order #{order.pk}: dispute {'upheld' if upheld else 'rejected'}",
        happened=happened,
        said=said,
        next=[outcome, "The order is closed."],
    )


def _close_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    return Letter(
        subject=f"Order #{order.pk} closed",
        happened=f"Order #{order.pk} is closed: the time to report a problem has ended."
        if buyer
        else f"Order #{order.pk} is closed: the sale is final.",
    )


LETTERS = {
    "place": _place_letter,
    "confirm": _confirm_letter,
    "dispatch": _hand_over_letter,
    "ready": _hand_over_letter,
    "deliver": _deliver_letter,
    "confirm_receipt": _deliver_letter,
    "auto_confirm": _auto_confirm_letter,
    "paid": _paid_letter,
    "cancel": _cancel_letter,
    "reschedule": _reschedule_letter,
    "dispute": _dispute_letter,
    "answer": _answer_letter,
    "upheld": _decision_letter,
    "rejected": _decision_letter,
    "close": _close_letter,
}


def _other_letter(order: Order, event: OrderEvent, *, buyer: bool) -> Letter:
    return Letter(subject=f"Order #{order.pk} updated", happened=f"Order #{order.pk} is {_state(event).lower()}.")
