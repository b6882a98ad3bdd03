"""core.pages: a transaction's changes are collected once, kept in the outbox with the transaction, dropped with a
rollback, and expanded into pages through the apps' declarations."""

import contextlib

import pytest
from django.db import transaction

from core import pages
from core.models import OutboxMessage
from products import services as catalog
from tests.core.conftest import celery_eager
from tests.products.factories import BatchFactory, public_product
from tests.provenance.factories import Cocoa

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(django_capture_on_commit_callbacks):
    """A collection of the block's own (the test's transaction never commits); its on_commit work is left undone,
    so the outbox message keeps what the transaction changed (after a commit it holds the pages instead)."""

    @contextlib.contextmanager
    def block():
        pages._pending.__dict__.clear()
        with celery_eager(True), django_capture_on_commit_callbacks(execute=False) as callbacks:
            yield callbacks

    return block


def refresh_messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(task_name="core.tasks.pages_refresh").order_by("pk"))


def test_roots_expand_to_the_pages_that_show_them(own_supplier, other_supplier):
    cocoa = Cocoa(own_supplier, other_supplier)
    other = BatchFactory(product=public_product(supplier=own_supplier), lot="ELSEWHERE")

    assert pages.pages_of([("product", cocoa.product.pk)]) == {("batch", cocoa.batch.pk)}
    assert pages.pages_of([("identifier", cocoa.beans)]) == {("batch", cocoa.batch.pk), ("batch-trace", cocoa.batch.pk)}
    assert pages.pages_of([("identifier", cocoa.gift_box)]) == set()  # made from the bars: not on their page
    assert ("batch", other.pk) not in pages.pages_of([("supplier", other_supplier.pk)])
    assert ("batch", cocoa.batch.pk) in pages.pages_of([("supplier", other_supplier.pk)])  # its sugar is in the bars


def test_one_message_per_transaction_updated_as_its_changes_grow(own_supplier, fresh):
    product = public_product(supplier=own_supplier)
    before = len(refresh_messages())

    with fresh(), transaction.atomic():
        catalog.product_update(product=product, **{"description": "One."})
        catalog.product_update(product=product, **{"description": "Two."})  # the same roots: no new write
        BatchFactory(product=product, lot="NEW-1")

    messages = refresh_messages()[before:]
    assert len(messages) == 1
    soft, _safety = messages[0].args
    assert ["product", product.pk] in soft
    assert ["batch", product.batches.get().pk] in soft


def test_a_rolled_back_savepoint_that_began_the_collection_leaves_nothing_behind(own_supplier, fresh):
    product, other = public_product(supplier=own_supplier), public_product(supplier=own_supplier)
    before = len(refresh_messages())

    with fresh(), transaction.atomic():
        with contextlib.suppress(RuntimeError), transaction.atomic():
            catalog.product_update(product=product, **{"description": "Rolled back."})
            raise RuntimeError
        catalog.product_update(product=other, **{"description": "Kept."})

    [message] = refresh_messages()[before:]
    soft, _safety = message.args
    assert ["product", other.pk] in soft
    assert ["product", product.pk] not in soft


def test_safety_news_is_kept_apart_from_other_changes(own_supplier, fresh):
    before = len(refresh_messages())

    with fresh():
        catalog.supplier_status_set(supplier=own_supplier, status="suspended", reason="Unpaid fees.")

    [message] = refresh_messages()[before:]
    soft, safety = message.args
    assert ["supplier", own_supplier.pk] in safety
    assert ["supplier", own_supplier.pk] not in soft
