"""The production configuration, without Docker: gunicorn, a Celery worker and beat on PostgreSQL and Redis.

The same processes docker-compose.yml starts, with DEBUG off, manifest static files served by whitenoise, and
beat's periodic heartbeat carried out by the worker. Runs where DATABASE_URL (PostgreSQL) and REDIS_URL are set.
"""

import os
import secrets
import urllib.error
import urllib.request

import pytest
from django.core.cache import cache
from django.db import connection

from core import health
from socialbiz.celery import app
from tests.conftest import database_is_postgres
from tests.products.factories import public_product
from tests.socialbiz.processes import environment, free_port, running, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(not database_is_postgres(), reason="DATABASE_URL is not PostgreSQL: no production database"),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: no Redis broker"),
]


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
    except OSError:
        return 0, {}, ""


@pytest.mark.django_db(transaction=True)
def test_gunicorn_worker_and_beat_serve_the_site_in_production_mode(tmp_path):
    product = public_product(name="Stack-tested chocolate")
    db = connection.settings_dict  # the test database pytest-django made, so the servers see the rows above
    env = environment(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        HEARTBEAT_INTERVAL="1",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    app.control.purge()
    cache.delete(health.HEARTBEAT_KEY)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = [tmp_path / "collectstatic.log", tmp_path / "web.log", tmp_path / "worker.log", tmp_path / "beat.log"]
    with running(["python", "manage.py", "collectstatic", "--noinput"], env, logs[0]) as collect:
        assert collect.wait(timeout=120) == 0, logs[0].read_text()

    web = ["gunicorn", "socialbiz.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    worker = ["celery", "-A", "socialbiz", "worker", "--pool=solo", "--loglevel=info", "--without-gossip"]
    beat = ["celery", "-A", "socialbiz", "beat", "--loglevel=info", "--schedule", str(tmp_path / "beat-schedule")]
    with running(web, env, logs[1]), running(worker, env, logs[2]), running(beat, env, logs[3]):
        status, _, body = wait_for(
            lambda: (r := fetch(f"{base}/healthz"))[0] == 200 and r, seconds=60, what="gunicorn", logs=logs
        )
        assert '"database": "ok"' in body
        assert '"cache": "ok"' in body

        status, _, home = fetch(f"{base}/")
        assert status == 200
        assert "Stack-tested chocolate" in home
        stylesheet = home.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
        assert stylesheet.startswith("/static/css/site.")
        assert stylesheet != "/static/css/site.css"
        status, headers, css = fetch(base + stylesheet)
        assert status == 200
        assert "max-age=315360000" in headers["Cache-Control"]
        assert ".side-by-side" in css

        status, _, page = fetch(base + product.get_absolute_url())
        assert (status, "Paid above the living wage." in page) == (200, True)
        assert fetch(f"{base}/no-such-page/")[0] == 404

        def beat_heartbeat() -> dict[str, str] | None:
            last = health.heartbeat_last()
            return last if last and last["source"] == "beat" else None

        wait_for(beat_heartbeat, seconds=60, what="beat to schedule the heartbeat and the worker to run it", logs=logs)
