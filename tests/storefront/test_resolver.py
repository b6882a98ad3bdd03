"""The GS1 Digital Link resolver: syntax and check digits (400), unknown identifiers (404), redirects by link type,
the Link header and the linkset, CORS, the resolver description file, and the QR images on every link."""

import hashlib
import io
import re
import string

import jsonschema
import pytest
import zxingcpp
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, reverse
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from core.gs1 import DigitalLink, InvalidDigitalLink, batch_uri, item_uri, parse, percent_encode, product_uri
from products.models import Product
from socialbiz import urls as project_urls
from storefront import resolver_urls
from storefront import urls as storefront_urls
from tests.products.factories import BatchFactory, ProductFactory, public_product


def _batch_page_stand_in(request: HttpRequest, batch_id: int) -> HttpResponse:
    return HttpResponse(f"batch {batch_id}")


# The project's URLs with the resolver's, and a stand-in for the batch page until storefront/urls.py has one: these
# tests check where the resolver points, not what the page shows.
_storefront_patterns = list(storefront_urls.urlpatterns)
if not any(getattr(pattern, "name", None) == "batch" for pattern in _storefront_patterns):
    _storefront_patterns.append(path("batches/<int:batch_id>/", _batch_page_stand_in, name="batch"))
urlpatterns = [
    path("", include((_storefront_patterns, "storefront"))),
    path("", include(resolver_urls)),
    *project_urls.urlpatterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

ROOT = "https://id.example.org"
GTIN = "09506000134352"
HOST = "http://testserver"
VOC = "https://gs1.org/voc/"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept",
    "Access-Control-Expose-Headers": "Link",
}

# What GS1's linkset JSON schema (GS1-Conformant Resolver 1.2) asks of a linkset, written out for these tests.
LINKSET_SCHEMA = {
    "type": "object",
    "required": ["linkset"],
    "additionalProperties": False,
    "properties": {
        "linkset": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["anchor", f"{VOC}defaultLink"],
                "properties": {
                    "anchor": {"type": "string", "pattern": r"^https?://[a-zA-Z0-9./]+"},
                    "description": {"type": "string"},
                },
                "patternProperties": {
                    r"^https?://": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["href", "title"],
                            "properties": {
                                "href": {"type": "string", "pattern": r"^https?://[a-zA-Z0-9./]+"},
                                "title": {"type": "string", "minLength": 1},
                                "type": {"type": "string", "pattern": r"^\w+/[-+.\w]+$"},
                                "hreflang": {
                                    "type": "array",
                                    "items": {"type": "string", "pattern": r"(^\w{2}$)|(^\w{2}-\w{2}$)"},
                                },
                            },
                        },
                    }
                },
                "additionalProperties": False,
            },
        }
    },
}


@pytest.fixture(autouse=True)
def _resolver_root(settings):
    settings.RESOLVER_ROOT = ROOT


@pytest.fixture
def product() -> Product:
    return public_product(name="Dark chocolate", gtin=GTIN, use="Break, share, savour.")


@pytest.fixture
def batch(product):
    return BatchFactory(product=product, lot="CH26-0212")


def batch_page(batch, suffix: str = "") -> str:
    return HOST + reverse("storefront:batch", args=[batch.pk]) + suffix


def links_in(response) -> list[dict[str, str]]:
    """The Link header as a list of {"href": …, "rel": …, "title": …, …}."""
    links = []
    for part in re.split(r",\s*(?=<)", response["Link"]):
        href, _, params = part.partition(">;")
        link = {"href": href.strip().removeprefix("<")}
        link.update(re.findall(r'\s*([\w*]+)="([^"]*)"', params))
        links.append(link)
    return links


def raw_get(client, uri_path: str, **extra):
    """GET as gunicorn and `manage.py runserver` pass it on: with the request path as sent, in RAW_URI."""
    return client.get(uri_path, RAW_URI=uri_path, **extra)


