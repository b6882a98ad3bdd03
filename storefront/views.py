import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.views.decorators.http import require_safe

from core import pages
from core.pages import Rendered
from products import selectors as catalog
from storefront import how_reviews_work as reviews_rules
from storefront import pages as storefront_pages
from storefront import supplier_page
from storefront.pages import ITEM_MARKER, ORIGIN

MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage.cookie_name (settings.MESSAGE_COOKIE_NAME)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    products = catalog.product_list_public()
    return render(request, "storefront/home.html", {"products": products})


def _shared(request: HttpRequest) -> bool:
    """Whether the visitor gets the page everyone shares (storefront/pages.py): anonymous, and no one-off message
    waiting. Logged-in people may see drafts and their own header, so theirs is rendered for them.

    Without a session cookie nobody is logged in and no message waits but in the messages cookie: that is most
    visitors (a scanned QR code), answered without loading a session."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES and MESSAGES_COOKIE not in request.COOKIES:
        return True
    return not request.user.is_authenticated and not len(messages.get_messages(request))


def _served(request: HttpRequest, page: pages.PageId, render: Callable[[], Rendered | None]) -> tuple[str, str, Any]:
    """The shared copy of a page completed for this host, where it came from (for X-Cache), and its data."""
    served = pages.serve(page, render=render)
    if served is None:
        raise Http404("No such page.")
    return served.rendered.html.replace(ORIGIN, request.build_absolute_uri("/")), served.state, served.rendered.data


def _public(html: str, state: str) -> HttpResponse:
    response = HttpResponse(html)
    response["X-Cache"] = state
    patch_cache_control(response, public=True, max_age=60)
    return response


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_cache=True)
    return response


@require_safe
def product(request: HttpRequest, supplier_slug: str, product_slug: str) -> HttpResponse:
    page_id = f"{supplier_slug}/{product_slug}"
    if _shared(request):
        html, state, _ = _served(request, ("product-page", page_id), lambda: storefront_pages.render_product(page_id))
        return _public(html, state)
    found = catalog.product_detail(supplier_slug=supplier_slug, product_slug=product_slug, viewer=request.user)
    if found is None:
        raise Http404("No such product.")
    context = storefront_pages.product_context(found, origin=request.build_absolute_uri("/"))
    return _private(render(request, "storefront/product.html", context))


# The batch page: what a QR code on a pack leads to.

# GS1 AI 21: 1–20 characters of CSET 82. Anything else in ?serial= is ignored, not shown.
SERIAL = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")


def _mark_item(html: str, serial: str) -> str:
    if ITEM_MARKER not in html:
        return html
    line = (
        f'<p class="item">Item <strong>{escape(serial)}</strong> of this batch</p>' if SERIAL.fullmatch(serial) else ""
    )
    return html.replace(ITEM_MARKER, line, 1)


@require_safe
def batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    serial = request.GET.get("serial", "")
    if _shared(request):
        html, state, epcis_path = _served(request, ("batch", batch_id), lambda: storefront_pages.render_batch(batch_id))
        response = _public(_mark_item(html, serial), state)
    else:
        found = catalog.batch_page(batch_id=batch_id, viewer=request.user)
        if found is None:
            raise Http404("No such batch.")
        page = storefront_pages.batch_html(found, origin=request.build_absolute_uri("/"), request=request)
        response, epcis_path = _private(HttpResponse(_mark_item(page.html, serial))), page.data
    epcis = request.build_absolute_uri(epcis_path)
    response["Link"] = f'<{epcis}>; rel="alternate"; type="application/ld+json"; title="EPCIS 2.0 lineage"'
    return response


# A supplier's public page, and how reviews work.


@require_safe
def supplier(request: HttpRequest, supplier_slug: str) -> HttpResponse:
    if _shared(request):
        html, state, _ = _served(
            request, ("supplier-public", supplier_slug), lambda: supplier_page.render_supplier(supplier_slug)
        )
        return _public(html, state)
    page = supplier_page.supplier_page(supplier_slug)
    if page is None:
        raise Http404("No such supplier.")
    return _private(render(request, "storefront/supplier.html", page.as_context()))


@require_safe
def how_reviews_work(request: HttpRequest) -> HttpResponse:
    response = render(request, "storefront/how_reviews_work.html", reviews_rules.context())
    if not _shared(request):
        return _private(response)
    patch_cache_control(response, public=True, max_age=300)
    return response
