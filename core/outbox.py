"""Transactional outbox: background work is recorded in the transaction that causes it and run after it commits.

`enqueue(task, *args, **kwargs)` inserts an OutboxMessage row in the caller's transaction: a rolled-back
transaction leaves no row, so its work is never sent. When the transaction commits, the row is handed to the
broker at once, on a connection of its own that gives up after OUTBOX_PUBLISH_TIMEOUT seconds and never retries
(a dead broker must not stall the request). If that fails the row stays pending, and the relay (`relay()`, from
beat every OUTBOX_RELAY_SECONDS, or `manage.py outbox_relay`) sends it once the broker is back.

The broker carries only the row's id, to one generic task (`core.tasks.outbox_deliver` → `deliver()`), which locks
the row, skips it if it is already done, runs the real task and marks the row done in the same transaction: a
duplicate delivery — a relay that resends a row whose first message was lost, or a broker's redelivery — does
nothing twice. Work whose effects leave the database (an e-mail) can still happen twice if the process dies between
doing it and committing; tasks are written to be idempotent.

The real task is called by the delivery, in its transaction, not published itself: its own Celery options (retries,
queues, time limits) do not apply, and its arguments are stored as JSON (pass ids, not objects). Work that raises
is rolled back, the error is recorded on the row and logged, and it is retried later with a growing
delay; after OUTBOX_MAX_ATTEMPTS it is left failed for an operator (the dashboard lists the rows). With no broker
(embedded mode: Celery runs eagerly) the work runs in-process right after the commit, and an error there is recorded
the same way, never raised into the request that committed. Done rows are purged after OUTBOX_KEEP_DONE.
"""

import contextlib
import importlib
import logging
import os
import threading
import time
import traceback
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

DELIVER_TASK = "core.tasks.outbox_deliver"
BATCH_SIZE = 100
BROKER_RETRY_SECONDS = 5.0  # after a failed hand-off, commits leave their rows to the relay for this long
LOG_EVERY_SECONDS = 60.0
MAX_ERROR_CHARS = 10_000


class NotInTransaction(RuntimeError):
    """`enqueue` was called outside transaction.atomic(): the work would not be tied to any write."""


class BrokerUnavailable(RuntimeError):
    """The broker could not be reached; the rows are still pending."""


class _BrokerState:
    """This process's view of the broker after a failed hand-off; logs outages, at most once a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_until = 0.0
        self._logged_at = 0.0
        self._deferred = 0

    def usable(self) -> bool:
        return time.monotonic() >= self.down_until

    def deferred(self, count: int = 1) -> None:
        with self._lock:
            self._deferred += count

    def failed(self, error: Exception, *, ids: Iterable[int]) -> None:
        now = time.monotonic()
        with self._lock:
            self.down_until = now + BROKER_RETRY_SECONDS
            if now - self._logged_at < LOG_EVERY_SECONDS:
                self._deferred += 1
                return
            deferred, self._deferred, self._logged_at = self._deferred, 0, now
        logger.warning(
            "Outbox: the broker is unavailable (%s: %s); messages %s%s stay pending and the relay will send them.",
            type(error).__name__,
            error,
            ", ".join(map(str, ids)),
            f" (and {deferred} more commits since the last report)" if deferred else "",
        )

    def reset(self) -> None:
        with self._lock:
            self.down_until, self._logged_at, self._deferred = 0.0, 0.0, 0


broker = _BrokerState()


def _eager() -> bool:
    return bool(current_app.conf.task_always_eager)


def _task(name: str) -> Task:
    tasks = current_app.tasks
    if name not in tasks:
        # Outside a worker nothing may have imported the task's module yet; a task's name is its module's, by default.
        with contextlib.suppress(ImportError):
            importlib.import_module(name.rpartition(".")[0])
    if name not in tasks:
        raise LookupError(f"No Celery task is registered as {name!r}.")
    return tasks[name]


def enqueue(task: Task | str, /, *args: Any, **kwargs: Any) -> OutboxMessage:
    """Record `task(*args, **kwargs)` in the caller's transaction, to run once it commits (never if it rolls back)."""
    name = task if isinstance(task, str) else task.name
    _task(name)
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction(
            "outbox.enqueue must be called inside transaction.atomic(), with the writes that cause the work."
        )
    message = OutboxMessage.objects.create(task_name=name, args=list(args), kwargs=kwargs)
    transaction.on_commit(partial(_after_commit, message.pk), robust=True)
    return message


def _after_commit(message_id: int) -> None:
    if _eager():
        deliver(message_id=message_id)
        return
    if not broker.usable():
        broker.deferred()
        return
    try:
        _send([message_id])
    except Exception as error:
        broker.failed(error, ids=[message_id])
        return
    _mark_sent([message_id])


