"""Real Celery workers on a Redis broker run work queued when its transaction committed, and the outbox carries work
queued while the broker was down until it is back, to be done exactly once."""

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from core import health, outbox
from core.models import OutboxMessage
from core.tasks import heartbeat
from socialbiz.celery import app
from tests.accounts.factories import UserFactory
from tests.conftest import database_is_postgres
from tests.core.conftest import celery_broker, celery_eager
from tests.core.outbox_tasks import append_line
from tests.socialbiz.processes import environment, free_port, running, wait_for

REDIS_SERVER = shutil.which("redis-server")
State = OutboxMessage.State


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: no Redis broker to test against")
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


@contextlib.contextmanager
def redis_server(port: int, log: Path) -> Iterator[None]:
    """A Redis of the test's own on `port`, without persistence: stopping it loses whatever it held."""
    assert REDIS_SERVER
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5)

    def answers() -> bool:
        with contextlib.suppress(redis.RedisError):
            return bool(client.ping())
        return False

    try:
        wait_for(answers, seconds=20, what=f"redis-server on port {port}", logs=[log])
        yield
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed: no Redis of the test's own to stop")
@pytest.mark.skipif(not database_is_postgres(), reason="the worker shares the test's database: needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_work_queued_while_redis_is_down_is_sent_when_it_is_back_and_done_once(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/1"
    runs = tmp_path / "runs.txt"
    logs = [tmp_path / "redis.log", tmp_path / "worker.log"]
    db = connection.settings_dict  # the test database pytest-django made, so the worker sees the rows
    env = environment(
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=url,
        CELERY_BROKER_URL=url,
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    worker = ["celery", "-A", "socialbiz", "worker", "--pool=solo", "--loglevel=info", "--without-gossip"]
    worker += ["--without-mingle", "--include", "tests.core.outbox_tasks"]
    user = UserFactory(email="forgetful@example.org")

    def ran() -> list[str]:
        return runs.read_text().splitlines() if runs.exists() else []

    def states(*messages: OutboxMessage) -> list[str]:
        return [OutboxMessage.objects.get(pk=m.pk).state for m in messages]

    def deliveries(result: str) -> int:
        text = logs[1].read_text(errors="replace")
        return sum(1 for line in text.splitlines() if "core.tasks.outbox_deliver[" in line and line.endswith(result))

    with celery_broker(url), celery_eager(False), running(worker, env, logs[1]):
        with redis_server(port, logs[0]):
            with transaction.atomic():
                outbox.enqueue(append_line, str(runs), "rolled back")
                transaction.set_rollback(True)
            with transaction.atomic():
                first = outbox.enqueue(append_line, str(runs), "first")
            wait_for(lambda: states(first) == [State.DONE], seconds=60, what="the worker to run `first`", logs=logs)

        # Redis is stopped: a write still commits at once, and its work waits in the outbox.
        started = time.monotonic()
        response = Client().post(reverse("accounts:password_reset"), {"email": user.email})
        with transaction.atomic():
            second = outbox.enqueue(append_line, str(runs), "second")
        elapsed = time.monotonic() - started
        assert response.status_code == 302
        assert elapsed < 3.0, f"the writes took {elapsed:.2f}s with the broker down"
        reset_mail = OutboxMessage.objects.get(task_name="core.tasks.mail_send")
        assert states(second, reset_mail) == [State.PENDING, State.PENDING]

        with redis_server(port, logs[0]):  # back, on the same port, empty
            call_command("outbox_relay")
            wait_for(
                lambda: states(second, reset_mail) == [State.DONE, State.DONE],
                seconds=90,
                what="the worker to run the relayed messages",
                logs=logs,
            )
            outbox._send([second.pk, reset_mail.pk])  # a duplicate delivery of each, as after a lost acknowledgement
            wait_for(lambda: deliveries(": False") == 2, seconds=60, what="the duplicates to be skipped", logs=logs)

    assert ran() == ["first", "second"]
    assert deliveries(": True") == 3
    assert logs[1].read_text(errors="replace").count("To: forgetful@example.org") == 1


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: no Redis cache and broker to share")
@pytest.mark.skipif(not database_is_postgres(), reason="the worker shares the test's database: needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_worker_renders_the_changed_pages_ahead_and_only_those(tmp_path, settings, own_supplier, other_supplier):
    from products import services as catalog
    from tests.provenance.factories import Cocoa, chain

    settings.PAGE_STALE_SECONDS = 600  # a stale copy until the worker's render lands: "hit" can only come from it
    base = os.environ["REDIS_URL"].rsplit("/", 1)[0]
    broker = f"{base}/3"  # the tests empty the cache's database; the queue lives elsewhere
    log = tmp_path / "worker.log"
    db = connection.settings_dict
    env = environment(
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=broker,
        CACHE_KEY_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
        PAGE_STALE_SECONDS="600",
    )
    cocoa, theirs = Cocoa(own_supplier, other_supplier), chain(other_supplier, 2)
    client = Client()

    def visit(batch) -> tuple[str, str]:
        response = client.get(reverse("storefront:batch", kwargs={"batch_id": batch.pk}))
        return response["X-Cache"], response.content.decode()

    for batch in (cocoa.batch, theirs):
        assert visit(batch)[0] == "miss"
        assert visit(batch)[0] == "hit"
    worker = ["celery", "-A", "socialbiz", "worker", "--pool=solo", "--loglevel=info", "--without-gossip"]
    with celery_broker(broker), celery_eager(False), running([*worker, "--without-mingle"], env, log):
        risk = cocoa.product.declarations.get(kind="benefit")
        catalog.declaration_update(declaration=risk, **{"statement": "Rendered by the worker."})
        assert visit(cocoa.batch)[0] == "stale"

        cached, body = wait_for(
            lambda: (found := visit(cocoa.batch))[0] == "hit" and found,
            seconds=60,
            what="the worker to render the page again",
            logs=[log],
        )
        assert "Rendered by the worker." in body
        assert visit(theirs)[0] == "hit"  # another supplier's page was never stale
    assert OutboxMessage.objects.filter(task_name="core.tasks.pages_refresh", state=State.DONE).exists()
    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(broker).flushdb()
