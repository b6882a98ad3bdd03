"""Reviews' background work: the e-mails (reviews.notifications), each started by the outbox once the write that
causes it has committed."""

from celery import shared_task

from reviews import notifications


@shared_task
def voters_notify(change_id: int) -> None:
    """E-mail the voters who asked to hear about a suggestion's status change (once each)."""
    notifications.voters_notify(change_id)


@shared_task
def review_decided_notify(decision_id: int) -> None:
    """E-mail a review's author the moderators' decision on it, with their reason."""
    notifications.review_decided_notify(decision_id)


@shared_task
def review_arrived_notify(review_id: int) -> None:
    """E-mail the reviewed supplier's owners and editors about a new review, so that they can answer it."""
    notifications.review_arrived_notify(review_id)


@shared_task
def suggestion_arrived_notify(suggestion_id: int) -> None:
    """E-mail the supplier's owners and editors about a new suggestion for one of its products."""
    notifications.suggestion_arrived_notify(suggestion_id)
