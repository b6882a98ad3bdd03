"""The steps of an order's life after checkout: confirm, hand over, deliver, cancel, reschedule; cash receipts.

Locks are taken in one order everywhere: the order row, then the stock rows (by batch id), then the ledger's
accounts (the ledger locks them by id).
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import outbox, pages
from network_credits import services as ledger
from network_credits.models import Account, Hold
from network_credits.services import LedgerRefusal
from products.access import access_for
from products.models import Supplier
from purchases import calendar
from purchases.models import (
    CashPayment,
    Means,
    Method,
    Order,
    OrderEvent,
    Stock,
)
from purchases.refusals import OrderRefused

logger = logging.getLogger(__name__)

SYSTEM = "purchases"  # the ledger's initiator for the movements no person asks for
State = Order.State
Role = OrderEvent.Role

# Called with an order's id once its credits are paid to the supplier (from a task, after commit): the project
# records the sale in provenance as an EPCIS TransactionEvent naming the network as guarantor (socialbiz/apps.py).
credit_sale_recorders: list[Callable[[int], None]] = []


def role_of(order: Order, user: Any) -> str | None:
    """The buyer, an operator, or an owner or editor of the order's supplier (viewers only read); None otherwise."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.pk == order.buyer_id:
        return Role.BUYER
    access = access_for(user)
    if access.operator:
        return Role.OPERATOR
    if order.supplier_id in access.editable:
        return Role.SUPPLIER
    return None


def _require(order: Order, actor: Any, *roles: str) -> str:
    role = role_of(order, actor)
    if role is None:
        raise OrderRefused("This is not your order.", code="not_found")
    if role not in roles:
        who: dict[str, str] = {
            Role.BUYER: "the buyer",
            Role.SUPPLIER: "the supplier",
            Role.OPERATOR: "a network operator",
        }
        raise OrderRefused(
            f"Only {' or '.join(who[r] for r in roles if r in who)} can do this.", code="permission_denied"
        )
    return role


def _wrong_state(order: Order, doing: str) -> OrderRefused:
    return OrderRefused(
        f"Order #{order.pk} is {order.get_state_display().lower()}: it cannot be {doing} now.", code="wrong_state"
    )


def _stock_locked(batch_ids: list[int]) -> dict[int, Stock]:
    Stock.objects.bulk_create([Stock(batch_id=pk) for pk in batch_ids], ignore_conflicts=True)
    locked = Stock.objects.select_for_update(no_key=True).filter(batch_id__in=batch_ids).order_by("batch_id")
    return {stock.batch_id: stock for stock in locked}


def _stock_return(order: Order) -> None:
    lines = list(order.lines.all())
    stock = _stock_locked(sorted(line.batch_id for line in lines))
    for line in lines:
        Stock.objects.filter(pk=line.batch_id).update(held=F("held") - line.quantity)
        stock[line.batch_id].held -= line.quantity
    pages.changed([("batch", line.batch_id) for line in lines])


def _event(
    order: Order, *, action: str, to_state: str, actor: Any, role: str, note: str = "", before: str = ""
) -> OrderEvent:
    event = OrderEvent.objects.create(
        order=order,
        from_state=before,
        to_state=to_state,
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        role=role,
        note=note,
    )
    outbox.enqueue("purchases.tasks.order_notify", event.pk)
    return event


def _accounts(buyer: Any, supplier: Supplier) -> tuple[Account, Account]:
    return (
        ledger.account_open_for_member(user=buyer),
        ledger.account_open_for_supplier(supplier_id=supplier.pk, name=supplier.legal_name),
    )


def _locked(order: Order) -> Order:
    # Only the order's row: PostgreSQL refuses FOR UPDATE across the outer join to a null hold.
    locked = Order.objects.select_for_update(of=("self",)).select_related("supplier", "hold").get(pk=order.pk)
    return locked


def _move(order: Order, *, to_state: str, action: str, actor: Any, role: str, note: str = "", **fields: Any) -> Order:
    before = order.state
    order.state = to_state
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["state", "updated_at", *fields])
    _event(order, action=action, to_state=to_state, actor=actor, role=role, note=note, before=before)
    return order


def _settle_at(order: Order, now: datetime) -> datetime:
    """When credits are paid without the buyer's confirmation: the confirmation window after the hand-over."""
    start = now
    if order.window is not None and order.scheduled_for is not None:
        start = max(now, calendar.window_end(order.window, order.scheduled_for))
    return start + timedelta(days=settings.PURCHASES_CONFIRM_DAYS)


@transaction.atomic
def order_confirm(*, order: Order, actor: Any, now: datetime | None = None) -> Order:
    """The supplier accepts the order."""
    locked = _locked(order)
    role = _require(locked, actor, Role.SUPPLIER, Role.OPERATOR)
    if locked.state != State.PLACED:
        raise _wrong_state(locked, "confirmed")
    return _move(locked, to_state=State.CONFIRMED, action="confirm", actor=actor, role=role)


