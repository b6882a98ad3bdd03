"""The GS1 Digital Link resolver: what a QR code on a pack points at, and the QR codes themselves.

    /01/{gtin}[/22/{variant}][/10/{lot}][/21/{serial}]   a GTIN-8/12/13/14 (check digit verified)
    /p/{ref}[/10/{lot}][/21/{serial}]                     a product without a GTIN, by its internal reference
    …/qr.svg, …/qr.png                                    the QR code of the Digital Link before it
    /.well-known/gs1resolver                              the resolver description file

A valid link redirects (307) to its default link (gs1:pip): the batch page for a lot, with `?serial=` for a serial, the
product page for a GTIN alone; `?linkType=` picks another link. A variant (AI 22) or a serial without a lot is
resolved one level up, as the GS1-Conformant Resolver standard allows (the platform keeps neither). Data attributes in
the query string (`?17=261231`) are checked against GS1's AI dictionary and passed on. Every answer to a
known link carries a `Link` header with all of its links, `Accept: application/linkset+json` or `?linkType=linkset`
(or `all`) gets them as an RFC 9264 linkset, and every answer carries CORS headers. A URI that breaks the Digital
Link syntax or the AI dictionary is a 400 with the reason, a valid link to nothing public a 404: never a 200 with an
error page. The path is read as the client sent it (RAW_URI); where the server gives only the decoded path, a "/" that
may have been a %2F is never guessed at (core.gs1.parse).

A resolution costs one query (the batch with its product and supplier, or the product with its supplier).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils.http import parse_etags
from django.views.decorators.csrf import csrf_exempt

from core import qr
from core.api.errors import error_body
from core.gs1 import AmbiguousPath, DigitalLink, InvalidDigitalLink, parse
from products import selectors as catalog
from products.models import Batch, Product

GS1_VOC = "https://gs1.org/voc/"
# The forms of a GS1 link type `?linkType=` accepts: the CURIE and the vocabulary's URIs, old and new.
_LINK_TYPE_PREFIXES = ("gs1:", GS1_VOC, "http://gs1.org/voc/", "https://ref.gs1.org/voc/", "http://ref.gs1.org/voc/")
_LINKSET_REQUESTS = {"linkset", "all"}
LINKSET_MEDIA_TYPE = "application/linkset+json"
# GS1's JSON-LD context for linksets (GS1-Conformant Resolver standard, artefacts), linked from linkset responses.
LINKSET_CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
JSON_LD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"

ALLOWED_METHODS = "GET, HEAD, OPTIONS"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": ALLOWED_METHODS,
    "Access-Control-Allow-Headers": "Accept",
    "Access-Control-Expose-Headers": "Link",
}
# A QR code's bytes depend on its URI alone, so a browser or CDN may keep it for good.
QR_CACHE_CONTROL = "public, max-age=31536000, immutable"
QR_MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}

# The link types a link may offer, in the order they are listed, with their titles: ASCII and without commas, since
# they go into a Link header that simple clients split at commas. gs1:recallStatus is recognised but has no target
# yet, so asking for it falls back to the default link.
LINK_TITLES = {
    "pip": "Product information page",
    "traceability": "Where it comes from: raw material to shelf",
    "certificationInfo": "Certificates and their validity",
    "sustainabilityInfo": "Risks and benefits side by side",
    "instructions": "Use and care instructions",
    "review": "Ratings and reviews",
    "epcis": "Supply chain events (EPCIS 2.0 JSON-LD)",
}
DEFAULT_LINK_TYPE = "pip"
LINKSET_TITLE = "All links for this item"


@dataclass(frozen=True)
class Link:
    link_type: str  # the GS1 link type's local name: "pip", "epcis", …
    href: str
    title: str
    media_type: str = "text/html"
    language: bool = True  # whether the target is a document in the site's language

    @property
    def rel(self) -> str:
        return GS1_VOC + self.link_type


# Views


@csrf_exempt  # only safe methods are answered; anything else is a 405, not a CSRF failure
def resolve(request: HttpRequest) -> HttpResponseBase:
    """Resolve a Digital Link: redirect to one of its links, answer with its linkset, or draw its QR code."""
    if request.method == "OPTIONS":
        return _with_cors(_options())
    if request.method not in ("GET", "HEAD"):
        return _with_cors(_not_allowed())

    path, decoded = _request_path(request)
    try:
        link, image_format = parse(path, decoded=decoded, query=request.META.get("QUERY_STRING", ""))
    except AmbiguousPath as error:
        return _with_cors(_error(request, 400, "ambiguous_digital_link", str(error)))
    except InvalidDigitalLink as error:
        return _with_cors(_error(request, 400, "invalid_digital_link", str(error)))
    target = _find(link)
    if target is None:
        message = "This is a valid GS1 Digital Link, but nothing public on this site has this identifier."
        return _with_cors(_error(request, 404, "not_found", message))

    anchor = link.uri(settings.RESOLVER_ROOT)
    links = _links(request, target, link)
    response = _qr_image(request, anchor, image_format) if image_format else _resolution(request, anchor, target, links)
    # A linkset response already links its JSON-LD context; the item's links go first.
    response["Link"] = ", ".join(filter(None, [_link_header(anchor, links), response.get("Link")]))
    return _with_cors(response)


@csrf_exempt
def description(request: HttpRequest) -> HttpResponseBase:
    """The resolver description file (GS1-Conformant Resolver standard, /.well-known/gs1resolver)."""
    if request.method == "OPTIONS":
        return _with_cors(_options())
    if request.method not in ("GET", "HEAD"):
        return _with_cors(_not_allowed())
    body = {
        "name": "socialbiz GS1 Digital Link resolver",
        "resolverRoot": settings.RESOLVER_ROOT,
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": False,
        "jsonLdContextLocation": LINKSET_CONTEXT,
        # Not in GS1's schema: what a link may offer here, and the keys of products without a GTIN.
        "linkTypes": [
            {"linkType": GS1_VOC + name, "curie": f"gs1:{name}", "title": title} for name, title in LINK_TITLES.items()
        ],
        "defaultLinkType": GS1_VOC + DEFAULT_LINK_TYPE,
        "internalKeys": [
            {
                "path": "/p/{internalRef}",
                "qualifiers": ["10", "21"],
                "description": "Products without a GTIN, by the platform's 10-character reference (Crockford base32).",
            }
        ],
    }
    response = JsonResponse(body, json_dumps_params={"indent": 2})
    response["Cache-Control"] = "public, max-age=3600"
    return _with_cors(response)


# Resolution


def _request_path(request: HttpRequest) -> tuple[str, bool]:
    """The request path as the client sent it, and False; or the decoded PATH_INFO, and True, where the server keeps
    no raw path. gunicorn and this project's runserver give RAW_URI, uWSGI and mod_wsgi REQUEST_URI, ASGI servers the
    scope's raw_path: there a %2F inside a lot stays apart from the path's own slashes."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    scope = getattr(request, "scope", None)
    if not raw and scope and scope.get("raw_path"):
        raw = scope["raw_path"].decode("latin-1")
    if raw:
        path = raw.split("?", 1)[0] if raw.startswith("/") else urlsplit(raw).path  # origin- or absolute-form
        prefix = request.META.get("SCRIPT_NAME", "").rstrip("/")
        path = path.removeprefix(prefix)
        if path.split("/")[:2] == request.path_info.split("/")[:2]:  # the same request as the URL resolver saw
            return path, False
    return request.path_info, True