class _Publisher(threading.local):
    """This thread's connection to the broker, kept between commits: opening one (and declaring the queue on it)
    costs more than the write that queues the work. Dropped at the first error, so the next send opens a new one."""

    producer: Any = None
    connection: Any = None
    opened_for: tuple[int, str] | None = None  # the process and the broker URL it was opened for

    def get(self) -> tuple[Any, bool]:
        """(a producer, whether it was opened now)."""
        app = current_app
        wanted = (os.getpid(), str(app.conf.broker_url))
        if self.producer is not None and self.opened_for == wanted:
            return self.producer, False
        self.drop()
        self.opened_for = wanted
        timeout = settings.OUTBOX_PUBLISH_TIMEOUT
        options = {"max_retries": 0, "socket_connect_timeout": timeout, "socket_timeout": timeout}
        self.connection = app.connection_for_write(connect_timeout=timeout, transport_options=options)
        self.producer = app.amqp.Producer(self.connection, auto_declare=False)  # what apply_async(connection=…) makes
        return self.producer, True

    def drop(self) -> None:
        connection, self.connection, self.producer = self.connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


_publisher = _Publisher()


def _send(ids: list[int]) -> None:
    """Publish one delivery message per id, on a connection that fails fast instead of retrying. A kept connection
    that fails (the broker restarted since) is replaced once at once; a new one that fails raises."""
    deliver_task = _task(DELIVER_TASK)
    while True:
        producer, opened = _publisher.get()
        try:
            for message_id in ids:
                deliver_task.apply_async(args=(message_id,), producer=producer, retry=False)
            return
        except Exception:
            _publisher.drop()
            if opened:
                raise


def _mark_sent(ids: list[int]) -> None:
    now = timezone.now()
    # Only rows not yet done: a fast worker may have finished one before this update.
    OutboxMessage.objects.filter(pk__in=ids, state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENT]).update(
        state=OutboxMessage.State.SENT, sent_at=now, available_at=now + settings.OUTBOX_RESEND_AFTER
    )


def deliver(*, message_id: int) -> bool:
    """Run a message's task unless it is done already, and mark it done in the same transaction; True if it ran."""
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
            if message is None or message.state in (OutboxMessage.State.DONE, OutboxMessage.State.FAILED):
                return False
            _task(message.task_name)(*message.args, **message.kwargs)
            OutboxMessage.objects.filter(pk=message_id).update(state=OutboxMessage.State.DONE, done_at=timezone.now())
            return True
    except Exception as error:
        logger.exception("Outbox: message %s failed; its work was rolled back.", message_id)
        _record_failure(message_id, error)
        return False


def retry_delay(attempts: int) -> timedelta:
    """How long to wait before running work again after its `attempts`-th failure: 1, 2, 4 … minutes, at most 1 h."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def _record_failure(message_id: int, error: Exception) -> None:
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return
        message.attempts += 1
        message.last_error = "".join(traceback.format_exception(error))[-MAX_ERROR_CHARS:]
        if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            message.state = OutboxMessage.State.FAILED
        else:
            message.state = OutboxMessage.State.PENDING
            message.available_at = timezone.now() + retry_delay(message.attempts)
        message.save(update_fields=["attempts", "last_error", "state", "available_at"])


def relay(*, batch_size: int = BATCH_SIZE) -> int:
    """Hand every due message to the broker (run it, in eager mode), oldest first; returns how many.

    Due: pending rows whose time has come, and rows sent OUTBOX_RESEND_AFTER ago that are still not done. Raises
    BrokerUnavailable (the rows stay pending) if the broker cannot be reached.
    """
    total, after = 0, 0
    while True:
        due = OutboxMessage.objects.filter(
            pk__gt=after,
            state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENT],
            available_at__lte=timezone.now(),
        ).order_by("pk")
        if _eager():
            ids = list(due.values_list("pk", flat=True)[:batch_size])
            for message_id in ids:
                deliver(message_id=message_id)
        else:
            with transaction.atomic():
                # skip_locked: two relays at once share the work instead of sending the same rows twice.
                ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch_size])
                if ids:
                    try:
                        _send(ids)
                    except Exception as error:
                        raise BrokerUnavailable(f"{type(error).__name__}: {error}") from error
                    _mark_sent(ids)
            if ids:
                broker.reset()  # the broker answers again: commits hand their rows over at once
        if not ids:
            return total
        total, after = total + len(ids), ids[-1]


def purge() -> int:
    """Delete done rows older than OUTBOX_KEEP_DONE; returns how many."""
    cutoff = timezone.now() - settings.OUTBOX_KEEP_DONE
    deleted, _ = OutboxMessage.objects.filter(state=OutboxMessage.State.DONE, done_at__lt=cutoff).delete()
    return deleted
