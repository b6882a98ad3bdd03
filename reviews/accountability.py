"""A supplier's accountability figures: how it answers the people who review its products and suggest improvements,
and how it uses (and how others use) the reports that send a review to the moderators. Published on the supplier's
page, each with its formula in words (FORMULAS), and read by the compliance sweep for every supplier at once.

`accountability(supplier_ids)` computes them in SQL for any number of suppliers in the same number of queries:
reviews (one query), suggestions (one), the median wait (one), flags (one), and on `supplier_ids=None` the list of
suppliers (one). The median is PostgreSQL's `percentile_cont(0.5)`; SQLite has no such aggregate, so there the
waits come back in one query and the median is taken in Python: the same definition (the mean of the two middle
values when there is an even number), rounded to the second on both.

The window is the `days` (90) before `now`, by when a review or a suggestion was received; an answer counts only
if it was given by `now` (the figures for a day in the past are what the page said that day).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from products.models import Supplier
from reviews.models import Decision, Flag, Review, StatusChange, Suggestion

WINDOW_DAYS = 90
ANSWER_DAYS = 7
UPHELD = (Decision.Outcome.REMOVE, Decision.Outcome.EDIT)

FORMULAS: dict[str, str] = {
    "answered_in_time": (
        "Reviews and suggestions received in the last 90 days that the supplier answered in public within 7 days "
        "(a review by the supplier's reply, a suggestion by its first change of status after it was opened), "
        "divided by all of those received in the last 90 days that have had their 7 days or were answered sooner. "
        "One not answered yet and less than 7 days old is still in time: it is left out until its 7 days are up. "
        "Reviews the moderators removed need no answer and are left out."
    ),
    "median_reply": (
        "Of the reviews and suggestions received in the last 90 days that have been answered, reviews and "
        "suggestions together: the time from receiving one to its first public answer, middle value (half were "
        "answered sooner, half later). Ones not answered yet are not in it: the share above counts them."
    ),
    "flagged_by_supplier": (
        "Reviews of this supplier's products that its own people reported to the moderators in the last 90 days, "
        "and of those the moderators have decided, how many they upheld (removed the review, or asked its author "
        "to edit it). A supplier's report never hides a review while it is checked."
    ),
    "flagged_by_anyone": (
        "Reviews of this supplier's products that anyone reported to the moderators in the last 90 days, and of "
        "those decided, how many the moderators upheld (removed, or sent back to the author to edit)."
    ),
    "removed_after_flags": (
        "Reviews of this supplier's products received in the last 90 days that the moderators removed after a "
        "report, divided by all its reviews received in the last 90 days. A review is never removed for being "
        "negative: only for breaking a rule, with the reason shown where it was."
    ),
}


def share(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` as a percentage to one decimal (half up); None when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    """One supplier's figures over the window. Counts are of items; a figure is None when it rests on nothing."""

    supplier_id: int
    days: int = WINDOW_DAYS
    # Answering: items received in the window that count (had their 7 days, or were answered), and those answered
    # within 7 days; `waiting`: younger than 7 days and not answered yet (left out).
    reviews_counted: int = 0
    reviews_in_time: int = 0
    suggestions_counted: int = 0
    suggestions_in_time: int = 0
    waiting: int = 0
    answered: int = 0  # items received in the window answered by now: what the median is taken over
    median_wait: timedelta | None = None
    # Reviews received in the window (every one, removed ones too), and those removed after a report.
    reviews_received: int = 0
    removed_after_flags: int = 0
    # Reviews reported in the window: by the supplier's own people, and by anyone; decided, and upheld.
    flagged_by_supplier: int = 0
    flagged_by_supplier_decided: int = 0
    flagged_by_supplier_upheld: int = 0
    flagged: int = 0
    flagged_decided: int = 0
    flagged_upheld: int = 0

    @property
    def counted(self) -> int:
        """How many items the share of answers in time is based on."""
        return self.reviews_counted + self.suggestions_counted

    @property
    def in_time(self) -> int:
        return self.reviews_in_time + self.suggestions_in_time

    @property
    def answered_in_time(self) -> Decimal | None:
        """Percent of reviews and suggestions answered within 7 days (FORMULAS["answered_in_time"])."""
        return share(self.in_time, self.counted)

    @property
    def reviews_answered_in_time(self) -> Decimal | None:
        return share(self.reviews_in_time, self.reviews_counted)

    @property
    def suggestions_answered_in_time(self) -> Decimal | None:
        return share(self.suggestions_in_time, self.suggestions_counted)

    @property
    def supplier_flags_upheld(self) -> Decimal | None:
        return share(self.flagged_by_supplier_upheld, self.flagged_by_supplier_decided)

    @property
    def flags_upheld(self) -> Decimal | None:
        return share(self.flagged_upheld, self.flagged_decided)

    @property
    def removed_share(self) -> Decimal | None:
        return share(self.removed_after_flags, self.reviews_received)


