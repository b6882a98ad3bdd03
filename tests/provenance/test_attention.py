"""The dashboard's home, for provenance: evidence running out behind public declarations, batches no event names,
chains that do not verify; and the whole home's query count."""

import copy
import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from core.dashboard import AttentionItem
from products.models import Declaration, SupplierMember
from provenance import services, tasks
from provenance.lineage import batch_identifier
from provenance.models import Evidence, TraceEvent
from tests.accounts.factories import UserFactory
from tests.products.factories import (
    BatchFactory,
    DeclarationFactory,
    ProductFactory,
    SupplierFactory,
    SupplierMemberFactory,
    public_product,
)
from tests.provenance.factories import epcis_document
from tests.provenance.factories import tamper as tamper_sql

pytestmark = pytest.mark.django_db

HOME = "/dashboard/"
TODAY = timezone.localdate


def at(day: int, month: int = 1) -> datetime.datetime:
    return datetime.datetime(2026, month, day, 9, 0, tzinfo=datetime.UTC)


def home(client) -> list[AttentionItem]:
    response = client.get(HOME)
    assert response.status_code == 200
    return list(response.context["attention"])


def of_kind(items: list[AttentionItem], action: str) -> list[AttentionItem]:
    return [item for item in items if item.action == action]


def opened(client, item: AttentionItem):
    """Follow an item's link: the response of the dashboard page it opens."""
    response = client.get(item.url)
    assert response.status_code == 200, item
    return response


def traced(*batches, supplier=None, n: int = 1) -> TraceEvent:
    """Record one observation naming these batches (by their canonical Digital Link) in their supplier's chain."""
    event = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "eventTime": "2026-04-30T08:00:00+02:00",
        "eventTimeZoneOffset": "+02:00",
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "quantityList": [{"epcClass": batch_identifier(b), "quantity": 10, "uom": "KGM"} for b in batches],
    }
    supplier = supplier or batches[0].product.supplier
    capture = services.capture_document(supplier=supplier, submitted_by=None, document=epcis_document(event))
    return capture.events.get()


def certificate(owner, *, backs=(), **fields) -> Evidence:
    evidence = Evidence.objects.create(
        owner=owner, issuer="A certifier", url="https://evidence.example.org/c", **{"title": "Organic", **fields}
    )
    evidence.declarations.set(backs)
    return evidence


def tamper(event: TraceEvent) -> None:
    """Change a stored event as an intruder with database access would: past the append-only trigger."""
    forged = json.dumps(copy.deepcopy(event.document) | {"bizStep": "receiving"})
    tamper_sql("UPDATE provenance_traceevent SET document = %s WHERE id = %s", [forged, event.pk])


# Evidence -------------------------------------------------------------------------------------------------------------


def test_evidence_behind_public_declarations_running_out_expired_or_revoked(owner, other_supplier):
    today = TODAY()
    product = public_product(supplier=owner.supplier, name="Cocoa nibs")
    benefit = product.declarations.get(kind=Declaration.Kind.BENEFIT)
    risk = product.declarations.get(kind=Declaration.Kind.RISK)
    soon = certificate(owner.supplier, title="Organic", backs=[benefit], valid_until=today + datetime.timedelta(20))
    lapsed = certificate(
        owner.supplier, title="Lab test", backs=[risk, benefit], valid_until=today - datetime.timedelta(5)
    )
    revoked = certificate(owner.supplier, title="Fairtrade", backs=[benefit], revoked_at=at(1, 6))
    certificate(owner.supplier, title="Far off", backs=[benefit], valid_until=today + datetime.timedelta(40))
    draft = ProductFactory(supplier=owner.supplier, name="Draft")
    certificate(owner.supplier, title="Behind a draft", backs=[DeclarationFactory(product=draft)], valid_until=today)
    certificate(owner.supplier, title="Behind nothing", valid_until=today)
    other = public_product(supplier=other_supplier, name="Linen shirt")
    certificate(other_supplier, title="Someone else's", backs=other.declarations.all(), valid_until=today)

    items = of_kind(home(owner.client), "Review the evidence")

    assert [item.title.split(" (")[0] for item in items] == ["Fairtrade", "Lab test", "Organic"]
    assert items[0].title == "Fairtrade (A certifier) was revoked"
    assert items[1].title.startswith("Lab test (A certifier) expired on ")
    assert items[2].title.startswith("Organic (A certifier) expires on ")
    assert "It backs 2 declarations of public products: Cocoa nibs (benefit), Cocoa nibs (risk)." in items[1].detail
    assert [opened(owner.client, item).context["original"] for item in items] == [revoked, lapsed, soon]


