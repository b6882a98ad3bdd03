"""What the purchases admins share: another supplier's row is a 404, and rows shown only for reading."""

from typing import Any

from django.db import models
from django.http import Http404, HttpRequest

from core.dashboard import ScopedAdmin, ScopedInline
from purchases import money


class PurchasesAdmin(ScopedAdmin):
    """A ScopedAdmin whose pages answer 404 for a row the person may not see (another supplier's, or none), where
    the admin would redirect to its home: a URL edited by hand learns nothing."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404(f"No {self.opts.verbose_name} {object_id} here.")
        return found


class ReadOnlyInline(ScopedInline):
    """Rows the services write (an order's lines, its timeline, a receipt): shown, never added, changed or deleted."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def major(amount: int | None, *, currency: str) -> str:
    """An amount in minor units as it is typed back into a form, in major units: 450 EUR → "4.50"."""
    return "" if amount is None else f"{money.to_major(amount, currency=currency):f}"


def writable_choices(admin: ScopedAdmin, request: HttpRequest, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """`queryset` limited as a foreign key's choices on `admin`'s form: to the rows of the suppliers the person may
    write to, as the model's own dashboard page scopes them (what ScopedAdmin does, for a queryset of our own)."""
    related = admin.admin_site._registry.get(queryset.model)
    access = admin.access(request)
    if access.operator:
        return queryset
    if isinstance(related, ScopedAdmin):
        return related.scoped(queryset, access, admin.writable_ids(access))
    return queryset.none()  # no page says whose these rows are: offer none rather than guess
