"""Disputes and the network's guarantee: a buyer reports a problem, the supplier answers, an operator decides.

Upheld after the supplier was paid in credits, the buyer is refunded at once from the guarantee fund, which claims
the amount back from the supplier as far as its floor allows; the rest is the supplier's debt, claimed again later.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit_record
from network_credits import services as ledger
from network_credits.models import Account
from purchases import money
from purchases.models import (
    Dispute,
    Means,
    Order,
    Recovery,
)
from purchases.refusals import OrderRefused
from purchases.services.steps import (
    SYSTEM,
    Role,
    State,
    _accounts,
    _event,
    _locked,
    _move,
    _post,
    _require,
    _void,
    _wrong_state,
)


@transaction.atomic
def dispute_open(
    *, order: Order, actor: Any, reason: str, description: str, evidence_url: str = "", now: datetime | None = None
) -> Dispute:
    """The buyer reports a problem with what they bought; for credits, nothing is paid to the supplier meanwhile."""
    now = now or timezone.now()
    locked = _locked(order)
    _require(locked, actor, Role.BUYER)
    if locked.state not in (State.DISPATCHED, State.READY, State.DELIVERED):
        raise _wrong_state(locked, "disputed")
    if locked.delivered_at and now > locked.delivered_at + timedelta(days=settings.PURCHASES_DISPUTE_DAYS):
        raise OrderRefused(
            f"Problems can be reported within {settings.PURCHASES_DISPUTE_DAYS} days of delivery.", code="wrong_state"
        )
    if Dispute.objects.filter(order=locked).exists():
        raise OrderRefused("This order was already disputed.", code="wrong_state")
    dispute = Dispute(
        order=locked,
        reason=reason,
        description=(description or "").strip(),
        evidence_url=(evidence_url or "").strip(),
        opened_at=now,
    )
    if not dispute.description:
        raise OrderRefused({"description": "Say what went wrong."}, code="invalid")
    try:
        dispute.full_clean(exclude=["order"])
    except ValidationError as error:
        raise OrderRefused(error.message_dict, code="invalid") from None
    dispute.save()
    _move(
        locked,
        to_state=State.DISPUTED,
        action="dispute",
        actor=actor,
        role=Role.BUYER,
        note=f"{dispute.get_reason_display()}: {dispute.description}",
    )
    return dispute


@transaction.atomic
def dispute_answer(*, dispute: Dispute, actor: Any, response: str, now: datetime | None = None) -> Dispute:
    """The supplier's answer, shown to the buyer and the deciding operator."""
    order = _locked(Order(pk=dispute.order_id))  # the order first, then its dispute: the one lock order
    locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
    _require(order, actor, Role.SUPPLIER)
    response = (response or "").strip()
    if not response:
        raise OrderRefused({"response": "Write your answer."}, code="invalid")
    if locked.state not in (Dispute.State.OPEN, Dispute.State.ANSWERED):
        raise OrderRefused("This dispute is already decided.", code="wrong_state")
    locked.supplier_response = response
    locked.responded_at = now or timezone.now()
    locked.state = Dispute.State.ANSWERED
    locked.save(update_fields=["supplier_response", "responded_at", "state"])
    _event(
        order, action="answer", to_state=order.state, actor=actor, role=Role.SUPPLIER, note=response, before=order.state
    )
    return locked


