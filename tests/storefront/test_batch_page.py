"""The public batch page a QR code leads to: what it is, where it comes from, how it fits into people's lives, risks
beside benefits, certificates; who may see it; its head for machines; its queries and its cache."""

import datetime
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.gs1 import gtin_uri
from products import services as catalog
from products.models import Batch
from provenance import tasks
from provenance.models import TraceEvent
from provenance.selectors import chains_status
from provenance.services import (
    capture_document,
    evidence_create,
    evidence_links_add,
    evidence_revoke,
    facility_create,
)
from tests.products.factories import BatchFactory, DeclarationFactory, ProductFactory, SupplierFactory, public_product
from tests.provenance.factories import (
    COCOA_GTIN,
    ROASTED_GTIN,
    Cocoa,
    chain,
    event,
    quantity,
    tamper,
    transformation,
)
from tests.provenance.factories import epcis_document as document

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def page_url(batch: Batch, **query: str) -> str:
    url = reverse("storefront:batch", kwargs={"batch_id": batch.pk})
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def get(client, batch: Batch, **query: str) -> str:
    response = client.get(page_url(batch, **query))
    assert response.status_code == 200
    return response.content.decode()


def section(body: str, anchor: str) -> str:
    """The HTML of one <section id=…> of the page."""
    start = body.index(f'<section id="{anchor}"')
    return body[start : body.index("</section>", start)]


@pytest.fixture
def cocoa(own_supplier, other_supplier) -> Cocoa:
    """Farm → fermentary → port → chocolate works (with sugar from another supplier's mill) → bars on a pallet;
    gift boxes are made from the bars afterwards. Evidence: valid, expired and revoked."""
    cocoa = Cocoa(own_supplier, other_supplier)
    product = cocoa.product
    product.use, product.care = "Break off a square and let it melt.", "Keep below 20 °C, away from light."
    product.save()
    risk = product.declarations.get(kind="risk")
    benefit = product.declarations.get(kind="benefit")
    DeclarationFactory(
        product=product,
        kind="benefit",
        topic="environment",
        statement="Grown in shade under forest trees.",
        evidence_level="documented",
        evidence_url="https://evidence.example.org/shade",
        valid_until=TODAY - datetime.timedelta(days=3),
    )
    events = {e.event_id: e for e in TraceEvent.objects.all()}
    audit = evidence_create(
        owner=own_supplier,
        **{
            "title": "Farm audit 2026",
            "issuer": "Fair Audits Ltd",
            "scheme": "Fairtrade",
            "url": "https://evidence.example.org/audit",
            "level": "third_party_verified",
            "valid_from": TODAY - datetime.timedelta(days=100),
            "valid_until": TODAY + datetime.timedelta(days=200),
        },
    )
    evidence_links_add(evidence=audit, events=[events[cocoa.farm_event["eventID"]]], declarations=[benefit])
    lapsed = evidence_create(
        owner=own_supplier,
        **{
            "title": "Old fermentation certificate",
            "issuer": "Old Certs",
            "url": "https://evidence.example.org/old",
            "valid_until": TODAY - datetime.timedelta(days=30),
        },
    )
    evidence_links_add(evidence=lapsed, events=[events[cocoa.fermenting["eventID"]]])
    withdrawn = evidence_create(
        owner=own_supplier,
        **{"title": "Nut-free line test", "issuer": "Lab Co", "url": "https://evidence.example.org/nuts"},
    )
    evidence_links_add(evidence=withdrawn, declarations=[risk])
    evidence_revoke(evidence=withdrawn, reason="The lab lost its accreditation.")
    return cocoa


# What it is, and by whom


def test_page_says_what_it_is_by_whom_and_which_lot(client, cocoa):
    body = get(client, cocoa.batch)

    assert f"<h1>{cocoa.product.name}</h1>" in body
    assert "Own Cocoa Co" in body
    assert "BAR-2026-01" in body
    assert "1 Mar 2026" in body  # produced
    assert "banner" not in body


@pytest.mark.parametrize("status", ["restricted", "suspended"])
def test_restricted_or_suspended_supplier_shows_a_banner_with_reason_and_date(client, cocoa, status):
    catalog.supplier_status_set(supplier=cocoa.product.supplier, status=status, reason="Orders left undelivered.")

    body = get(client, cocoa.batch)

    banner = re.search(r'<p class="banner ' + status + r'" role="alert">(.*?)</p>', body, re.S).group(1)
    assert f"is {status}" in banner
    assert "Orders left undelivered." in banner
    assert timezone.localdate().strftime("%-d %b %Y") in banner
    assert f"Own Cocoa Co is {status} and takes no orders." in section(body, "buy")


