"""Reads of reviews shared by the pages, the API, the feeds and the dashboard; they own the joins, so query counts
are decided here.

Ordering is stated, never chosen by the supplier: reviews come newest first by default (a reader may sort by oldest,
highest or lowest rating), each with the same weight whatever its rating; suggestions by votes, most first, then the
oldest first. A rating counts in the summary from the moment it is posted until moderators remove its review, with
a written reason; a flag never changes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)

from core.access import Access
from products.models import Product
from purchases.models import OrderLine
from reviews.models import Decision, Flag, Origin, Reply, Review, StatusChange, Suggestion, Vote

ORDERS: dict[str, tuple[str, ...]] = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "highest": ("-rating", "-created_at", "-id"),
    "lowest": ("rating", "-created_at", "-id"),
}
ORDER_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "highest": "Highest rated",
    "lowest": "Lowest rated",
}
DEFAULT_ORDER = "newest"
COUNTED = ~Q(state=Review.State.REMOVED)


@dataclass(frozen=True)
class RatingSummary:
    """The ratings that count (every review's but the removed ones'): how many, their average and spread."""

    count: int = 0
    total: int = 0
    verified: int = 0
    distribution: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))

    @property
    def average(self) -> Decimal | None:
        """The mean rating to one decimal (half up), None without ratings."""
        if not self.count:
            return None
        return (Decimal(self.total) / Decimal(self.count)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def rows(self) -> list[tuple[int, int, int]]:
        """(stars, count, percent of all) from 5 stars down to 1, percents rounded."""
        return [
            (stars, self.distribution[stars], round(100 * self.distribution[stars] / self.count) if self.count else 0)
            for stars in range(5, 0, -1)
        ]


def _summary_columns() -> dict[str, Any]:
    columns: dict[str, Any] = {f"s{stars}": Count("id", filter=COUNTED & Q(rating=stars)) for stars in range(1, 6)}
    columns["verified"] = Count("id", filter=COUNTED & Q(origin=Origin.VERIFIED_PURCHASE))
    return columns


def _summary(row: dict[str, Any]) -> RatingSummary:
    distribution = {stars: row[f"s{stars}"] or 0 for stars in range(1, 6)}
    return RatingSummary(
        count=sum(distribution.values()),
        total=sum(stars * n for stars, n in distribution.items()),
        verified=row["verified"] or 0,
        distribution=distribution,
    )


def rating_summary(*, product_id: int | None = None, batch_id: int | None = None) -> RatingSummary:
    """The rating of a product (all its batches) or of one batch: one query."""
    reviews = Review.objects.all()
    if product_id is not None:
        reviews = reviews.filter(product_id=product_id)
    if batch_id is not None:
        reviews = reviews.filter(batch_id=batch_id)
    return _summary(reviews.aggregate(**_summary_columns()))


def rating_summaries(product_ids: Iterable[int]) -> dict[int, RatingSummary]:
    """The ratings of many products at once (lists of products): one query."""
    rows = (
        Review.objects.filter(product_id__in=list(product_ids))
        .values("product_id")
        .order_by("product_id")
        .annotate(**_summary_columns())
    )
    return {row["product_id"]: _summary(row) for row in rows}


def _with_parts(reviews: QuerySet[Review]) -> QuerySet[Review]:
    return reviews.select_related("author", "batch", "reply__supplier").prefetch_related(
        Prefetch("decisions", queryset=Decision.objects.order_by("created_at", "id"))
    )


def reviews_of_product(product_id: int, *, order: str = DEFAULT_ORDER) -> QuerySet[Review]:
    """A product's reviews (every batch's) in a stated order, each with its author, batch, reply and decisions: three
    queries however many there are (slice it for a page)."""
    return _with_parts(Review.objects.filter(product_id=product_id)).order_by(*ORDERS.get(order, ORDERS[DEFAULT_ORDER]))


def reviews_list(*, order: str = DEFAULT_ORDER) -> QuerySet[Review]:
    """Every review, for the API (filtered there), with its parts."""
    return _with_parts(Review.objects.select_related("product")).order_by(*ORDERS.get(order, ORDERS[DEFAULT_ORDER]))


def review_detail(review_id: int) -> Review | None:
    """A review with its product, every revision and its reply's (the history page)."""
    return (
        _with_parts(Review.objects.select_related("product__supplier"))
        .prefetch_related("revisions", "reply__revisions__author")
        .filter(pk=review_id)
        .first()
    )


