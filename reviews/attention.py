"""What in reviews needs attention, for the dashboard's home (see core.dashboard):

- for the supplier's people, its inbox: reviews and suggestions nobody has answered yet, oldest first, each linking
  to the page where it is answered (the share answered within 7 days is published on the supplier's page);
- for operators, the reports of reviews to decide, harmful-or-illegal first (their reviews are hidden meanwhile).

The oldest SHOWN of each are items of their own; the rest are one item that links to the whole list. One query
each, whatever the number of rows (the total comes with the rows, as a window count).
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Window
from django.urls import reverse
from django.utils import timezone

from core.access import Access
from core.dashboard import AttentionItem
from reviews import selectors
from reviews.accountability import ANSWER_DAYS
from reviews.models import Flag

SHOWN = 10


def _excerpt(text: str, length: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _first(queryset: Any) -> list[Any]:
    return list(queryset.annotate(waiting=Window(Count("pk")))[:SHOWN])


def _left(days: int) -> str:
    left = ANSWER_DAYS - days
    if left > 1:
        return f"{left} days left to answer within {ANSWER_DAYS} days."
    if left == 1:
        return f"A day left to answer within {ANSWER_DAYS} days."
    return f"Past the {ANSWER_DAYS} days the supplier's page counts as answered in time."


def _more(rows: list[Any], noun: str) -> Iterator[AttentionItem]:
    """One item for the rows waiting beyond those listed (`waiting` counts them all), linking to the whole list."""
    if not rows or rows[0].waiting <= len(rows):
        return
    rest = rows[0].waiting - len(rows)
    last = rows[-1]
    yield AttentionItem(
        since=last.created_at,
        title=f"{rest} more {noun}{'s' if rest > 1 else ''} to answer",
        detail=f"Every {noun} not answered yet, the oldest first.",
        url=reverse(f"admin:reviews_{noun}_changelist") + "?answered=no",
        supplier_id=last.supplier_id,
        supplier_name=last.supplier.legal_name,
        action="Answer them",
    )


def reviews_to_answer(access: Access) -> Iterator[AttentionItem]:
    """Reviews of the person's suppliers with no reply yet, the oldest first."""
    if access.operator:
        return
    reviews = _first(selectors.unanswered_reviews(access))
    today = timezone.localdate()
    for review in reviews:
        days = (today - timezone.localdate(review.created_at)).days
        yield AttentionItem(
            since=review.created_at,
            title=f"A {review.rating}-star review of {review.product.name} to answer: “{_excerpt(review.title, 60)}”",
            detail=f"“{_excerpt(review.body)}” {_left(days)}",
            url=reverse("admin:reviews_review_change", args=[review.pk]),
            supplier_id=review.supplier_id,
            supplier_name=review.supplier.legal_name,
            action="Reply",
        )
    yield from _more(reviews, "review")


def suggestions_to_answer(access: Access) -> Iterator[AttentionItem]:
    """Suggestions for the person's suppliers' products nobody has answered, the oldest first."""
    if access.operator:
        return
    suggestions = _first(selectors.unanswered_suggestions(access))
    today = timezone.localdate()
    for suggestion in suggestions:
        days = (today - timezone.localdate(suggestion.created_at)).days
        votes = f"{suggestion.vote_count} vote{'' if suggestion.vote_count == 1 else 's'}"
        yield AttentionItem(
            since=suggestion.created_at,
            title=f"A suggestion for {suggestion.product.name} to answer: “{_excerpt(suggestion.title, 60)}”",
            detail=f"{votes}. “{_excerpt(suggestion.body)}” {_left(days)}",
            url=reverse("admin:reviews_suggestion_change", args=[suggestion.pk]),
            supplier_id=suggestion.supplier_id,
            supplier_name=suggestion.supplier.legal_name,
            action="Answer",
        )
    yield from _more(suggestions, "suggestion")


def flags_to_decide(access: Access) -> Iterator[AttentionItem]:
    """Reports of reviews waiting for an operator's decision (operators' home), harmful-or-illegal first."""
    if not access.operator:
        return
    flags = _first(selectors.open_flags())
    for flag in flags:
        review = flag.review
        harmful = flag.reason == Flag.Reason.HARMFUL
        hidden = " Hidden until you decide." if harmful and flag.by_supplier_id is None else ""
        who = f"{review.supplier.legal_name}'s own people" if flag.by_supplier_id else "a reader"
        note = f" Their note: “{_excerpt(flag.note)}”" if flag.note else ""
        yield AttentionItem(
            since=flag.created_at,
            title=f"Decide on a review reported as {flag.get_reason_display().lower()}: “{_excerpt(review.title, 60)}”",
            detail=f"Reported by {who}.{hidden}{note}",
            url=reverse("admin:reviews_flag_change", args=[flag.pk]),
            supplier_id=review.supplier_id,
            supplier_name=review.supplier.legal_name,
            action="Decide",
        )
    if flags and flags[0].waiting > len(flags):
        rest = flags[0].waiting - len(flags)
        yield AttentionItem(
            since=flags[-1].created_at,
            title=f"{rest} more report{'s' if rest > 1 else ''} of reviews to decide",
            detail="The moderation queue: harmful or illegal content first, then the oldest.",
            url=reverse("admin:reviews_flag_changelist"),
            action="Open the queue",
        )
