"""Random sequences of what buyers, the supplier, operators and the beat task do to orders, with every invariant after
every step: no batch oversold, stock equal to the units of orders not cancelled, holds that match the orders'
states, the ledger's own invariants; a refused step changes nothing; an allowed one moves the order exactly as the
state machine of issue 11 says (placed → confirmed → dispatched / ready → delivered → closed, cancelled, disputed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from network_credits.models import Account, Hold
from purchases import services
from purchases.models import Dispute, Means, Method, Order, Stock
from purchases.refusals import OrderRefused
from tests.accounts.factories import UserFactory
from tests.purchases.factories import Shop, buyer, next_weekday, order, shop
from tests.purchases.invariants import assert_purchases_consistent

State = Order.State
picks = st.integers(min_value=0, max_value=1_000)

# Who may take each step, from which states, to which state (None: the state does not change).
STEPS = {
    "confirm": ({"supplier"}, {State.PLACED}, State.CONFIRMED),
    "ready": ({"supplier"}, {State.PLACED, State.CONFIRMED}, State.READY),
    "dispatch": ({"supplier"}, {State.PLACED, State.CONFIRMED}, State.DISPATCHED),
    "deliver": ({"buyer", "supplier"}, {State.DISPATCHED, State.READY}, State.DELIVERED),
    "cancel": ({"buyer", "supplier"}, {State.PLACED, State.CONFIRMED}, State.CANCELLED),
    "dispute": ({"buyer"}, {State.DISPATCHED, State.READY, State.DELIVERED}, State.DISPUTED),
}


def snapshot(order_: Order) -> tuple[Any, ...]:
    fresh = Order.objects.select_related("hold").get(pk=order_.pk)
    accounts = tuple(Account.objects.order_by("pk").values_list("balance", "pending_debits"))
    return (
        fresh.state,
        fresh.paid_at,
        fresh.hold.state if fresh.hold else None,
        tuple(Stock.objects.values_list("held")),
        accounts,
    )


class OrderMachine(RuleBasedStateMachine):
    shop: Shop
    buyers: list[Any] = []
    operator: Any = None

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.orders: list[Order] = []
        self.keys = 0
        self.later = timedelta()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def pick(self, n: int) -> Order | None:
        return self.orders[n % len(self.orders)] if self.orders else None

    @rule(
        who=st.integers(min_value=0, max_value=2),
        quantity=st.integers(min_value=1, max_value=4),
        payment=st.sampled_from([Means.CREDITS, Means.CREDITS, Means.CASH]),
        method=st.sampled_from([Method.PICKUP, Method.DELIVERY]),
        scheduled=st.booleans(),
    )
    def checkout(self, who: int, quantity: int, payment: str, method: str, scheduled: bool) -> None:
        self.keys += 1
        day = next_weekday(5 if method == Method.PICKUP else 2) if scheduled else None
        held = Stock.objects.filter(batch=self.shop.batch).values_list("held", flat=True).first() or 0
        refusal = placed = None
        try:
            placed = order(
                self.shop,
                self.buyers[who],
                quantity=quantity,
                payment=payment,
                method=method,
                day=day,
                key=f"k{self.keys}",
            )
        except OrderRefused as error:
            refusal = error
        if refusal is not None:
            assert refusal.code in ("out_of_stock", "insufficient_credit"), refusal.messages
            if refusal.code == "out_of_stock":
                assert held + quantity > self.shop.batch.quantity
            return
        assert held + quantity <= self.shop.batch.quantity
        self.orders.append(placed)

    @rule(n=picks, step=st.sampled_from(sorted(STEPS)), party=st.sampled_from(["buyer", "supplier", "stranger"]))
    def take_step(self, n: int, step: str, party: str) -> None:
        chosen = self.pick(n)
        if chosen is None:
            return
        before = snapshot(chosen)
        actor = {"buyer": chosen.buyer, "supplier": self.shop.owner, "stranger": self.stranger}[party]
        parties, sources, target = STEPS[step]
        fresh = Order.objects.get(pk=chosen.pk)
        call = {
            "confirm": lambda: services.order_confirm(order=fresh, actor=actor),
            "ready": lambda: services.order_ready(order=fresh, actor=actor),
            "dispatch": lambda: services.order_dispatch(order=fresh, actor=actor),
            "deliver": lambda: services.order_deliver(order=fresh, actor=actor),
            "cancel": lambda: services.order_cancel(order=fresh, actor=actor, reason="Out of time"),
            "dispute": lambda: services.dispute_open(order=fresh, actor=actor, reason="unsafe", description="Sharp"),
        }[step]
        refusal = None
        try:
            call()
        except OrderRefused as error:
            refusal = error
        if refusal is not None:
            assert snapshot(chosen) == before, (step, party, refusal.messages)
            if party in parties and fresh.state in sources:  # allowed by the table, refused for a reason of its own
                assert refusal.code in ("wrong_state", "hold_expired"), (step, party, refusal.code, refusal.messages)
            return
        assert party in parties, (step, party)
        after = Order.objects.get(pk=chosen.pk)
        if step == "deliver" and fresh.state == State.DELIVERED:
            assert after.state == State.DELIVERED
        else:
            assert fresh.state in sources, (step, fresh.state)
            assert after.state == target, (step, after.state)
        if step == "deliver" and party == "buyer" and after.payment == Means.CREDITS:
            assert after.hold.state == Hold.State.POSTED

    @rule(n=picks, upheld=st.booleans())
    def decide(self, n: int, upheld: bool) -> None:
        chosen = self.pick(n)
        dispute = Dispute.objects.filter(order=chosen).first() if chosen else None
        if dispute is None or dispute.state in (Dispute.State.UPHELD, Dispute.State.REJECTED):
            return
        services.dispute_decide(dispute=dispute, actor=self.operator, upheld=upheld, reason="Decided on the evidence")
        after = Order.objects.select_related("hold").get(pk=chosen.pk)
        assert after.state == State.CLOSED
        if after.payment == Means.CREDITS and upheld:
            assert after.hold.state == Hold.State.VOIDED or Dispute.objects.get(pk=dispute.pk).refunded == after.total

    @rule(days=st.integers(min_value=1, max_value=40))
    def time_passes(self, days: int) -> None:
        self.later += timedelta(days=days)
        services.orders_enforce(now=timezone.now() + self.later)

    @invariant()
    def consistent(self) -> None:
        assert_purchases_consistent()


@pytest.mark.django_db
def test_random_sequences_of_orders_keep_every_invariant():
    OrderMachine.shop = shop(quantity=6)
    OrderMachine.buyers = [buyer(credits=3_000), buyer(credits=1_200), buyer(credits=0)]
    OrderMachine.operator = UserFactory(is_staff=True)
    OrderMachine.stranger = UserFactory()
    run_state_machine_as_test(
        OrderMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
