"""The abuse limits: how much one person, and one address, may post in a while, and near-duplicate text.

Limits are counted from the rows themselves (each written row keeps its author and the keyed hash of its address,
core/addresses.py), not from counters in the cache: they hold exactly, on every server process, and keep holding
while Redis is down. Each kind of write has its own limits (settings.REVIEWS_RATE_LIMITS); a review's edits count
with reviews, since each is a revision.
"""

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from reviews.models import Flag, ReviewRevision, Suggestion, Vote
from reviews.refusals import ReviewRefused

PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
WHAT = {"review": "reviews and edits", "flag": "reports", "suggestion": "suggestions", "vote": "votes"}
# Two texts whose words match this closely (difflib's ratio) are the same text.
NEAR_DUPLICATE = 0.9
COMPARED = 20  # how many of the person's latest texts a new one is compared with
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Limit:
    count: int
    period: str

    @property
    def window(self) -> timedelta:
        return PERIODS[self.period]

    @classmethod
    def parse(cls, text: str) -> list["Limit"]:
        """ "10/hour, 30/day" → two limits."""
        limits = []
        for part in text.split(","):
            count, _, period = part.strip().partition("/")
            if period not in PERIODS or not count.isdigit():
                raise ValueError(f"A limit is a count per minute, hour or day (10/hour), not {part.strip()!r}.")
            limits.append(cls(int(count), period))
        return limits


def _rows(kind: str) -> tuple[QuerySet[Any], str]:
    """The rows a kind of write leaves, and the field naming who wrote each."""
    if kind == "review":
        return ReviewRevision.objects.all(), "review__author"
    if kind == "flag":
        return Flag.objects.all(), "flagger"
    if kind == "suggestion":
        return Suggestion.objects.all(), "author"
    if kind == "vote":
        return Vote.objects.all(), "voter"
    raise ValueError(kind)


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return "a minute"
    if seconds < 90 * 60:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def _period_text(limit: Limit) -> str:
    return {"minute": "a minute", "hour": "an hour", "day": "a day"}[limit.period]


def check_rate(kind: str, *, user: Any, address: str, now: datetime | None = None) -> None:
    """Refuse (`rate_limited`) a write of `kind` by `user` from `address` that would pass one of its limits."""
    now = now or timezone.now()
    configured = settings.REVIEWS_RATE_LIMITS.get(kind, {})
    rows, author_field = _rows(kind)
    scopes: list[tuple[str, dict[str, Any]]] = [("user", {author_field: user})]
    if address:
        scopes.append(("address", {"address": address}))
    for scope, where in scopes:
        for limit in Limit.parse(configured.get(scope, "")) if configured.get(scope) else []:
            # The latest `count` rows in the window: when there are that many, the oldest of them says how long
            # until one leaves it.
            recent = list(
                rows.filter(**where, created_at__gt=now - limit.window)
                .order_by("-created_at")
                .values_list("created_at", flat=True)[: limit.count]
            )
            if len(recent) >= limit.count:
                who = "You have" if scope == "user" else "Your network address has"
                wait = math.ceil((recent[-1] + limit.window - now).total_seconds())
                raise ReviewRefused(
                    f"{who} posted {limit.count} {WHAT[kind]} in less than {_period_text(limit)}, the most the "
                    f"network allows. Please try again in {_wait_text(wait)}.",
                    code="rate_limited",
                    retry_after=max(1, wait),
                )


def normalised(text: str) -> str:
    """Text reduced to its words, in lower case: what two near-duplicates share."""
    return " ".join(_WORDS.findall(unicodedata.normalize("NFKC", text).casefold()))


def is_near_duplicate(text: str, earlier: Iterable[str]) -> bool:
    words = normalised(text)
    if not words:
        return False
    for other in earlier:
        other_words = normalised(other)
        if other_words == words:
            return True
        matcher = difflib.SequenceMatcher(None, words, other_words, autojunk=False)
        if matcher.real_quick_ratio() >= NEAR_DUPLICATE and matcher.ratio() >= NEAR_DUPLICATE:
            return True
    return False