def test_a_serial_marks_the_item_on_a_product_with_a_gtin(client, cocoa):
    assert '<p class="item">Item <strong>A-17</strong> of this batch</p>' in get(client, cocoa.batch, serial="A-17")
    assert 'class="item"' not in get(client, cocoa.batch)
    assert 'class="item"' not in get(client, cocoa.batch, serial="x" * 21)  # not a GS1 serial: ignored


def test_a_serial_is_not_shown_for_a_product_without_a_gtin(client, own_supplier):
    batch = BatchFactory(product=public_product(supplier=own_supplier, gtin=None))

    assert "Item" not in get(client, batch, serial="A-17")


# Where it comes from


def test_origins_show_every_step_from_raw_material_to_shelf_with_place_country_date_and_evidence(client, cocoa):
    origins = section(get(client, cocoa.batch), "origins")

    svg = re.search(r'<svg class="chain"[^>]*role="img"[^>]*>.*?</svg>', origins, re.S).group(0)
    assert '<title id="chain-title">Where it comes from: 9 steps</title>' in svg
    assert "From Asante farm, Ghana on 5 Jan 2026" in svg  # its <desc>
    steps = re.search(r'<ol class="steps".*?</ol>', origins, re.S).group(0)
    items = re.findall(r"<li>(.*?)</li>", steps, re.S)
    # What was made from the bars afterwards (the gift boxes) is not where the bars come from.
    assert len(items) == 9 == svg.count('<g class="hop')
    assert " ".join(items[0].split()) == (
        '<strong>Produced</strong> 5 Jan 2026, Asante farm, Ghana. <span class="evidence">Evidence: '
        '<span class="level-third_party_verified"><span class="level">Verified by a third party</span></span></span>'
    )
    assert "Evidence expired" in items[1]  # the fermentation certificate ran out
    assert "Shipped</strong> 7 Jan 2026, Tema port, Ghana" in items[2]
    assert "Sugar mill, Portugal" in items[3]
    assert "Antwerp chocolate works, Belgium" in items[4]
    assert "Evidence: none cited" in items[4]
    assert (svg.count(">Verified<"), svg.count(">Expired<"), svg.count(">No evidence<")) == (1, 1, 8)


def test_origins_list_the_raw_materials_and_the_places_on_a_map(client, cocoa):
    origins = section(get(client, cocoa.batch), "origins")

    assert "9 steps at 5 places in 3 countries" in origins
    materials = re.search(r'<ul class="origins">(.*?)</ul>', origins, re.S).group(1)
    assert (
        f"Lot BEANS-1 of GTIN {COCOA_GTIN}: first recorded at Asante farm, Ghana, on 5 Jan 2026 (step 1)" in materials
    )
    assert "Lot SUGAR-7" in materials
    assert re.search(r'<svg class="origin-map"[^>]*role="img"', origins)
    assert '<title id="origin-map-title">Map of the 5 places this batch went through</title>' in origins
    places = re.findall(r"<li>(.*?)</li>", re.search(r'<ol class="places".*?</ol>', origins, re.S).group(0))
    assert places[0] == "Asante farm, Ghana: 6.69° N, 1.62° W"
    assert len(places) == 5


def test_origins_say_the_records_verify(client, cocoa):
    origins = section(get(client, cocoa.batch), "origins")

    assert (
        "<strong>Records verified:</strong> the trace records of Other Textiles SA, Own Cocoa Co are intact" in origins
    )
    assert "do not verify" not in origins


def test_origins_warn_when_a_record_was_changed_after_it_was_recorded(client, cocoa):
    event = TraceEvent.objects.get(event_id=cocoa.fermenting["eventID"])
    forged = event.document | {"bizStep": "receiving"}
    tamper("UPDATE provenance_traceevent SET document = %s WHERE id = %s", [json.dumps(forged), event.pk])
    tasks.chains_verify_all()  # the nightly verification finds it and records it on the chain's head

    origins = section(get(client, cocoa.batch), "origins")

    assert '<p class="records broken" role="alert"><strong>Warning: these records do not verify.</strong>' in origins
    assert "In the trace records of Own Cocoa Co, an event was changed or removed" in origins
    assert "Records verified:</strong> the trace records of Other Textiles SA are intact" in origins


