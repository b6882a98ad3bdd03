"""Redis down (REDIS_URL and the broker at a port where nothing listens): pages and the API answer, writes succeed,
and the background work they queue waits, pending, in the outbox.

Needs no Redis server, so it runs in both of CI's runs; the test client raises any exception a view lets out, so
"answers" means no 500 anywhere.
"""

import json
import logging
import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import gs1
from core.models import OutboxMessage
from tests.accounts.factories import PASSWORD, UserFactory
from tests.products.factories import BatchFactory, public_product
from tests.provenance.factories import epcis_document

pytestmark = pytest.mark.django_db

State = OutboxMessage.State


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_the_cache_really_is_down(redis_down):
    with pytest.raises(Exception, match="Connection refused|Error 111"):
        cache.get("anything")


def test_the_api_answers_reads_and_writes(redis_down, owner, stranger, caplog):
    product = public_product(supplier=owner.supplier, name="Outage chocolate")
    anonymous = APIClient()
    for url in ["/api/v1/suppliers/", "/api/v1/products/", f"/api/v1/products/{product.pk}/", "/api/v1/batches/"]:
        assert anonymous.get(url).status_code == 200, url
    assert anonymous.get("/api/schema/").status_code == 200

    token = anonymous.post("/api/v1/auth/token/", {"email": owner.user.email, "password": PASSWORD})
    assert token.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert client.get("/epcis/events").status_code == 200
    gtin = gs1.gtin_with_check_digit("952000000777")
    created = client.post(
        "/api/v1/products/", {"supplier": owner.supplier.slug, "name": "Made offline", "category": "food", "gtin": gtin}
    )
    assert created.status_code == 201, created.json()
    assert client.get(f"/api/v1/products/{created.json()['id']}/").json()["name"] == "Made offline"
    throttle_warnings = [r for r in caplog.records if r.name == "core.api.throttling"]
    assert len(throttle_warnings) == 1  # once for the outage, not once per request
    assert "counting requests per process" in throttle_warnings[0].getMessage()


def test_a_capture_commits_fast_and_its_background_work_waits_pending(
    redis_down, owner, django_capture_on_commit_callbacks, caplog
):
    event = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:00000000-0000-4000-8000-000000000901",
        "eventTime": "2026-04-30T08:00:00+02:00",
        "eventTimeZoneOffset": "+02:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "epcList": ["urn:epc:id:sgtin:9520000.012345.901"],
    }
    client = api(owner.user)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/epcis/capture", data=json.dumps(epcis_document(event)), content_type="application/json"
        )
    elapsed = time.monotonic() - started
    assert response.status_code == 202, response.content
    assert elapsed < 3.0, f"the capture took {elapsed:.2f}s with the broker down"
    message = OutboxMessage.objects.get(task_name="provenance.tasks.chain_head_advance")
    assert (message.state, message.args) == (State.PENDING, [owner.supplier.pk])
    assert any("broker is unavailable" in r.getMessage() for r in caplog.records if r.name == "core.outbox")


def test_pages_answer(redis_down, operator, django_capture_on_commit_callbacks):
    product = public_product(name="Outage chocolate")
    batch = BatchFactory(product=product, lot="OUT-1")
    visitor = Client()
    home = visitor.get("/")
    assert home.status_code == 200
    assert "Outage chocolate" in home.content.decode()
    assert visitor.get(product.get_absolute_url()).status_code == 200
    for _ in range(2):  # the batch page's cache is a miss both times, not an error
        assert visitor.get(reverse("storefront:batch", kwargs={"batch_id": batch.pk})).status_code == 200
    assert visitor.get(f"/01/{product.gtin}/10/OUT-1").status_code == 307  # the resolver, to the batch page
    assert visitor.get(reverse("accounts:login")).status_code == 200
    health = visitor.get("/healthz")
    assert (health.status_code, health.json()["cache"]) == (200, "down")
    assert operator.client.get("/dashboard/").status_code == 200

    UserFactory(email="forgetful@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        reset = visitor.post(reverse("accounts:password_reset"), {"email": "forgetful@example.org"})
    assert reset.status_code == 302
    assert OutboxMessage.objects.get(task_name="core.tasks.mail_send").state == State.PENDING


def test_throttling_still_counts_while_the_cache_is_down(redis_down, monkeypatch, caplog):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "3/min"})
    client = APIClient()
    statuses = [client.get("/api/v1/suppliers/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert len([r for r in caplog.records if r.name == "core.api.throttling" and r.levelno == logging.WARNING]) == 1
