"""Many shoppers at once on PostgreSQL: the last units of a batch, the same order sent twice at the same moment, and
checkouts racing cancellations. Afterwards no batch is oversold, the stock matches the orders, and every ledger
invariant holds."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from purchases import services
from purchases.models import Means, Order, Stock
from purchases.refusals import OrderRefused
from tests.conftest import database_is_postgres
from tests.network_credits.test_concurrency import run_clients
from tests.purchases.factories import buyer, order, shop
from tests.purchases.invariants import assert_purchases_consistent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not database_is_postgres(), reason="concurrent shoppers need PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


class Told:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.orders: list[int] = []

    def buy(self, **kwargs) -> None:
        try:
            placed = order(**kwargs)
        except OrderRefused as refusal:
            with self.lock:
                self.outcomes[refusal.code] += 1
        else:
            with self.lock:
                self.outcomes["placed"] += 1
                self.orders.append(placed.pk)


@pytest.mark.parametrize("payment", [Means.CREDITS, Means.CASH])
def test_the_last_units_go_to_as_many_shoppers_as_there_are_units(payment):
    s = shop(quantity=3)
    shoppers = [buyer() for _ in range(12)]
    told = Told()
    run_clients(12, lambda n: told.buy(s=s, who=shoppers[n], payment=payment))
    assert told.outcomes == {"placed": 3, "out_of_stock": 9}
    assert Stock.objects.get(batch=s.batch).held == 3
    assert Order.objects.count() == 3
    assert_purchases_consistent()


def test_shoppers_asking_for_several_units_never_oversell():
    s = shop(quantity=10)
    shoppers = [buyer(credits=50_000) for _ in range(10)]
    told = Told()
    run_clients(10, lambda n: told.buy(s=s, who=shoppers[n], quantity=1 + n % 4))
    held = Stock.objects.get(batch=s.batch).held
    assert held <= 10
    assert held == sum(line.quantity for o in Order.objects.all() for line in o.lines.all())
    assert told.outcomes["placed"] + told.outcomes["out_of_stock"] == 10
    assert_purchases_consistent()


def test_the_same_order_sent_twice_at_once_is_placed_once():
    s = shop(quantity=5)
    who = buyer()
    told = Told()
    run_clients(6, lambda n: told.buy(s=s, who=who, key="one-tap"))
    assert told.outcomes == {"placed": 6}
    assert len(set(told.orders)) == 1
    assert Stock.objects.get(batch=s.batch).held == 1
    assert_purchases_consistent()


def test_cancellations_racing_checkouts_give_units_back_exactly_once():
    s = shop(quantity=4)
    first = [order(s, buyer()) for _ in range(4)]
    latecomers = [buyer() for _ in range(8)]
    told = Told()

    def client(n: int) -> None:
        if n < 4:
            services.order_cancel(order=first[n], actor=first[n].buyer)
        else:
            told.buy(s=s, who=latecomers[n - 4])
            told.buy(s=s, who=latecomers[n - 4])

    run_clients(8, client)
    live = Order.objects.exclude(state=Order.State.CANCELLED).count()
    assert live == told.outcomes["placed"] <= 4
    assert Stock.objects.get(batch=s.batch).held == live
    assert_purchases_consistent()
