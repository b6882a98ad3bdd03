"""E-mail about reviews and suggestions: to the voters of a suggestion when its status changes, to a review's
author when the moderators decide on it, and to a supplier's owners and editors when a new review or suggestion of
theirs arrives (so that they can answer it within the days their public figures count).

Each is run by a task (reviews.tasks) that the outbox starts once the write that causes it has committed, and each
e-mail is queued through the outbox in turn (core.mail.mail_queue), in the task's transaction: a rolled-back write
sends nothing, and the outbox runs a delivery once, so a repeated delivery sends nothing twice. Voters' e-mails are
also recorded (VoterNotice, one per change and voter: a unique constraint), and a voter who already has one for the
change is skipped, so even a task run again by hand sends nothing twice. The voters of a suggestion merged into
another as a duplicate are that one's voters now (their votes moved); the merge's own e-mail tells them where their
vote went. Every recipient gets an e-mail of their own: no one sees anyone else's address.

People's words (titles, texts, responses, a moderator's reason) are quoted as they wrote them in the plain-text
body, and escaped once, by the template, in the HTML one. They were cleaned on the way in (core/text.py); names that
were not (display names, a supplier's names) are cleaned here, so that no e-mail carries a control character or a
bidirectional override. Links are the site's address and the row's own page: `link_to`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import dateformat, timezone

from core.mail import mail_queue
from core.text import clean_text
from products.models import SupplierMember
from reviews.models import Decision, Flag, Review, StatusChange, Suggestion, Vote, VoterNotice

# The accountability figures count a review or suggestion as answered when the answer is public within this many days.
ANSWER_DAYS = 7


def link_to(row: Review | Suggestion) -> str:
    """The absolute address of a review's or a suggestion's public page, as e-mails link to it."""
    return settings.SITE_URL.rstrip("/") + row.get_absolute_url()


def name(text: str) -> str:
    """A name as an e-mail shows it: one line, no control or bidirectional characters."""
    return clean_text(text or "", multiline=False)


def person(user: Any) -> str:
    return name(user.public_name) or "Someone"


def when(moment: datetime) -> str:
    """A moment as people read it, in the platform's time zone: Saturday 5 December 2026, 13:00."""
    return dateformat.format(timezone.localtime(moment), "l j F Y, H:i")


def subject_line(text: str) -> str:
    return " ".join(name(text).split())[:200]


@dataclass(frozen=True)
class Letter:
    """One e-mail, as its recipient reads it (templates/reviews/email/letter.txt and .html)."""

    subject: str
    greeting: str
    happened: str
    said: list[tuple[str, str]] = field(default_factory=list)  # (whose words, the words as written)
    next: list[str] = field(default_factory=list)
    link_label: str = ""
    link: str = ""
    why: str = ""


def render(letter: Letter) -> tuple[str, str]:
    """A letter's plain-text and HTML bodies."""
    said = [(who, words) for who, words in letter.said if words]
    context = {
        "letter": letter,
        "said": said,
        "quoted": [(who, "\n".join(f"> {row}" for row in words.splitlines())) for who, words in said],
    }
    return render_to_string("reviews/email/letter.txt", context), render_to_string("reviews/email/letter.html", context)


def _send(letter: Letter, to: str) -> None:
    text, html = render(letter)
    mail_queue(subject=letter.subject, body=text, html_body=html, to=[to])


# Voters, when a suggestion's status changes ------------------------------------------------------------------------


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
    suggestion = change.suggestion
    context = {
        "change": change,
        "suggestion": suggestion,
        "product_name": name(suggestion.product.name),
        "supplier_name": name(suggestion.product.supplier.legal_name),
        "answered_by": name(change.by_supplier.legal_name) if change.by_supplier else "The network's operators",
        "url": link_to(suggestion),
        "into_url": link_to(change.duplicate_of) if change.duplicate_of_id else "",
    }
    subject = subject_line(f"“{suggestion.title}” is now {change.get_status_display().lower()}")
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


# A review's author, when the moderators decide on it ---------------------------------------------------------------


def _decided_letter(decision: Decision, reasons: list[str]) -> Letter:
    review = decision.review
    product = name(review.product.name)
    what = f"your review “{review.title}” of {product} (lot {name(review.batch.lot)})"
    reported = f" It was reported as: {', '.join(reasons)}." if reasons else ""
    if decision.outcome == Decision.Outcome.KEEP:
        subject = f"Your review of {product} was checked and stays up"
        happened = f"The network's moderators checked {what} and kept it as you wrote it.{reported}"
        next_steps = ["It stays on the product's pages as it is, and its rating counts as before."]
    elif decision.outcome == Decision.Outcome.REMOVE:
        subject = f"Your review of {product} was removed by the moderators"
        happened = f"The network's moderators removed {what}.{reported}"
        next_steps = [
            "It is not deleted: where it was, the page now says that the moderators removed it, with their reason.",
            "Its rating no longer counts in the product's rating, and it can no longer be edited.",
        ]
    else:
        subject = f"The moderators ask you to edit your review of {product}"
        happened = f"The network's moderators ask you to edit {what}.{reported}"
        next_steps = [
            "Until you do, it stays on the product's pages as it is, with their reason beside it.",
            "Once you edit it, it is published again without their note; the version before is kept in its history.",
        ]
    return Letter(
        subject=subject_line(subject),
        greeting=f"Hello {person(review.author)},",
        happened=happened,
        said=[("The moderators' reason", decision.reason)],
        next=next_steps,
        link_label="Edit your review" if decision.outcome == Decision.Outcome.EDIT else "Your review",
        link=link_to(review),
        why="You get this e-mail because you wrote this review.",
    )


