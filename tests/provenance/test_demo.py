"""The demo supply chains: from every public demo batch with a GTIN back to the farms, balanced, hash-chained."""

import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command

from core import gs1
from products.models import Product, Supplier
from provenance import demo
from provenance.hashchain import chain_verify
from provenance.lineage import batch_lineage
from provenance.models import Capture, EventLine, Evidence, Facility, TraceEvent

pytestmark = pytest.mark.django_db

GTIN = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/10/")


@pytest.fixture
def seeded(capsys):
    call_command("seed_demo")
    return capsys.readouterr().out


def snapshot() -> dict[str, list]:
    return {
        "facilities": list(Facility.objects.values_list("pk", "location_uri")),
        "events": list(TraceEvent.objects.values_list("pk", "event_id", "hash")),
        "lines": [EventLine.objects.count()],
        "captures": list(Capture.objects.values_list("pk", flat=True)),
        "evidence": list(Evidence.objects.values_list("pk", "url", "revoked_at")),
        "links": list(Evidence.events.through.objects.values_list("pk", flat=True))
        + list(Evidence.declarations.through.objects.values_list("pk", flat=True)),
    }


def kilograms(line: EventLine) -> Decimal:
    return line.quantity * demo.UNIT_MASS_KG[GTIN.match(line.identifier).group(1)]


def test_seed_demo_records_the_chains_once(seeded, capsys):
    assert "Demo supply chains: created" in seeded
    first = snapshot()
    assert len(first["facilities"]) >= 20
    assert len(first["events"]) >= 100

    call_command("seed_demo")
    assert snapshot() == first
    assert "the demo supply chains are already there" in capsys.readouterr().out


def test_every_public_demo_product_with_a_gtin_reaches_a_farm(seeded):
    products = Product.objects.public().filter(gtin__isnull=False)
    assert products.count() >= 4
    for product in products:
        for batch in product.batches.all():
            lineage = batch_lineage(batch)
            made = [e for e in lineage.events if e.type == "TransformationEvent"]
            assert any(
                line.role == "output" and line.identifier == gs1.gtin_uri(product.gtin, batch.lot)
                for event in made
                for line in lineage.lines[event.pk]
            ), batch
            assert demo.FARM_KINDS & {facility.kind for facility in lineage.facilities}, batch


def test_chains_cross_borders_and_one_is_at_least_six_steps_deep(seeded):
    shirt = Product.objects.get(slug="organic-cotton-work-shirt").batches.get(lot="SH26/014")
    lineage = batch_lineage(shirt)
    assert {facility.country.code for facility in lineage.facilities} == {"IN", "PT"}
    # Harvest, ginning, spinning, weaving, dyeing, sewing: the made-from steps alone are six deep.
    steps = {e.biz_step for e in lineage.upstream_events}
    assert {"commissioning", "shipping", "receiving", "inspecting"} <= steps
    assert len(lineage.upstream_events) >= 6
    assert _depth(lineage, lineage.identifier) >= 6
    soap = Product.objects.get(slug="shea-lemongrass-hand-soap").batches.get(lot="HS26-03")
    assert {facility.country.code for facility in batch_lineage(soap).facilities} == {"KE", "UG"}


def _depth(lineage, identifier: str) -> int:
    """How many making steps (transformations and the harvest that commissioned the raw material) lead to it."""
    made_by = defaultdict(list)
    for event in lineage.events:
        for line in lineage.lines.get(event.pk, ()):
            if line.role == "output" or (event.biz_step == "commissioning" and event.type == "ObjectEvent"):
                made_by[line.identifier].append(event)
    best = 0
    for event in made_by.get(identifier, []):
        inputs = [line.identifier for line in lineage.lines[event.pk] if line.role == "input"]
        best = max(best, 1 + max((_depth(lineage, i) for i in inputs), default=0))
    return best


def test_no_demo_transformation_puts_out_more_than_went_in(seeded):
    produced, used = defaultdict(Decimal), defaultdict(Decimal)
    for event in TraceEvent.objects.filter(type="TransformationEvent").prefetch_related("lines"):
        inputs = [line for line in event.lines.all() if line.role == "input"]
        outputs = [line for line in event.lines.all() if line.role == "output"]
        assert sum(map(kilograms, outputs)) <= sum(map(kilograms, inputs)), event.event_id
        for line in inputs:
            used[line.identifier] += line.quantity
        for line in outputs:
            produced[line.identifier] += line.quantity
    for line in EventLine.objects.filter(event__type="ObjectEvent", event__action="ADD"):
        produced[line.identifier] += line.quantity
    for identifier, quantity in used.items():
        if identifier in produced:
            assert quantity <= produced[identifier], identifier


def test_demo_evidence_covers_every_level_and_backs_events(seeded):
    statuses = {(e.level, e.status()) for e in Evidence.objects.all()}
    assert {level for level, _ in statuses} == {"self_declared", "documented", "third_party_verified"}
    assert {"expired", "revoked"} <= {status for _, status in statuses}
    assert {"Fairtrade", "GOTS", "Rainforest Alliance"} <= set(Evidence.objects.values_list("scheme", flat=True))
    assert all(e.events.exists() for e in Evidence.objects.all())
    assert Evidence.objects.filter(declarations__isnull=False).exists()


def test_facilities_are_mapped_and_some_have_glns(seeded):
    facilities = Facility.objects.all()
    assert all(f.latitude is not None and f.longitude is not None for f in facilities)
    assert {f.country.code for f in facilities} >= {"GH", "IN", "PT", "KE", "UG"}
    with_gln = [f for f in facilities if f.gln]
    assert with_gln
    assert all(f.gln.startswith("952") and f.location_uri.endswith(f.gln) for f in with_gln)


def test_every_suppliers_hash_chain_verifies(seeded):
    for supplier in Supplier.objects.all():
        assert chain_verify(supplier_id=supplier.pk).ok, supplier
    assert TraceEvent.objects.values("supplier").distinct().count() == 3
