"""The transactional outbox: recorded in the causing transaction, run once after commit, never on rollback."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core import outbox
from core.models import IdempotencyKey, OutboxMessage
from tests.accounts.factories import UserFactory
from tests.conftest import database_is_postgres
from tests.core import outbox_tasks
from tests.core.outbox_tasks import explode, record

pytestmark = pytest.mark.django_db

State = OutboxMessage.State


def test_the_row_is_written_in_the_transaction_and_the_work_waits_for_the_commit(
    eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox.enqueue(record, "hello")
        assert OutboxMessage.objects.get(pk=message.pk).state == State.PENDING
        assert (message.task_name, message.args, message.kwargs) == ("tests.core.outbox_tasks.record", ["hello"], {})
        assert outbox_tasks.RUNS == []  # not before the commit
    message.refresh_from_db()
    assert outbox_tasks.RUNS == ["hello"]
    assert message.state == State.DONE
    assert message.done_at is not None


@transaction.atomic
def refused_write() -> None:
    outbox.enqueue("tests.core.outbox_tasks.record", "raised")
    raise ValueError("refused")


def test_a_rolled_back_transaction_leaves_no_row_and_runs_nothing(eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            outbox.enqueue(record, "rolled back")
            transaction.set_rollback(True)
        with pytest.raises(ValueError, match="refused"):
            refused_write()
    assert callbacks == []
    assert OutboxMessage.objects.count() == 0
    assert outbox_tasks.RUNS == []


def test_tasks_are_named_by_object_or_registered_name_and_keyword_arguments_are_kept(eager):
    with transaction.atomic():
        message = outbox.enqueue("tests.core.outbox_tasks.record", marker="by name")
    assert message.kwargs == {"marker": "by name"}
    assert outbox.deliver(message_id=message.pk)
    assert outbox_tasks.RUNS == ["by name"]
    with pytest.raises(LookupError, match="no.such.task"), transaction.atomic():
        outbox.enqueue("no.such.task")


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(outbox.NotInTransaction):
        outbox.enqueue(record, "autocommit")
    assert OutboxMessage.objects.count() == 0


def test_a_duplicate_delivery_does_the_work_once(eager):
    with transaction.atomic():
        message = outbox.enqueue(record, "once")
    assert outbox.deliver(message_id=message.pk) is True
    assert outbox.deliver(message_id=message.pk) is False
    assert outbox.deliver(message_id=999_999) is False  # a message for a row that was purged, or never committed
    assert outbox_tasks.RUNS == ["once"]


def test_an_error_after_commit_is_recorded_on_the_row_and_logged_never_raised(
    eager, django_capture_on_commit_callbacks, caplog
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox.enqueue(explode, "boom", user_id=user.pk)
    message.refresh_from_db()
    assert outbox_tasks.RUNS == ["boom"]
    assert not IdempotencyKey.objects.filter(key="boom").exists()  # the failed work's own write was rolled back
    assert (message.state, message.attempts) == (State.PENDING, 1)
    assert "RuntimeError: the work for boom failed" in message.last_error
    assert message.available_at > timezone.now() + timedelta(seconds=50)  # retried a minute later, not at once
    assert any(r.levelno == logging.ERROR and f"message {message.pk} failed" in r.getMessage() for r in caplog.records)


def test_work_that_keeps_failing_is_left_failed_after_the_last_attempt(eager, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    with transaction.atomic():
        message = outbox.enqueue(explode, "again")
    outbox.deliver(message_id=message.pk)
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox.relay() == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.FAILED, 2)
    assert outbox.relay() == 0
    assert outbox.deliver(message_id=message.pk) is False  # an operator looks at it; nothing retries it
    assert outbox_tasks.RUNS == ["again", "again"]


def test_a_failing_mail_server_does_not_turn_a_password_reset_into_a_500(
    eager, client, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1  # nothing listens on port 1
    UserFactory(email="forgetful@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "forgetful@example.org"})
    assert response.status_code == 302
    message = OutboxMessage.objects.get(task_name="core.tasks.mail_send")
    assert (message.state, message.attempts) == (State.PENDING, 1)
    assert "ConnectionRefusedError" in message.last_error


def test_password_reset_mail_is_sent_after_the_commit(eager, client, django_capture_on_commit_callbacks):
    UserFactory(email="forgetful@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "forgetful@example.org"})
    assert [m.to for m in mail.outbox] == [["forgetful@example.org"]]
    assert "/accounts/password/reset/" in mail.outbox[0].body
    assert OutboxMessage.objects.get().state == State.DONE


def test_the_relay_runs_pending_rows_in_eager_mode(eager):
    with transaction.atomic():  # committed without running its on_commit hand-off, as after a crash
        ids = [outbox.enqueue(record, f"m{n}").pk for n in range(5)]
    assert outbox.relay(batch_size=2) == 5
    assert outbox_tasks.RUNS == ["m0", "m1", "m2", "m3", "m4"]
    assert set(OutboxMessage.objects.filter(pk__in=ids).values_list("state", flat=True)) == {State.DONE}
    assert outbox.relay() == 0


def test_the_relay_hands_pending_and_long_unfinished_rows_to_the_broker(brokered, settings):
    now = timezone.now()
    with transaction.atomic():
        pending = outbox.enqueue(record, "pending")
        lost = outbox.enqueue(record, "sent, lost by a broker restart")
        in_queue = outbox.enqueue(record, "sent a moment ago")
        later = outbox.enqueue(record, "retry later")
        done = outbox.enqueue(record, "done")
    OutboxMessage.objects.filter(pk=lost.pk).update(state=State.SENT, available_at=now - timedelta(seconds=1))
    OutboxMessage.objects.filter(pk=in_queue.pk).update(state=State.SENT, available_at=now + timedelta(minutes=5))
    OutboxMessage.objects.filter(pk=later.pk).update(available_at=now + timedelta(minutes=1))
    OutboxMessage.objects.filter(pk=done.pk).update(state=State.DONE)

    assert outbox.relay() == 2
    assert brokered == [pending.pk, lost.pk]
    for message in (pending, lost):
        message.refresh_from_db()
        assert message.state == State.SENT
        assert message.available_at > timezone.now() + settings.OUTBOX_RESEND_AFTER - timedelta(seconds=5)
    assert outbox.relay() == 0
    assert outbox_tasks.RUNS == []  # the worker runs them, not the relay


def test_a_broker_that_is_down_leaves_rows_pending_and_is_logged_once(
    brokered, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    attempts = []

    def refused(ids):
        attempts.append(ids)
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(outbox, "_send", refused)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            with transaction.atomic():
                outbox.enqueue(record, f"while down {n}")
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.PENDING}
    assert len(attempts) == 1  # after one refusal, commits leave their rows to the relay for a few seconds
    warnings = [r for r in caplog.records if r.name == "core.outbox" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "broker is unavailable" in warnings[0].getMessage()
    with pytest.raises(outbox.BrokerUnavailable):
        outbox.relay()
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.PENDING}


def test_the_relay_command_reports_what_it_did(eager):
    with transaction.atomic():
        outbox.enqueue(record, "via the command")
        outbox.enqueue(explode, "fails")
    from io import StringIO

    out = StringIO()
    call_command("outbox_relay", stdout=out)
    assert out.getvalue().strip() == "Relayed 2 message(s); 1 pending (waiting to retry), 0 failed."
    assert outbox_tasks.RUNS == ["via the command", "fails"]


def test_old_done_rows_are_purged_and_the_rest_kept(eager, settings):
    with transaction.atomic():
        old, recent, pending = (outbox.enqueue(record, n) for n in ("old", "recent", "pending"))
    long_ago = timezone.now() - settings.OUTBOX_KEEP_DONE - timedelta(hours=1)
    OutboxMessage.objects.filter(pk=old.pk).update(state=State.DONE, done_at=long_ago)
    OutboxMessage.objects.filter(pk=recent.pk).update(state=State.DONE, done_at=timezone.now())
    OutboxMessage.objects.filter(pk=pending.pk).update(created_at=long_ago)
    assert outbox.purge() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}


def test_operators_read_the_outbox_in_the_dashboard_and_nobody_writes_it(eager, operator, owner, stranger):
    with transaction.atomic():
        message = outbox.enqueue("core.tasks.mail_send", subject="Reset", body="secret link", to=["a@example.org"])
    listing = operator.client.get("/dashboard/core/outboxmessage/")
    assert listing.status_code == 200
    assert "core.tasks.mail_send" in listing.content.decode()
    page = operator.client.get(f"/dashboard/core/outboxmessage/{message.pk}/change/")
    assert page.status_code == 200
    assert "a@example.org" in page.content.decode()
    assert "secret link" not in page.content.decode()  # a reset link is not shown, even to operators
    assert operator.client.get("/dashboard/core/outboxmessage/add/").status_code == 403
    assert operator.client.post(f"/dashboard/core/outboxmessage/{message.pk}/delete/").status_code == 403
    assert owner.client.get("/dashboard/core/outboxmessage/").status_code == 403  # a supplier member
    assert stranger.client.get("/dashboard/core/outboxmessage/").status_code == 302  # to the log-in
    assert OutboxMessage.objects.filter(pk=message.pk).exists()


def test_every_task_beat_schedules_is_registered(settings):
    import importlib

    from socialbiz.celery import app

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        importlib.import_module(entry["task"].rpartition(".")[0])
        assert entry["task"] in app.tasks, entry["task"]
    assert settings.CELERY_BEAT_SCHEDULE["outbox-relay"]["schedule"] == timedelta(seconds=30)


def test_a_capture_queues_the_check_of_its_chain_which_moves_its_head_on(
    eager, owner, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from provenance.models import ChainHead
    from provenance.selectors import ChainState, chains_status
    from provenance.services import capture_document
    from tests.provenance.factories import epcis_document
    from tests.provenance.test_epcis_capture import object_event

    with django_capture_on_commit_callbacks(execute=True):
        capture_document(supplier=owner.supplier, submitted_by=None, document=epcis_document(object_event(1)))
    message = OutboxMessage.objects.get(task_name="provenance.tasks.chain_head_advance")
    assert (message.task_name, message.args, message.state) == (
        "provenance.tasks.chain_head_advance",
        [owner.supplier.pk],
        State.DONE,
    )
    assert ChainHead.objects.get(supplier=owner.supplier).verified_through == 1
    with django_assert_num_queries(1):  # the head, read: nothing to hash
        assert chains_status([owner.supplier.pk])[owner.supplier.pk].state == ChainState.VERIFIED
    with django_capture_on_commit_callbacks(execute=True):  # nothing new: nothing to verify
        capture_document(supplier=owner.supplier, submitted_by=None, document=epcis_document(object_event(1)))
    assert OutboxMessage.objects.filter(task_name="provenance.tasks.chain_head_advance").count() == 1
    assert not outbox.deliver(message_id=message.pk)  # delivered again: done already, nothing runs


@pytest.mark.postgres
@pytest.mark.skipif(not database_is_postgres(), reason="ANALYZE after a bulk capture is for PostgreSQL (DATABASE_URL)")
def test_a_bulk_capture_queues_the_statistics_refresh_which_runs_inside_the_delivery(owner, monkeypatch):
    from provenance import services
    from tests.provenance.factories import epcis_document
    from tests.provenance.test_epcis_capture import object_event

    monkeypatch.setattr(services, "ANALYZE_AFTER", 2)
    services.capture_document(
        supplier=owner.supplier, submitted_by=None, document=epcis_document(object_event(1), object_event(2))
    )
    message = OutboxMessage.objects.get(task_name="provenance.tasks.provenance_tables_analyze")
    assert outbox.deliver(message_id=message.pk)  # PostgreSQL runs ANALYZE inside the delivery's transaction
    message.refresh_from_db()
    assert (message.state, message.last_error) == (State.DONE, "")
