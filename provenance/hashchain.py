"""Tamper evidence: each supplier's events form a hash chain.

hash(n) = SHA-256(hash(n-1) ‖ canonical JSON of event n), with 64 zeros before the first event. Changing, removing
or reordering any stored event breaks every hash after it; `chain_verify` finds the first broken link.

What is known of a chain is kept on its head (models.ChainHead), so that nothing that shows it hashes anything:

- after each capture commits, the head is advanced (services.chain_head_advance): the events recorded after the
  one it was verified through are checked, starting from the hash it verified there. History is never re-read, so
  a capture costs the same on a chain of ten events or of ten million. A chain with no head yet is verified from
  its first event, once.
- every night (tasks.chains_verify_all, and `manage.py verify_chains`) every chain is verified again from its first
  event, which is what catches an older event changed in place. The head is a checkpoint there too: a chain whose
  hash at the event the head was verified through differs from the one verified (rewritten, its hashes
  recomputed) does not verify, even if it is consistent in itself.
- a break, found either way, stays on the head, and the head reports it, until a verification from the first event
  passes over the broken event again: neither a new capture nor the incremental check ever clears it.

A chain's status (selectors.chains_status): `broken` when the head records a break; otherwise `verified` through its
last event, or `pending` while events recorded after the head's (seconds, until the capture's task has run) are not
checked yet. Pages count a pending chain as intact: every event checked so far verifies, and a break found later is
shown from the moment it is found.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provenance.epcis import canonical_json
from provenance.models import TraceEvent

GENESIS = "0" * 64
CHUNK_SIZE = 2000  # events read from the database at a time while a chain is verified


def link_hash(previous_hash: str, document: Any) -> str:
    return hashlib.sha256(previous_hash.encode() + b"\n" + canonical_json(document)).hexdigest()


def generated_event_id(document: Any) -> str:
    """An eventID for an event sent without one: a SHA-256 over its canonical JSON, as an RFC 6920 `ni` URI.

    Not GS1's canonical event hash (CBV 2.0 §8.9, which normalises values first): it is stable for the same JSON.
    """
    return f"ni:///sha-256;{hashlib.sha256(canonical_json(document)).hexdigest()}?ver=CBV2.0"


@dataclass(frozen=True)
class ChainReport:
    """What one verification found: the chain verifies through `through`, whose hash is `through_hash` ("" when the
    run found no event it could vouch for), and, unless `ok`, breaks at `broken_at`."""

    supplier_id: int
    ok: bool
    through: int  # chain_index of the last event that verifies (0: none)
    through_hash: str
    checked: int  # events hashed
    broken_at: int | None = None  # chain_index of the first event that does not verify
    broken_event_id: str = ""
    reason: str = ""


Checkpoint = tuple[int, str]  # (chain_index, the hash verified there)


def chain_verify(
    *, supplier_id: int, checkpoint: Checkpoint | None = None, chunk_size: int = CHUNK_SIZE
) -> ChainReport:
    """Recompute a supplier's chain from the start; report the first link that does not verify.

    With a `checkpoint` (the head's), the chain must also still have the hash verified there.
    """
    rows = (
        TraceEvent.objects.filter(supplier_id=supplier_id)
        .order_by("chain_index")
        .values_list("chain_index", "event_id", "previous_hash", "hash", "document")
    )
    return _verify_rows(supplier_id, rows.iterator(chunk_size=chunk_size), checkpoint=checkpoint)


def chain_verify_after(*, supplier_id: int, checkpoint: Checkpoint, chunk_size: int = CHUNK_SIZE) -> ChainReport:
    """Verify only the events after `checkpoint` (chain_index, the hash verified there), starting from that hash.

    The event at the checkpoint is read for its stored hash alone (an intruder who rewrote the last verified event
    is named there, not at the innocent event after it); no event up to it is hashed again.
    """
    through, through_hash = checkpoint
    events = TraceEvent.objects.filter(supplier_id=supplier_id)
    if through:
        stored = events.filter(chain_index=through).values_list("event_id", "hash").first()
        if stored is None or stored[1] != through_hash:
            reason = "its hash is not the one verified" if stored else f"event {through} is missing"
            return ChainReport(supplier_id, False, through - 1, "", 0, through, stored[0] if stored else "", reason)
    rows = (
        events.filter(chain_index__gt=through)
        .order_by("chain_index")
        .values_list("chain_index", "event_id", "previous_hash", "hash", "document")
    )
    return _verify_rows(supplier_id, rows.iterator(chunk_size=chunk_size), start=checkpoint)


def _verify_rows(
    supplier_id: int,
    rows: Iterable[tuple[int, str, str, str, Any]],
    *,
    start: Checkpoint = (0, GENESIS),
    checkpoint: Checkpoint | None = None,
) -> ChainReport:
    (through, previous), checked = start, 0
    for index, event_id, previous_hash, stored_hash, document in rows:
        reason = ""
        if index != through + 1:
            reason = f"event {through + 1} is missing"
        elif previous_hash != previous:
            reason = "its link to the previous event was changed"
        else:
            checked += 1
            if link_hash(previous, document) != stored_hash:
                reason = "its content no longer matches its hash"
            elif checkpoint and checkpoint[0] == index and checkpoint[1] != stored_hash:
                reason = "its hash is not the one verified: the chain up to it was rewritten"
        if reason:
            return ChainReport(supplier_id, False, through, previous, checked, index, event_id, reason)
        through, previous = index, stored_hash
    if checkpoint and checkpoint[0] > through:
        # The chain ends before the event its head was verified through: events were removed from its end.
        missing = f"event {through + 1} is missing"
        return ChainReport(supplier_id, False, through, previous, checked, through + 1, "", missing)
    return ChainReport(supplier_id, True, through, previous, checked)
