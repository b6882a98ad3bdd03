"""The background jobs of purchases: deadlines and confirmation windows, and a suspended supplier's orders."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from products.models import Supplier
from purchases.models import (
    Means,
    Order,
)
from purchases.refusals import OrderRefused
from purchases.services.steps import Role, State, _locked, _move, _post, _stock_return, _void

logger = logging.getLogger(__name__)


def orders_enforce(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The beat task: cancel orders past their dispatch deadline (their credits back to the buyer), pay the supplier
    for orders whose confirmation window ended without a dispute, and close delivered orders past the dispute window.
    Safe to run twice: each step checks the order's state under its lock."""
    now = now or timezone.now()
    done = {"cancelled": 0, "paid": 0, "closed": 0}
    late = Order.objects.filter(state__in=[State.PLACED, State.CONFIRMED], dispatch_by__lt=now).order_by("dispatch_by")
    for order in late[:limit]:
        with transaction.atomic():
            locked = _locked(order)
            if locked.state not in (State.PLACED, State.CONFIRMED) or locked.dispatch_by >= now:
                continue
            _stock_return(locked)  # stock before the ledger's accounts: the one lock order
            _void(locked, actor=None, reason="the supplier missed the dispatch deadline")
            _move(
                locked,
                to_state=State.CANCELLED,
                action="cancel",
                actor=None,
                role=Role.SYSTEM,
                note=f"{locked.supplier.legal_name} did not hand it over by "
                f"{timezone.localtime(locked.dispatch_by):%d %b %Y %H:%M}.",
            )
            done["cancelled"] += 1
    unconfirmed = Order.objects.filter(
        state__in=[State.DISPATCHED, State.READY, State.DELIVERED],
        payment=Means.CREDITS,
        paid_at__isnull=True,
        confirm_by__lt=now,
    ).order_by("confirm_by")
    for order in unconfirmed[:limit]:
        with transaction.atomic():
            locked = _locked(order)
            if locked.paid_at is not None or locked.state not in (State.DISPATCHED, State.READY, State.DELIVERED):
                continue
            try:
                _post(locked, actor=None, now=now)
            except OrderRefused as refusal:
                logger.warning("Order %s could not be paid: %s", locked.pk, refusal.messages[0])
                continue
            fields: dict[str, Any] = {"paid_at": locked.paid_at}
            if locked.state != State.DELIVERED:
                fields["delivered_at"] = now
            _move(
                locked,
                to_state=State.DELIVERED,
                action="auto_confirm",
                actor=None,
                role=Role.SYSTEM,
                note="The confirmation window ended without a reported problem: the supplier was paid.",
                **fields,
            )
            done["paid"] += 1
    settled = Order.objects.filter(
        state=State.DELIVERED,
        paid_at__isnull=False,
        delivered_at__lt=now - timedelta(days=settings.PURCHASES_DISPUTE_DAYS),
    )
    for order in settled[:limit]:
        with transaction.atomic():
            locked = _locked(order)
            if locked.state != State.DELIVERED:
                continue
            _move(locked, to_state=State.CLOSED, action="close", actor=None, role=Role.SYSTEM)
            done["closed"] += 1
    return done


@transaction.atomic
def orders_void_for_supplier(*, supplier: Supplier, reason: str) -> int:
    """A supplier is suspended: every order not yet paid in credits is cancelled and its credits go back (also one
    already handed over: the network, not the buyer, carries the supplier's failure), and so is every cash order
    not yet handed over."""
    count = 0
    for order in Order.objects.filter(supplier=supplier, state__in=Order.OPEN_STATES).order_by("pk"):
        locked = _locked(order)
        if locked.payment != Means.CREDITS or locked.paid_at is not None:
            if locked.state in (State.PLACED, State.CONFIRMED):
                _stock_return(locked)
                _move(
                    locked,
                    to_state=State.CANCELLED,
                    action="cancel",
                    actor=None,
                    role=Role.SYSTEM,
                    note=f"{supplier.legal_name} was suspended: {reason}",
                )
                count += 1
            continue
        _stock_return(locked)  # stock before the ledger's accounts: the one lock order
        _void(locked, actor=None, reason=f"supplier suspended: {reason}")
        _move(
            locked,
            to_state=State.CANCELLED,
            action="cancel",
            actor=None,
            role=Role.SYSTEM,
            note=f"{supplier.legal_name} was suspended before being paid: "
            f"your {locked.total_text()} came back. {reason}",
        )
        count += 1
    return count
