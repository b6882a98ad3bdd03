"""Platform-wide background jobs."""

from celery import shared_task

from core import health, idempotency


@shared_task
def heartbeat(source: str = "beat") -> None:
    """Record that a worker ran a task just now, so /healthz can tell whether the queue is being worked."""
    health.heartbeat_record(source=source)


@shared_task
def idempotency_keys_purge() -> int:
    """Forget expired Idempotency-Keys (hourly, from beat)."""
    return idempotency.idempotency_keys_purge()