def test_evidence_item_disappears_once_renewed_evidence_replaces_it(owner):
    product = public_product(supplier=owner.supplier, name="Cocoa nibs")
    benefit = product.declarations.get(kind=Declaration.Kind.BENEFIT)
    old = certificate(owner.supplier, title="Organic 2025", backs=[benefit], valid_until=TODAY())
    assert [item.title.split(" (")[0] for item in of_kind(home(owner.client), "Review the evidence")] == [
        "Organic 2025"
    ]

    renewed = certificate(owner.supplier, title="Organic 2026", valid_until=TODAY() + datetime.timedelta(365))
    services.evidence_links_set(evidence=renewed, events=[], declarations=[benefit])
    services.evidence_links_set(evidence=old, events=[], declarations=[])

    assert of_kind(home(owner.client), "Review the evidence") == []


# Batches --------------------------------------------------------------------------------------------------------------


def test_batches_without_trace_events_oldest_first_with_a_link_that_names_the_batch(owner, other_supplier):
    product = public_product(supplier=owner.supplier, name="Cocoa nibs")
    later = BatchFactory(product=product, lot="CH26-02", created_at=at(20))
    first = BatchFactory(product=product, lot="CH26/01%", created_at=at(10))
    BatchFactory(product=ProductFactory(supplier=other_supplier, name="Linen shirt"), lot="LN-1", created_at=at(1))
    traced(BatchFactory(product=product, lot="CH26-00", created_at=at(5)))

    items = of_kind(home(owner.client), "Record an event")

    assert [item.title for item in items] == [
        "Cocoa nibs, lot CH26/01% has no trace events",
        "Cocoa nibs, lot CH26-02 has no trace events",
    ]
    for item, batch in zip(items, [first, later], strict=True):
        form = opened(owner.client, item).context["adminform"].form
        assert form["output_batch"].value() == str(batch.pk)
        assert f'<option value="{batch.pk}" selected>' in str(form["output_batch"])


