"""Who may read and change which supplier's data: the one place the dashboard and the API both ask.

Operators (staff) may do everything. A supplier member reads their suppliers' rows and, as owner or editor,
changes them; owners alone change the supplier's own profile. Everyone else reads only what is public.
"""

from typing import Any

from django.http import HttpRequest
from rest_framework import permissions

from accounts.models import User
from core.access import NOBODY, Access
from products.models import SupplierMember

EDITING_ROLES = (SupplierMember.Role.OWNER, SupplierMember.Role.EDITOR)


def access_for(user: User | Any) -> Access:
    """Work out a user's access in one query."""
    if not (user.is_authenticated and user.is_active):
        return NOBODY
    roles = list(SupplierMember.objects.filter(user=user).values_list("supplier_id", "role"))
    return Access(
        operator=bool(user.is_staff),
        readable=frozenset(sid for sid, _ in roles),
        editable=frozenset(sid for sid, role in roles if role in EDITING_ROLES),
        owned=frozenset(sid for sid, role in roles if role == SupplierMember.Role.OWNER),
    )


def access_for_request(request: HttpRequest | Any) -> Access:
    """The request user's access, worked out once per request."""
    cached = getattr(request, "_socialbiz_access", None)
    if cached is None or cached[0] is not request.user:
        cached = (request.user, access_for(request.user))
        request._socialbiz_access = cached  # type: ignore[union-attr]
    return cached[1]


class SupplierPermission(permissions.BasePermission):
    """API writes only by those who may edit the object's supplier; reads are limited by each view's queryset.

    Used after IsAuthenticatedOrReadOnly, which keeps anonymous users to reads (and tells the schema so).

    Views name how to reach the supplier id from an object with `supplier_id_of(obj)`, and whether changing it
    needs an owner (`owner_only = True`).
    """

    message = "You may change only your own supplier's data."

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        access = access_for_request(request)
        supplier_id = view.supplier_id_of(obj)
        return access.can_own(supplier_id) if getattr(view, "owner_only", False) else access.can_edit(supplier_id)