def _counts(rows: Iterable[dict[str, Any]], key: str) -> dict[int, dict[str, Any]]:
    return {row.pop(key): row for row in rows}


def _waited(answered: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(answered) - F("created_at"), output_field=DurationField())


@dataclass(frozen=True)
class _Window:
    ids: list[int]
    now: datetime
    start: datetime
    due: datetime  # received by then: its 7 days are up

    @classmethod
    def of(cls, supplier_ids: Iterable[int] | None, now: datetime | None, days: int) -> _Window:
        now = now or timezone.now()
        ids = list(Supplier.objects.values_list("pk", flat=True)) if supplier_ids is None else list(supplier_ids)
        return cls(ids, now, now - timedelta(days=days), now - timedelta(days=ANSWER_DAYS))

    @property
    def received(self) -> Q:
        return Q(created_at__gt=self.start, created_at__lte=self.now, supplier_id__in=self.ids)

    @property
    def replied(self) -> Q:
        return Q(reply__created_at__lte=self.now)

    def reviews(self) -> QuerySet[Review]:
        return Review.objects.filter(self.received)

    def suggestions(self) -> QuerySet[Suggestion]:
        """Suggestions received, each with the moment of its first answer (None while it has none)."""
        first_answer = Subquery(
            StatusChange.objects.filter(suggestion=OuterRef("pk"), created_at__lte=self.now)
            .exclude(previous="")
            .order_by("created_at", "id")
            .values("created_at")[:1],
            output_field=DateTimeField(),
        )
        return Suggestion.objects.filter(self.received).annotate(first_answer=first_answer)


ANSWERABLE = ~Q(state=Review.State.REMOVED)  # a removed review needs no answer (and can have none)
ANSWERED_SUGGESTION = Q(first_answer__isnull=False)
IN_TIME = timedelta(days=ANSWER_DAYS)


def _review_rows(window: _Window) -> dict[int, dict[str, Any]]:
    replied = window.replied
    reported = Flag.objects.filter(review=OuterRef("pk"))
    rows = (
        window.reviews()
        .annotate(reported=Exists(reported))
        .values("supplier_id")
        .order_by("supplier_id")
        .annotate(
            received=Count("id"),
            removed_after_flags=Count("id", filter=Q(state=Review.State.REMOVED, reported=True)),
            answerable=Count("id", filter=ANSWERABLE),
            counted=Count("id", filter=ANSWERABLE & (Q(created_at__lte=window.due) | replied)),
            in_time=Count("id", filter=ANSWERABLE & replied & Q(reply__created_at__lte=F("created_at") + IN_TIME)),
            answered=Count("id", filter=ANSWERABLE & replied),
        )
    )
    return _counts(rows, "supplier_id")


def _suggestion_rows(window: _Window) -> dict[int, dict[str, Any]]:
    rows = (
        window.suggestions()
        .values("supplier_id")
        .order_by("supplier_id")
        .annotate(
            received=Count("id"),
            counted=Count("id", filter=Q(created_at__lte=window.due) | ANSWERED_SUGGESTION),
            in_time=Count("id", filter=ANSWERED_SUGGESTION & Q(first_answer__lte=F("created_at") + IN_TIME)),
            answered=Count("id", filter=ANSWERED_SUGGESTION),
        )
    )
    return _counts(rows, "supplier_id")


def _flag_rows(window: _Window) -> dict[int, dict[str, Any]]:
    flags = Flag.objects.filter(
        created_at__gt=window.start, created_at__lte=window.now, review__supplier_id__in=window.ids
    )
    own = Q(by_supplier__isnull=False)
    decided = Q(decision__isnull=False)
    upheld = Q(decision__outcome__in=UPHELD)
    rows = (
        flags.values("review__supplier_id")
        .order_by("review__supplier_id")
        .annotate(
            flagged=Count("review_id", distinct=True),
            flagged_decided=Count("review_id", distinct=True, filter=decided),
            flagged_upheld=Count("review_id", distinct=True, filter=upheld),
            flagged_by_supplier=Count("review_id", distinct=True, filter=own),
            flagged_by_supplier_decided=Count("review_id", distinct=True, filter=own & decided),
            flagged_by_supplier_upheld=Count("review_id", distinct=True, filter=own & upheld),
        )
    )
    return _counts(rows, "review__supplier_id")


