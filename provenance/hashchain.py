"""Tamper evidence: each supplier's events form a hash chain.

hash(n) = SHA-256(hash(n-1) ‖ canonical JSON of event n), with 64 zeros before the first event. Changing, removing
or reordering any stored event breaks every hash after it; `chain_verify` finds the first broken link.
"""

import contextlib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
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
    rows = (
        TraceEvent.objects.filter(supplier_id=supplier_id)
        .order_by("chain_index")
        .values_list("chain_index", "event_id", "previous_hash", "hash", "document")
    )
    return _verify_rows(supplier_id, rows.iterator(chunk_size=chunk_size))


def chains_verify(*, supplier_ids: Iterable[int], chunk_size: int = 2000) -> dict[int, ChainReport]:
    """Recompute several suppliers' chains from one query (read in chunks); suppliers with no events are left out."""
    rows = (
        TraceEvent.objects.filter(supplier_id__in=sorted(set(supplier_ids)))
        .order_by("supplier_id", "chain_index")
        .values_list("supplier_id", "chain_index", "event_id", "previous_hash", "hash", "document")
    )
    return {
        supplier_id: _verify_rows(supplier_id, (row[1:] for row in chain))
        for supplier_id, chain in groupby(rows.iterator(chunk_size=chunk_size), key=itemgetter(0))
    }


def _verify_rows(supplier_id: int, rows: Iterable[tuple[int, str, str, str, Any]]) -> ChainReport:
    previous, expected_index, length = GENESIS, 1, 0
    for index, event_id, previous_hash, stored_hash, document in rows:
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
    key = _cache_key(supplier_id, *head)
    cached = None
    with contextlib.suppress(Exception):  # a cache outage costs a recomputation, never an error page
        cached = cache.get(key)
    if cached is None:
        cached = chain_verify(supplier_id=supplier_id).ok
        with contextlib.suppress(Exception):
            cache.set(key, cached, CACHE_SECONDS)
    return cached


def chains_broken(*, heads: Mapping[int, tuple[int, str]]) -> list[ChainReport]:
    """The chains among `heads` (supplier id → its head's chain_index and hash) that do not verify, in one query at
    most: chains the cache (chain_verified's) knows to verify are skipped, the rest recomputed together."""
    keys = {supplier_id: _cache_key(supplier_id, *head) for supplier_id, head in heads.items()}
    cached: dict[str, Any] = {}
    with contextlib.suppress(Exception):  # a cache outage costs a recomputation, never an error page
        cached = cache.get_many(list(keys.values()))
    # A chain known to be broken is recomputed too: the report says where it breaks.
    unknown = [supplier_id for supplier_id, key in keys.items() if cached.get(key) is not True]
    if not unknown:
        return []
    reports = chains_verify(supplier_ids=unknown)
    with contextlib.suppress(Exception):
        cache.set_many({keys[supplier_id]: report.ok for supplier_id, report in reports.items()}, CACHE_SECONDS)
    return [report for report in reports.values() if not report.ok]


def _cache_key(supplier_id: int, index: int, head_hash: str) -> str:
    return f"hashchain:{supplier_id}:{index}:{head_hash}"