def last_decision(review: Review) -> Decision | None:
    """The decision that stands (from prefetched decisions: no query)."""
    decisions = list(review.decisions.all())
    return decisions[-1] if decisions else None


def reply_of(review: Review) -> Reply | None:
    try:
        return review.reply
    except Reply.DoesNotExist:
        return None


def _with_history(suggestions: QuerySet[Suggestion]) -> QuerySet[Suggestion]:
    return suggestions.select_related("author", "duplicate_of").prefetch_related(
        Prefetch(
            "history",
            queryset=StatusChange.objects.select_related("by", "by_supplier", "duplicate_of").order_by(
                "created_at", "id"
            ),
        )
    )


def suggestions_of_product(product_id: int) -> QuerySet[Suggestion]:
    """A product's suggestions, most votes first (then the oldest), each with its whole history: two queries."""
    return _with_history(Suggestion.objects.filter(product_id=product_id)).order_by("-vote_count", "created_at", "id")


def suggestions_list() -> QuerySet[Suggestion]:
    """Every suggestion, for the API (filtered there), with its history."""
    return _with_history(Suggestion.objects.select_related("product")).order_by("-vote_count", "created_at", "id")


def suggestion_detail(suggestion_id: int) -> Suggestion | None:
    return _with_history(Suggestion.objects.select_related("product__supplier")).filter(pk=suggestion_id).first()


def voted_by(user: Any, suggestion_ids: Iterable[int]) -> dict[int, Vote]:
    """The person's votes among these suggestions, by suggestion id: one query (none for a visitor)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    votes = Vote.objects.filter(voter=user, suggestion_id__in=list(suggestion_ids))
    return {vote.suggestion_id: vote for vote in votes}


def flagged_by(user: Any, review_ids: Iterable[int]) -> set[int]:
    """Which of these reviews the person has already reported: one query (none for a visitor)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(Flag.objects.filter(flagger=user, review_id__in=list(review_ids)).values_list("review_id", flat=True))


# The dashboard ---------------------------------------------------------------------------------------------------


def _suppliers(queryset: QuerySet[Any], access: Access) -> QuerySet[Any]:
    return queryset if access.operator else queryset.filter(supplier_id__in=access.readable)


def unanswered_reviews(access: Access) -> QuerySet[Review]:
    """Reviews with no reply yet, oldest first, of the suppliers the person may read (all, for operators); removed
    ones need no answer."""
    reviews = Review.objects.filter(COUNTED).exclude(Exists(Reply.objects.filter(review=OuterRef("pk"))))
    return (
        _suppliers(reviews, access)
        .select_related("product", "batch", "supplier", "author")
        .order_by("created_at", "id")
    )


def unanswered_suggestions(access: Access) -> QuerySet[Suggestion]:
    """Suggestions nobody has answered yet (still open, their history only their opening), oldest first."""
    answered = StatusChange.objects.filter(suggestion=OuterRef("pk")).exclude(previous="")
    suggestions = Suggestion.objects.filter(status=Suggestion.Status.OPEN).exclude(Exists(answered))
    return _suppliers(suggestions, access).select_related("product", "supplier", "author").order_by("created_at", "id")


