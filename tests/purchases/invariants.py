"""What must hold after anything purchases does: the ledger's invariants, stock that matches the orders, and holds
that match the orders' states."""

from collections import Counter

from network_credits.models import Hold, Transfer
from purchases.models import Dispute, Means, Order, OrderLine, Stock
from tests.network_credits.test_concurrency import assert_ledger_consistent


def assert_purchases_consistent() -> None:
    assert_ledger_consistent()
    held = Counter()
    for line in OrderLine.objects.exclude(order__state=Order.State.CANCELLED).select_related("order"):
        held[line.batch_id] += line.quantity
    stock = {s.batch_id: s for s in Stock.objects.select_related("batch")}
    for batch_id, units in held.items():
        assert stock[batch_id].held == units, (batch_id, stock[batch_id].held, units)
    for s in stock.values():
        assert s.held == held.get(s.batch_id, 0), s
        assert 0 <= s.held <= s.batch.quantity, s
    for order in Order.objects.select_related("hold"):
        if order.payment == Means.CASH:
            assert order.hold is None, order
            continue
        assert order.hold is not None, order
        assert order.hold.amount == order.total, order
        if order.paid_at is not None:
            assert order.hold.state == Hold.State.POSTED, order
        elif order.state == Order.State.CANCELLED or order.state == Order.State.CLOSED:
            assert order.hold.state in (Hold.State.VOIDED, Hold.State.EXPIRED), order
        else:  # expired only when nothing resolved it in time (the beat task was down): the buyer has them back
            assert order.hold.state in (Hold.State.PENDING, Hold.State.EXPIRED), order
    for dispute in Dispute.objects.filter(state=Dispute.State.UPHELD, refunded__gt=0):
        refund = dispute.guarantee_refund
        assert refund is not None
        assert refund.kind == Transfer.Kind.ADJUSTMENT
        assert refund.amount == dispute.refunded == dispute.order.total
        assert sum(r.amount for r in dispute.recoveries.all()) == dispute.recovered
