"""What the "How reviews work" page says, read from the rules themselves (the labels, the flag reasons, the
suggestion statuses, the orders readers may choose, the abuse limits in settings, the accountability formulas), so
the page cannot drift from what the code does."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from reviews import limits
from reviews.accountability import ANSWER_DAYS, FORMULAS, WINDOW_DAYS
from reviews.models import Decision, Flag, Origin, Suggestion
from reviews.selectors import DEFAULT_ORDER, ORDER_LABELS

ORIGIN_MEANING = {
    Origin.VERIFIED_PURCHASE: (
        "The author bought this batch here and the order was delivered. Each unit bought can be reviewed once: "
        "someone who bought three can write three reviews, one who bought one can write one."
    ),
    Origin.UNVERIFIED: (
        "The author is signed in but did not buy this batch here (they may have bought it in a shop, or been "
        "given it). One review per person and batch."
    ),
}

STATUS_MEANING = {
    Suggestion.Status.OPEN: "Posted; the supplier has not answered yet.",
    Suggestion.Status.UNDER_REVIEW: "The supplier is considering it.",
    Suggestion.Status.PLANNED: "The supplier means to do it.",
    Suggestion.Status.STARTED: "Work on it has begun.",
    Suggestion.Status.COMPLETED: "Done. Votes are closed.",
    Suggestion.Status.DECLINED: "The supplier will not do it, and says why. Votes are closed.",
    Suggestion.Status.DUPLICATE: (
        "The same as another suggestion for the product: merged into it. Its votes move there (whoever voted for "
        "both keeps one vote) and it takes no more."
    ),
}

FLAG_MEANING = {
    Flag.Reason.HARMFUL: "Threats, hate, incitement or anything unlawful.",
    Flag.Reason.PERSONAL_DATA: "Someone's address, phone number, or other private details.",
    Flag.Reason.ADVERTISING: "Promotion of another product, a shop or a link.",
    Flag.Reason.NOT_GENUINE: "Not written from a real experience of the product (for example paid for, or fake).",
    Flag.Reason.WRONG_PRODUCT: "About a different product.",
}

DECISION_MEANING = {
    Decision.Outcome.KEEP: "Kept: it breaks no rule and stays as it is.",
    Decision.Outcome.EDIT: (
        "The author is asked to edit it: its text stays on the page, with the moderator's reason, until they do."
    ),
    Decision.Outcome.REMOVE: (
        "Removed: its text and rating leave the page, and a note with the moderator's written reason stands where "
        "it was. It is never deleted."
    ),
}

WHAT = {
    "review": "Reviews (each edit counts as one)",
    "flag": "Reports of a review",
    "suggestion": "Suggestions",
    "vote": "Votes",
}
PER = {"minute": "a minute", "hour": "an hour", "day": "a day"}


def _limits_text(text: str) -> str:
    """ "10/hour,30/day" → "10 an hour and 30 a day"."""
    parts = [f"{limit.count} {PER[limit.period]}" for limit in limits.Limit.parse(text)]
    return " and ".join(parts)


def rate_limits() -> list[tuple[str, str, str]]:
    """(what, per person, per network address) from settings.REVIEWS_RATE_LIMITS."""
    rows = []
    for kind, label in WHAT.items():
        configured = settings.REVIEWS_RATE_LIMITS.get(kind, {})
        user, address = configured.get("user", ""), configured.get("address", "")
        rows.append(
            (label, _limits_text(user) if user else "no limit", _limits_text(address) if address else "no limit")
        )
    return rows


def context() -> dict[str, Any]:
    return {
        "origins": [(label, ORIGIN_MEANING[Origin(value)]) for value, label in Origin.choices],
        "flag_reasons": [(label, FLAG_MEANING[Flag.Reason(value)]) for value, label in Flag.Reason.choices],
        "decisions": [DECISION_MEANING[Decision.Outcome(value)] for value, _ in Decision.Outcome.choices],
        "statuses": [(label, STATUS_MEANING[Suggestion.Status(value)]) for value, label in Suggestion.Status.choices],
        "orders": [label for _, label in ORDER_LABELS.items()],
        "default_order": ORDER_LABELS[DEFAULT_ORDER],
        "rate_limits": rate_limits(),
        "near_duplicate": round(limits.NEAR_DUPLICATE * 100),
        "compared": limits.COMPARED,
        "formulas": FORMULAS,
        "answer_days": ANSWER_DAYS,
        "window_days": WINDOW_DAYS,
    }
