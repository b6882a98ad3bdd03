"""The storefront's cached pages (core/pages.py): how each is rendered for anonymous visitors, who all see the same.

- `batch` (id: the batch's pk): the page a QR code leads to, around its trace section;
- `batch-trace` (the batch's pk): that section, which changes only with the batch's lineage, cached apart so that a
  change to the product, a declaration or the batch renders the rest alone;
- `product-page` ("supplier-slug/product-slug", what its URL names, so a visit needs no query to find it).

A page is rendered once for every host it is served at: links that must be absolute are rendered with ORIGIN in
place of `scheme://host/` and completed per request (Django has checked the host against ALLOWED_HOSTS, which
allows no character that HTML or JSON would need to escape).
"""

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from core import pages
from core.pages import Rendered
from products import selectors as catalog
from products.models import Batch
from reviews import selectors as community
from storefront import rating, selectors

ORIGIN = "http://origin.invalid/"
# Where the "Item {serial}" line goes: the cached page is the same for every item of the batch.
ITEM_MARKER = "<!--item-->"


def script_json(data: dict[str, Any]) -> SafeString:
    """JSON for a <script> element: <, > and & escaped so that no value can close it."""
    text = json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder)
    return mark_safe(text.translate({ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}))  # noqa: S308


def trace_section(batch: Batch) -> Rendered:
    """A batch's trace section, from the cache when it is current (never stale: the page around it is cached under
    its own token); its data are the (event, step) pairs the page's certificates are cited for."""

    served = pages.serve(("batch-trace", batch.pk), render=lambda: _trace_now(batch), allow_stale=False)
    assert served is not None
    return served.rendered


def _trace_now(batch: Batch) -> Rendered:
    trace = selectors.batch_trace(batch)
    return Rendered(render_to_string("storefront/_trace.html", trace.as_context()), trace.steps)


def epcis_path(batch_id: int) -> str:
    return reverse("api:batch-epcis", kwargs={"batch_id": batch_id})


def batch_html(batch: Batch, *, origin: str, request: Any = None) -> Rendered:
    """A batch's whole page (a batch from products.selectors.batch_page, which checks who may see it); its data is
    the path of its EPCIS export, which its Link header names."""
    trace = trace_section(batch)
    viewer = getattr(request, "user", None)
    page = selectors.batch_page(batch=batch, origin=origin, steps=[tuple(pair) for pair in trace.data], viewer=viewer)
    context = page.as_context() | {
        "trace": mark_safe(trace.html),  # noqa: S308 - rendered by our template, autoescaped
        "json_ld": script_json(page.json_ld),
        "item_marker": mark_safe(ITEM_MARKER) if page.product.gtin else "",  # noqa: S308
    }
    return Rendered(render_to_string("storefront/batch.html", context, request=request), epcis_path(batch.pk))


@pages.renders("batch", seconds=lambda: settings.PAGE_CACHE_SECONDS)
def render_batch(batch_id: int) -> Rendered | None:
    batch = catalog.batch_page(batch_id=batch_id, viewer=AnonymousUser())
    return batch_html(batch, origin=ORIGIN) if batch is not None else None


@pages.renders("batch-trace", seconds=lambda: settings.PAGE_PART_CACHE_SECONDS)
def render_trace(batch_id: int) -> Rendered | None:
    batch = catalog.batch_page(batch_id=batch_id, viewer=AnonymousUser())
    return _trace_now(batch) if batch is not None else None


def product_context(product: Any, *, origin: str) -> dict[str, Any]:
    """A product page's context (a product from products.selectors.product_detail); `origin` is scheme://host/."""
    declarations = [d for d in product.declarations_all if not d.is_withdrawn]
    return {
        "product": product,
        "supplier": product.supplier,
        "risks": [d for d in declarations if d.kind == d.Kind.RISK],
        "benefits": [d for d in declarations if d.kind == d.Kind.BENEFIT],
        "batches": selectors.product_batches(product),
        "history": catalog.declaration_history(product=product),
        "origin": origin.rstrip("/"),
        **_rating_context(product),
    }


def _rating_context(product: Any) -> dict[str, Any]:
    """The product's rating (one query) and where its reviews are."""
    summary = community.rating_summary(product_id=product.pk)
    slugs = {"supplier_slug": product.supplier.slug, "product_slug": product.slug}
    return {
        "rating": summary,
        "rating_drawing": rating.rating_drawing(summary),
        "verified_percent": rating.verified_percent(summary),
        "reviews_url": reverse("reviews:product_reviews", kwargs=slugs),
        "suggestions_url": reverse("reviews:product_suggestions", kwargs=slugs),
    }


@pages.renders("product-page", seconds=lambda: settings.PAGE_CACHE_SECONDS)
def render_product(page_id: str) -> Rendered | None:
    supplier_slug, _, product_slug = page_id.partition("/")
    product = catalog.product_detail(supplier_slug=supplier_slug, product_slug=product_slug, viewer=AnonymousUser())
    if product is None:
        return None
    return Rendered(render_to_string("storefront/product.html", product_context(product, origin=ORIGIN)))
