"""Where the rows of reviews appear on public pages (core/pages.py): a product's reviews, replies and suggestions on
its page and on every one of its batches' pages (a batch's page shows its product's reviews), and on its supplier's
page (the accountability figures). Taking a review off a page (held for a check, or removed) is never served stale.
"""

from core import pages
from reviews.models import Decision, Flag, Reply, Review, StatusChange, Suggestion


def _product(product_id: int, supplier_id: int) -> list[pages.Root]:
    return [("product", product_id), ("product-page-of", product_id), ("supplier-page", supplier_id)]


def _taken_off(review: Review, before: Review | None) -> bool:
    return not review.is_shown and (before is None or before.is_shown)


def register() -> None:
    pages.shows(
        Review,
        roots=lambda review: _product(review.product_id, review.supplier_id),
        safety=_taken_off,
        previous=True,
    )
    pages.shows(Reply, roots=lambda reply: _product(reply.review.product_id, reply.supplier_id))
    pages.shows(Suggestion, roots=lambda suggestion: _product(suggestion.product_id, suggestion.supplier_id))
    # Flags and decisions are counted in the supplier's flagging figures, on its page alone.
    pages.shows(Flag, roots=lambda flag: [("supplier-page", flag.review.supplier_id)])
    pages.shows(Decision, roots=lambda decision: [("supplier-page", decision.review.supplier_id)])
    pages.shows(
        StatusChange, roots=lambda change: _product(change.suggestion.product_id, change.suggestion.supplier_id)
    )
