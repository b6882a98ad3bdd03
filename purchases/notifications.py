"""E-mail to the buyer and the supplier at each step of an order, with a record of what was sent to whom.

Sent from a task (purchases.tasks.order_notify) that the outbox runs once after the step commits. A recipient who
already has a Notification for the step is skipped, so a repeated delivery of the task sends nothing twice; the
record is written before the mail goes, in the task's transaction, so a failed send rolls it back and is retried.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from products.models import SupplierMember
from purchases.models import Notification, OrderEvent

SUBJECTS = {
    "place": "Order #{id} placed",
    "confirm": "Order #{id} confirmed",
    "dispatch": "Order #{id} is on its way",
    "ready": "Order #{id} is ready for pick-up",
    "deliver": "Order #{id} delivered",
    "confirm_receipt": "Order #{id}: receipt confirmed",
    "auto_confirm": "Order #{id}: paid after the confirmation window",
    "paid": "Order #{id}: payment received",
    "cancel": "Order #{id} cancelled",
    "reschedule": "Order #{id} rescheduled",
    "dispute": "Order #{id}: a problem was reported",
    "answer": "Order #{id}: the supplier answered the dispute",
    "upheld": "Order #{id}: dispute upheld",
    "rejected": "Order #{id}: dispute rejected",
    "close": "Order #{id} closed",
}


def _supplier_recipients(event: OrderEvent) -> list[str]:
    supplier = event.order.supplier
    emails = list(
        SupplierMember.objects.filter(
            supplier=supplier, role__in=[SupplierMember.Role.OWNER, SupplierMember.Role.EDITOR]
        ).values_list("user__email", flat=True)
    )
    if supplier.public_email:
        emails.append(supplier.public_email)
    return sorted({email.lower() for email in emails if email})


@transaction.atomic
def order_event_notify(*, event_id: int) -> int:
    """Send the step's e-mails that were not sent yet; returns how many were sent now."""
    event = OrderEvent.objects.select_related("order__supplier", "order__buyer", "actor").filter(pk=event_id).first()
    if event is None:
        return 0
    order = event.order
    subject = SUBJECTS.get(event.action, "Order #{id} updated").format(id=order.pk)
    recipients = [(order.buyer.email.lower(), OrderEvent.Role.BUYER)]
    recipients += [(email, OrderEvent.Role.SUPPLIER) for email in _supplier_recipients(event)]
    already = set(Notification.objects.filter(event=event).values_list("recipient", flat=True))
    sent = 0
    for email, role in recipients:
        if email in already:
            continue
        already.add(email)
        body = render_to_string(
            "purchases/email/order_event.txt",
            {"event": event, "order": order, "role": role, "site": settings.SITE_URL.rstrip("/")},
        )
        Notification.objects.create(order=order, event=event, recipient=email, role=role, subject=subject, body=body)
        EmailMessage(subject=subject, body=body, to=[email]).send()
        sent += 1
    return sent