def _find(link: DigitalLink) -> Batch | Product | None:
    if link.lot is not None:
        if link.gtin:
            return catalog.batch_for_gtin_lot(gtin=link.gtin, lot=link.lot)
        return catalog.batch_for_ref_lot(ref=link.value, lot=link.lot)
    if link.gtin:
        return catalog.product_for_gtin(gtin=link.gtin)
    return catalog.product_for_ref(ref=link.value)


def _links(request: HttpRequest, target: Batch | Product, link: DigitalLink) -> dict[str, Link]:
    """Every link the identified item has, by link type, in the order they are listed; the default one first."""
    if isinstance(target, Batch):
        product = target.product
        page = reverse("storefront:batch", args=[target.pk])
        if link.serial is not None:
            page += "?" + urlencode({"serial": link.serial})
        page = request.build_absolute_uri(page)
        anchors = {
            "pip": "",
            "traceability": "#origins",
            "certificationInfo": "#certificates",
            "sustainabilityInfo": "#risks-benefits",
            "instructions": "#use",
            "review": "#reviews",
        }
    else:
        product = target
        page = request.build_absolute_uri(product.get_absolute_url())
        anchors = {"pip": "", "sustainabilityInfo": "#risks-benefits", "instructions": "#use"}
    if not product.has_fit_text:
        del anchors["instructions"]
    links = {name: Link(name, page + fragment, LINK_TITLES[name]) for name, fragment in anchors.items()}
    if isinstance(target, Batch):
        epcis = request.build_absolute_uri(reverse("api:batch-epcis", args=[target.pk]))
        links["epcis"] = Link("epcis", epcis, LINK_TITLES["epcis"], "application/ld+json", language=False)
    return links


def _resolution(request: HttpRequest, anchor: str, target: Batch | Product, links: dict[str, Link]) -> HttpResponse:
    requested = request.GET.get("linkType")
    link_type = _link_type(requested) if requested else None
    if link_type in _LINKSET_REQUESTS or (link_type is None and _asks_for_linkset(request)):
        response = _linkset(request, anchor, target, links)
    else:
        # An unknown or unavailable link type (gs1:recallStatus, for now) gets the default link, as the standard says.
        chosen = links.get(link_type or DEFAULT_LINK_TYPE, links[DEFAULT_LINK_TYPE])
        response = HttpResponse(status=307)
        response["Location"] = _with_query(chosen.href, _passed_on_query(request))
    response["Vary"] = "Accept"
    return response