@transaction.atomic
def order_dispatch(*, order: Order, actor: Any, note: str = "", now: datetime | None = None) -> Order:
    """The supplier sends a delivery on its way (or, for a pick-up, has it ready: order_ready)."""
    return _hand_over(order=order, actor=actor, note=note, now=now or timezone.now(), method=Method.DELIVERY)


@transaction.atomic
def order_ready(*, order: Order, actor: Any, note: str = "", now: datetime | None = None) -> Order:
    """The supplier has a pick-up order ready at its facility."""
    return _hand_over(order=order, actor=actor, note=note, now=now or timezone.now(), method=Method.PICKUP)


def _hand_over(*, order: Order, actor: Any, note: str, now: datetime, method: str) -> Order:
    locked = _locked(order)
    role = _require(locked, actor, Role.SUPPLIER, Role.OPERATOR)
    doing = "dispatched" if method == Method.DELIVERY else "made ready for pick-up"
    if locked.state not in (State.PLACED, State.CONFIRMED):
        raise _wrong_state(locked, doing)
    if locked.fulfilment != method:
        other = "dispatch" if method == Method.PICKUP else "ready"
        raise OrderRefused(
            f"Order #{locked.pk} is a {locked.get_fulfilment_display().lower()}: use '{other}'.", code="wrong_state"
        )
    if now > locked.dispatch_by:
        raise OrderRefused(
            f"The deadline to hand over order #{locked.pk} passed on "
            f"{timezone.localtime(locked.dispatch_by):%d %b %Y %H:%M}; "
            "it is being cancelled and the buyer's credits returned.",
            code="wrong_state",
        )
    to_state = State.DISPATCHED if method == Method.DELIVERY else State.READY
    return _move(
        locked,
        to_state=to_state,
        action="dispatch" if method == Method.DELIVERY else "ready",
        actor=actor,
        role=role,
        note=note,
        confirm_by=_settle_at(locked, now),
    )


@transaction.atomic
def order_deliver(*, order: Order, actor: Any, now: datetime | None = None) -> Order:
    """The buyer confirms they received it (credits are paid to the supplier now), or the supplier records the
    hand-over (credits are paid when the buyer confirms, or when the confirmation window ends)."""
    now = now or timezone.now()
    locked = _locked(order)
    role = _require(locked, actor, Role.BUYER, Role.SUPPLIER, Role.OPERATOR)
    if (
        locked.state == State.DELIVERED
        and role == Role.BUYER
        and locked.payment == Means.CREDITS
        and not locked.paid_at
    ):
        _post(locked, actor=actor, now=now)
        _event(
            locked, action="confirm_receipt", to_state=State.DELIVERED, actor=actor, role=role, before=State.DELIVERED
        )
        return locked
    if locked.state not in (State.DISPATCHED, State.READY):
        raise _wrong_state(locked, "marked delivered")
    fields: dict[str, Any] = {"delivered_at": now}
    if role == Role.BUYER and locked.payment == Means.CREDITS:
        _post(locked, actor=actor, now=now)
        fields["paid_at"] = locked.paid_at
    elif locked.payment == Means.CREDITS:
        fields["confirm_by"] = min(locked.confirm_by or now, now + timedelta(days=settings.PURCHASES_CONFIRM_DAYS))
    _move(locked, to_state=State.DELIVERED, action="deliver", actor=actor, role=role, **fields)
    return locked


def _post(order: Order, *, actor: Any, now: datetime) -> None:
    """Pay the order's hold to the supplier, and have the sale recorded in provenance."""
    if order.hold is None:
        return
    person = actor if getattr(actor, "is_authenticated", False) else None
    try:
        ledger.hold_post(
            hold=order.hold,
            key=f"order-{order.pk}-post",
            actor=person,
            system="" if person else SYSTEM,
            memo=f"Order #{order.pk}",
        )
    except LedgerRefusal as refusal:
        if refusal.code == "hold_not_pending":
            raise OrderRefused(
                f"The credits reserved for order #{order.pk} were released ({order.hold.state}); "
                "it can no longer be paid in credits. Ask the network for help.",
                code="hold_expired",
            ) from refusal
        raise OrderRefused(refusal.messages[0], code=refusal.code or "refused") from refusal
    order.paid_at = now
    order.save(update_fields=["paid_at", "updated_at"])
    outbox.enqueue("purchases.tasks.credit_sale_record", order.pk)
    pages.changed([("batch", batch_id) for batch_id in order.lines.values_list("batch_id", flat=True)])


def _void(order: Order, *, actor: Any, reason: str) -> None:
    if order.hold is None or order.hold.state != Hold.State.PENDING:
        return
    person = actor if getattr(actor, "is_authenticated", False) else None
    ledger.hold_void(
        hold=order.hold,
        key=f"order-{order.pk}-void",
        actor=person,
        system="" if person else SYSTEM,
        memo=f"Order #{order.pk}: {reason}"[:200],
    )


