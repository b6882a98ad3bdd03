"""The two modes and the start-up rules, checked in fresh processes with a controlled environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3Yb2w0l_5dX8ZqPj7nA1vR9tLm4sHc6eGu0yWo2iFx8KpQz5TrN",
    "ALLOWED_HOSTS": "shop.example.org",
    "DATABASE_URL": "postgres://socialbiz:secret@db.example.org:5432/socialbiz",
    "REDIS_URL": "redis://cache.example.org:6379/0",
}
SHOW = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'cache': s.CACHES['default']['BACKEND'], "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'debug': s.DEBUG, 'broker': s.CELERY_BROKER_URL}))"
)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}}
    clean["DJANGO_SETTINGS_MODULE"] = "socialbiz.settings"
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_start_up_without_secret_key_and_debug_off_says_what_to_set():
    result = run(["manage.py", "check"])
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "DEBUG=true" in result.stderr


def test_embedded_mode_is_sqlite_local_memory_and_eager_celery():
    result = run(["-c", SHOW], DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "eager": True,
        "debug": True,
        "broker": "",
    }


def test_production_mode_is_postgresql_redis_and_a_real_broker():
    result = run(["-c", SHOW], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.postgresql",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "eager": False,
        "debug": False,
        "broker": "redis://cache.example.org:6379/0",
    }


def test_check_deploy_is_clean_with_the_production_variables():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(("name", "value"), [("DEBUG", "maybe"), ("AXES_FAILURE_LIMIT", "five")])
def test_a_malformed_variable_stops_start_up_with_its_name(name, value):
    result = run(["manage.py", "check"], **{**PRODUCTION, name: value})
    assert result.returncode != 0
    assert name in result.stderr
