from celery import shared_task

from reviews import notifications


@shared_task
def voters_notify(change_id: int) -> None:
    """E-mail the voters who asked to hear about a suggestion's status change (once each)."""
    notifications.voters_notify(change_id)
