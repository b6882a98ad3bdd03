"""E-mail to the buyer and the supplier at each step of an order, with a record of what was sent to whom.

Run by a task (purchases.tasks.order_notify) that the outbox starts once the step has committed. For each recipient
it writes a Notification (one per step and recipient: a unique constraint) and queues the e-mail through the outbox
(core.mail.mail_queue) in the same transaction, so a recipient who already has a Notification for the step is
skipped: a repeated delivery of the task sends nothing twice, and a mail server that fails for one recipient is
retried for that one alone.

Each e-mail says what happened, what happens next and by when, and links to the order: the buyer's order page, the
supplier's dashboard. What only one side should read stays in its own e-mail (the supplier's debt to the network,
its dashboard; the buyer's own credit account), and each recipient gets an e-mail of their own, so no one sees the
others' addresses. People's own words (a cancellation reason, a dispute and its answer) are quoted as written: the
plain-text body is not escaped, the HTML one is escaped once by the template.
"""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from core.mail import mail_queue
from products.models import SupplierMember
from purchases.models import Notification, Order, OrderEvent
from purchases.notifications.letters import LETTERS, Letter, _handover, _other_letter, _payment, _state, when

__all__ = ["LETTERS", "Letter", "dashboard_url", "letter_for", "order_event_notify", "render", "when"]

Role = OrderEvent.Role


# Where each side follows the order ----------------------------------------------------------------------------------


def dashboard_url(order: Order) -> str:
    """The order's page in the supplier's dashboard."""
    return reverse("admin:purchases_order_change", args=[order.pk])


def _link(order: Order, role: str) -> tuple[str, str]:
    site = settings.SITE_URL.rstrip("/")
    if role == Role.BUYER:
        return "Your order", site + reverse("purchases:order", kwargs={"order_id": order.pk})
    return "In your dashboard", site + dashboard_url(order)


def _supplier_recipients(order: Order) -> list[str]:
    supplier = order.supplier
    emails = list(
        SupplierMember.objects.filter(
            supplier=supplier, role__in=[SupplierMember.Role.OWNER, SupplierMember.Role.EDITOR]
        ).values_list("user__email", flat=True)
    )
    if supplier.public_email:
        emails.append(supplier.public_email)
    return sorted({email.lower() for email in emails if email})


def letter_for(event: OrderEvent, role: str) -> Letter:
    """What the buyer (role buyer) or the supplier (role supplier) reads about a step."""
    compose = LETTERS.get(event.action, _other_letter)
    letter = compose(event.order, event, buyer=role == Role.BUYER)
    return Letter(
        subject=" ".join(letter.subject.split()),  # a header: never a line break from a name
        happened=letter.happened,
        said=[(who, words) for who, words in letter.said if words],
        next=[line for line in letter.next if line],
    )


def render(event: OrderEvent, role: str) -> tuple[Letter, str, str]:
    """The letter about a step for one side, and its plain-text and HTML bodies."""
    order = event.order
    letter = letter_for(event, role)
    link_label, link = _link(order, role)
    lines = [
        (line.quantity, line.batch.product.name, line.batch.lot, order.amount_text(line.line_total))
        for line in order.lines.select_related("batch__product")
    ]
    context = {
        "letter": letter,
        "quoted": [(who, "\n".join(f"> {row}" for row in words.splitlines())) for who, words in letter.said],
        "order": order,
        "lines": lines,
        "delivery_fee": order.amount_text(order.delivery_fee) if order.delivery_fee else "",
        "state": _state(event),
        "buyer": role == Role.BUYER,
        "handover": _handover(order),
        "payment": _payment(order),
        "link_label": link_label,
        "link": link,
        "contact": order.supplier.public_email if role == Role.BUYER else "",
    }
    text = render_to_string("purchases/email/order_event.txt", context)
    html = render_to_string("purchases/email/order_event.html", context)
    return letter, text, html


@transaction.atomic
def order_event_notify(*, event_id: int) -> int:
    """Queue the step's e-mails that were not queued yet, one per recipient; returns how many were queued now."""
    event = (
        OrderEvent.objects.select_related("order__supplier__sales_terms", "order__buyer", "order__window")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return 0
    order = event.order
    recipients = [(order.buyer.email.lower(), Role.BUYER)]
    recipients += [(email, Role.SUPPLIER) for email in _supplier_recipients(order)]
    already = set(Notification.objects.filter(event=event).values_list("recipient", flat=True))
    rendered: dict[str, tuple[Letter, str, str]] = {}
    sent = 0
    for email, role in recipients:
        if email in already:
            continue
        already.add(email)
        if role not in rendered:
            rendered[role] = render(event, role)
        letter, text, html = rendered[role]
        Notification.objects.create(
            order=order, event=event, recipient=email, role=role, subject=letter.subject[:200], body=text
        )
        mail_queue(subject=letter.subject, body=text, html_body=html, to=[email])
        sent += 1
    return sent
