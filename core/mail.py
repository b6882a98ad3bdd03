"""E-mail goes out through the outbox: queued in the transaction that decides to send it, sent after it commits."""

from django.core.mail import EmailMultiAlternatives

from core import outbox
from core.models import OutboxMessage

SEND_TASK = "core.tasks.mail_send"  # by name: core.tasks imports this module


def mail_queue(
    *, subject: str, body: str, to: list[str], from_email: str | None = None, html_body: str | None = None
) -> OutboxMessage:
    """Queue an e-mail in the current transaction; it is sent once that commits, and never if it rolls back."""
    return outbox.enqueue(SEND_TASK, subject=subject, body=body, to=to, from_email=from_email, html_body=html_body)


def mail_send_now(
    *, subject: str, body: str, to: list[str], from_email: str | None = None, html_body: str | None = None
) -> None:
    """Send an e-mail through EMAIL_BACKEND at once (the outbox's mail task calls this)."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()
