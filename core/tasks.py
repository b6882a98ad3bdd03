"""Platform-wide background jobs."""

from typing import Any

from celery import shared_task

from core import health, idempotency, mail, outbox, pages


@shared_task
def heartbeat(source: str = "beat") -> None:
    """Record that a worker ran a task just now, so /healthz can tell whether the queue is being worked."""
    health.heartbeat_record(source=source)


@shared_task
def idempotency_keys_purge() -> int:
    """Forget expired Idempotency-Keys (hourly, from beat)."""
    return idempotency.idempotency_keys_purge()


@shared_task
def outbox_deliver(message_id: int) -> bool:
    """Run one outbox message's task, once: the only task the outbox publishes (core.outbox.deliver)."""
    return outbox.deliver(message_id=message_id)


@shared_task
def outbox_relay() -> int:
    """Hand the outbox's due messages to the broker (every OUTBOX_RELAY_SECONDS, from beat)."""
    return outbox.relay()


@shared_task
def outbox_purge() -> int:
    """Delete done outbox messages older than OUTBOX_KEEP_DONE (hourly, from beat)."""
    return outbox.purge()


@shared_task
def mail_send(
    *, subject: str, body: str, to: list[str], from_email: str | None = None, html_body: str | None = None
) -> None:
    """Send one e-mail now; queue mail with core.mail.mail_queue, which goes through the outbox."""
    mail.mail_send_now(subject=subject, body=body, to=to, from_email=from_email, html_body=html_body)


@shared_task
def pages_refresh(roots: list[list[Any]], safety: list[list[Any]], marked: bool = False) -> int:
    """After a commit (through the outbox): mark the pages its changes reach stale, unless the committing process
    did, and render anew those people have asked for (core.pages.refresh); returns how many were rendered."""
    return pages.refresh(map(pages.as_root, roots), map(pages.as_root, safety), marked=marked)
