"""Idempotency-Key: a repeat gets the first response without the work being done again."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.models import IdempotencyKey
from core.tasks import idempotency_keys_purge
from products.models import Batch, Supplier
from tests.conftest import database_is_postgres
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.django_db


def batch_body(product, lot="L-1", quantity=10):
    return {"product": product.pk, "lot": lot, "produced_on": "2026-05-01", "quantity": quantity}


@pytest.fixture
def client_of(owner):
    def make(user=owner.user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_repeat_with_the_same_key_replays_the_first_response(owner, client_of):
    product = ProductFactory(supplier=owner.supplier)
    first = client_of().post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY="k-1")
    again = client_of().post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Batch.objects.count() == 1


def test_same_key_with_a_different_body_is_a_422_and_does_nothing(owner, client_of):
    product = ProductFactory(supplier=owner.supplier)
    client_of().post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY="k-2")
    response = client_of().post("/api/v1/batches/", batch_body(product, lot="L-2"), HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Batch.objects.values_list("lot", flat=True)) == ["L-1"]


def test_same_key_on_another_endpoint_is_a_422(owner, client_of):
    product = ProductFactory(supplier=owner.supplier)
    client_of().post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY="k-3")
    response = client_of().post(
        f"/api/v1/products/{product.pk}/declarations/",
        {"kind": "risk", "topic": "health", "statement": "x"},
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert response.status_code == 422


def test_keys_are_scoped_to_the_user(owner, client_of, own_supplier):
    from tests.accounts.factories import UserFactory
    from tests.products.factories import SupplierMemberFactory

    colleague = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=colleague, role="editor")
    product = ProductFactory(supplier=owner.supplier)
    client_of().post("/api/v1/batches/", batch_body(product, lot="MINE"), HTTP_IDEMPOTENCY_KEY="shared")
    theirs = client_of(colleague).post(
        "/api/v1/batches/", batch_body(product, lot="THEIRS"), HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert theirs.status_code == 201
    assert set(Batch.objects.values_list("lot", flat=True)) == {"MINE", "THEIRS"}


def test_a_failed_request_does_not_use_up_its_key(owner, client_of):
    product = ProductFactory(supplier=owner.supplier)
    bad = client_of().post("/api/v1/batches/", batch_body(product, lot="BAD LOT"), HTTP_IDEMPOTENCY_KEY="k-4")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    fixed = client_of().post("/api/v1/batches/", batch_body(product, lot="GOOD"), HTTP_IDEMPOTENCY_KEY="k-4")
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ключ"])
def test_malformed_keys_are_refused(owner, client_of, key):
    product = ProductFactory(supplier=owner.supplier)
    response = client_of().post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"
    assert not Batch.objects.exists()


@pytest.mark.urls("tests.socialbiz.idempotent_urls")
def test_endpoints_that_need_a_key_refuse_requests_without_one(client_of):
    response = client_of().post("/register/", {"name": "Keyless Ltd"})
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert not Supplier.objects.filter(legal_name="Keyless Ltd").exists()
    ok = client_of().post("/register/", {"name": "Keyed Ltd"}, HTTP_IDEMPOTENCY_KEY="r-1")
    replay = client_of().post("/register/", {"name": "Keyed Ltd"}, HTTP_IDEMPOTENCY_KEY="r-1")
    assert (ok.status_code, replay.json()) == (201, ok.json())
    assert Supplier.objects.filter(legal_name="Keyed Ltd").count() == 1


def test_a_replay_does_no_writes(owner, client_of):
    product = ProductFactory(supplier=owner.supplier)
    client_of().post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY="k-5")
    with CaptureQueriesContext(connection) as queries:
        client_of().post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY="k-5")
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "DELETE"))]
    inserts = [q["sql"] for q in queries if "INSERT" in q["sql"].upper() and "batch" in q["sql"].lower()]
    assert writes == []
    assert inserts == []


def test_expired_keys_are_purged(owner, client_of):
    from datetime import timedelta

    from django.utils import timezone

    product = ProductFactory(supplier=owner.supplier)
    client_of().post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY="old")
    client_of().post("/api/v1/batches/", batch_body(product, lot="L-2"), HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_keys_purge.apply().get() == 1  # the task beat runs hourly, run here in-process
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.postgres
@pytest.mark.skipif(not database_is_postgres(), reason="concurrent repeats need PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_do_the_work_once(owner):
    product = ProductFactory(supplier=owner.supplier)
    barrier = threading.Barrier(6)
    responses = []

    def post() -> None:
        client = APIClient()
        client.force_authenticate(owner.user)
        barrier.wait()
        responses.append(client.post("/api/v1/batches/", batch_body(product), HTTP_IDEMPOTENCY_KEY="race"))
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Batch.objects.count() == 1
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 5
