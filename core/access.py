"""What a person may see and change, as sets of supplier ids: the one answer the dashboard and the API both use.

The library only defines the shape; the catalog (products.access) works it out from memberships, and the project
plugs that into the dashboard site (socialbiz/admin.py).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    """Operators may do everything; a supplier member reads `readable`, edits `editable`, owns `owned`."""

    operator: bool
    readable: frozenset[int]
    editable: frozenset[int]
    owned: frozenset[int]

    def can_read(self, supplier_id: int) -> bool:
        return self.operator or supplier_id in self.readable

    def can_edit(self, supplier_id: int) -> bool:
        return self.operator or supplier_id in self.editable

    def can_own(self, supplier_id: int) -> bool:
        return self.operator or supplier_id in self.owned

    @property
    def member(self) -> bool:
        """Works for at least one supplier."""
        return bool(self.readable)


NOBODY = Access(operator=False, readable=frozenset(), editable=frozenset(), owned=frozenset())
