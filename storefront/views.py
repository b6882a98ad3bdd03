import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

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

from core.gs1 import batch_uri
from products import selectors as catalog
from products.models import Batch, Declaration
from provenance.hashchain import chain_verified
from provenance.lineage import Hop, Lineage, batch_lineage
from provenance.models import Evidence
from provenance.selectors import evidence_for_declarations, evidence_for_events
from storefront import cache as page_cache
from storefront import diagram


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
        "batches": found.batches.all(),
        "history": catalog.declaration_history(product=found),
    }
    return render(request, "storefront/product.html", context)


# The batch page: what a QR code on a pack leads to. Composed from the other apps' selectors; cached for anonymous
# visitors (storefront/cache.py), who all see the same page.

# GS1 AI 21: 1–20 characters of CSET 82. Anything else in ?serial= is ignored, not shown.
SERIAL = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
# Where the "Item {serial}" line goes: the cached page is the same for every item of the batch.
ITEM_MARKER = "<!--item-->"
CERTIFICATE_STATUS = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked", "not_yet_valid": "Not yet valid"}
UNITS = {"KGM": "kg", "TNE": "t", "LTR": "litres", "MTR": "m", "MTK": "m²", "EA": "units"}
GTIN_LOT = re.compile(r"^https://id\.gs1\.org/01/(\d{14})(?:/10/([^/]+))?")


@dataclass
class Certificate:
    """A piece of evidence and what it is cited for on this page."""

    evidence: Evidence
    declarations: list[Declaration] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.evidence.status()

    @property
    def status_label(self) -> str:
        return CERTIFICATE_STATUS[self.status]

    @property
    def link(self) -> str:
        return self.evidence.url or (self.evidence.document.url if self.evidence.document else "")


def _certificates(
    declarations: list[Declaration],
    chain: list[diagram.Step],
    hops: list[Hop],
    for_declaration: dict[int, list[Evidence]],
    for_event: dict[int, list[Evidence]],
) -> list[Certificate]:
    found: dict[int, Certificate] = {}
    for declaration in declarations:
        for evidence in for_declaration.get(declaration.pk, []):
            found.setdefault(evidence.pk, Certificate(evidence)).declarations.append(declaration)
    for step, hop in zip(chain, hops, strict=True):
        for evidence in for_event.get(hop.event.pk, []):
            found.setdefault(evidence.pk, Certificate(evidence)).steps.append(step.number)
    return sorted(found.values(), key=lambda c: (c.evidence.title.lower(), c.evidence.pk))


def _origins(lineage: Lineage, chain: list[diagram.Step], hops: list[Hop]) -> list[dict[str, Any]]:
    """Each raw material (what nothing recorded went into), with the step where it first appears."""
    origins = []
    for identifier in sorted(lineage.origins - {lineage.identifier or ""}):
        first = next(
            (
                step
                for step, hop in zip(chain, hops, strict=True)
                if any(line.identifier == identifier for line in lineage.lines.get(hop.event.pk, ()))
            ),
            None,
        )
        match = GTIN_LOT.match(identifier)
        origins.append(
            {
                "gtin": match.group(1) if match else "",
                "lot": unquote(match.group(2) or "") if match else "",
                "identifier": identifier,
                "step": first,
            }
        )
    return sorted(origins, key=lambda origin: origin["step"].number if origin["step"] else 0)


def _mass_balance(lineage: Lineage, chain: list[diagram.Step], hops: list[Hop]) -> list[dict[str, Any]]:
    step_of = {hop.event.pk: step for step, hop in zip(chain, hops, strict=True)}
    return [
        {
            "step": step_of.get(warning.event.pk),
            "inputs": format(warning.inputs.normalize(), "f"),
            "outputs": format(warning.outputs.normalize(), "f"),
            "unit": UNITS.get(warning.uom, warning.uom),
        }
        for warning in lineage.mass_balance
    ]


def _json_ld(data: dict[str, Any]) -> SafeString:
    """JSON for a <script> element: <, > and & escaped so that no value can close it."""
    text = json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder)
    return mark_safe(text.translate({ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}))


def _batch_context(request: HttpRequest, batch: Batch) -> dict[str, Any]:
    product, supplier = batch.product, batch.product.supplier
    lineage = batch_lineage(batch)
    hops = lineage.chain_hops()
    chain = diagram.steps(hops)
    places = diagram.places(chain)

    declarations = list(product.declarations.all())
    for_declaration = evidence_for_declarations([d.pk for d in declarations]) if declarations else {}
    for_event = evidence_for_events([hop.event.pk for hop in hops]) if hops else {}
    certificates = _certificates(declarations, chain, hops, for_declaration, for_event)
    by_evidence = {certificate.evidence.pk: certificate for certificate in certificates}
    # Each declaration with the certificates cited for it, shown right below it.
    declared = [
        (declaration, [by_evidence[evidence.pk] for evidence in for_declaration.get(declaration.pk, [])])
        for declaration in declarations
    ]

    supplier_ids = {hop.event.supplier_id for hop in hops}
    recorders = catalog.supplier_list().filter(pk__in=supplier_ids).values_list("pk", "legal_name")
    records = [(name, chain_verified(supplier_id=pk)) for pk, name in recorders.order_by("legal_name")]

    canonical = request.build_absolute_uri(reverse("storefront:batch", kwargs={"batch_id": batch.pk}))
    digital_link = batch_uri(batch)
    json_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": digital_link,
        "url": canonical,
        "name": product.name,
        "description": product.description,
        "category": product.get_category_display(),
        "sku": batch.lot,
        "productionDate": batch.produced_on,
        "brand": {"@type": "Brand", "name": supplier.legal_name},
        "manufacturer": {"@type": "Organization", "name": supplier.legal_name},
    }
    if product.gtin:
        json_ld["gtin14"] = product.gtin
    if product.image:
        json_ld["image"] = request.build_absolute_uri(product.image.url)
    return {
        "batch": batch,
        "product": product,
        "supplier": supplier,
        "canonical": canonical,
        "digital_link": digital_link,
        "epcis_url": reverse("api:batch-epcis", kwargs={"batch_id": batch.pk}),
        "image_url": json_ld.get("image", ""),
        "json_ld": _json_ld(json_ld),
        "item_marker": mark_safe(ITEM_MARKER) if product.gtin else "",
        "risks": [pair for pair in declared if pair[0].kind == Declaration.Kind.RISK],
        "benefits": [pair for pair in declared if pair[0].kind == Declaration.Kind.BENEFIT],
        "fit": [
            ("Use", product.use),
            ("Care", product.care),
            ("Repair", product.repair),
            ("End of life", product.end_of_life),
        ],
        "chain": chain,
        "chain_svg": diagram.chain_svg(chain),
        "places": places,
        "map_svg": diagram.origin_map_svg(places),
        "countries": len({place.facility.country.code for place in places}),
        "origins": _origins(lineage, chain, hops),
        "mass_balance": _mass_balance(lineage, chain, hops),
        "records_verified": [name for name, verified in records if verified],
        "records_broken": [name for name, verified in records if not verified],
        "certificates": certificates,
    }


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
        found = catalog.batch_page(batch_id=batch_id, viewer=request.user)
        if found is None:
            raise Http404("No such batch.")
        html = render_to_string("storefront/batch.html", _batch_context(request, found), request=request)
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
