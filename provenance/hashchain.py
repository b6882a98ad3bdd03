"""Tamper evidence: each supplier's events form a hash chain.

hash(n) = SHA-256(hash(n-1) ‖ canonical JSON of event n), with 64 zeros before the first event. Changing, removing
or reordering any stored event breaks every hash after it; `chain_verify` finds the first broken link.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

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
