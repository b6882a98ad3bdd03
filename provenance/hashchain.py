"""Tamper evidence: each supplier's events form a hash chain.

hash(n) = SHA-256(hash(n-1) ‖ canonical JSON of event n), with 64 zeros before the first event. Changing, removing
or reordering any stored event breaks every hash after it; `chain_verify` finds the first broken link.
"""

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from provenance.epcis import canonical_json
from provenance.models import TraceEvent

GENESIS = "0" * 64


def link_hash(previous_hash: str, document: Any) -> str:
    return hashlib.sha256(previous_hash.encode() + b"\n" + canonical_json(document)).hexdigest()


def generated_event_id(document: Any) -> str:
    """An eventID for an event sent without one: a SHA-256 over its canonical JSON, as an RFC 6920 `ni` URI.

    Not GS1's canonical event hash (CBV 2.0 §8.9, which normalises values first): it is stable for the same JSON.
    """
    return f"ni:///sha-256;{hashlib.sha256(canonical_json(document)).hexdigest()}?ver=CBV2.0"


@dataclass(frozen=True)
class ChainReport:
    supplier_id: int
    length: int
    ok: bool
    broken_at: int | None = None  # chain_index of the first event whose hash does not verify
    broken_event_id: str | None = None
    reason: str = ""


def chain_verify(*, supplier_id: int, chunk_size: int = 2000) -> ChainReport:
    """Recompute a supplier's chain from the start; report the first link that does not verify."""
    previous, expected_index, length = GENESIS, 1, 0
    rows = (
        TraceEvent.objects.filter(supplier_id=supplier_id)
        .order_by("chain_index")
        .values_list("chain_index", "event_id", "previous_hash", "hash", "document")
    )
    for index, event_id, previous_hash, stored_hash, document in rows.iterator(chunk_size=chunk_size):
        length += 1
        reason = ""
        if index != expected_index:
            reason = f"event {expected_index} is missing"
        elif previous_hash != previous:
            reason = "its link to the previous event was changed"
        elif link_hash(previous, document) != stored_hash:
            reason = "its content no longer matches its hash"
        if reason:
            return ChainReport(supplier_id, length, False, index, event_id, reason)
        previous, expected_index = stored_hash, expected_index + 1
    return ChainReport(supplier_id, length, True)


CACHE_SECONDS = 3600


def chain_verified(*, supplier_id: int) -> bool:
    """Whether a supplier's chain verifies, cached until the chain grows (or for an hour).

    Public pages ask this on every view; recomputing a long chain each time would cost seconds. The cache key holds
    the chain's head, so a new event is verified at once; tampering with an older event is caught by the next
    uncached check (an hour at most) and by the nightly `chains_verify_all` task, which never uses the cache.
    """
    head = (
        TraceEvent.objects.filter(supplier_id=supplier_id)
        .order_by("-chain_index")
        .values_list("chain_index", "hash")
        .first()
    )
    if head is None:
        return True
    key = f"hashchain:{supplier_id}:{head[0]}:{head[1]}"
    cached = None
    with contextlib.suppress(Exception):  # a cache outage costs a recomputation, never an error page
        cached = cache.get(key)
    if cached is None:
        cached = chain_verify(supplier_id=supplier_id).ok
        with contextlib.suppress(Exception):
            cache.set(key, cached, CACHE_SECONDS)
    return cached