def open_flags() -> QuerySet[Flag]:
    """The moderators' queue: flags not yet decided, harmful-or-illegal first (their reviews are hidden meanwhile),
    then the oldest."""
    urgent = Case(When(reason=Flag.Reason.HARMFUL, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        Flag.objects.filter(decision__isnull=True)
        .select_related("review__product", "review__supplier", "review__author", "flagger", "by_supplier")
        .annotate(urgent=urgent)
        .order_by("urgent", "created_at", "id")
    )


# The pages: the batch page's section, a review's and a suggestion's pages ------------------------------------------


@dataclass(frozen=True)
class ReviewCard:
    """A review as a list shows it: with the supplier's reply and the moderators' decision that stands."""

    review: Review
    reply: Reply | None
    decision: Decision | None


def card(review: Review) -> ReviewCard:
    """A review with its parts prefetched (reviews_of_product, review_detail): no query."""
    return ReviewCard(review=review, reply=reply_of(review), decision=last_decision(review))


def product_rating(product_id: int, batch_id: int) -> tuple[RatingSummary, int]:
    """A product's rating, and how many of the ratings that count are of one of its batches: one query."""
    columns = _summary_columns() | {"of_batch": Count("id", filter=COUNTED & Q(batch_id=batch_id))}
    row = Review.objects.filter(product_id=product_id).aggregate(**columns)
    return _summary(row), row["of_batch"] or 0


def _standing(field: str) -> Subquery:
    latest = Decision.objects.filter(review=OuterRef("pk")).order_by("-created_at", "-id")
    return Subquery(latest.values(field)[:1])


def latest_reviews(product_id: int, *, limit: int) -> tuple[list[ReviewCard], int]:
    """A product's newest reviews (at most `limit`), each with its author, batch, reply and the decision that stands,
    and how many reviews it has in all: one query, however many there are (none too)."""
    rows = (
        Review.objects.filter(product_id=product_id)
        .select_related("author", "batch", "reply__supplier")
        .annotate(
            decision_outcome=_standing("outcome"),
            decision_reason=_standing("reason"),
            decision_at=_standing("created_at"),
            listed=Window(Count("id")),
        )
        .order_by(*ORDERS[DEFAULT_ORDER])[:limit]
    )
    cards = []
    for review in rows:
        decision = None
        if review.decision_outcome:
            decision = Decision(
                review=review,
                outcome=review.decision_outcome,
                reason=review.decision_reason,
                created_at=review.decision_at,
            )
        cards.append(ReviewCard(review=review, reply=reply_of(review), decision=decision))
    return cards, (rows[0].listed if cards else 0)


def top_suggestions(product_id: int, *, limit: int) -> tuple[list[Suggestion], int]:
    """A product's suggestions with the most votes (then the oldest), at most `limit`, each with its latest public
    response (`latest_response`, `latest_response_at`) and what it was merged into, and how many it has in all: one
    query."""
    answered = (
        StatusChange.objects.filter(suggestion=OuterRef("pk")).exclude(response="").order_by("-created_at", "-id")
    )
    rows: list[Suggestion] = list(
        Suggestion.objects.filter(product_id=product_id)
        .select_related("duplicate_of")
        .annotate(
            latest_response=Subquery(answered.values("response")[:1]),
            latest_response_at=Subquery(answered.values("created_at")[:1]),
            listed=Window(Count("id")),
        )
        .order_by("-vote_count", "created_at", "id")[:limit]
    )
    return rows, (rows[0].listed if rows else 0)  # type: ignore[attr-defined]


def verified_units_left(user: Any, batch_id: int) -> int:
    """How many units of the batch the person has received and not reviewed yet: what a review of theirs would be
    verified by (the service ties it to one). One query; none for a visitor."""
    from reviews.services.reviewing import DELIVERED

    if not getattr(user, "is_authenticated", False):
        return 0
    lines = (
        OrderLine.objects.filter(
            order__buyer=user, batch_id=batch_id, order__state__in=DELIVERED, order__delivered_at__isnull=False
        )
        .annotate(reviewed=Count("reviews"))
        .values_list("quantity", "reviewed")
    )
    return sum(max(quantity - reviewed, 0) for quantity, reviewed in lines)


def reviews_by(user: Any, batch_id: int) -> list[Review]:
    """The person's own reviews of a batch, newest first: one query (none for a visitor)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Review.objects.filter(author=user, batch_id=batch_id).order_by("-created_at", "-id"))


def public_product(supplier_slug: str, product_slug: str) -> Product | None:
    """A published product with its supplier, by the slugs of its page: one query."""
    return (
        Product.objects.public()
        .select_related("supplier")
        .filter(supplier__slug=supplier_slug, slug=product_slug)
        .first()
    )


def merge_targets(suggestion: Suggestion) -> list[Suggestion]:
    """The suggestions a suggestion may be merged into: its product's others that are not themselves merged, most
    votes first. One query."""
    return list(
        Suggestion.objects.filter(product_id=suggestion.product_id)
        .exclude(pk=suggestion.pk)
        .exclude(status=Suggestion.Status.DUPLICATE)
        .order_by("-vote_count", "created_at", "id")
    )