def test_origins_warn_when_more_came_out_than_went_in(client, own_supplier):
    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    beans, nibs, bar = gtin_uri(COCOA_GTIN, "B"), gtin_uri(ROASTED_GTIN, "N"), gtin_uri(product.gtin, batch.lot)
    fine = transformation(0, [quantity(beans, 1000)], [quantity(nibs, 800.5)])
    inflated = transformation(1, [quantity(nibs, 800.5)], [quantity(bar, 950)])
    capture_document(supplier=own_supplier, submitted_by=None, document=document(fine, inflated))

    origins = section(get(client, batch), "origins")

    assert "Quantities do not add up." in origins
    assert "Step 2, processed on 5 Jan 2026: 950 kg out of 800.5 kg." in origins


def test_a_batch_without_events_says_so(client, own_supplier):
    with_gtin = BatchFactory(product=public_product(supplier=own_supplier))
    without_gtin = BatchFactory(product=public_product(supplier=own_supplier, gtin=None))

    assert "No trace events are recorded for this batch yet." in section(get(client, with_gtin), "origins")
    assert "its product has no GTIN" in section(get(client, without_gtin), "origins")


# How it fits into people's lives; risks and benefits; certificates; what comes later


def test_use_section_shows_use_care_repair_and_end_of_life(client, cocoa):
    use = section(get(client, cocoa.batch), "use")

    assert "<dt>Use</dt><dd>Break off a square and let it melt.</dd>" in use
    assert "<dt>Care</dt><dd>Keep below 20 °C, away from light.</dd>" in use
    assert use.count("Not stated by Own Cocoa Co.") == 2  # repair and end of life: said to be missing, not hidden


def test_risks_and_benefits_sit_side_by_side_with_their_evidence(client, cocoa):
    declared = section(get(client, cocoa.batch), "risks-benefits")

    risks_at, benefits_at = declared.index('class="column risks"'), declared.index('class="column benefits"')
    risks, benefits = declared[risks_at:benefits_at], declared[benefits_at:]
    assert "Contains traces of nuts." in risks
    assert "Paid above the living wage." in benefits
    assert (risks.count('class="declaration'), benefits.count('class="declaration')) == (1, 2)
    # Expired and revoked evidence is shown as such, never hidden.
    assert "Evidence expired" in benefits  # the shade-grown claim ran out three days ago
    assert 'Nut-free line test</a> (Lab Co): <span class="status">Revoked</span>' in risks
    assert 'Farm audit 2026</a> (Fair Audits Ltd): <span class="status">Valid</span>' in benefits


def test_certificates_show_issuer_scheme_validity_and_status(client, cocoa):
    certificates = section(get(client, cocoa.batch), "certificates")

    items = re.findall(r'<li id="evidence-\d+" class="certificate status-(\w+)">(.*?)</li>', certificates, re.S)
    assert [status for status, _ in items] == ["valid", "revoked", "expired"]  # by title
    audit, nut_test, old = (text for _, text in items)
    assert "<dt>Issued by</dt><dd>Fair Audits Ltd</dd>" in audit
    assert "<dt>Scheme</dt><dd>Fairtrade</dd>" in audit
    valid_from, valid_until = TODAY - datetime.timedelta(days=100), TODAY + datetime.timedelta(days=200)
    assert f"from {valid_from:%-d %b %Y} until {valid_until:%-d %b %Y}" in audit
    assert "Benefit: “Paid above the living wage.”; step 1 of the chain" in audit
    assert '<span class="status">Revoked</span>' in nut_test
    assert "The lab lost its accreditation." in nut_test
    assert '<span class="status">Expired</span>' in old
    assert "step 2 of the chain" in old


def test_a_batch_without_reviews_says_so_and_a_batch_not_on_offer_says_so(client, cocoa):
    body = get(client, cocoa.batch)

    for anchor in ("origins", "certificates", "reviews", "use", "risks-benefits", "buy", "money"):
        assert f'<section id="{anchor}"' in body
    assert "No reviews yet." in section(body, "reviews")
    assert "Not offered for sale." in section(body, "buy")
    assert "<form" not in section(body, "buy")
    assert "The supplier has not declared where the money goes." in section(body, "money")
    assert "aggregateRating" not in body


# Who may see it


