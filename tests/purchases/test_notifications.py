"""E-mail at each step of an order: one per step and recipient, after commit and through the outbox, each side reading
what is theirs, people's words shown as they wrote them."""

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import resolve
from django.utils import timezone
from django.utils.html import escape

from core import outbox
from core.models import OutboxMessage
from network_credits import services as ledger
from products.models import SupplierMember
from purchases import notifications, services, tasks
from purchases.models import Means, Method, Notification, Order, OrderEvent
from purchases.refusals import OrderRefused
from tests.accounts.factories import UserFactory
from tests.core.conftest import celery_eager
from tests.products.factories import SupplierMemberFactory
from tests.purchases.factories import Shop, account_of, buyer, next_weekday, order, shop, supplier_account_of

pytestmark = pytest.mark.django_db

BUYER = "ama@shoppers.example"
OWNER = "owner@cocoa.example"
EDITOR = "editor@cocoa.example"
PUBLIC = "hello@cocoa.example"
VIEWER = "viewer@cocoa.example"


@pytest.fixture(autouse=True)
def _embedded_mode():
    """Work runs in-process after commit (also where REDIS_URL names a broker), with no remembered outage."""
    outbox.broker.reset()
    with celery_eager(True):
        yield
    outbox.broker.reset()


@pytest.fixture
def cocoa() -> Shop:
    """A shop whose orders reach its owner, its editor and its public address, not its viewer."""
    owner = UserFactory(email=OWNER, display_name="Abena")
    s = shop(owner=None, quantity=20)
    s.supplier.members.all().delete()
    SupplierMemberFactory(supplier=s.supplier, user=owner, role=SupplierMember.Role.OWNER)
    SupplierMemberFactory(supplier=s.supplier, user=UserFactory(email=EDITOR), role=SupplierMember.Role.EDITOR)
    SupplierMemberFactory(supplier=s.supplier, user=UserFactory(email=VIEWER), role=SupplierMember.Role.VIEWER)
    s.supplier.legal_name = "Kakao & Söhne Ltd"
    s.supplier.public_email = PUBLIC
    s.supplier.save()
    s.owner = owner
    return s


@pytest.fixture
def ama():
    return buyer(email=BUYER, display_name="Ama")


@pytest.fixture
def sent(django_capture_on_commit_callbacks) -> Callable[[Callable[[], object]], list]:
    """Run a step, let its transaction's work run after it (the outbox's hand-off), and return the e-mails it sent."""

    def run(step: Callable[[], object]) -> list:
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            step()
        return mail.outbox[before:]

    return run


def by_recipient(messages: list) -> dict[str, object]:
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in messages), "each recipient gets a mail of their own"
    recipients = [m.to[0] for m in messages]
    assert len(recipients) == len(set(recipients)), f"someone got two e-mails: {recipients}"
    return {m.to[0]: m for m in messages}


def last_event(placed: Order) -> OrderEvent:
    return placed.events.order_by("-id").first()


def html(message) -> str:
    [(body, kind)] = message.alternatives
    assert kind == "text/html"
    return body


# Scenarios that between them take every step an order can take: each takes its steps one by one, yielding the
# step's action and the order after each.


def credits_pickup_disputed_after_payment(s, who, operator):
    placed = order(s, who, quantity=2, day=next_weekday(5))
    yield "place", placed
    services.order_confirm(order=placed, actor=s.owner)
    yield "confirm", placed
    services.order_ready(order=placed, actor=s.owner)
    yield "ready", placed
    services.order_deliver(order=placed, actor=s.owner)
    yield "deliver", placed
    services.order_deliver(order=placed, actor=who)
    yield "confirm_receipt", placed
    dispute = services.dispute_open(order=placed, actor=who, reason="unsafe", description="The seal was broken.")
    yield "dispute", placed
    services.dispute_answer(dispute=dispute, actor=s.owner, response="Sorry.")
    yield "answer", placed
    services.dispute_decide(dispute=dispute, actor=operator, upheld=True, reason="Photos of the seal.")
    yield "upheld", placed


def cash_delivery_closed(s, who, operator):
    placed = order(s, who, payment=Means.CASH, method=Method.DELIVERY)
    yield "place", placed
    services.cash_receive(order=placed, actor=s.owner)
    yield "paid", placed
    services.order_dispatch(order=placed, actor=s.owner, note="Blue van.")
    yield "dispatch", placed
    services.order_deliver(order=placed, actor=who)
    yield "deliver", placed
    services.orders_enforce(now=timezone.now() + timedelta(days=settings.PURCHASES_DISPUTE_DAYS + 1))
    yield "close", placed