@transaction.atomic
def dispute_decide(*, dispute: Dispute, actor: Any, upheld: bool, reason: str, now: datetime | None = None) -> Dispute:
    """An operator decides, with written reasons. Upheld: the buyer gets their credits back at once — from the hold if
    it was not yet paid, else from the network's guarantee fund, which claims it back from the supplier."""
    now = now or timezone.now()
    order = _locked(Order(pk=dispute.order_id))
    locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
    _require(order, actor, Role.OPERATOR)
    reason = (reason or "").strip()
    if not reason:
        raise OrderRefused({"reason": "A decision needs written reasons."}, code="invalid")
    if locked.state in (Dispute.State.UPHELD, Dispute.State.REJECTED):
        raise OrderRefused("This dispute is already decided.", code="wrong_state")
    locked.state = Dispute.State.UPHELD if upheld else Dispute.State.REJECTED
    locked.decision_reason, locked.decided_by, locked.decided_at = reason, actor, now
    note = reason
    if order.payment == Means.CREDITS and order.hold is not None:
        if upheld and order.paid_at is None:
            _void(order, actor=actor, reason=f"dispute upheld: {reason}")
            note = f"{reason} The {order.total_text()} reserved were returned to the buyer."
        elif upheld:
            _guarantee(locked, order=order, actor=actor)
            note = f"{reason} The network's guarantee fund refunded {order.total_text()} to the buyer" + (
                f"; the supplier still owes the network {money.credits(locked.outstanding)}."
                if locked.outstanding
                else "."
            )
        elif order.paid_at is None:
            _post(order, actor=None, now=now)
    elif upheld:
        note = f"{reason} The supplier refunds the {order.total_text()} paid."
    locked.save()
    audit_record(
        actor=actor,
        action="purchases.dispute_decided",
        target=locked,
        supplier_id=order.supplier_id,
        changes={"state": [Dispute.State.ANSWERED, locked.state], "refunded": [0, locked.refunded]},
        reason=reason,
    )
    _move(
        order,
        to_state=State.CLOSED,
        action="upheld" if upheld else "rejected",
        actor=actor,
        role=Role.OPERATOR,
        note=note,
    )
    return locked


def _guarantee(dispute: Dispute, *, order: Order, actor: Any) -> None:
    """Refund the buyer from the guarantee fund, then claim back from the supplier what its floor allows."""
    payer, payee = _accounts(order.buyer, order.supplier)
    fund = ledger.system_account(Account.System.GUARANTEE_FUND)
    refund = ledger.adjustment(
        payer=fund,
        payee=payer,
        amount=order.total,
        reason=f"Network guarantee: refund of order #{order.pk} (dispute upheld)",
        key=f"order-{order.pk}-guarantee",
        actor=actor,
    )
    dispute.guarantee_refund = refund.transfer
    dispute.refunded = order.total
    _recover(dispute, supplier_account=payee, actor=actor)


def _recover(dispute: Dispute, *, supplier_account: Account, actor: Any) -> int:
    """Claim what the supplier owes for a guarantee refund, as far as its floor allows; the rest stays owed."""
    account = Account.objects.select_for_update(no_key=True).get(pk=supplier_account.pk)
    room = (
        max(0, account.balance - account.pending_debits + account.credit_limit)
        if account.status == Account.Status.ACTIVE
        else 0
    )
    amount = min(dispute.outstanding, room)
    if amount <= 0:
        return 0
    moved = ledger.adjustment(
        payer=account,
        payee=ledger.system_account(Account.System.GUARANTEE_FUND),
        amount=amount,
        reason=f"Network guarantee: claimed back for order #{dispute.order_id}",
        key=f"order-{dispute.order_id}-recovery-{dispute.recovered}",
        actor=actor,
        system="" if getattr(actor, "is_authenticated", False) else SYSTEM,  # the beat's claims have no person
    )
    Recovery.objects.create(dispute=dispute, transfer=moved.transfer, amount=amount)
    dispute.recovered += amount
    return amount


def guarantee_claims_recover(*, actor: Any = None) -> int:
    """Claim again what suppliers still owe the guarantee fund (a beat task); returns the credits recovered."""
    total = 0
    for dispute in Dispute.objects.filter(state=Dispute.State.UPHELD, recovered__lt=F("refunded")).select_related(
        "order__supplier"
    ):
        with transaction.atomic():
            locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
            if locked.outstanding <= 0:
                continue
            account = ledger.account_open_for_supplier(
                supplier_id=dispute.order.supplier_id, name=dispute.order.supplier.legal_name
            )
            total += _recover(locked, supplier_account=account, actor=actor)
            locked.save(update_fields=["recovered"])
    return total