def rels(response) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in links_in(response)}


# Default resolution


def test_lot_redirects_to_its_batch_page_with_307(client, batch):
    response = client.get(f"/01/{GTIN}/10/CH26-0212")
    assert response.status_code == 307
    assert response["Location"] == batch_page(batch)


def test_gtin_alone_redirects_to_the_product_page(client, product):
    response = client.get(f"/01/{GTIN}")
    assert response.status_code == 307
    assert response["Location"] == HOST + product.get_absolute_url()


def test_serial_redirects_to_the_batch_page_with_the_item_marked(client, batch):
    response = raw_get(client, f"/01/{GTIN}/10/CH26-0212/21/SN%2F0042")
    assert response.status_code == 307
    assert response["Location"] == batch_page(batch, "?serial=SN%2F0042")


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("9506000134352", "09506000134352"),  # GTIN-13
    ],
    ids=["gtin-8", "gtin-12", "gtin-13"],
)
def test_shorter_gtins_resolve_as_their_fourteen_digit_form(client, written, stored):
    product = public_product(gtin=stored)
    batch = BatchFactory(product=product, lot="A1")
    assert client.get(f"/01/{written}")["Location"] == HOST + product.get_absolute_url()
    response = client.get(f"/01/{written}/10/A1", HTTP_ACCEPT="application/linkset+json")
    assert response.json()["linkset"][0]["anchor"] == f"{ROOT}/01/{stored}/10/A1"
    assert client.get(f"/01/{written}/10/A1")["Location"] == batch_page(batch)


def test_trailing_slash_is_tolerated_when_the_server_keeps_the_raw_path(client, batch):
    with_slash = raw_get(client, f"/01/{GTIN}/10/CH26-0212/")
    without = raw_get(client, f"/01/{GTIN}/10/CH26-0212")
    assert (with_slash.status_code, with_slash["Location"]) == (without.status_code, without["Location"])
    assert client.get(f"/01/{GTIN}/")["Location"] == client.get(f"/01/{GTIN}")["Location"]


def test_lot_with_a_final_slash_is_not_the_lot_without_it(client, batch):
    # The lot "CH26-0212/" does not exist; the lot "CH26-0212" does.
    assert raw_get(client, f"/01/{GTIN}/10/CH26-0212%2F").status_code == 404
    # Decoded, "…/CH26-0212/" could be either: refused, never guessed.
    response = client.get(f"/01/{GTIN}/10/CH26-0212%2F")
    assert response.status_code == 400
    assert "cannot be told apart" in response.content.decode()


def test_variant_and_serial_without_lot_resolve_one_level_up(client, product, batch):
    # The platform keeps neither variants (AI 22) nor items apart from their lot: the nearest thing it knows answers.
    assert client.get(f"/01/{GTIN}/22/DARK70/10/CH26-0212")["Location"] == batch_page(batch)
    assert client.get(f"/01/{GTIN}/21/SN-1")["Location"] == HOST + product.get_absolute_url()


