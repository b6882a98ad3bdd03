"""The supplier's facilities, as provenance records them: where buyers pick up and deliveries leave from.

purchases does not import provenance (the layers in pyproject.toml); the project fills `lookups` with provenance's
selector at start-up (socialbiz/apps.py), as it ties other apps together.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    id: int
    name: str
    address: str
    country: str


# (supplier id, facility ids or None for all of them) → the supplier's facilities among them, by id.
lookups: list[Callable[[int, Iterable[int] | None], dict[int, Place]]] = []


def places_of(supplier_id: int, ids: Iterable[int] | None = None) -> dict[int, Place]:
    """The supplier's own facilities (among `ids`): a facility of another supplier is never among them."""
    found: dict[int, Place] = {}
    wanted = None if ids is None else list(ids)
    for lookup in lookups:
        found |= lookup(supplier_id, wanted)
    return found
