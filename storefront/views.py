import json
import re
from typing import Any

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from products import selectors as catalog
from storefront import cache as page_cache
from storefront import selectors


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    products = catalog.product_list_public()
    return render(request, "storefront/home.html", {"products": products})


@require_safe
def product(request: HttpRequest, supplier_slug: str, product_slug: str) -> HttpResponse:
    found = catalog.product_detail(supplier_slug=supplier_slug, product_slug=product_slug, viewer=request.user)
    if found is None:
        raise Http404("No such product.")
    declarations = [d for d in found.declarations_all if not d.is_withdrawn]
    context = {
        "product": found,
        "supplier": found.supplier,
        "risks": [d for d in declarations if d.kind == d.Kind.RISK],
        "benefits": [d for d in declarations if d.kind == d.Kind.BENEFIT],
        "batches": selectors.product_batches(found),
        "history": catalog.declaration_history(product=found),
    }
    return render(request, "storefront/product.html", context)


# The batch page: what a QR code on a pack leads to. Composed from the other apps' selectors; cached for anonymous
# visitors (storefront/cache.py), who all see the same page.

# GS1 AI 21: 1–20 characters of CSET 82. Anything else in ?serial= is ignored, not shown.
SERIAL = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
# Where the "Item {serial}" line goes: the cached page is the same for every item of the batch.
ITEM_MARKER = "<!--item-->"


def _script_json(data: dict[str, Any]) -> SafeString:
    """JSON for a <script> element: <, > and & escaped so that no value can close it."""
    text = json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder)
    return mark_safe(text.translate({ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}))


def _mark_item(html: str, serial: str) -> str:
    if ITEM_MARKER not in html:
        return html
    line = (
        f'<p class="item">Item <strong>{escape(serial)}</strong> of this batch</p>' if SERIAL.fullmatch(serial) else ""
    )
    return html.replace(ITEM_MARKER, line, 1)


@require_safe
def batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    # Logged-in people may see drafts and their own header: only anonymous visitors share the cached page (and not
    # while a one-off message waits for them).
    shared = not request.user.is_authenticated and not len(messages.get_messages(request))
    key = page_cache.batch_page_key(batch_id=batch_id, origin=request.build_absolute_uri("/"))
    version, html = page_cache.page_get(key) if shared and page_cache.enabled() else (None, None)
    if html is None:
        page = selectors.batch_page(batch_id=batch_id, viewer=request.user, origin=request.build_absolute_uri("/"))
        if page is None:
            raise Http404("No such batch.")
        context = page.as_context() | {
            "json_ld": _script_json(page.json_ld),
            "item_marker": mark_safe(ITEM_MARKER) if page.product.gtin else "",
        }
        html = render_to_string("storefront/batch.html", context, request=request)
        if version:
            page_cache.page_set(key, version, html)
    response = HttpResponse(_mark_item(html, request.GET.get("serial", "")))
    epcis = request.build_absolute_uri(reverse("api:batch-epcis", kwargs={"batch_id": batch_id}))
    response["Link"] = f'<{epcis}>; rel="alternate"; type="application/ld+json"; title="EPCIS 2.0 lineage"'
    if shared:
        patch_cache_control(response, public=True, max_age=60)
    else:
        patch_cache_control(response, private=True, no_cache=True)
    return response
