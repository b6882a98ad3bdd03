"""Reviews to test with: a shop (tests/purchases/factories.py) whose buyers have received what they bought."""

from __future__ import annotations

import itertools
from typing import Any

from purchases import services as purchases
from purchases.models import Order
from reviews import services
from reviews.models import Review, Suggestion
from tests.accounts.factories import UserFactory
from tests.purchases.factories import Shop, buyer, order, shop

__all__ = ["Shop", "buyer", "delivered", "review", "shop", "suggestion"]

_words = itertools.count(1)
# Distinct texts, so that the near-duplicate rule never refuses a factory's review.
TOPICS = ["bitterness", "the wrapper", "delivery", "the price", "the smell", "the aftertaste", "how it melts", "value"]


def fresh_text(prefix: str = "") -> str:
    n = next(_words)
    return f"{prefix}Note {n} about {TOPICS[n % len(TOPICS)]}: " + " ".join(f"w{n * 7 + i}" for i in range(n % 5 + 3))


def delivered(s: Shop, who: Any, *, quantity: int = 1) -> Order:
    """An order of `quantity` units of the shop's batch, placed, confirmed, made ready and picked up."""
    placed = order(s, who, quantity=quantity)
    purchases.order_confirm(order=placed, actor=s.owner)
    purchases.order_ready(order=placed, actor=s.owner)
    return purchases.order_deliver(order=placed, actor=who)


def review(
    s: Shop, who: Any = None, *, rating: int = 4, verified: bool = False, title: str = "", body: str = ""
) -> Review:
    """A review of the shop's batch by `who` (a new shopper by default), of a delivered unit when `verified`."""
    who = who or UserFactory()
    if verified:
        delivered(s, who)
    return services.review_create(
        author=who,
        batch_id=s.batch.pk,
        rating=rating,
        title=title or f"Title {next(_words)}",
        body=body or fresh_text(),
    )


def suggestion(s: Shop, who: Any = None, *, title: str = "", body: str = "") -> Suggestion:
    return services.suggestion_create(
        author=who or UserFactory(),
        product_id=s.batch.product_id,
        title=title or f"Suggestion {next(_words)}",
        body=body or fresh_text("Idea. "),
    )
