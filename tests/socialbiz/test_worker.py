"""A real Celery worker on the Redis broker runs a task that was queued when its transaction committed."""

import os
import uuid

import pytest
from django.core.cache import cache
from django.db import transaction

from core import health
from core.tasks import heartbeat
from socialbiz.celery import app
from tests.socialbiz.processes import environment, running, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: no Redis broker to test against"),
]


@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_task_queued_on_commit(tmp_path):
    app.control.purge()
    cache.delete(health.HEARTBEAT_KEY)
    marker = f"test-{uuid.uuid4()}"
    log = tmp_path / "worker.log"
    worker = ["celery", "-A", "socialbiz", "worker", "--pool=solo", "--loglevel=info", "--without-gossip"]
    with running(worker, environment(), log):
        with transaction.atomic():
            heartbeat.delay_on_commit(source=f"rolled-back-{marker}")
            transaction.set_rollback(True)
        with transaction.atomic():
            heartbeat.delay_on_commit(source=marker)
            assert app.connection_for_write().default_channel.client.llen("celery") == 0  # not sent before commit

        def seen() -> dict[str, str] | None:
            last = health.heartbeat_last()
            return last if last and last["source"] == marker else None

        record = wait_for(seen, seconds=60, what="the worker to run the heartbeat task", logs=[log])
    assert record["at"]
    assert "rolled-back" not in log.read_text()