def test_a_viewer_is_sent_to_the_batch_rather_than_to_a_form_they_cannot_use(owner):
    batch = BatchFactory(product=public_product(supplier=owner.supplier, name="Cocoa nibs"), lot="CH26-01")
    viewer = UserFactory()
    SupplierMemberFactory(supplier=owner.supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    client = Client()
    client.force_login(viewer)

    items = home(client)

    assert [(item.title, item.action) for item in items] == [
        ("Cocoa nibs, lot CH26-01 has no trace events", "See the batch")
    ]
    assert opened(client, items[0]).context["original"] == batch


def test_batch_item_disappears_once_an_event_names_the_batch(owner):
    batch = BatchFactory(product=public_product(supplier=owner.supplier, name="Cocoa nibs"), lot="CH26-01")
    assert len(of_kind(home(owner.client), "Record an event")) == 1

    traced(batch)

    assert of_kind(home(owner.client), "Record an event") == []


def test_batches_of_a_product_without_gtin_say_the_product_needs_one(owner):
    product = ProductFactory(supplier=owner.supplier, name="Cocoa tea", gtin=None)
    DeclarationFactory(product=product, kind="risk")
    DeclarationFactory(product=product, kind="benefit")
    for n, lot in enumerate(["T-1", "T-2", "T-3", "T-4"], start=1):
        BatchFactory(product=product, lot=lot, created_at=at(n))

    items = home(owner.client)

    assert [(item.title, item.action) for item in items] == [
        ("Cocoa tea has no GTIN: its 4 batches cannot have trace events", "Give it a GTIN")
    ]
    assert items[0].since == at(1)
    assert "(T-1, T-2, T-3 and 1 more)" in items[0].detail
    assert opened(owner.client, items[0]).context["original"] == product


# Hash chains ----------------------------------------------------------------------------------------------------------


def test_a_chain_that_does_not_verify_is_shown_to_its_supplier_and_operators_only(owner, other_member, operator):
    batch = BatchFactory(product=public_product(supplier=owner.supplier, name="Cocoa nibs"))
    traced(batch, n=1)
    second = traced(batch, n=2)
    traced(BatchFactory(product=public_product(supplier=other_member.supplier)), n=3)
    assert of_kind(home(owner.client), "See the event") == []

    tamper(second)
    # Nothing re-hashes an older event until the nightly verification, which then records the break on the head.
    assert of_kind(home(owner.client), "See the event") == []
    assert tasks.chains_verify_all() == [owner.supplier.slug]

    items = of_kind(home(owner.client), "See the event")
    assert [item.title for item in items] == ["The hash chain of Own Cocoa Co's trace events does not verify"]
    assert "It breaks at event #2: its content no longer matches its hash." in items[0].detail
    assert opened(owner.client, items[0]).context["original"] == second
    assert of_kind(home(other_member.client), "See the event") == []
    assert [item.supplier_name for item in of_kind(home(operator.client), "See the event")] == ["Own Cocoa Co"]


# The whole home -------------------------------------------------------------------------------------------------------


def test_operator_sees_both_suppliers_items_and_members_only_their_own(owner, other_member, operator):
    ProductFactory(supplier=owner.supplier, name="Cocoa nibs", created_at=at(2))
    BatchFactory(product=public_product(supplier=other_member.supplier, name="Linen shirt"), created_at=at(1))

    network = home(operator.client)

    assert [(item.supplier_name, item.action) for item in network] == [
        ("Other Textiles SA", "Record an event"),
        ("Own Cocoa Co", "Add a risk and a benefit"),
    ]
    assert [item.supplier_name for item in home(owner.client)] == ["Own Cocoa Co"]
    assert [item.supplier_name for item in home(other_member.client)] == ["Other Textiles SA"]


def _supplier_world(supplier, n: int) -> None:
    """A supplier with a bit of everything: drafts, public products, batches with and without events, evidence."""
    ProductFactory(supplier=supplier, name=f"Draft {n}")
    untraceable = ProductFactory(supplier=supplier, name=f"No GTIN {n}", gtin=None)
    BatchFactory(product=untraceable)
    product = public_product(supplier=supplier, name=f"Public {n}")
    benefit = product.declarations.get(kind=Declaration.Kind.BENEFIT)
    DeclarationFactory(product=product, kind="risk", valid_until=TODAY())
    certificate(supplier, title=f"Lab test {n}", backs=[benefit], valid_until=TODAY())
    certificate(supplier, title=f"Audit {n}", backs=[benefit], revoked_at=at(1))
    batches = [BatchFactory(product=product) for _ in range(3)]
    first = traced(batches[0], n=n * 10 + 1)
    traced(batches[1], n=n * 10 + 2)
    if n % 2:
        tamper(first)  # found by the nightly verification


@pytest.mark.parametrize(("persona", "queries"), [("owner", 17), ("operator", 14)])  # purchases: +2, reviews: +2 (+1)
def test_home_query_count_does_not_grow_with_suppliers_products_batches_or_events(
    persona, queries, request, owner, other_member, operator, django_assert_num_queries
):
    client = request.getfixturevalue(persona).client
    for n, supplier in enumerate([owner.supplier, other_member.supplier], start=1):
        _supplier_world(supplier, n)
    tasks.chains_verify_all()
    with django_assert_num_queries(queries):
        few = home(client)

    # Four more suppliers, the owner a member of each, and more of everything at the owner's own.
    for n in range(3, 7):
        supplier = SupplierFactory()
        SupplierMemberFactory(supplier=supplier, user=owner.user, role=SupplierMember.Role.VIEWER)
        _supplier_world(supplier, n)
    _supplier_world(owner.supplier, 7)
    tasks.chains_verify_all()
    with django_assert_num_queries(queries):
        many = home(client)

    assert len(many) > len(few) > 5
    assert {item.action for item in many} >= {
        "Add a risk and a benefit",
        "Update the declaration",
        "Review the evidence",
        "Record an event",
        "Give it a GTIN",
        "See the event",
    }