def test_batch_of_an_unpublished_product_is_hidden_from_strangers(client, shopper, other_member, owner):
    batch = BatchFactory(product=ProductFactory(supplier=owner.supplier))

    assert client.get(page_url(batch)).status_code == 404
    assert shopper.client.get(page_url(batch)).status_code == 404
    assert other_member.client.get(page_url(batch)).status_code == 404


def test_batch_of_an_unpublished_product_is_previewed_by_its_members_and_never_cached(client, owner):
    batch = BatchFactory(product=ProductFactory(supplier=owner.supplier))

    response = owner.client.get(page_url(batch))

    assert response.status_code == 200
    assert "Draft: this product is not public" in response.content.decode()
    assert response["Cache-Control"] == "private, no-cache"
    assert client.get(page_url(batch)).status_code == 404


def test_unknown_batch_is_404(client):
    assert client.get("/batches/999999/").status_code == 404


def test_everything_a_supplier_writes_is_escaped(client, own_supplier):
    product = public_product(
        supplier=own_supplier, name="Bar </script><script>alert(1)</script>", description='"><img src=x onerror=1>'
    )
    DeclarationFactory(product=product, kind="risk", statement="<script>alert('risk')</script>")
    batch = BatchFactory(product=product)
    farm = facility_create(owner=own_supplier, **{"name": "<b>Farm</b> & <i>Sons</i>", "country": "GH", "kind": "<em>"})
    made = transformation(0, [quantity(gtin_uri(COCOA_GTIN, "X"), 5)], [quantity(gtin_uri(product.gtin, batch.lot), 5)])
    made["bizLocation"] = {"id": farm.location_uri}
    capture_document(supplier=own_supplier, submitted_by=None, document=document(made))

    body = get(client, batch, serial="<script>")

    assert "<script>alert" not in body
    assert "<b>Farm</b>" not in body
    assert "&lt;b&gt;Farm&lt;/b&gt; &amp; &lt;i&gt;Sons&lt;/i&gt;" in body
    assert "<em>" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(&#x27;risk&#x27;)&lt;/script&gt;" in body
    json_ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1)
    assert json.loads(json_ld)["name"] == "Bar </script><script>alert(1)</script>"  # escaped as \u003C… inside


# The head: canonical URL, Open Graph, JSON-LD, the EPCIS export


def test_head_names_the_canonical_page_open_graph_and_the_epcis_export(client, cocoa):
    response = client.get(page_url(cocoa.batch, serial="A1"))
    body = response.content.decode()
    canonical = f"http://testserver/batches/{cocoa.batch.pk}/"
    epcis = f"/api/v1/batches/{cocoa.batch.pk}/epcis/"

    assert f'<link rel="canonical" href="{canonical}">' in body
    assert f'<link rel="alternate" type="application/ld+json" href="{epcis}"' in body
    assert f'<meta property="og:url" content="{canonical}">' in body
    assert '<meta property="og:type" content="product">' in body
    assert f'<meta property="og:title" content="{cocoa.product.name}, lot BAR-2026-01">' in body
    assert (
        response["Link"]
        == f'<http://testserver{epcis}>; rel="alternate"; type="application/ld+json"; title="EPCIS 2.0 lineage"'
    )
    assert client.get(epcis).status_code == 200


def test_json_ld_describes_the_product_with_its_gtin_lot_and_supplier(client, cocoa, settings):
    settings.RESOLVER_ROOT = "https://id.example.org"
    body = get(client, cocoa.batch)

    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1))

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Product"
    assert data["@id"] == f"https://id.example.org/01/{cocoa.product.gtin}/10/BAR-2026-01"
    assert data["gtin14"] == cocoa.product.gtin
    assert data["sku"] == "BAR-2026-01"
    assert data["name"] == cocoa.product.name
    assert data["brand"] == {"@type": "Brand", "name": "Own Cocoa Co"}
    assert data["manufacturer"] == {"@type": "Organization", "name": "Own Cocoa Co"}
    assert data["url"] == f"http://testserver/batches/{cocoa.batch.pk}/"
    assert "aggregateRating" not in data  # no rating is made up: it has no reviews


# Speed: queries constant in chain depth