@transaction.atomic
def order_cancel(
    *, order: Order, actor: Any = None, reason: str = "", now: datetime | None = None, system: bool = False
) -> Order:
    """Cancel an order before it is handed over: the buyer until its cut-off, the supplier or an operator with a
    reason, or the platform (a missed deadline, a suspended supplier). Stock and credits come back."""
    now = now or timezone.now()
    locked = _locked(order)
    role = Role.SYSTEM if system else _require(locked, actor, Role.BUYER, Role.SUPPLIER, Role.OPERATOR)
    reason = " ".join((reason or "").split())
    if locked.state not in (State.PLACED, State.CONFIRMED):
        raise _wrong_state(locked, "cancelled")
    if role == Role.BUYER and not buyer_may_change(locked, now=now):
        raise OrderRefused(
            f"Order #{locked.pk} could be cancelled until {timezone.localtime(locked.changeable_until):%d %b %Y %H:%M}"
            if locked.scheduled_for
            else f"{locked.supplier.legal_name} has confirmed order #{locked.pk}; ask them to cancel it.",
            code="wrong_state",
        )
    if role in (Role.SUPPLIER, Role.OPERATOR) and not reason:
        raise OrderRefused({"reason": "Tell the buyer why you cancel their order."}, code="invalid")
    _stock_return(locked)  # stock before the ledger's accounts: the one lock order
    _void(locked, actor=actor, reason=reason or "cancelled")
    note = reason
    if locked.payment == Means.CASH and locked.paid_at is not None:
        note = f"{reason} The supplier refunds the {locked.total_text()} paid.".strip()
    return _move(locked, to_state=State.CANCELLED, action="cancel", actor=actor, role=role, note=note)


def buyer_may_change(order: Order, *, now: datetime | None = None) -> bool:
    """A scheduled order until its cut-off; an order for now until the supplier confirms it."""
    now = now or timezone.now()
    if order.state == State.PLACED and order.scheduled_for is None:
        return True
    return (
        order.scheduled_for is not None
        and order.state in (State.PLACED, State.CONFIRMED)
        and now < order.changeable_until
    )


def _looks_like_card_number(text: str) -> bool:
    digits = text.replace(" ", "").replace("-", "")
    if not (digits.isdigit() and 13 <= len(digits) <= 19):
        return False
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@transaction.atomic
def cash_receive(
    *, order: Order, actor: Any, method: str = "", provider: str = "", reference: str = "", now: datetime | None = None
) -> CashPayment:
    """The supplier confirms it received the order's price in hard currency (cash, or the provider's reference)."""
    now = now or timezone.now()
    locked = _locked(order)
    _require(locked, actor, Role.SUPPLIER, Role.OPERATOR)
    if locked.payment != Means.CASH:
        raise OrderRefused(f"Order #{locked.pk} is paid in credits.", code="wrong_state")
    if locked.state == State.CANCELLED or locked.paid_at is not None:
        raise _wrong_state(locked, "marked paid")
    method = method or locked.cash_method
    provider, reference = provider.strip(), reference.strip()
    if method not in Order.CashMethod.values:
        raise OrderRefused({"method": "Cash, card or bank transfer."}, code="invalid")
    if method != Order.CashMethod.CASH_AT_PICKUP and not reference:
        raise OrderRefused(
            {"reference": "Give the payment provider's reference for a card or bank payment."}, code="invalid"
        )
    if _looks_like_card_number(reference):
        raise OrderRefused(
            {"reference": "This looks like a card number. Never record card numbers: give the provider's reference."},
            code="invalid",
        )
    payment = CashPayment(
        order=locked,
        method=method,
        provider=provider,
        reference=reference,
        amount=locked.total,
        currency=locked.currency,
        received_at=now,
        recorded_by=actor,
    )
    duplicate = OrderRefused(
        {"reference": f"{provider or 'This provider'}'s reference {reference} is already recorded."}, code="invalid"
    )
    if reference and CashPayment.objects.filter(provider=provider, reference=reference).exists():
        raise duplicate
    try:
        payment.full_clean(exclude=["order"], validate_constraints=False)
    except ValidationError as error:
        raise OrderRefused(error.message_dict, code="invalid") from None
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError:  # the same reference recorded at the same moment for another order
        raise duplicate from None
    locked.paid_at = now
    locked.save(update_fields=["paid_at", "updated_at"])
    _event(
        locked,
        action="paid",
        to_state=locked.state,
        actor=actor,
        role=role_of(locked, actor) or Role.SUPPLIER,
        note=f"{locked.total_text()} received ({payment.get_method_display().lower()}"
        + (f", reference {reference}" if reference else "")
        + ").",
        before=locked.state,
    )
    return payment
