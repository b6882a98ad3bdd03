"""API throttles fall back to per-process counters while the shared cache is down, and say so once."""

import logging

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from core.api import throttling

pytestmark = pytest.mark.django_db


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "core.api.throttling" and r.levelno == logging.WARNING]


def test_counting_moves_to_the_process_and_back_to_the_shared_cache(redis_down, settings, owner, caplog, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100/min", "user": "100/min"})
    anonymous, member = APIClient(), APIClient()
    member.force_authenticate(owner.user)
    for _ in range(3):
        assert anonymous.get("/api/v1/suppliers/").status_code == 200
        assert member.get("/api/v1/suppliers/").status_code == 200
    assert len(messages(caplog)) == 1
    assert "unavailable" in messages(caplog)[0]
    assert throttling.shared_cache.local.get(f"throttle_user_{owner.user.pk}") is not None

    throttling.shared_cache.down_until = 0.0  # the retry interval is over, and Redis is still down
    assert member.get("/api/v1/suppliers/").status_code == 200
    assert len(messages(caplog)) == 1  # still down: not logged again within LOG_EVERY_SECONDS

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # Redis is back
    throttling.shared_cache.down_until = 0.0
    assert member.get("/api/v1/suppliers/").status_code == 200
    assert len(messages(caplog)) == 2
    assert "is back" in messages(caplog)[1]
    assert anonymous.get("/api/v1/suppliers/").status_code == 200
    assert len(messages(caplog)) == 2


def test_a_working_cache_is_used_and_nothing_is_logged(caplog, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})
    client = APIClient()
    assert [client.get("/api/v1/suppliers/").status_code for _ in range(3)] == [200, 200, 429]
    assert messages(caplog) == []
    assert throttling.shared_cache.usable()