def test_lot_containing_a_slash_resolves_when_the_server_keeps_the_raw_path(client, product):
    batch = BatchFactory(product=product, lot="SH26/014")
    uri_path = f"/01/{GTIN}/10/SH26%2F014"
    # gunicorn hands over the request target as sent (RAW_URI), where %2F is still apart from the path's slashes.
    assert client.get(uri_path, RAW_URI=uri_path)["Location"] == batch_page(batch)
    assert raw_get(client, uri_path + "/21/S1")["Location"] == batch_page(batch, "?serial=S1")
    # The test client (like servers that keep no raw path) decodes it into PATH_INFO: "/014" could be a %2F or a
    # segment, so the resolver refuses to guess, with the reason and a JSON code of its own.
    response = client.get(uri_path, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "ambiguous_digital_link"
    assert "%2F" in response.json()["message"]


def test_lot_spelled_like_the_qr_suffix_is_still_a_lot(client, product):
    batch = BatchFactory(product=product, lot="qr.svg")
    assert client.get(f"/01/{GTIN}/10/qr.svg")["Location"] == batch_page(batch)


def test_products_without_gtin_resolve_by_internal_reference(client):
    product = public_product(gtin=None)
    batch = BatchFactory(product=product, lot="LOT-7")
    ref = product.internal_ref
    assert client.get(f"/p/{ref}")["Location"] == HOST + product.get_absolute_url()
    assert client.get(f"/p/{ref}/10/LOT-7")["Location"] == batch_page(batch)
    assert client.get(f"/p/{ref.lower()}/10/LOT-7/21/9")["Location"] == batch_page(batch, "?serial=9")


# Link types


@pytest.mark.parametrize(
    ("link_type", "target"),
    [
        ("gs1:pip", ""),
        ("gs1:defaultLink", ""),
        ("gs1:traceability", "#origins"),
        ("gs1:certificationInfo", "#certificates"),
        ("gs1:review", "#reviews"),
        ("gs1:instructions", "#use"),
        ("gs1:sustainabilityInfo", "#risks-benefits"),
        ("https://gs1.org/voc/traceability", "#origins"),
        ("https://ref.gs1.org/voc/review", "#reviews"),
    ],
)
def test_link_type_picks_the_batch_page_section(client, batch, link_type, target):
    response = client.get(f"/01/{GTIN}/10/CH26-0212", {"linkType": link_type})
    assert response.status_code == 307
    assert response["Location"] == batch_page(batch, target)


def test_epcis_link_type_points_at_the_batch_events(client, batch):
    response = client.get(f"/01/{GTIN}/10/CH26-0212?linkType=gs1:epcis")
    assert response["Location"] == HOST + f"/api/v1/batches/{batch.pk}/epcis/"


@pytest.mark.parametrize("link_type", ["gs1:recallStatus", "gs1:nonsense", "https://example.org/voc/pip", ""])
def test_unavailable_link_type_falls_back_to_the_default_link(client, batch, link_type):
    response = client.get(f"/01/{GTIN}/10/CH26-0212", {"linkType": link_type})
    assert response.status_code == 307
    assert response["Location"] == batch_page(batch)


def test_product_offers_only_the_links_its_page_has(client, product):
    response = client.get(f"/01/{GTIN}?linkType=gs1:instructions")
    assert response["Location"] == HOST + product.get_absolute_url() + "#use"
    assert client.get(f"/01/{GTIN}?linkType=gs1:epcis")["Location"] == HOST + product.get_absolute_url()


def test_instructions_are_not_offered_for_a_product_with_nothing_to_say(client):
    product = public_product(gtin=GTIN, use="", care="", repair="", end_of_life="")
    response = client.get(f"/01/{GTIN}?linkType=gs1:instructions")
    assert response["Location"] == HOST + product.get_absolute_url()
    assert f"{VOC}instructions" not in rels(response)


def test_query_string_is_passed_on_without_link_type(client, batch):
    response = client.get(f"/01/{GTIN}/10/CH26-0212/21/S1?linkType=gs1:review&17=270812&utm_source=shelf%20label")
    assert response["Location"] == batch_page(batch, "?serial=S1&17=270812&utm_source=shelf%20label#reviews")
    plain = client.get(f"/01/{GTIN}/10/CH26-0212?foo=bar")
    assert plain["Location"] == batch_page(batch, "?foo=bar")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("10=ABC", "key qualifier goes in the path"),
        ("99=", "is empty"),
        ("9999=1", "not a GS1 application identifier"),
        ("17=261331", "real date"),
        ("17=261231&17=261231", "appears twice"),
        ("01=09506000134352", "primary key"),
    ],
)
def test_query_string_that_breaks_the_ai_dictionary_is_400_with_the_reason(client, batch, query, reason):
    response = client.get(f"/01/{GTIN}/10/CH26-0212?{query}")
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert f"?{query.split('=')[0]}=" in response.content.decode()


