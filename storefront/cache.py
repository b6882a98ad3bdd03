"""The rendered public batch page, cached per batch until anything it shows changes.

A cached page is stored with the content version it was rendered at: a token kept in the cache and replaced whenever
a supplier, product, declaration, batch, facility, capture (so trace events and error declarations, which captures
write with bulk_create at once), evidence (or what it is cited for) is saved or deleted — the signal receivers are
connected in storefront/apps.py. A new random token, not an increment: a version key lost with a Redis restart can
never bring back an old version. One cache round trip (get_many) fetches the version and the page together, and no
database query is needed to serve a cached page. The key also names today's date (evidence runs out at midnight)
and the scheme and host the page was asked for (its canonical link names them).

Pages are kept for at most PAGE_CACHE_SECONDS (0 turns the cache off). A cache that fails (Redis down) is a miss,
never an error page, and is left alone for a few seconds so that an outage costs one timeout now and then.
"""

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

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


def _new_version() -> str | None:
    fresh = uuid.uuid4().hex
    added = _safely(cache.add, VERSION_KEY, fresh, None)
    return fresh if added else _safely(cache.get, VERSION_KEY)


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0


def batch_page_key(*, batch_id: int, origin: str) -> str:
    """The cache key of a batch's page as served at `origin` (scheme://host)."""
    host = hashlib.sha256(origin.encode()).hexdigest()[:16]
    return f"storefront:batch:{batch_id}:{timezone.localdate()}:{host}"


def page_get(key: str) -> tuple[str | None, str | None]:
    """(the current content version, the page if it was rendered at that version); (None, None) if the cache fails."""
    found = _safely(cache.get_many, [VERSION_KEY, key])
    if found is None:
        return None, None
    version = found.get(VERSION_KEY) or _new_version()
    entry = found.get(key)
    if entry and version and entry[0] == version:
        return version, entry[1]
    return version, None


def page_set(key: str, version: str, html: str) -> None:
    _safely(cache.set, key, (version, html), settings.PAGE_CACHE_SECONDS)
