"""The tasks of purchases: the beat runs the deadlines and the guarantee's claims; the outbox runs the rest by name."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from network_credits import services as ledger
from network_credits.models import Hold
from purchases import services
from purchases.models import Dispute, Order, Recovery, Stock
from socialbiz.celery import app
from tests.purchases.factories import account_of, buyer, next_weekday, order, shop, supplier_account_of

pytestmark = pytest.mark.django_db

BEAT = ("purchases.tasks.orders_enforce", "purchases.tasks.guarantee_claims_recover")


@pytest.fixture(autouse=True)
def _worker_started():
    """What a worker does as it starts: import every app's tasks module (autodiscovery), registering its tasks."""
    app.loader.import_default_modules()


def run(name: str):
    """Run a task by its registered name, as a worker would when beat sends it."""
    return app.tasks[name].apply().get()


def test_the_beat_schedule_lists_the_jobs_of_purchases_and_they_are_registered():
    scheduled = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in BEAT:
        assert name in scheduled, name
        assert name in app.tasks, name
        assert scheduled[name]["schedule"] <= timedelta(hours=6)
    # What the services queue through the outbox, by name, is registered too.
    assert {"purchases.tasks.order_notify", "purchases.tasks.credit_sale_record"} <= set(app.tasks)


def test_orders_enforce_from_the_beat_cancels_what_was_not_handed_over_in_time():
    s = shop(quantity=3)
    who = buyer()
    late = order(s, who, quantity=2)
    on_time = order(s, who, quantity=1)
    Order.objects.filter(pk=late.pk).update(dispatch_by=timezone.now() - timedelta(minutes=1))

    assert run("purchases.tasks.orders_enforce") == {"cancelled": 1, "paid": 0, "closed": 0}

    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.state, late.hold.state) == (Order.State.CANCELLED, Hold.State.VOIDED)
    assert on_time.state == Order.State.PLACED
    assert Stock.objects.get(batch=s.batch).held == 1
    assert account_of(who).pending_debits == on_time.total
    assert run("purchases.tasks.orders_enforce") == {"cancelled": 0, "paid": 0, "closed": 0}  # nothing twice


def test_guarantee_claims_recover_from_the_beat_claims_what_a_supplier_still_owes(operator):
    s = shop()
    who = buyer()
    placed = order(s, who, day=next_weekday(5))
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=who)
    account = supplier_account_of(s.supplier)
    ledger.credit_limit_set(account=account, credit_limit=0, reason="No credit yet.", actor=operator.user)
    ledger.transfer(payer=account, payee=account_of(buyer(credits=0)), amount=placed.total, key="spent", system="t")
    dispute = services.dispute_open(order=placed, actor=who, reason="unsafe", description="Broken seal.")
    services.dispute_decide(dispute=dispute, actor=operator.user, upheld=True, reason="Photos.")
    dispute.refresh_from_db()
    assert (dispute.refunded, dispute.recovered) == (placed.total, 0)
    assert run("purchases.tasks.guarantee_claims_recover") == 0  # nothing to claim from yet

    # The supplier sells again: the network claims back what it is owed.
    ledger.transfer(payer=account_of(buyer()), payee=account, amount=placed.total + 100, key="sale", system="t")
    assert run("purchases.tasks.guarantee_claims_recover") == placed.total

    dispute.refresh_from_db()
    assert dispute.state == Dispute.State.UPHELD
    assert (dispute.recovered, dispute.outstanding) == (placed.total, 0)
    assert Recovery.objects.get(dispute=dispute).amount == placed.total
    assert supplier_account_of(s.supplier).balance == 100
    assert run("purchases.tasks.guarantee_claims_recover") == 0
