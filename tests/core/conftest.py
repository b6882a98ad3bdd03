import contextlib
from collections.abc import Iterator

import pytest

from core import outbox
from core.api import throttling
from socialbiz.celery import app
from tests.core import outbox_tasks


@pytest.fixture(autouse=True)
def _fresh_outbox_state():
    """Each test starts with no remembered outage (broker or cache) and no recorded runs."""
    outbox.broker.reset()
    throttling.shared_cache.reset()
    outbox_tasks.RUNS.clear()
    yield
    outbox.broker.reset()
    throttling.shared_cache.reset()


@contextlib.contextmanager
def celery_eager(value: bool) -> Iterator[None]:
    """Celery's task_always_eager set for the block (pytest's monkeypatch cannot restore Celery's settings)."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = value
    try:
        yield
    finally:
        app.conf.task_always_eager = before


@pytest.fixture
def eager():
    """Embedded mode whatever the environment: no broker, work runs in-process after commit."""
    with celery_eager(True):
        yield


@pytest.fixture
def brokered(monkeypatch):
    """Production mode without a broker to reach: what outbox._send would publish is recorded instead."""
    published: list[int] = []
    monkeypatch.setattr(outbox, "_send", lambda ids: published.extend(ids))
    with celery_eager(False):
        yield published


@pytest.fixture
def redis_down(settings, monkeypatch):
    """REDIS_URL and CELERY_BROKER_URL pointing at a port where nothing listens, as in an outage."""
    from core import pages
    from tests.socialbiz.processes import free_port

    url = f"redis://127.0.0.1:{free_port()}/12"  # a port just released: nothing listens there
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "socialbiz",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},  # as socialbiz/settings.py
        }
    }
    monkeypatch.setattr(pages, "_cache_down_until", 0.0)  # restored afterwards: later tests get their cache
    with celery_broker(url), celery_eager(False):
        yield url


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Celery's broker URL set for the block (the outbox opens its own connections from it, so they follow)."""
    before = app.conf.broker_url
    app.conf.broker_url = url
    try:
        yield
    finally:
        app.conf.broker_url = before