def test_data_attribute_in_the_query_string_passes_on_to_the_page(client, batch):
    response = client.get(f"/01/{GTIN}/10/CH26-0212?17=261231&context=shelf")
    assert response.status_code == 307
    assert response["Location"] == batch_page(batch, "?17=261231&context=shelf")


# The Link header and the linkset


def test_redirect_carries_every_available_link(client, batch):
    response = client.get(f"/01/{GTIN}/10/CH26-0212")
    page = batch_page(batch)
    assert rels(response) == {
        f"{VOC}pip": page,
        f"{VOC}traceability": page + "#origins",
        f"{VOC}certificationInfo": page + "#certificates",
        f"{VOC}sustainabilityInfo": page + "#risks-benefits",
        f"{VOC}instructions": page + "#use",
        f"{VOC}review": page + "#reviews",
        f"{VOC}epcis": f"{HOST}/api/v1/batches/{batch.pk}/epcis/",
        f"{VOC}defaultLink": page,
        "linkset": f"{ROOT}/01/{GTIN}/10/CH26-0212?linkType=linkset",
    }
    for link in links_in(response):
        assert link["title"], "every link has a human-readable title"
        assert "," not in link["title"], "simple clients split Link headers at commas"
    pip = next(link for link in links_in(response) if link["rel"] == f"{VOC}pip")
    assert (pip["type"], pip["hreflang"]) == ("text/html", "en")
    linkset = next(link for link in links_in(response) if link["rel"] == "linkset")
    assert linkset["type"] == "application/linkset+json"


