"""Platform-wide background jobs."""

from celery import shared_task

from socialbiz import health


@shared_task
def heartbeat(source: str = "beat") -> None:
    """Record that a worker ran a task just now, so /healthz can tell whether the queue is being worked."""
    health.heartbeat_record(source=source)
