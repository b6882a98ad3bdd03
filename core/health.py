"""Liveness of the parts a deployment depends on: the database, the cache and the Celery workers."""

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "health:worker-heartbeat"


def heartbeat_record(*, source: str) -> None:
    """Store when a worker last ran the heartbeat task, and who asked for it."""
    cache.set(HEARTBEAT_KEY, {"at": timezone.now().isoformat(), "source": source}, timeout=None)


def heartbeat_last() -> dict[str, str] | None:
    try:
        return cache.get(HEARTBEAT_KEY)
    except Exception:  # a cache outage is reported by cache_ok(), not raised here
        return None


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def cache_ok() -> bool:
    try:
        cache.set("health:probe", 1, timeout=10)
        return cache.get("health:probe") == 1
    except Exception:
        return False