def credits_delivery_paid_automatically(s, who, operator):
    placed = order(s, who, method=Method.DELIVERY)
    yield "place", placed
    services.order_dispatch(order=placed, actor=s.owner)
    yield "dispatch", placed
    placed.refresh_from_db()
    services.orders_enforce(now=placed.confirm_by + timedelta(minutes=1))
    yield "auto_confirm", placed


def rescheduled_then_cancelled_by_the_buyer(s, who, operator):
    placed = order(s, who, payment=Means.CASH, day=next_weekday(5))
    yield "place", placed
    services.order_reschedule(order=placed, actor=who, day=next_weekday(5, after=placed.scheduled_for))
    yield "reschedule", placed
    services.order_cancel(order=placed, actor=who)
    yield "cancel", placed


def cancelled_by_the_supplier(s, who, operator):
    placed = order(s, who)
    yield "place", placed
    services.order_cancel(order=placed, actor=s.owner, reason="Sold out.")
    yield "cancel", placed


def cancelled_by_the_platform(s, who, operator):
    placed = order(s, who)
    yield "place", placed
    services.orders_enforce(now=placed.dispatch_by + timedelta(minutes=1))
    yield "cancel", placed


def disputed_before_payment_and_rejected(s, who, operator):
    placed = order(s, who, day=next_weekday(5))
    yield "place", placed
    services.order_ready(order=placed, actor=s.owner)
    yield "ready", placed
    dispute = services.dispute_open(order=placed, actor=who, reason="not_received", description="Not there.")
    yield "dispute", placed
    services.dispute_answer(dispute=dispute, actor=s.owner, response="It was.")
    yield "answer", placed
    services.dispute_decide(dispute=dispute, actor=operator, upheld=False, reason="Signed for.")
    yield "rejected", placed


SCENARIOS = {
    credits_pickup_disputed_after_payment: [
        "place", "confirm", "ready", "deliver", "confirm_receipt", "dispute", "answer", "upheld",
    ],
    cash_delivery_closed: ["place", "paid", "dispatch", "deliver", "close"],
    credits_delivery_paid_automatically: ["place", "dispatch", "auto_confirm"],
    rescheduled_then_cancelled_by_the_buyer: ["place", "reschedule", "cancel"],
    cancelled_by_the_supplier: ["place", "cancel"],
    cancelled_by_the_platform: ["place", "cancel"],
    disputed_before_payment_and_rejected: ["place", "ready", "dispute", "answer", "rejected"],
}  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_every_step_mails_the_buyer_and_each_supplier_address_once(
    scenario, cocoa, ama, operator, django_capture_on_commit_callbacks
):
    steps = scenario(cocoa, ama, operator.user)
    taken = []
    while True:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            step = next(steps, None)
        if step is None:
            break
        action, placed = step
        event = last_event(placed)
        assert event.action == action
        received = by_recipient(mail.outbox)
        assert sorted(received) == sorted([BUYER, OWNER, EDITOR, PUBLIC]), action
        records = Notification.objects.filter(event=event)
        assert sorted(records.values_list("recipient", "role")) == sorted(
            [(BUYER, "buyer"), (OWNER, "supplier"), (EDITOR, "supplier"), (PUBLIC, "supplier")]
        )
        for record in records:
            message = received[record.recipient]
            assert (record.subject, record.body) == (message.subject, message.body)
            assert html(message).startswith("<!doctype html>")
        taken.append(action)
    assert taken == SCENARIOS[scenario]


def test_the_scenarios_take_every_step_there_is_an_email_for():
    assert {action for actions in SCENARIOS.values() for action in actions} == set(notifications.LETTERS)


def test_a_repeated_delivery_of_the_task_sends_nothing_twice(cocoa, ama, sent):
    placed = None

    def place():
        nonlocal placed
        placed = order(cocoa, ama)

    assert len(sent(place)) == 4
    event = last_event(placed)
    message = OutboxMessage.objects.get(task_name="purchases.tasks.order_notify", args=[event.pk])

    assert sent(lambda: tasks.order_notify(event.pk)) == []
    assert sent(lambda: outbox.deliver(message_id=message.pk)) == []
    assert Notification.objects.filter(event=event).count() == 4
    assert OutboxMessage.objects.filter(task_name="core.tasks.mail_send").count() == 4