def _link_type(value: str) -> str:
    for prefix in _LINK_TYPE_PREFIXES:
        if value.startswith(prefix):
            value = value.removeprefix(prefix)
            break
    return DEFAULT_LINK_TYPE if value == "defaultLink" else value


def _asks_for_linkset(request: HttpRequest) -> bool:
    # Only an explicit application/linkset+json: a browser's */* wants the page.
    return any(f"{media.main_type}/{media.sub_type}" == LINKSET_MEDIA_TYPE for media in request.accepted_types)


def _linkset(request: HttpRequest, anchor: str, target: Batch | Product, links: dict[str, Link]) -> HttpResponse:
    context: dict[str, object] = {"anchor": anchor, "description": _description(target)}
    for link in [*links.values(), _default(links)]:
        context[link.rel] = [_link_object(link)]
    media_type = request.get_preferred_type([LINKSET_MEDIA_TYPE, "application/json"]) or LINKSET_MEDIA_TYPE
    response = HttpResponse(json.dumps({"linkset": [context]}, indent=2), content_type=media_type)
    response["Link"] = f'<{LINKSET_CONTEXT}>; rel="{JSON_LD_CONTEXT_REL}"; type="application/ld+json"'
    return response


def _description(target: Batch | Product) -> str:
    if isinstance(target, Batch):
        return f"{target.product.name}, lot {target.lot}, by {target.product.supplier.legal_name}"
    return f"{target.name}, by {target.supplier.legal_name}"


def _default(links: dict[str, Link]) -> Link:
    default = links[DEFAULT_LINK_TYPE]
    return Link("defaultLink", default.href, default.title, default.media_type, default.language)


def _link_object(link: Link) -> dict[str, object]:
    body: dict[str, object] = {"href": link.href, "title": link.title, "type": link.media_type}
    if link.language:
        body["hreflang"] = [settings.LANGUAGE_CODE]
    return body


def _link_header(anchor: str, links: dict[str, Link]) -> str:
    """RFC 8288 links: every link with its rel, title, type and language, then the linkset itself."""
    parts = []
    for link in [*links.values(), _default(links)]:
        part = f'<{link.href}>; rel="{link.rel}"; title="{link.title}"; type="{link.media_type}"'
        if link.language:
            part += f'; hreflang="{settings.LANGUAGE_CODE}"'
        parts.append(part)
    linkset = _with_query(anchor, "linkType=linkset")
    parts.append(f'<{linkset}>; rel="linkset"; title="{LINKSET_TITLE}"; type="{LINKSET_MEDIA_TYPE}"')
    return ", ".join(parts)


def _passed_on_query(request: HttpRequest) -> str:
    # The query string as the client wrote it, less linkType: data attributes and campaign tags reach the page.
    parts = request.META.get("QUERY_STRING", "").split("&")
    return "&".join(part for part in parts if part and unquote(part.split("=", 1)[0]) != "linkType")


def _with_query(href: str, query: str) -> str:
    if not query:
        return href
    base, hash_sign, fragment = href.partition("#")
    return f"{base}{'&' if '?' in base else '?'}{query}{hash_sign}{fragment}"


def _qr_image(request: HttpRequest, uri: str, image_format: str) -> HttpResponse:
    etag = '"' + hashlib.sha256(f"{uri} {image_format}".encode()).hexdigest() + '"'
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match:
        # If-None-Match compares weakly: W/"x" matches "x".
        tags = {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}
        if etag in tags or "*" in tags:
            response = HttpResponse(status=304)
            response["ETag"] = etag
            response["Cache-Control"] = QR_CACHE_CONTROL
            return response
    image = qr.qr_svg(uri) if image_format == "svg" else qr.qr_png(uri)
    response = HttpResponse(image, content_type=QR_MEDIA_TYPES[image_format])
    response["ETag"] = etag
    response["Cache-Control"] = QR_CACHE_CONTROL
    return response


# Responses


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    """An error as JSON (the API's error shape) for clients that ask for JSON, as plain text for everyone else."""
    preferred = request.get_preferred_type(["text/plain", "application/json", LINKSET_MEDIA_TYPE])
    if preferred in ("application/json", LINKSET_MEDIA_TYPE):
        response: HttpResponse = JsonResponse(error_body(status, code, message), status=status)
    else:
        response = HttpResponse(f"{message}\n", status=status, content_type="text/plain; charset=utf-8")
    response["Vary"] = "Accept"
    return response


def _options() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Allow"] = ALLOWED_METHODS
    response["Access-Control-Max-Age"] = "86400"
    return response


def _not_allowed() -> HttpResponse:
    response = HttpResponse("Only GET, HEAD and OPTIONS are allowed here.\n", status=405, content_type="text/plain")
    response["Allow"] = ALLOWED_METHODS
    return response


def _with_cors(response: HttpResponseBase) -> HttpResponseBase:
    for header, value in CORS_HEADERS.items():
        response[header] = value
    return response
