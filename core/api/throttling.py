"""API throttles that keep working when the shared cache (Redis) is down: they fall back to per-process counters.

Why fall back rather than fail open: the throttle protects the database and the workers from a flood, and an
outage of Redis is exactly when the platform has the least room to spare. Counting in the process's own memory
costs nothing and keeps a bound — looser, since each server process counts on its own (with N processes a client
can make up to N times the rate) — where failing open would leave none. Either way no request fails because of
the cache.

After a cache error the shared cache is left alone for RETRY_SECONDS (so a dead or unreachable Redis costs one
failed connection per process per interval, not one per request), then tried again. The outage is logged when it
starts, at most every LOG_EVERY_SECONDS while it lasts, and when it ends: never a line per request.
"""

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from rest_framework import throttling

logger = logging.getLogger(__name__)

RETRY_SECONDS = 10.0
LOG_EVERY_SECONDS = 300.0


class _SharedCacheState:
    """Whether the shared cache is usable for throttling, in this process; logs the changes, rate-limited."""

    def __init__(self) -> None:
        self.local = LocMemCache("core-api-throttling-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
        self._lock = threading.Lock()
        self.down_until = 0.0
        self._down_since: float | None = None
        self._logged_at = 0.0

    def usable(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self.down_until = now + RETRY_SECONDS
            first = self._down_since is None
            if first:
                self._down_since = now
            if first or now - self._logged_at >= LOG_EVERY_SECONDS:
                self._logged_at = now
                logger.warning(
                    "API throttling: the shared cache is unavailable (%s: %s); counting requests per process "
                    "until it is back (retried every %ss).",
                    type(error).__name__,
                    error,
                    RETRY_SECONDS,
                )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                logger.warning(
                    "API throttling: the shared cache is back after %.0fs; counting in it again.",
                    time.monotonic() - self._down_since,
                )
                self._down_since = None

    def reset(self) -> None:
        """Forget the outage and the per-process counts (tests)."""
        with self._lock:
            self.down_until, self._down_since, self._logged_at = 0.0, None, 0.0
            self.local.clear()


shared_cache = _SharedCacheState()


class FallbackCacheThrottleMixin:
    """For a DRF SimpleRateThrottle: use the shared cache while it answers, per-process counters while it does not."""

    cache: Any

    def allow_request(self, request: Any, view: Any) -> bool:
        if shared_cache.usable():
            try:
                allowed = super().allow_request(request, view)  # type: ignore[misc]
            except Exception as error:  # any cache failure: connection refused, timeout, a bad reply
                shared_cache.failed(error)
            else:
                if hasattr(self, "history"):  # it did read the cache (DRF skips it for requests it does not count)
                    shared_cache.succeeded()
                return allowed
        self.cache = shared_cache.local  # on this instance only: DRF makes one throttle per request
        return super().allow_request(request, view)  # type: ignore[misc]


class AnonRateThrottle(FallbackCacheThrottleMixin, throttling.AnonRateThrottle):
    """DRF's AnonRateThrottle (scope "anon"), still counting when the shared cache is down."""


class UserRateThrottle(FallbackCacheThrottleMixin, throttling.UserRateThrottle):
    """DRF's UserRateThrottle (scope "user"), still counting when the shared cache is down."""