def test_a_rolled_back_or_refused_step_sends_nothing(cocoa, ama, sent):
    placed = None

    def place():
        nonlocal placed
        placed = order(cocoa, ama)

    sent(place)
    events = OrderEvent.objects.count()

    def rolled_back():
        with transaction.atomic():
            services.order_confirm(order=placed, actor=cocoa.owner)
            transaction.set_rollback(True)

    def refused():
        with pytest.raises(OrderRefused):
            services.order_dispatch(order=placed, actor=cocoa.owner)  # a pick-up is made ready, not dispatched

    assert sent(rolled_back) == []
    assert sent(refused) == []
    assert OrderEvent.objects.count() == events
    assert Notification.objects.count() == 4
    assert not OutboxMessage.objects.filter(
        state=OutboxMessage.State.PENDING, task_name__in=["purchases.tasks.order_notify", "core.tasks.mail_send"]
    ).exists()


def test_each_mail_says_what_happens_next_by_when_and_links_to_the_order(cocoa, ama, sent):
    placed = None

    def place():
        nonlocal placed
        placed = order(cocoa, ama, quantity=2, day=next_weekday(5))

    received = by_recipient(sent(place))
    to_buyer, to_owner = received[BUYER], received[OWNER]

    handover_by = notifications.when(placed.dispatch_by)
    assert "You placed an order with Kakao & Söhne Ltd" in to_buyer.body
    assert f"has it ready for pick-up by {handover_by}" in to_buyer.body
    assert f"cancel the order until {notifications.when(placed.changeable_until)}" in to_buyer.body
    assert "10.00 credits are reserved in your credit account" in to_buyer.body
    assert f"{settings.SITE_URL}/orders/{placed.pk}/" in to_buyer.body
    assert f'href="{settings.SITE_URL}/orders/{placed.pk}/"' in html(to_buyer)
    assert f"Write to Kakao & Söhne Ltd: {PUBLIC}" in to_buyer.body

    assert to_owner.subject == f"New order #{placed.pk} from Ama"
    assert "Confirm it in your dashboard." in to_owner.body
    assert f"Have it ready for pick-up by {handover_by}" in to_owner.body
    assert "2 × " in to_owner.body
    assert placed.place_name in to_owner.body


def test_the_supplier_link_opens_a_page_the_dashboard_serves(cocoa, ama, sent):
    placed = None

    def place():
        nonlocal placed
        placed = order(cocoa, ama)

    to_owner = by_recipient(sent(place))[OWNER]
    link = next(word for word in to_owner.body.split() if word.startswith(f"{settings.SITE_URL}/dashboard/"))
    # The order's own page once the dashboard has one, else the dashboard's home, where orders to act on are listed.
    assert resolve(urlsplit(link).path).url_name in ("purchases_order_change", "purchases_order_changelist", "index")


def test_the_buyer_and_the_supplier_each_read_only_their_own_side(cocoa, ama, operator, sent):
    placed = order(cocoa, ama, day=next_weekday(5))
    services.order_ready(order=placed, actor=cocoa.owner)
    services.order_deliver(order=placed, actor=ama)
    # The supplier spends what it was paid and has no credit: the guarantee's refund cannot be claimed back at once.
    account = supplier_account_of(cocoa.supplier)
    ledger.credit_limit_set(account=account, credit_limit=0, reason="No credit yet.", actor=operator.user)
    ledger.transfer(payer=account, payee=account_of(buyer(credits=0)), amount=placed.total, key="spent", system="t")
    dispute = services.dispute_open(order=placed, actor=ama, reason="unsafe", description="Broken seal.")

    received = by_recipient(
        sent(lambda: services.dispute_decide(dispute=dispute, actor=operator.user, upheld=True, reason="Photos."))
    )

    to_buyer, to_owner = received[BUYER], received[OWNER]
    assert "The network's guarantee fund refunded 5.00 credits to your credit account." in to_buyer.body
    assert "you still owe the network 5.00 credits" in to_owner.body
    for private in ("owe", "claims it back", "/dashboard/", OWNER, EDITOR, VIEWER):
        assert private not in to_buyer.body
        assert private not in html(to_buyer)
    for private in (BUYER, f"/orders/{placed.pk}/", "your credit account"):
        assert private not in to_owner.body
        assert private not in html(to_owner)