def _waits(window: _Window) -> QuerySet[Any]:
    reviews = window.reviews().filter(ANSWERABLE & window.replied).order_by()
    suggestions = window.suggestions().filter(ANSWERED_SUGGESTION).order_by()
    return reviews.values("supplier_id", waited=_waited("reply__created_at")).union(
        suggestions.values("supplier_id", waited=_waited("first_answer")), all=True
    )


def waits_of(supplier_ids: Iterable[int], *, now: datetime | None = None, days: int = WINDOW_DAYS) -> QuerySet[Any]:
    """(supplier_id, waited) of every review and suggestion received in the window and answered by `now`: what
    the median is taken over (not evaluated)."""
    return _waits(_Window.of(supplier_ids, now, days))


def accountability(
    supplier_ids: Iterable[int] | None = None, *, now: datetime | None = None, days: int = WINDOW_DAYS
) -> dict[int, Figures]:
    """The figures of these suppliers (every supplier's when None), by supplier id: four queries (five for all)."""
    window = _Window.of(supplier_ids, now, days)
    reviews, suggestions = _review_rows(window), _suggestion_rows(window)
    medians = median_waits(_waits(window))
    flags = _flag_rows(window)
    figures = {}
    for supplier_id in window.ids:
        r, s, f = reviews.get(supplier_id, {}), suggestions.get(supplier_id, {}), flags.get(supplier_id, {})
        counted = r.get("counted", 0) + s.get("counted", 0)
        figures[supplier_id] = Figures(
            supplier_id=supplier_id,
            days=days,
            reviews_counted=r.get("counted", 0),
            reviews_in_time=r.get("in_time", 0),
            suggestions_counted=s.get("counted", 0),
            suggestions_in_time=s.get("in_time", 0),
            waiting=r.get("answerable", 0) + s.get("received", 0) - counted,
            answered=r.get("answered", 0) + s.get("answered", 0),
            median_wait=medians.get(supplier_id),
            reviews_received=r.get("received", 0),
            removed_after_flags=r.get("removed_after_flags", 0),
            **{name: f.get(name, 0) for name in _FLAG_FIELDS},
        )
    return figures


_FLAG_FIELDS = (
    "flagged",
    "flagged_decided",
    "flagged_upheld",
    "flagged_by_supplier",
    "flagged_by_supplier_decided",
    "flagged_by_supplier_upheld",
)


def _to_second(wait: timedelta) -> timedelta:
    return timedelta(seconds=round(wait.total_seconds()))


def median_waits(waits: QuerySet[Any], *, in_database: bool | None = None) -> dict[int, timedelta]:
    """The median wait per supplier, to the second: by PostgreSQL's percentile_cont in one query, or from the waits
    (one query) where the database has no such aggregate (`in_database` None: whichever this database can)."""
    if in_database is None:
        in_database = connection.vendor == "postgresql"
    if in_database:
        sql, params = waits.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT supplier_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY waited) "
                f"FROM ({sql}) AS waits GROUP BY supplier_id",
                params,
            )
            return {supplier_id: _to_second(median) for supplier_id, median in cursor.fetchall()}
    by_supplier: dict[int, list[timedelta]] = defaultdict(list)
    for row in waits:
        by_supplier[row["supplier_id"]].append(row["waited"])
    return {supplier_id: _to_second(statistics.median(sorted(w))) for supplier_id, w in by_supplier.items()}


def accountability_of(supplier_id: int, *, now: datetime | None = None, days: int = WINDOW_DAYS) -> Figures:
    """One supplier's figures (four queries)."""
    return accountability([supplier_id], now=now, days=days)[supplier_id]


def duration_text(wait: timedelta | None) -> str:
    """A wait as people say it: "3 hours", "2 days 4 hours", "25 minutes"; "" for None."""
    if wait is None:
        return ""
    minutes = int(wait.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)

    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    return unit(minutes, "minute") if minutes else "less than a minute"