def test_default_redirect_goes_to_the_advertised_default_link(client, batch):
    response = client.get(f"/01/{GTIN}/10/CH26-0212/21/S1")
    assert response["Location"] == rels(response)[f"{VOC}defaultLink"] == batch_page(batch, "?serial=S1")


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("", "application/linkset+json"),
        ("?linkType=linkset", "*/*"),
        ("?linkType=all", "*/*"),
        ("?linkType=all", "application/linkset+json"),
    ],
)
def test_linkset_is_served_as_rfc_9264_json(client, batch, query, accept):
    response = client.get(f"/01/{GTIN}/10/CH26-0212{query}", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/linkset+json"
    body = response.json()
    jsonschema.validate(body, LINKSET_SCHEMA)
    (context,) = body["linkset"]
    assert context["anchor"] == f"{ROOT}/01/{GTIN}/10/CH26-0212"
    assert "Dark chocolate" in context["description"]
    assert context[f"{VOC}pip"] == [
        {"href": batch_page(batch), "title": context[f"{VOC}pip"][0]["title"], "type": "text/html", "hreflang": ["en"]}
    ]
    assert context[f"{VOC}defaultLink"][0]["href"] == batch_page(batch)
    assert context[f"{VOC}epcis"][0]["type"] == "application/ld+json"
    # The same links as the header, which also names GS1's JSON-LD context for the linkset.
    header = rels(response)
    for rel, targets in context.items():
        if rel.startswith(VOC):
            assert header[rel] == targets[0]["href"]
    assert header["http://www.w3.org/ns/json-ld#context"] == "https://ref.gs1.org/standards/resolver/linkset-context"
    assert response["Vary"] == "Accept"


def test_linkset_as_plain_json_for_clients_that_only_take_json(client, batch):
    response = client.get(f"/01/{GTIN}/10/CH26-0212?linkType=all", HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    jsonschema.validate(response.json(), LINKSET_SCHEMA)


def test_explicit_link_type_wins_over_a_linkset_accept_header(client, batch):
    response = client.get(f"/01/{GTIN}/10/CH26-0212?linkType=gs1:review", HTTP_ACCEPT="application/linkset+json")
    assert response.status_code == 307
    assert response["Location"] == batch_page(batch, "#reviews")


def test_browser_accept_header_gets_the_redirect_not_the_linkset(client, batch):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get(f"/01/{GTIN}/10/CH26-0212", HTTP_ACCEPT=browser).status_code == 307


# Invalid and unknown


@pytest.mark.parametrize(
    ("uri_path", "reason"),
    [
        (f"/01/{GTIN[:-1]}3", "check digit"),
        ("/01/09506000134", "8, 12, 13 or 14 digits"),
        ("/01/95060001343A2", "digits only"),
        ("/01", "needs a GTIN"),
        (f"/01/{GTIN}/21/S1/10/CH26-0212", "order 22, 10, 21"),
        (f"/01/{GTIN}/10/CH26-0212/22/V", "order 22, 10, 21"),
        (f"/01/{GTIN}/99/X", "not a key qualifier"),
        (f"/01/{GTIN}/17/270812", "query string"),
        (f"/01/{GTIN}/foo", "not a key qualifier"),
        (f"/01/{GTIN}/10/A/10/B", "appears twice"),
        (f"/01/{GTIN}/10", "no value"),
        (f"/01/{GTIN}/10/{'L' * 21}", "at most 20"),
        (f"/01/{GTIN}/10/LOT%20ONE", "CSET 82"),
        (f"/01/{GTIN}/10/LOT%C3%A9", "CSET 82"),
        (f"/01/{GTIN}/10/LOT%ZZ", "%XX"),
        (f"/01/{GTIN}/10/LOT%FF", "UTF-8"),
        (f"/01/{GTIN}/10//21/S", "empty"),
        (f"/01/{GTIN}/21/{'S' * 21}", "at most 20"),
        ("/p/SHORT", "10 characters"),
        ("/p/ILOU123456", "without I, L, O and U"),
        ("/p/0123456789/21/S/10/L", "order 10, 21"),
        ("/p/0123456789/22/V", "not a key qualifier"),
    ],
)
def test_nonconformant_uri_is_400_with_the_reason(client, batch, uri_path, reason):
    response = client.get(uri_path, RAW_URI=uri_path)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert reason in response.content.decode()
    assert response["Access-Control-Allow-Origin"] == "*"


def test_unknown_qualifier_after_a_lot_is_400_when_the_raw_path_is_known(client, batch):
    uri_path = f"/01/{GTIN}/10/CH26-0212/foo"
    assert "not a key qualifier" in raw_get(client, uri_path).content.decode()
    # With only the decoded path, "/foo" may be the rest of a lot with a slash: a 400 that says so.
    response = client.get(uri_path)
    assert response.status_code == 400
    assert "cannot be told apart" in response.content.decode()


def test_error_is_json_when_the_client_asks_for_json(client):
    response = client.get(f"/01/{GTIN[:-1]}3", HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "invalid_digital_link"
    assert "check digit" in body["message"]


@pytest.mark.parametrize(
    "uri_path",
    [
        "/01/09506000134369",  # valid check digit, no such product
        f"/01/{GTIN}/10/NO-SUCH-LOT",
        f"/01/{GTIN}/10/NO-SUCH-LOT/21/S1",
        "/p/0123456789",
        "/p/0123456789/10/CH26-0212",
    ],
)
def test_valid_but_unknown_identifier_is_404(client, batch, uri_path):
    response = client.get(uri_path)
    assert response.status_code == 404
    assert "valid GS1 Digital Link" in response.content.decode()
    assert response["Access-Control-Allow-Origin"] == "*"


def test_unpublished_product_is_404(client):
    draft = ProductFactory(gtin=GTIN)
    BatchFactory(product=draft, lot="CH26-0212")
    assert client.get(f"/01/{GTIN}").status_code == 404
    assert client.get(f"/01/{GTIN}/10/CH26-0212").status_code == 404
    assert client.get(f"/p/{draft.internal_ref}").status_code == 404


# HTTP methods and CORS


def test_every_answer_carries_cors_headers(client, batch):
    responses = [
        client.get(f"/01/{GTIN}/10/CH26-0212"),
        client.get(f"/01/{GTIN}/10/CH26-0212?linkType=linkset"),
        client.head(f"/01/{GTIN}/10/CH26-0212"),
        client.options(f"/01/{GTIN}/10/CH26-0212"),
        client.get(f"/01/{GTIN}/10/CH26-0212/qr.svg"),
        client.get(f"/01/{GTIN[:-1]}3"),
        client.get("/01/09506000134369"),
        client.post(f"/01/{GTIN}/10/CH26-0212"),
        client.get("/.well-known/gs1resolver"),
    ]
    for response in responses:
        for header, value in CORS.items():
            assert response[header] == value, (response.status_code, header)


def test_head_redirects_like_get_with_the_links(client, batch):
    response = client.head(f"/01/{GTIN}/10/CH26-0212")
    assert response.status_code == 307
    assert response["Location"] == batch_page(batch)
    assert rels(response)[f"{VOC}pip"] == batch_page(batch)
    assert response.content == b""


def test_options_is_204_with_allow(client, batch):
    response = client.options(f"/01/{GTIN}/10/CH26-0212", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert response.status_code == 204
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_405(client, batch, method):
    response = getattr(client, method)(f"/01/{GTIN}/10/CH26-0212")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"


# The resolver description file


def test_resolver_description_names_root_keys_and_link_types(client):
    response = client.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    body = response.json()
    assert body["name"]
    assert body["resolverRoot"] == ROOT
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["supportedLinkType"] == [{"namespace": VOC, "prefix": "gs1:"}]
    assert body["linkTypeDefaultCanBeLinkset"] is False
    offered = {entry["linkType"] for entry in body["linkTypes"]}
    assert {f"{VOC}pip", f"{VOC}traceability", f"{VOC}epcis", f"{VOC}certificationInfo", f"{VOC}review"} <= offered
    assert body["internalKeys"][0]["path"] == "/p/{internalRef}"


# QR images


@pytest.mark.parametrize(("suffix", "media_type"), [("qr.svg", "image/svg+xml"), ("qr.png", "image/png")])
def test_qr_image_is_served_cacheable_forever(client, batch, suffix, media_type):
    response = client.get(f"/01/{GTIN}/10/CH26-0212/{suffix}")
    assert response.status_code == 200
    assert response["Content-Type"] == media_type
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    uri = f"{ROOT}/01/{GTIN}/10/CH26-0212"
    assert response["ETag"] == '"' + hashlib.sha256(f"{uri} {suffix[3:]}".encode()).hexdigest() + '"'
    assert rels(response)[f"{VOC}pip"] == batch_page(batch)


@pytest.mark.parametrize(
    "uri_path",
    [
        f"/01/{GTIN}",
        f"/01/{GTIN}/10/CH26-0212",
        f"/01/{GTIN}/10/CH26-0212/21/SN%2F42",
        "/01/9506000134352/10/CH26-0212",  # a GTIN-13 gets the code of its 14-digit form
    ],
)
def test_qr_png_decodes_back_to_the_canonical_uri(client, batch, uri_path):
    response = raw_get(client, f"{uri_path}/qr.png")
    found = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(response.content)).convert("L"), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [code.text for code in found] == [ROOT + uri_path.replace("/01/9506000134352/", f"/01/{GTIN}/")]


def test_qr_image_of_batch_without_gtin_encodes_batch_uri(client):
    batch = BatchFactory(product=public_product(gtin=None), lot="A/1")
    response = raw_get(client, f"/p/{batch.product.internal_ref}/10/A%2F1/qr.png")
    found = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(response.content)).convert("L"), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [code.text for code in found] == [batch_uri(batch)]


def test_qr_image_is_not_modified_for_a_matching_etag(client, batch):
    first = client.get(f"/01/{GTIN}/10/CH26-0212/qr.svg")
    again = client.get(f"/01/{GTIN}/10/CH26-0212/qr.svg", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    other = client.get(f"/01/{GTIN}/10/CH26-0212/qr.png", HTTP_IF_NONE_MATCH=first["ETag"])
    assert other.status_code == 200


def test_qr_image_of_a_bad_uri_is_400_and_of_an_unknown_one_404(client, batch):
    assert client.get(f"/01/{GTIN[:-1]}3/qr.svg").status_code == 400
    assert client.get(f"/01/{GTIN}/99/X/qr.png").status_code == 400
    assert client.get(f"/01/{GTIN}/10/NO-SUCH-LOT/qr.png").status_code == 404
    assert client.get("/01/09506000134369/qr.svg").status_code == 404


# Query counts


def test_resolution_costs_one_query(client, batch, django_assert_num_queries):
    for n in range(5):
        BatchFactory(product=batch.product, lot=f"OTHER-{n}")
    for uri_path in [
        f"/01/{GTIN}",
        f"/01/{GTIN}/10/CH26-0212",
        f"/01/{GTIN}/10/CH26-0212/21/S1",
        f"/01/{GTIN}/10/CH26-0212?linkType=linkset",
        f"/01/{GTIN}/10/CH26-0212/qr.svg",
        f"/p/{batch.product.internal_ref}/10/CH26-0212",
    ]:
        with django_assert_num_queries(1):
            assert client.get(uri_path).status_code in (200, 307), uri_path


def test_invalid_uri_costs_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get(f"/01/{GTIN[:-1]}3/10/A").status_code == 400


# Building links for QR codes


def test_batch_and_product_uris_are_on_the_resolver_root(batch):
    assert product_uri(batch.product) == f"{ROOT}/01/{GTIN}"
    assert batch_uri(batch) == f"{ROOT}/01/{GTIN}/10/CH26-0212"
    assert item_uri(batch, "SN/1") == f"{ROOT}/01/{GTIN}/10/CH26-0212/21/SN%2F1"


def test_uris_of_products_without_gtin_use_the_internal_reference():
    batch = BatchFactory(product=public_product(gtin=None), lot="SH26/014")
    ref = batch.product.internal_ref
    assert product_uri(batch.product) == f"{ROOT}/p/{ref}"
    assert batch_uri(batch) == f"{ROOT}/p/{ref}/10/SH26%2F014"


def test_every_built_uri_resolves_to_its_batch(client, product):
    lots = ["CH26-0212", "SH26/014", "50%", "A&B=C?", "(x)*+,;:<>'\"!"]
    for lot in lots:
        batch = BatchFactory(product=product, lot=lot)
        path_only = batch_uri(batch).removeprefix(ROOT)
        assert client.get(path_only, RAW_URI=path_only)["Location"] == batch_page(batch), lot


@given(
    lot=st.text(alphabet=CSET82, min_size=1, max_size=20),
    serial=st.text(alphabet=CSET82, min_size=1, max_size=20),
)
def test_parse_reads_back_what_the_uri_builder_writes(lot, serial):
    link = DigitalLink("01", GTIN, (("10", lot), ("21", serial)))
    assert parse(link.path) == (link, None)
    assert parse(link.path + "/qr.png") == (link, "png")


@given(value=st.text(alphabet=string.printable + "éß€", max_size=25))
def test_parse_accepts_only_cset82_lots_of_at_most_twenty(value):
    try:
        link, _ = parse(f"/01/{GTIN}/10/{percent_encode(value)}")
    except InvalidDigitalLink:
        assert not value or len(value) > 20 or set(value) - set(CSET82)
    else:
        assert link.lot == value
        assert 1 <= len(value) <= 20
        assert set(value) <= set(CSET82)
