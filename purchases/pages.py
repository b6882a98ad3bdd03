"""Where the rows of purchases appear on public pages (core/pages.py): offers, price splits, terms and calendars in
the buy boxes of their products' batch pages. Stock and sales change with every order, through queryset updates
that send no signal: the services name the batch pages they change (`pages.changed`)."""

from core import pages
from purchases.models import Closure, Offer, PriceSplit, SalesTerms, Window


def register() -> None:
    pages.shows(Offer, roots=lambda offer: [("product", offer.product_id), ("product-page-of", offer.product_id)])
    pages.shows(PriceSplit, roots=lambda split: [("product", split.product_id)])
    for model in (SalesTerms, Window, Closure):
        pages.shows(model, roots=lambda row: [("supplier", row.supplier_id)])