WORDS = 'Box arrived <b>crushed</b> & "wet" — it\'s not OK\nSecond line: 3 < 4 &amp; more'


def test_peoples_words_are_shown_as_written_and_escaped_once_in_html(cocoa, ama, operator, sent):
    cocoa.batch.product.name = "Kitchen & Laundry <Bar> Soap"
    cocoa.batch.product.save()
    placed = order(cocoa, ama, day=next_weekday(5))
    services.order_ready(order=placed, actor=cocoa.owner)
    dispute = None

    def report():
        nonlocal dispute
        dispute = services.dispute_open(order=placed, actor=ama, reason="not_as_described", description=WORDS)

    received = by_recipient(sent(report))
    for message in received.values():
        for line in WORDS.splitlines():
            assert f"> {line}\n" in message.body + "\n"
            assert escape(line) in html(message)
        assert "Kitchen & Laundry <Bar> Soap" in message.body
        assert "&amp;" not in message.body.replace(WORDS.splitlines()[1], "")
        assert "<b>crushed</b>" not in html(message)
        assert "&amp;lt;" not in html(message)
        assert "&amp;amp;" in html(message)  # the "&amp;" the buyer typed, shown as they typed it
        assert escape("Kitchen & Laundry <Bar> Soap") in html(message)

    answer = 'We\'ll replace it — "promise" <3'
    received = by_recipient(sent(lambda: services.dispute_answer(dispute=dispute, actor=cocoa.owner, response=answer)))
    assert f"> {answer}" in received[BUYER].body
    assert escape(answer) in html(received[BUYER])


def test_a_cancellation_reason_is_quoted_as_written(cocoa, ama, sent):
    placed = order(cocoa, ama, payment=Means.CASH)
    services.cash_receive(order=placed, actor=cocoa.owner)
    reason = "Our oven broke <again> & we can't bake"

    received = by_recipient(sent(lambda: services.order_cancel(order=placed, actor=cocoa.owner, reason=reason)))

    assert f"The reason given:\n> {reason}\n" in received[BUYER].body
    assert "refunds you the €4.50 you paid" in received[BUYER].body
    assert "Refund the buyer the €4.50 they paid." in received[OWNER].body
    assert escape(reason) in html(received[BUYER])
    assert "The supplier refunds" not in received[BUYER].body  # the service's own wording is not quoted as theirs


def test_with_the_broker_down_nothing_is_lost_and_the_relay_sends_it_once(cocoa, ama, monkeypatch, sent):
    def refused(ids):
        raise ConnectionRefusedError("Connection refused")

    def worker(ids):  # the broker is back, and a worker runs what is handed to it at once
        for message_id in ids:
            outbox.deliver(message_id=message_id)

    monkeypatch.setattr(outbox, "_send", refused)
    with celery_eager(False):
        assert sent(lambda: order(cocoa, ama)) == []
        notify = OutboxMessage.objects.get(task_name="purchases.tasks.order_notify")
        assert notify.state == OutboxMessage.State.PENDING
        assert not Notification.objects.exists()

        monkeypatch.setattr(outbox, "_send", worker)
        received = by_recipient(sent(outbox.relay))
        assert sorted(received) == sorted([BUYER, OWNER, EDITOR, PUBLIC])
        assert sent(outbox.relay) == []
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxMessage.State.DONE}
    assert Notification.objects.count() == 4


def test_an_email_sent_after_later_steps_still_tells_of_its_own_step(cocoa, ama, sent):
    def place_and_confirm_at_once():
        with transaction.atomic():  # both e-mails go out after the commit, when the order is confirmed already
            services.order_confirm(order=order(cocoa, ama), actor=cocoa.owner)

    to_buyer = [m for m in sent(place_and_confirm_at_once) if m.to == [BUYER]]

    placed, confirmed = sorted(to_buyer, key=lambda m: "confirmed by" in m.subject)
    assert "(placed)" in placed.body
    assert "You can cancel it until Kakao & Söhne Ltd confirms it." in placed.body
    assert "(confirmed by the supplier)" in confirmed.body
    assert "To cancel it now, ask Kakao & Söhne Ltd." in confirmed.body
