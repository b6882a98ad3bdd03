"""E-mail to the voters of a suggestion who asked to hear about it, when its status changes: with a record of who
was told what (VoterNotice, one per change and voter: a unique constraint).

Run by a task (reviews.tasks.voters_notify) that the outbox starts once the change has committed. Each notice is
written in the same transaction as the e-mail it queues (core.mail.mail_queue), and a voter who already has one
for the change is skipped, so a repeated delivery sends nothing twice. The voters of a suggestion merged into this
one as a duplicate are its voters now (their votes moved); the voters of a suggestion being merged are told where
their vote went. People's words (the title, the response) are quoted as written in the plain-text body and escaped
once, by the template, in the HTML one.
"""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from core.mail import mail_queue
from reviews.models import StatusChange, Vote, VoterNotice


def _recipients(change: StatusChange) -> list[Vote]:
    suggestion = change.suggestion
    if change.duplicate_of_id is not None:
        # The merge moved these votes: the voters followed the suggestion they voted for to the one it joined.
        votes = Vote.objects.filter(suggestion_id=change.duplicate_of_id, moved_from=suggestion)
    else:
        votes = Vote.objects.filter(suggestion=suggestion)
    return list(votes.filter(notify=True).exclude(voter__email="").select_related("voter").order_by("id"))


@transaction.atomic
def voters_notify(change_id: int) -> int:
    """E-mail every voter who asked, once; the number of e-mails queued."""
    change = (
        StatusChange.objects.select_related("suggestion__product__supplier", "duplicate_of", "by_supplier")
        .filter(pk=change_id)
        .first()
    )
    if change is None or change.previous == "":
        return 0  # an opening is no news to anyone who voted after it
    told = set(VoterNotice.objects.filter(change=change).values_list("voter_id", flat=True))
    site = settings.SITE_URL.rstrip("/")
    suggestion = change.suggestion
    context = {
        "change": change,
        "suggestion": suggestion,
        "product": suggestion.product,
        "supplier": suggestion.product.supplier,
        "url": site + suggestion.get_absolute_url(),
        "into_url": site + change.duplicate_of.get_absolute_url() if change.duplicate_of_id else "",
    }
    subject = " ".join(f"“{suggestion.title}” is now {change.get_status_display().lower()}".split())[:200]
    sent = 0
    for vote in _recipients(change):
        if vote.voter_id in told:
            continue
        body = render_to_string("reviews/email/status_change.txt", context | {"voter": vote.voter})
        html = render_to_string("reviews/email/status_change.html", context | {"voter": vote.voter})
        VoterNotice.objects.create(
            change=change, voter=vote.voter, recipient=vote.voter.email, subject=subject, body=body
        )
        mail_queue(subject=subject, body=body, html_body=html, to=[vote.voter.email])
        sent += 1
    return sent
