"""Public pages are cached until something they show changes (core/pages.py): a write makes stale only the pages that
show what it changed, found through the apps' declarations and one lineage walk; stale pages are rendered again
ahead; a stale copy is served only briefly, and never after safety news."""

import contextlib
import time

import pytest
from django.db import transaction
from django.urls import reverse

from core import pages
from core.models import OutboxMessage
from products import services as catalog
from products.models import Batch
from products.pages import product_page_id
from provenance.models import TraceEvent
from provenance.services import capture_document, evidence_create, evidence_revoke, facility_update
from tests.core.conftest import celery_eager
from tests.products.factories import BatchFactory, public_product
from tests.provenance.factories import Cocoa, chain, event, quantity, transformation
from tests.provenance.factories import epcis_document as document
from tests.provenance.factories import facility as make_facility
from tests.storefront.test_batch_page import BUY_BOX_QUERIES, PAGE_QUERIES, REVIEWS_QUERIES

pytestmark = pytest.mark.django_db


def url(batch: Batch) -> str:
    return reverse("storefront:batch", kwargs={"batch_id": batch.pk})


def visit(client, path: str, **headers: str) -> tuple[str, str]:
    """(X-Cache, body) of an anonymous visit."""
    response = client.get(path, **headers)
    assert response.status_code == 200
    return response["X-Cache"], response.content.decode()


