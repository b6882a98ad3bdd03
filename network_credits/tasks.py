"""The ledger's background jobs."""

from celery import shared_task

from network_credits import services


@shared_task
def holds_expire() -> int:
    """Release the holds past their expiry (every CREDITS_HOLDS_EXPIRE_SECONDS, from beat); returns how many."""
    return services.holds_expire()
