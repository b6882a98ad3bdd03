"""A supplier's public page (`/suppliers/<slug>/`): who they are, their standing, their public products with their
ratings, and their accountability figures with the formula next to each. Composed from the catalog's, reviews' and
accountability's reads in a fixed number of queries, and cached like the product page (core/pages.py):

- the page is `("supplier-public", slug)` — what its URL names, so a visit needs no query to find it;
- reviews, replies and suggestions send `("supplier-page", supplier_id)` (reviews/pages.py), and so does any change
  to the supplier itself (the catalog's `("supplier", id)`, a safety change when its status changes) and to one of
  its products (its name, its publication);
- the figures move with time too: a cached copy lives only until midnight (core/pages.py), so the window moves on
  by a day at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.template.loader import render_to_string
from django.urls import reverse

from core import pages
from core.pages import Rendered
from products.models import Product, Supplier
from reviews.accountability import FORMULAS, Figures, accountability_of, duration_text
from reviews.selectors import RatingSummary, rating_summaries

STATUS_MEANING = {
    Supplier.Status.ACTIVE: "Active: it keeps the network's terms and sells normally.",
    Supplier.Status.RESTRICTED: (
        "Restricted: it broke one of the network's rules and has not put it right yet; the network limits what it "
        "may do until it does."
    ),
    Supplier.Status.SUSPENDED: (
        "Suspended: it broke the network's rules and was cut off. Its products cannot be bought, and it receives "
        "no credits, until the network reinstates it."
    ),
}


@dataclass(frozen=True)
class Figure:
    """One accountability figure as the page shows it: what it is, its value (or "not enough data"), what it rests
    on, and its formula in words."""

    key: str
    label: str
    value: str
    basis: str
    formula: str

    @property
    def known(self) -> bool:
        return bool(self.value)


def _percent(value: Any) -> str:
    return "" if value is None else f"{value}%"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def figures_shown(figures: Figures) -> list[Figure]:
    """The figures in the page's words, each with its formula (reviews.accountability.FORMULAS)."""
    waiting = (
        f"; {_plural(figures.waiting, 'newer one still has', 'newer ones still have')} time" if figures.waiting else ""
    )
    own = figures.flagged_by_supplier
    anyone = figures.flagged
    return [
        Figure(
            "answered_in_time",
            "Answered in public within 7 days",
            _percent(figures.answered_in_time),
            f"Of {_plural(figures.counted, 'review or suggestion', 'reviews and suggestions')} received in the last "
            f"{figures.days} days: {figures.in_time} answered in time{waiting}.",
            FORMULAS["answered_in_time"],
        ),
        Figure(
            "median_reply",
            "Usual time to a first answer (median)",
            duration_text(figures.median_wait),
            f"Over {_plural(figures.answered, 'answered review or suggestion', 'answered reviews and suggestions')}.",
            FORMULAS["median_reply"],
        ),
        Figure(
            "flagged_by_supplier",
            "Reviews it reported to the moderators",
            str(own),
            (
                f"{figures.flagged_by_supplier_upheld} of {figures.flagged_by_supplier_decided} decided were upheld "
                f"({_percent(figures.supplier_flags_upheld)})."
                if figures.flagged_by_supplier_decided
                else ("None decided yet." if own else f"It reported none in the last {figures.days} days.")
            ),
            FORMULAS["flagged_by_supplier"],
        ),
        Figure(
            "flagged_by_anyone",
            "Its reviews reported by anyone",
            str(anyone),
            (
                f"{figures.flagged_upheld} of {figures.flagged_decided} decided were upheld "
                f"({_percent(figures.flags_upheld)})."
                if figures.flagged_decided
                else ("None decided yet." if anyone else f"None reported in the last {figures.days} days.")
            ),
            FORMULAS["flagged_by_anyone"],
        ),
        Figure(
            "removed_after_flags",
            "Its reviews removed after a report",
            _percent(figures.removed_share),
            f"{figures.removed_after_flags} of {_plural(figures.reviews_received, 'review', 'reviews')} received in "
            f"the last {figures.days} days.",
            FORMULAS["removed_after_flags"],
        ),
    ]


@dataclass(frozen=True)
class SupplierPage:
    supplier: Supplier
    products: list[tuple[Product, RatingSummary]]
    figures: Figures
    shown: list[Figure]

    def as_context(self) -> dict[str, Any]:
        supplier = self.supplier
        identifiers = [
            (label, value)
            for label, value in (
                ("GLN", supplier.gln),
                ("Open Supply Hub ID", supplier.open_supply_hub_id),
                ("VAT number", supplier.vat_number),
            )
            if value
        ]
        return {
            "supplier": supplier,
            "status_meaning": STATUS_MEANING.get(supplier.status, ""),
            "identifiers": identifiers,
            "products": self.products,
            "figures": self.figures,
            "shown": self.shown,
        }


def supplier_page(slug: str) -> SupplierPage | None:
    """Everything the page shows; None when there is no such supplier. Seven queries (six without products)."""
    supplier = Supplier.objects.filter(slug=slug).first()
    if supplier is None:
        return None
    products = list(Product.objects.public().filter(supplier=supplier).order_by("name", "id"))
    for product in products:
        product.supplier = supplier  # its URL names the supplier: no query per product
    summaries = rating_summaries([product.pk for product in products]) if products else {}
    figures = accountability_of(supplier.pk)
    return SupplierPage(
        supplier=supplier,
        products=[(product, summaries.get(product.pk, RatingSummary())) for product in products],
        figures=figures,
        shown=figures_shown(figures),
    )


def supplier_url(slug: str) -> str:
    return reverse("storefront:supplier", kwargs={"supplier_slug": slug})


# The page cache ---------------------------------------------------------------------------------------------------


@pages.renders("supplier-public", seconds=lambda: settings.PAGE_CACHE_SECONDS)
def render_supplier(slug: str) -> Rendered | None:
    page = supplier_page(slug)
    if page is None:
        return None
    return Rendered(render_to_string("storefront/supplier.html", page.as_context()))


@pages.expands("supplier-page")
def _supplier_public(supplier_ids: set[Any]) -> Iterable[pages.Root]:
    for slug in Supplier.objects.filter(pk__in=supplier_ids).values_list("slug", flat=True):
        yield ("supplier-public", slug)


@pages.expands("supplier")
def _supplier_page(supplier_ids: set[Any]) -> Iterable[pages.Root]:
    for supplier_id in supplier_ids:
        yield ("supplier-page", supplier_id)


def _product_saved(sender: type[Product], instance: Product, raw: bool = False, **kwargs: Any) -> None:
    # The catalog says where a product appears (products/pages.py); its supplier's page lists it too, by name.
    if not raw:
        pages.changed({("supplier-page", instance.supplier_id)}, using=kwargs.get("using") or "default")


post_save.connect(_product_saved, sender=Product, dispatch_uid="storefront-supplier-page-product", weak=False)