def state(client, batch: Batch) -> str:
    return visit(client, url(batch))[0]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Writes in the block commit: their on_commit work runs (marking, then the outbox's render ahead, eagerly).

    The test runs in one transaction that never commits, so the changes its fixtures made are still being collected
    (core.pages keeps one collection per transaction): the block starts a collection of its own, as the next
    transaction would."""

    @contextlib.contextmanager
    def block():
        pages._pending.__dict__.clear()
        with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
            yield

    return block


@pytest.fixture
def no_render_ahead(settings):
    settings.PAGE_RENDER_AHEAD = False


@pytest.fixture
def cocoa(own_supplier, other_supplier) -> Cocoa:
    return Cocoa(own_supplier, other_supplier)


class CountingCache:
    """The cache, counting what pages ask of it."""

    def __init__(self, cache) -> None:
        self.cache, self.calls = cache, []

    def __getattr__(self, name: str):
        operation = getattr(self.cache, name)

        def counted(*args, **kwargs):
            self.calls.append(name)
            return operation(*args, **kwargs)

        return counted


class BrokenCache:
    """A cache server that is down."""

    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            raise ConnectionError("Redis is down")

        return fail


# Serving


def test_a_warm_page_costs_no_query_and_one_cache_round_trip(client, cocoa, django_assert_num_queries, monkeypatch):
    first = visit(client, url(cocoa.batch))
    counting = CountingCache(pages.cache)
    monkeypatch.setattr(pages, "cache", counting)

    with django_assert_num_queries(0):
        response = client.get(url(cocoa.batch))

    assert (response["X-Cache"], response.content.decode()) == ("hit", first[1])
    assert first[0] == "miss"
    assert counting.calls == ["get_many"]  # the page, its token and its stale marks together
    assert response["Cache-Control"] == "public, max-age=60"


def test_the_item_line_is_added_to_the_cached_page(client, cocoa, django_assert_num_queries):
    visit(client, url(cocoa.batch))

    with django_assert_num_queries(0):
        assert "Item <strong>A-2</strong>" in visit(client, url(cocoa.batch) + "?serial=A-2")[1]


def test_one_copy_serves_every_host_with_its_own_links(client, cocoa, settings):
    settings.ALLOWED_HOSTS = ["testserver", "shop.example"]
    visit(client, url(cocoa.batch))

    cached, body = visit(client, url(cocoa.batch), HTTP_HOST="shop.example")

    assert cached == "hit"
    assert f'<link rel="canonical" href="http://shop.example{url(cocoa.batch)}">' in body
    assert "origin.invalid" not in body
    assert "testserver" not in body


def test_logged_in_people_get_a_fresh_private_page(cocoa, shopper, client):
    visit(client, url(cocoa.batch))

    response = shopper.client.get(url(cocoa.batch))

    assert response["Cache-Control"] == "private, no-cache"
    assert "X-Cache" not in response
    assert "Log out" in response.content.decode()


def test_the_page_answers_when_the_cache_is_down(client, cocoa, monkeypatch):
    monkeypatch.setattr(pages, "cache", BrokenCache())
    monkeypatch.setattr(pages, "_cache_down_until", 0.0)

    body = visit(client, url(cocoa.batch))
    again = visit(client, url(cocoa.batch))  # the cache is left alone for a few seconds: no second timeout

    assert "Where it comes from: 9 steps" in body[1]
    assert again == body == ("off", body[1])


def test_writes_commit_when_the_cache_is_down(client, cocoa, monkeypatch, committed):
    monkeypatch.setattr(pages, "cache", BrokenCache())
    monkeypatch.setattr(pages, "_cache_down_until", 0.0)
    risk = cocoa.product.declarations.get(kind="risk")

    with committed():
        catalog.declaration_update(declaration=risk, **{"statement": "Made on a line that also handles peanuts."})

    risk.refresh_from_db()
    assert risk.statement == "Made on a line that also handles peanuts."
    assert "Made on a line that also handles peanuts." in visit(client, url(cocoa.batch))[1]


def test_page_cache_seconds_0_turns_the_cache_off(client, cocoa, settings, monkeypatch, django_assert_num_queries):
    settings.PAGE_CACHE_SECONDS = settings.PAGE_PART_CACHE_SECONDS = 0
    visit(client, url(cocoa.batch))
    counting = CountingCache(pages.cache)
    monkeypatch.setattr(pages, "cache", counting)

    with django_assert_num_queries(PAGE_QUERIES):
        assert visit(client, url(cocoa.batch))[0] == "off"
    assert counting.calls == []  # the cache is not even asked


# What a write makes stale


def test_a_change_renders_the_page_again_before_anyone_asks(client, cocoa, committed, django_assert_num_queries):
    visit(client, url(cocoa.batch))
    risk = cocoa.product.declarations.get(kind="risk")

    with committed():
        catalog.declaration_update(declaration=risk, **{"statement": "Made on a line that also handles peanuts."})

    with django_assert_num_queries(0):
        cached, body = visit(client, url(cocoa.batch))
    assert cached == "hit"
    assert "Made on a line that also handles peanuts." in body
    assert "Contains traces of nuts." not in body


def test_a_capture_makes_its_chains_pages_stale_and_they_are_rendered_ahead(client, cocoa, committed):
    assert "Where it comes from: 9 steps" in visit(client, url(cocoa.batch))[1]
    seen = event("ObjectEvent", 200, action="OBSERVE", bizStep="retail_selling", quantityList=[quantity(cocoa.bar, 10)])

    with committed():
        capture_document(supplier=cocoa.product.supplier, submitted_by=None, document=document(seen))

    cached, body = visit(client, url(cocoa.batch))
    assert cached == "hit"
    assert "Where it comes from: 10 steps" in body
    assert "<strong>Sold</strong>" in body


def test_a_capture_for_one_supplier_leaves_another_suppliers_pages_untouched(
    client, own_supplier, other_supplier, committed, no_render_ahead
):
    mine, theirs = chain(own_supplier, 2), chain(other_supplier, 3)
    assert (state(client, mine), state(client, theirs)) == ("miss", "miss")
    assert (state(client, mine), state(client, theirs)) == ("hit", "hit")
    lot = f"https://id.gs1.org/01/{mine.product.gtin}/10/{mine.lot}"
    seen = event("ObjectEvent", 300, action="OBSERVE", bizStep="retail_selling", quantityList=[quantity(lot, 1)])

    with committed():
        capture_document(supplier=own_supplier, submitted_by=None, document=document(seen))

    assert state(client, theirs) == "hit"
    assert state(client, mine) == "stale"  # within PAGE_STALE_SECONDS of the change, its render on the way
    unrelated = event("ObjectEvent", 301, action="OBSERVE", bizStep="storing", quantityList=[quantity(lot + "X", 1)])
    with committed():
        capture_document(supplier=own_supplier, submitted_by=None, document=document(unrelated))
    assert state(client, theirs) == "hit"  # a capture that names none of its chain


class Line:
    """P made at farm F1, made into Q at mill F2 (and shipped from there); R made elsewhere, at F3."""

    def __init__(self, supplier) -> None:
        self.f1 = make_facility(supplier, 71, "Farm one", "GH", "6.1", "-1.1")
        self.f2 = make_facility(supplier, 72, "Mill two", "GH", "6.2", "-1.2")
        self.f3 = make_facility(supplier, 73, "Farm three", "KE", "0.3", "36.3")
        self.p, self.q, self.r = (BatchFactory(product=public_product(supplier=supplier), lot=lot) for lot in "PQR")
        ids = {
            batch.lot: f"https://id.gs1.org/01/{batch.product.gtin}/10/{batch.lot}"
            for batch in (self.p, self.q, self.r)
        }
        events = [
            event("ObjectEvent", 0, action="ADD", bizStep="commissioning", where=self.f1.location_uri,
                  quantityList=[quantity(ids["P"], 10)]),
            transformation(5, [quantity(ids["P"], 10)], [quantity(ids["Q"], 9)], where=self.f2.location_uri),
            event("ObjectEvent", 6, action="OBSERVE", bizStep="shipping", where=self.f2.location_uri,
                  quantityList=[quantity(ids["Q"], 9)]),
            event("ObjectEvent", 0, action="ADD", bizStep="commissioning", where=self.f3.location_uri,
                  quantityList=[quantity(ids["R"], 5)]),
        ]  # fmt: skip
        capture_document(supplier=supplier, submitted_by=None, document=document(*events))


def test_a_facility_change_makes_exactly_the_pages_downstream_of_it_stale(
    client, own_supplier, committed, no_render_ahead, settings
):
    settings.PAGE_STALE_SECONDS = 0  # a stale page is rendered at once: "miss" says it was stale
    line = Line(own_supplier)
    for batch in (line.p, line.q, line.r):
        assert state(client, batch) == "miss"

    with committed():
        facility_update(facility=line.f2, **{"name": "Mill number two"})

    assert [state(client, batch) for batch in (line.p, line.q, line.r)] == ["hit", "miss", "hit"]
    assert "Mill number two" in visit(client, url(line.q))[1]

    with committed():
        facility_update(facility=line.f1, **{"name": "Farm number one"})

    assert [state(client, batch) for batch in (line.p, line.q, line.r)] == ["miss", "miss", "hit"]
    assert "Farm number one" in visit(client, url(line.q))[1]


def test_a_change_to_the_product_reuses_the_trace_section(client, cocoa, committed, no_render_ahead, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PAGE_STALE_SECONDS = 0
    visit(client, url(cocoa.batch))
    with committed():
        catalog.product_update(product=cocoa.product, **{"name": "Dark chocolate 70 %"})

    with CaptureQueriesContext(connection) as queries:
        cached, body = visit(client, url(cocoa.batch))

    assert cached == "miss"
    assert "Dark chocolate 70 %" in body
    assert "Where it comes from: 9 steps" in body
    # The batch with its product and declarations, the evidence of declarations and of steps, the community section
    # and the buy box: no lineage.
    assert len(queries) == 4 + REVIEWS_QUERIES + BUY_BOX_QUERIES


# The stale rule


def test_a_stale_copy_is_served_only_for_a_few_seconds(client, cocoa, committed, no_render_ahead, monkeypatch):
    before = visit(client, url(cocoa.batch))[1]
    with committed():
        catalog.product_update(product=cocoa.product, **{"description": "Now with a new description."})

    assert visit(client, url(cocoa.batch)) == ("stale", before)
    later = time.time() + 60
    monkeypatch.setattr(pages.time, "time", lambda: later)
    cached, body = visit(client, url(cocoa.batch))
    assert cached == "miss"
    assert "Now with a new description." in body


def test_safety_news_is_never_served_stale(client, cocoa, committed, no_render_ahead):
    fields = {"title": "Farm audit 2026", "issuer": "Certifier", "url": "https://c.example/audit"}
    audit = evidence_create(owner=cocoa.product.supplier, **fields)
    audit.events.add(TraceEvent.objects.get(event_id=cocoa.farm_event["eventID"]))
    visit(client, url(cocoa.batch))

    with committed():
        evidence_revoke(evidence=audit, reason="Withdrawn by the auditor.")
    cached, body = visit(client, url(cocoa.batch))
    assert cached == "miss"
    assert "Withdrawn by the auditor." in body

    with committed():
        catalog.supplier_status_set(supplier=cocoa.product.supplier, status="suspended", reason="Audit withdrawn.")
    cached, body = visit(client, url(cocoa.batch))
    assert cached == "miss"
    assert "Audit withdrawn." in body

    risk = cocoa.product.declarations.get(kind="risk")
    with committed():
        catalog.declaration_update(declaration=risk, **{"statement": "Contains peanuts."})
    cached, body = visit(client, url(cocoa.batch))
    assert cached == "miss"
    assert "Contains peanuts." in body
    # …and a soft change after safety news does not bring back a copy from before it.
    with committed():
        catalog.product_update(product=cocoa.product, **{"description": "A soft change."})
    assert visit(client, url(cocoa.batch))[0] == "stale"


def test_a_rolled_back_write_changes_no_page_and_queues_nothing(client, cocoa, committed, no_render_ahead):
    visit(client, url(cocoa.batch))
    risk = cocoa.product.declarations.get(kind="risk")
    queued = OutboxMessage.objects.count()

    with committed(), contextlib.suppress(RuntimeError), transaction.atomic():
        catalog.declaration_update(declaration=risk, **{"statement": "Never committed."})
        raise RuntimeError("rolled back")

    assert state(client, cocoa.batch) == "hit"
    assert OutboxMessage.objects.count() == queued
    with committed():
        catalog.product_update(product=cocoa.product, **{"description": "Committed."})
    assert state(client, cocoa.batch) == "stale"  # the next transaction is collected afresh


def test_a_write_records_its_pages_in_the_outbox_in_its_transaction(cocoa, committed):
    evidence = evidence_create(
        owner=cocoa.product.supplier, **{"title": "Lab test", "issuer": "Lab", "url": "https://l.example"}
    )
    OutboxMessage.objects.all().delete()
    risk = cocoa.product.declarations.get(kind="risk")

    with committed():
        catalog.declaration_update(declaration=risk, **{"statement": "Contains peanuts."})
        evidence.declarations.add(risk)
        [message] = OutboxMessage.objects.filter(task_name="core.tasks.pages_refresh")
        soft, safety = message.args  # in the transaction: what changed
        assert ["product", cocoa.product.pk] in safety  # a risk changed
        assert ["product-page-of", cocoa.product.pk] in safety

    message.refresh_from_db()  # after the commit: the pages, marked stale by the committing process
    assert message.kwargs == {"marked": True}
    assert message.args == [[], [["batch", cocoa.batch.pk], ["product-page", product_page_id(cocoa.product)]]]
    assert message.state == OutboxMessage.State.DONE  # run eagerly after the commit


# The product page


def test_the_product_page_is_cached_and_follows_its_batches_and_declarations(
    client, cocoa, committed, no_render_ahead, settings
):
    settings.PAGE_STALE_SECONDS = 0
    path = cocoa.product.get_absolute_url()
    assert [visit(client, path)[0], visit(client, path)[0]] == ["miss", "hit"]

    with committed():
        BatchFactory(product=cocoa.product, lot="BAR-2026-02")
    cached, body = visit(client, path)
    assert cached == "miss"
    assert "BAR-2026-02" in body

    benefit = cocoa.product.declarations.get(kind="benefit")
    with committed():
        catalog.declaration_update(declaration=benefit, **{"statement": "Grown without pesticides."})
    cached, body = visit(client, path)
    assert cached == "miss"
    assert "Grown without pesticides." in body


def test_a_chain_found_broken_at_night_is_never_served_from_before(client, own_supplier, committed, no_render_ahead):
    import json

    from provenance import tasks
    from tests.provenance.factories import tamper

    batch = chain(own_supplier, 2)
    tasks.chains_verify_all()
    assert "are intact" in visit(client, url(batch))[1]
    step = TraceEvent.objects.filter(supplier=own_supplier, type="TransformationEvent").first()
    tamper(
        "UPDATE provenance_traceevent SET document = %s WHERE id = %s", [json.dumps(step.document | {"x": 1}), step.pk]
    )
    assert visit(client, url(batch))[0] == "hit"  # nothing has noticed yet

    with committed():
        tasks.chains_verify_all()

    cached, body = visit(client, url(batch))
    assert cached == "miss"
    assert "these records do not verify" in body
    with committed():
        tasks.chains_verify_all()  # found broken again: the verdict has not changed, the pages stay
    assert visit(client, url(batch))[0] == "hit"
