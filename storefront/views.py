from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from products import selectors as catalog


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    products = catalog.product_list_public()
    return render(request, "storefront/home.html", {"products": products})


@require_safe
def product(request: HttpRequest, supplier_slug: str, product_slug: str) -> HttpResponse:
    found = catalog.product_detail(supplier_slug=supplier_slug, product_slug=product_slug, viewer=request.user)
    if found is None:
        raise Http404("No such product.")
    declarations = list(found.declarations.all())
    context = {
        "product": found,
        "supplier": found.supplier,
        "risks": [d for d in declarations if d.kind == d.Kind.RISK],
        "benefits": [d for d in declarations if d.kind == d.Kind.BENEFIT],
        "batches": found.batches.all(),
    }
    return render(request, "storefront/product.html", context)
