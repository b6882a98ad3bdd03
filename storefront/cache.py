"""The rendered public batch page, cached per batch until anything it shows changes.

A page's key holds:
- the content version: a token kept in the cache and replaced whenever a supplier, product, declaration, batch,
  facility, trace event, evidence (or what it is cited for) or error declaration is saved or deleted (the signal
  receivers are connected in storefront/apps.py). A new random token, not an increment: a version key lost with a
  Redis restart can never bring back an old version and the stale pages stored under it;
- the ids of the latest trace event and error declaration: captures store them with bulk_create, which sends no
  signal, and provenance must not know about storefront. One cheap query (two index lookups);
- today's date: evidence runs out at midnight;
- the scheme and host the page was asked for (its canonical link and Open Graph URL name them).

Pages are also kept for at most PAGE_CACHE_SECONDS. A cache that fails (Redis down) is a miss, never an error page,
and is left alone for a few seconds so that an outage costs one timeout now and then, not one per call.
"""

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from provenance.models import ErrorDeclaration, TraceEvent

logger = logging.getLogger(__name__)

VERSION_KEY = "storefront:content-version"
RETRY_AFTER_SECONDS = 5.0
_cache_down_until = 0.0

T = TypeVar("T")


def _safely(operation: Callable[..., T], *args: Any) -> T | None:
    """Run a cache operation; None if the cache fails (and then skip it for a few seconds)."""
    global _cache_down_until
    if time.monotonic() < _cache_down_until:
        return None
    try:
        return operation(*args)
    except Exception:
        _cache_down_until = time.monotonic() + RETRY_AFTER_SECONDS
        logger.warning("Page cache unavailable; serving pages uncached for %ss.", RETRY_AFTER_SECONDS, exc_info=True)
        return None


def bump() -> None:
    """Make every cached page stale."""
    _safely(cache.set, VERSION_KEY, uuid.uuid4().hex, None)


def content_changed(sender: Any, **kwargs: Any) -> None:
    """Signal receiver: at once (so this process never serves the old page), and again after the commit (a page
    rendered from the old rows while the transaction was open is not kept)."""
    bump()
    transaction.on_commit(bump, using=kwargs.get("using"))


def _version() -> str | None:
    version = _safely(cache.get, VERSION_KEY)
    if version is None:
        fresh = uuid.uuid4().hex
        added = _safely(cache.add, VERSION_KEY, fresh, None)
        version = fresh if added else _safely(cache.get, VERSION_KEY)
    return version


def _latest_ids() -> tuple[int | None, int | None]:
    events, errors = TraceEvent._meta.db_table, ErrorDeclaration._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT MAX(id) FROM {events}), (SELECT MAX(id) FROM {errors})")
        latest_event, latest_error = cursor.fetchone()
    return latest_event, latest_error


def batch_page_key(*, batch_id: int, origin: str) -> str | None:
    """The cache key of a batch's page as served at `origin` (scheme://host); None when the cache is unavailable."""
    version = _version()
    if version is None:
        return None
    latest_event, latest_error = _latest_ids()
    host = hashlib.sha256(origin.encode()).hexdigest()[:16]
    return f"storefront:batch:{batch_id}:{version}:{latest_event}:{latest_error}:{timezone.localdate()}:{host}"


def page_get(key: str) -> str | None:
    return _safely(cache.get, key)


def page_set(key: str, html: str) -> None:
    _safely(cache.set, key, html, settings.PAGE_CACHE_SECONDS)
