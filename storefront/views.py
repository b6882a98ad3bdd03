import re
from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.views.decorators.http import require_safe

from core import pages
from core.pages import Rendered
from products import selectors as catalog
from storefront import pages as storefront_pages
from storefront.pages import ITEM_MARKER, ORIGIN


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    products = catalog.product_list_public()
    return render(request, "storefront/home.html", {"products": products})


def _shared(request: HttpRequest) -> bool:
    """Whether the visitor gets the page everyone shares (storefront/pages.py): anonymous, and no one-off message
    waiting. Logged-in people may see drafts and their own header, so theirs is rendered for them."""
    return not request.user.is_authenticated and not len(messages.get_messages(request))


def _served(request: HttpRequest, page: pages.PageId, render: Callable[[], Rendered | None]) -> HttpResponse:
    """The shared copy of a page, completed for this host, with X-Cache saying where it came from."""
    served = pages.serve(page, render=render)
    if served is None:
        raise Http404("No such page.")
    response = HttpResponse(served.rendered.html.replace(ORIGIN, request.build_absolute_uri("/")))
    response["X-Cache"] = served.state
    patch_cache_control(response, public=True, max_age=60)
    return response


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_cache=True)
    return response


@require_safe
def product(request: HttpRequest, supplier_slug: str, product_slug: str) -> HttpResponse:
    page_id = f"{supplier_slug}/{product_slug}"
    if _shared(request):
        return _served(request, ("product-page", page_id), lambda: storefront_pages.render_product(page_id))
    found = catalog.product_detail(supplier_slug=supplier_slug, product_slug=product_slug, viewer=request.user)
    if found is None:
        raise Http404("No such product.")
    context = storefront_pages.product_context(found, origin=request.build_absolute_uri("/"))
    return _private(render(request, "storefront/product.html", context))


# The batch page: what a QR code on a pack leads to.

# GS1 AI 21: 1–20 characters of CSET 82. Anything else in ?serial= is ignored, not shown.
SERIAL = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")


def _mark_item(response: HttpResponse, serial: str) -> HttpResponse:
    html = response.content.decode()
    if ITEM_MARKER in html:
        line = (
            f'<p class="item">Item <strong>{escape(serial)}</strong> of this batch</p>'
            if SERIAL.fullmatch(serial)
            else ""
        )
        response.content = html.replace(ITEM_MARKER, line, 1).encode()
    return response


@require_safe
def batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    if _shared(request):
        response = _served(request, ("batch", batch_id), lambda: storefront_pages.render_batch(batch_id))
    else:
        found = catalog.batch_page(batch_id=batch_id, viewer=request.user)
        if found is None:
            raise Http404("No such batch.")
        origin = request.build_absolute_uri("/")
        response = _private(HttpResponse(storefront_pages.batch_html(found, origin=origin, request=request)))
    epcis = request.build_absolute_uri(reverse("api:batch-epcis", kwargs={"batch_id": batch_id}))
    response["Link"] = f'<{epcis}>; rel="alternate"; type="application/ld+json"; title="EPCIS 2.0 lineage"'
    return _mark_item(response, request.GET.get("serial", ""))
