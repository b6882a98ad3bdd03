"""A batch's lineage: walked up to its origins and down to what was made from it, in a fixed number of queries."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.gs1 import gtin_uri
from products.models import Declaration
from provenance import epcis, tasks
from provenance.lineage import batch_lineage
from provenance.models import Evidence, TraceEvent
from provenance.services import capture_document, evidence_create, evidence_revoke
from tests.products.factories import BatchFactory, ProductFactory, public_product
from tests.provenance.factories import (
    COCOA_GTIN,
    ROASTED_GTIN,
    SUGAR_GTIN,
    Cocoa,
    chain,
    event,
    quantity,
    tamper,
    transformation,
)
from tests.provenance.factories import epcis_document as document

pytestmark = pytest.mark.django_db


@pytest.fixture
def cocoa(own_supplier, other_supplier) -> Cocoa:
    return Cocoa(own_supplier, other_supplier)


# The walk


def test_upstream_reaches_every_ingredient_whatever_form_events_named_it_in(cocoa):
    lineage = batch_lineage(cocoa.batch)

    assert lineage.identifier == cocoa.bar
    assert lineage.upstream == {
        cocoa.roasted, cocoa.fermented, cocoa.beans, cocoa.sugar_pallet, cocoa.sugar, cocoa.bar_pallet
    }  # fmt: skip


def test_origins_are_what_nothing_recorded_went_into(cocoa):
    assert batch_lineage(cocoa.batch).origins == {cocoa.beans, cocoa.sugar}


def test_downstream_reaches_what_was_made_from_the_batch(cocoa):
    assert batch_lineage(cocoa.batch).downstream == {cocoa.gift_box, cocoa.bar_pallet}


def test_downstream_of_the_beans_reaches_the_bars_made_from_them(cocoa, own_supplier):
    beans_product = ProductFactory(supplier=own_supplier, gtin=COCOA_GTIN)
    beans_batch = BatchFactory(product=beans_product, lot="BEANS-1")

    lineage = batch_lineage(beans_batch)

    assert {cocoa.fermented, cocoa.roasted, cocoa.bar, cocoa.gift_box} <= lineage.downstream
    assert lineage.upstream == set()
    assert lineage.origins == {cocoa.beans}  # harvested, not made from anything recorded


def test_downstream_goes_through_the_pallet_an_ingredient_was_delivered_on(cocoa, other_supplier):
    sugar_batch = BatchFactory(product=ProductFactory(supplier=other_supplier, gtin=SUGAR_GTIN), lot="SUGAR-7")

    assert {cocoa.sugar_pallet, cocoa.bar, cocoa.gift_box} <= batch_lineage(sugar_batch).downstream


def test_hops_follow_event_time_with_facility_country_date_and_step(cocoa):
    lineage = batch_lineage(cocoa.batch)

    assert [hop.event.event_id for hop in lineage.hops] == [e["eventID"] for e in cocoa.event_order]
    assert list(lineage.events) == [hop.event for hop in lineage.hops]
    first, fermenting, shipping, sugar, receiving = lineage.hops[:5]
    assert (first.facility, first.country, first.date, first.biz_step) == (
        cocoa.farm, "GH", datetime.date(2026, 1, 5), "commissioning"
    )  # fmt: skip
    assert fermenting.facility == cocoa.fermentary
    assert shipping.facility == cocoa.port  # read at a dock door: an SGLN with an extension
    assert (sugar.facility, sugar.country) == (cocoa.sugar_mill, "PT")
    assert (receiving.facility, receiving.country, receiving.biz_step) == (cocoa.factory, "BE", "receiving")


def test_hop_without_a_known_place_has_no_facility(own_supplier):
    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    made = transformation(0, [quantity(gtin_uri(COCOA_GTIN, "X"), 5)], [quantity(gtin_uri(product.gtin, batch.lot), 5)])
    made["readPoint"] = {"id": "urn:uuid:6f0a4f9e-9d0b-4c62-a0a4-6f35b35c1b11"}
    capture_document(supplier=own_supplier, submitted_by=None, document=document(made))

    (hop,) = batch_lineage(batch).hops

    assert (hop.facility, hop.country) == (None, None)


def test_hop_date_is_the_date_where_the_event_happened(own_supplier):
    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    late_evening = event(
        "ObjectEvent", 0, action="OBSERVE", quantityList=[quantity(gtin_uri(product.gtin, batch.lot))],
        eventTime="2026-01-05T23:30:00-05:00", eventTimeZoneOffset="-05:00",
    )  # fmt: skip
    capture_document(supplier=own_supplier, submitted_by=None, document=document(late_evening))

    assert batch_lineage(batch).hops[0].date == datetime.date(2026, 1, 5)  # 04:30 on the 6th in UTC


def test_facilities_are_listed_once_in_order_of_first_visit(cocoa):
    facilities = batch_lineage(cocoa.batch).facilities

    assert facilities == (cocoa.farm, cocoa.fermentary, cocoa.port, cocoa.sugar_mill, cocoa.factory)


def test_hops_carry_evidence_levels_with_revoked_evidence_shown_as_revoked(cocoa, own_supplier):
    audit = evidence_create(
        owner=own_supplier,
        **{"title": "Farm audit", "issuer": "Rainforest Alliance", "url": "https://ra.example/a1",
              "level": "third_party_verified"},
    )  # fmt: skip
    invoice = evidence_create(
        owner=own_supplier, **{"title": "Invoice", "issuer": "Asante farm", "url": "https://f.example/i"}
    )
    audit.events.add(TraceEvent.objects.get(event_id=cocoa.farm_event["eventID"]))
    invoice.events.add(TraceEvent.objects.get(event_id=cocoa.farm_event["eventID"]))
    certificate = evidence_create(
        owner=own_supplier,
        **{"title": "Organic", "issuer": "EU", "url": "https://eu.example/c", "level": "third_party_verified"},
    )
    certificate.events.add(TraceEvent.objects.get(event_id=cocoa.fermenting["eventID"]))
    evidence_revoke(evidence=certificate, reason="Certificate withdrawn after an audit.")

    hops = batch_lineage(cocoa.batch).hops

    assert sorted(hops[0].evidence_levels) == ["documented", "third_party_verified"]
    assert hops[1].evidence_levels == ("revoked",)
    assert hops[2].evidence_levels == ()


@pytest.mark.parametrize(
    ("recorded", "revoked", "valid_until", "shown"),
    [
        ("third_party_verified", False, None, "third_party_verified"),
        ("documented", False, datetime.date(2026, 1, 31), "documented"),  # its last valid day
        ("documented", False, datetime.date(2026, 1, 30), "expired"),
        ("documented", True, None, "revoked"),
        ("third_party_verified", True, datetime.date(2025, 1, 1), "revoked"),  # revoked beats expired
    ],
)
def test_evidence_and_declarations_share_one_rule_revoked_beats_expired_beats_recorded(
    recorded, revoked, valid_until, shown
):
    today = datetime.date(2026, 1, 31)
    evidence = Evidence(level=recorded, valid_until=valid_until, revoked_at=timezone.now() if revoked else None)
    declaration = Declaration(evidence_level="revoked" if revoked else recorded, valid_until=valid_until)

    assert evidence.effective_level(today) == shown
    assert declaration.effective_evidence_level(today) == shown
    assert evidence.status(today) == (shown if shown in ("revoked", "expired") else "valid")


def test_walk_ends_on_a_cycle(own_supplier):
    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    a, b, c = gtin_uri(product.gtin, batch.lot), gtin_uri(COCOA_GTIN, "B"), gtin_uri(COCOA_GTIN, "C")
    capture_document(
        supplier=own_supplier,
        submitted_by=None,
        document=document(
            transformation(0, [quantity(a, 1)], [quantity(b, 1)]),
            transformation(1, [quantity(b, 1)], [quantity(c, 1)]),
            transformation(2, [quantity(c, 1)], [quantity(a, 1)]),
        ),
    )

    lineage = batch_lineage(batch)

    assert lineage.upstream == lineage.downstream == {b, c}
    assert lineage.origins == set()
    assert len(lineage.hops) == 3


def test_transformation_declared_erroneous_is_not_walked(own_supplier):
    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    bar, wrong, right = gtin_uri(product.gtin, batch.lot), gtin_uri(COCOA_GTIN, "WRONG"), gtin_uri(COCOA_GTIN, "OK")
    mistaken = transformation(0, [quantity(wrong, 1)], [quantity(bar, 1)])
    corrected = transformation(1, [quantity(right, 1)], [quantity(bar, 1)])
    capture_document(supplier=own_supplier, submitted_by=None, document=document(mistaken, corrected))
    declared = mistaken | {
        "errorDeclaration": {
            "declarationTime": "2026-02-01T00:00:00+00:00",
            "correctiveEventIDs": [corrected["eventID"]],
        }
    }
    capture_document(supplier=own_supplier, submitted_by=None, document=document(declared))

    lineage = batch_lineage(batch)

    assert lineage.upstream == lineage.origins == {right}
    assert [hop.event.event_id for hop in lineage.hops] == [corrected["eventID"]]


def test_product_without_gtin_has_an_empty_lineage(own_supplier, django_assert_num_queries):
    product = ProductFactory(supplier=own_supplier, gtin=None)
    batch = BatchFactory(product=product)

    with django_assert_num_queries(0):
        lineage = batch_lineage(batch)

    assert lineage.identifier is None
    assert (lineage.upstream, lineage.downstream, lineage.events, lineage.hops) == (set(), set(), (), ())


def test_batch_without_events_has_an_empty_lineage(own_supplier):
    lineage = batch_lineage(BatchFactory(product=public_product(supplier=own_supplier)))

    assert (lineage.upstream, lineage.origins, lineage.hops, lineage.mass_balance) == (set(), set(), (), ())


# Mass balance


def test_mass_balance_flags_a_transformation_that_puts_out_more_than_went_in(own_supplier):
    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    beans, nibs, bar = gtin_uri(COCOA_GTIN, "B"), gtin_uri(ROASTED_GTIN, "N"), gtin_uri(product.gtin, batch.lot)
    fine = transformation(0, [quantity(beans, 1000)], [quantity(nibs, 800.5)])
    inflated = transformation(1, [quantity(nibs, 800.5)], [quantity(bar, 950)])
    capture_document(supplier=own_supplier, submitted_by=None, document=document(fine, inflated))

    warnings = batch_lineage(batch).mass_balance

    assert [(w.event.event_id, w.inputs, w.outputs, w.uom) for w in warnings] == [
        (inflated["eventID"], Decimal("800.5"), Decimal("950"), "KGM")
    ]


def test_mass_balance_adds_up_a_transformation_split_over_events_sharing_its_id(own_supplier):
    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    bar = gtin_uri(product.gtin, batch.lot)
    shared = {"transformationID": "urn:uuid:2b0b1f6e-6d7e-4a39-9a51-3c8e25d0b1c2"}
    first_in = transformation(0, [quantity(gtin_uri(COCOA_GTIN, "A"), 40)], [], **shared)
    second_in = transformation(1, [quantity(gtin_uri(SUGAR_GTIN, "S"), 20)], [], **shared)
    out = transformation(2, [], [quantity(bar, 70)], **shared)
    capture_document(supplier=own_supplier, submitted_by=None, document=document(first_in, second_in, out))

    lineage = batch_lineage(batch)

    assert lineage.upstream == {gtin_uri(COCOA_GTIN, "A"), gtin_uri(SUGAR_GTIN, "S")}
    assert [(w.event.event_id, w.inputs, w.outputs) for w in lineage.mass_balance] == [
        (out["eventID"], Decimal(60), Decimal(70))
    ]


def test_mass_balance_ignores_transformations_in_other_units_or_without_quantities(cocoa, own_supplier):
    assert batch_lineage(cocoa.batch).mass_balance == ()  # fine ones, one in pieces, one with a pallet of unknown mass

    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    bar = gtin_uri(product.gtin, batch.lot)
    pieces = transformation(0, [quantity(gtin_uri(COCOA_GTIN, "P"), 10)], [quantity(bar, 5000, uom="H87")])
    capture_document(supplier=own_supplier, submitted_by=None, document=document(pieces))

    assert batch_lineage(batch).mass_balance == ()


# Query counts


# walk up, walk down, events, their lines, facilities, evidence
LINEAGE_QUERIES = 6


@pytest.mark.parametrize("depth", [3, 30])
def test_lineage_query_count_does_not_depend_on_chain_depth(own_supplier, django_assert_num_queries, depth):
    batch = chain(own_supplier, depth)

    with django_assert_num_queries(LINEAGE_QUERIES):
        lineage = batch_lineage(batch)
        assert [hop.facility.name for hop in lineage.hops[:2]] == ["Plant", "Store"]
        assert all(hop.evidence_levels for hop in lineage.hops[::2])

    assert len(lineage.upstream) == depth
    assert lineage.origins == {gtin_uri(COCOA_GTIN, f"D{depth}R0")}
    assert len(lineage.hops) == 2 * depth


def test_lineage_query_counts_at_depth_3_and_30_are_equal(own_supplier):
    counts = []
    for depth in (3, 30):
        batch = chain(own_supplier, depth)
        with CaptureQueriesContext(connection) as queries:
            assert len(batch_lineage(batch).upstream) == depth
        counts.append(len(queries))

    assert counts[0] == counts[1] == LINEAGE_QUERIES


# API


# the batch, its lineage, and the suppliers' slugs and the status of their chains (one query each, however many)
API_QUERIES = 1 + LINEAGE_QUERIES + 2


@pytest.mark.parametrize("depth", [3, 30])
def test_lineage_api_query_count_does_not_depend_on_chain_depth(
    own_supplier, stranger, django_assert_num_queries, depth
):
    batch = chain(own_supplier, depth)

    with django_assert_num_queries(API_QUERIES):
        response = stranger.client.get(f"/api/v1/batches/{batch.pk}/lineage/")

    assert response.status_code == 200
    assert len(response.json()["hops"]) == 2 * depth


def test_lineage_api_is_public_for_a_public_product(cocoa, stranger, own_supplier, other_supplier):
    response = stranger.client.get(f"/api/v1/batches/{cocoa.batch.pk}/lineage/")

    assert response.status_code == 200
    body = response.json()
    assert body["batch"]["id"] == cocoa.batch.pk
    assert body["identifier"] == cocoa.bar
    assert set(body["upstream"]) == batch_lineage(cocoa.batch).upstream
    assert body["origins"] == sorted([cocoa.beans, cocoa.sugar])
    assert body["downstream"] == sorted([cocoa.gift_box, cocoa.bar_pallet])
    first = body["hops"][0]
    assert first["event_id"] == cocoa.farm_event["eventID"]
    assert (first["date"], first["biz_step"], first["country"]) == ("2026-01-05", "commissioning", "GH")
    assert first["facility"] | {"id": None} == {
        "id": None, "name": "Asante farm", "kind": "", "country": "GH", "country_name": "Ghana",
        "latitude": 6.6885, "longitude": -1.6244,
    }  # fmt: skip
    assert body["mass_balance"] == []
    # Captured, not checked yet (no task runs here): verified so far.
    assert body["chain_verified"] == [
        {"supplier": own_supplier.slug, "verified": True, "status": "pending", "unchecked_events": 10},
        {"supplier": other_supplier.slug, "verified": True, "status": "pending", "unchecked_events": 1},
    ]
    tasks.chains_verify_all()
    body = stranger.client.get(f"/api/v1/batches/{cocoa.batch.pk}/lineage/").json()
    assert body["chain_verified"] == [
        {"supplier": own_supplier.slug, "verified": True, "status": "verified", "unchecked_events": 0},
        {"supplier": other_supplier.slug, "verified": True, "status": "verified", "unchecked_events": 0},
    ]


def test_lineage_api_reports_a_chain_the_nightly_verification_found_broken(cocoa, stranger, own_supplier):
    event = TraceEvent.objects.get(event_id=cocoa.fermenting["eventID"])
    tamper(
        "UPDATE provenance_traceevent SET document = %s WHERE id = %s",
        [json.dumps(event.document | {"x": 1}), event.pk],
    )
    tasks.chains_verify_all()

    body = stranger.client.get(f"/api/v1/batches/{cocoa.batch.pk}/lineage/").json()

    assert body["chain_verified"][0] == {
        "supplier": own_supplier.slug,
        "verified": False,
        "status": "broken",
        "unchecked_events": 9,  # after the first event, the last that verifies
    }
    assert body["chain_verified"][1]["status"] == "verified"


def test_lineage_api_reports_mass_balance_warnings(own_supplier, stranger):
    product = public_product(supplier=own_supplier)
    batch = BatchFactory(product=product)
    inflated = transformation(
        0, [quantity(gtin_uri(COCOA_GTIN, "I"), 10)], [quantity(gtin_uri(product.gtin, batch.lot), 12)]
    )
    capture_document(supplier=own_supplier, submitted_by=None, document=document(inflated))

    body = stranger.client.get(f"/api/v1/batches/{batch.pk}/lineage/").json()

    assert body["mass_balance"] == [
        {"event_id": inflated["eventID"], "inputs": "10.000000", "outputs": "12.000000", "uom": "KGM"}
    ]


@pytest.mark.parametrize("suffix", ["lineage/", "epcis/"])
def test_lineage_of_an_unpublished_product_is_hidden_from_a_stranger(
    own_supplier, stranger, other_member, owner, suffix
):
    batch = BatchFactory(product=ProductFactory(supplier=own_supplier))
    url = f"/api/v1/batches/{batch.pk}/{suffix}"

    assert stranger.client.get(url).status_code == 404
    assert other_member.client.get(url).status_code == 404
    assert owner.client.get(url).status_code == 200


def test_lineage_of_a_missing_batch_is_404(stranger):
    response = stranger.client.get("/api/v1/batches/999999/lineage/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_epcis_export_is_a_valid_epcis_document_of_the_upstream_events(cocoa, own_supplier, stranger):
    own_supplier.captures.update(context=[epcis.CONTEXT_URL, {"farm": "https://farm.example/ns/"}])

    response = stranger.client.get(f"/api/v1/batches/{cocoa.batch.pk}/epcis/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    document_ = response.json()
    events = epcis.validate_document(document_)
    assert document_["@context"] == [epcis.CONTEXT_URL, {"farm": "https://farm.example/ns/"}]
    assert document_["schemaVersion"] == "2.0"
    # Everything that touched the bars or what they were made from, as captured; not the gift boxes' own shipping.
    downstream_only = {cocoa.event_order[-1]["eventID"]}
    assert [e["eventID"] for e in events] == [
        e["eventID"] for e in cocoa.event_order if e["eventID"] not in downstream_only
    ]
    assert events[0] == cocoa.farm_event


def test_epcis_export_of_a_product_without_gtin_is_an_empty_valid_document(own_supplier, stranger):
    batch = BatchFactory(product=public_product(supplier=own_supplier, gtin=None))

    document_ = stranger.client.get(f"/api/v1/batches/{batch.pk}/epcis/").json()

    assert epcis.validate_document(document_) == []


@pytest.mark.parametrize("accept", ["application/json", "application/ld+json"])
def test_epcis_export_of_a_hidden_batch_is_a_json_error_whatever_the_client_accepts(own_supplier, stranger, accept):
    batch = BatchFactory(product=ProductFactory(supplier=own_supplier))

    response = stranger.client.get(f"/api/v1/batches/{batch.pk}/epcis/", headers={"Accept": accept})

    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json()["code"] == "not_found"


def test_epcis_export_is_plain_json_when_asked_for_json(cocoa, stranger):
    response = stranger.client.get(f"/api/v1/batches/{cocoa.batch.pk}/epcis/", headers={"Accept": "application/json"})

    assert response["Content-Type"] == "application/json"
    assert epcis.validate_document(response.json())


@pytest.mark.parametrize("batch_id", ["99999999999999999999999", "0"])
def test_lineage_of_an_impossible_batch_id_is_404(stranger, batch_id):
    assert stranger.client.get(f"/api/v1/batches/{batch_id}/lineage/").status_code == 404
    assert stranger.client.get(f"/api/v1/batches/{batch_id}/epcis/").status_code == 404