@transaction.atomic
def review_decided_notify(decision_id: int) -> int:
    """E-mail a review's author the moderators' decision on it, with their reason; the number of e-mails queued."""
    decision = (
        Decision.objects.select_related("review__author", "review__product", "review__batch")
        .filter(pk=decision_id)
        .first()
    )
    if decision is None or not decision.review.author.email:
        return 0
    reasons = sorted({flag.get_reason_display().lower() for flag in Flag.objects.filter(decision=decision)})
    _send(_decided_letter(decision, reasons), decision.review.author.email)
    return 1


# The supplier, when a new review or suggestion arrives -------------------------------------------------------------


def supplier_recipients(supplier_id: int, *, other_than: int | None = None) -> list[str]:
    """The addresses of a supplier's owners and editors (the people who answer), each once."""
    members = SupplierMember.objects.filter(
        supplier_id=supplier_id,
        role__in=[SupplierMember.Role.OWNER, SupplierMember.Role.EDITOR],
        user__is_active=True,
    ).exclude(user_id=other_than)
    return sorted({email.lower() for email in members.values_list("user__email", flat=True) if email})


def _answer_by(created_at: datetime) -> str:
    return when(created_at + timedelta(days=ANSWER_DAYS))


def _arrived_letter(review: Review) -> Letter:
    product, supplier = name(review.product.name), name(review.supplier.legal_name)
    return Letter(
        subject=subject_line(f"New review of {product}: {review.rating} of 5 stars, “{review.title}”"),
        greeting=f"Hello {supplier},",
        happened=(
            f"{person(review.author)} reviewed {product}, lot {name(review.batch.lot)}, on {when(review.created_at)}: "
            f"{review.rating} out of 5 stars ({review.get_origin_display().lower()})."
        ),
        said=[("Their title", review.title), ("Their review", review.body)],
        next=[
            f"Reply in public by {_answer_by(review.created_at)}: your public page shows the share of reviews you "
            f"answer within {ANSWER_DAYS} days, with the formula.",
            "You can reply once, and edit your reply (every version is kept). You cannot change, hide or remove a "
            "review; if it breaks a rule, report it, and the network's moderators decide in public.",
        ],
        link_label="Read and reply",
        link=link_to(review),
        why=f"You get this e-mail as an owner or editor of {supplier}.",
    )


@transaction.atomic
def review_arrived_notify(review_id: int) -> int:
    """E-mail the reviewed supplier's owners and editors about a new review; the number of e-mails queued."""
    review = Review.objects.select_related("author", "product", "batch", "supplier").filter(pk=review_id).first()
    if review is None or not review.is_shown:
        return 0
    letter = _arrived_letter(review)
    recipients = supplier_recipients(review.supplier_id, other_than=review.author_id)
    for email in recipients:
        _send(letter, email)
    return len(recipients)


def _suggested_letter(suggestion: Suggestion) -> Letter:
    product, supplier = name(suggestion.product.name), name(suggestion.supplier.legal_name)
    return Letter(
        subject=subject_line(f"New suggestion for {product}: “{suggestion.title}”"),
        greeting=f"Hello {supplier},",
        happened=f"{person(suggestion.author)} made a suggestion for {product} on {when(suggestion.created_at)}.",
        said=[("Their title", suggestion.title), ("Their suggestion", suggestion.body)],
        next=[
            f"Answer it in public by {_answer_by(suggestion.created_at)}: move it to a status (under review, "
            f"planned, started, completed, declined or duplicate) with a response. Your public page shows the share "
            f"of suggestions you answer within {ANSWER_DAYS} days, with the formula.",
            "Every answer stays in its public history, and the voters who asked are e-mailed it.",
        ],
        link_label="Read and answer",
        link=link_to(suggestion),
        why=f"You get this e-mail as an owner or editor of {supplier}.",
    )


@transaction.atomic
def suggestion_arrived_notify(suggestion_id: int) -> int:
    """E-mail the supplier's owners and editors about a new suggestion for one of its products; the number queued."""
    suggestion = Suggestion.objects.select_related("author", "product", "supplier").filter(pk=suggestion_id).first()
    if suggestion is None:
        return 0
    letter = _suggested_letter(suggestion)
    recipients = supplier_recipients(suggestion.supplier_id, other_than=suggestion.author_id)
    for email in recipients:
        _send(letter, email)
    return len(recipients)