# The buy box (purchases.selectors.buy_box): the product's offers, the batch's stock, the supplier's terms of sale, its
# calendar's windows, the product's price split, and the count of the lot's sales paid in credits. A supplier with
# windows adds two: its closures, and the facilities that are its pick-up points (BUY_BOX_CALENDAR_QUERIES).
BUY_BOX_QUERIES = 6
BUY_BOX_CALENDAR_QUERIES = 2
# The community section (reviews.selectors): the product's rating with this lot's count, its newest reviews with
# their authors, lots, replies and standing decisions, and its top suggestions with their latest responses — one
# query each, however many (or few) there are (tests/reviews/test_pages_batch.py).
REVIEWS_QUERIES = 3
# Batch with product and supplier, declarations, lineage (walk up, walk down, events, lines,
# facilities, evidence levels), the evidence of declarations and of events, the recording suppliers, and the status
# of their hash chains (read from their heads: one query however many suppliers, and nothing hashed); the community
# section; the buy box.
PAGE_QUERIES = 1 + 1 + 6 + 2 + 1 + 1 + REVIEWS_QUERIES + BUY_BOX_QUERIES


@pytest.mark.parametrize("depth", [2, 30])
def test_page_query_count_does_not_depend_on_chain_depth(client, own_supplier, django_assert_num_queries, depth):
    batch = chain(own_supplier, depth)

    with django_assert_num_queries(PAGE_QUERIES):
        body = get(client, batch)

    assert f"Where it comes from: {2 * depth} steps" in body


def test_page_query_counts_at_depth_2_and_30_are_equal(client, own_supplier, other_supplier):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for supplier, depth in ((own_supplier, 2), (other_supplier, 30)):
        batch = chain(supplier, depth)
        with CaptureQueriesContext(connection) as queries:
            assert len(re.findall(r'<g class="hop', get(client, batch))) == 2 * depth
        counts.append(len(queries))

    assert counts[0] == counts[1] == PAGE_QUERIES


@pytest.mark.parametrize("suppliers", [1, 3])
def test_page_query_count_does_not_depend_on_how_many_suppliers_the_chain_crosses(
    client, own_supplier, settings, django_assert_num_queries, suppliers
):
    settings.PAGE_CACHE_SECONDS = settings.PAGE_PART_CACHE_SECONDS = 0  # the render itself
    partners = [SupplierFactory(legal_name=f"Partner {n} Ltd") for n in range(1, suppliers)]
    batch = chain(own_supplier, 6, also_by=partners)
    tasks.chains_verify_all()
    if partners:  # one chain verified, one verified so far (its latest event not checked yet), one broken
        step = TraceEvent.objects.filter(supplier=partners[1], type="TransformationEvent").first()
        forged = json.dumps(step.document | {"bizStep": "receiving"})
        tamper("UPDATE provenance_traceevent SET document = %s WHERE id = %s", [forged, step.pk])
        tasks.chains_verify_all()
        elsewhere = event("ObjectEvent", 99, action="OBSERVE", quantityList=[quantity(gtin_uri(COCOA_GTIN, "ELSE"))])
        capture_document(supplier=partners[0], submitted_by=None, document=document(elsewhere))
        recorders = [own_supplier, *partners]
        status = chains_status(supplier.pk for supplier in recorders)
        assert [status[supplier.pk].state for supplier in recorders] == ["verified", "pending", "broken"]

    with django_assert_num_queries(PAGE_QUERIES):
        origins = section(get(client, batch), "origins")

    assert len(set(TraceEvent.objects.values_list("supplier_id", flat=True))) == suppliers
    if partners:
        assert "the trace records of Own Cocoa Co, Partner 1 Ltd are intact" in origins
        assert "In the trace records of Partner 2 Ltd, an event was changed" in origins
    else:
        assert "the trace records of Own Cocoa Co are intact" in origins


# Size and assets


class Assets(HTMLParser):
    """Every <script src> and <link href> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(found["src"])
        if tag == "link" and found.get("href"):
            self.urls.append(found["href"])


def test_every_demo_batch_page_is_small_and_loads_nothing_from_elsewhere(client):
    call_command("seed_demo", verbosity=0)
    batches = Batch.objects.filter(product__published_at__isnull=False)
    assert batches.count() >= 10

    sizes = {}
    for batch in batches:
        body = get(client, batch)
        sizes[batch.lot] = len(body.encode())
        assets = Assets()
        assets.feed(body)
        assert assets.urls
        for url in assets.urls:
            assert urlsplit(url).netloc in ("", "testserver"), url

    assert max(sizes.values()) < 60_000, sizes
