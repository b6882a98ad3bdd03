"""The library's pages in the dashboard: the audit log (read-only; operators read all of it, a supplier its own)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.dashboard import ScopedAdmin
from core.models import AuditEntry

SHOWN = ("at", "action", "target_type", "target_id", "target_repr", "actor_name", "supplier_id", "changes", "reason")


SHOWN = ("at", "action", "target_type", "target_id", "target_repr", "actor_name", "supplier_id", "changes", "reason")


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdmin):
    supplier_path = "supplier_id"
    list_display = ["at", "action", "target_repr", "actor_name", "reason"]
    list_filter = ["action"]
    search_fields = ["target_repr", "actor_name", "reason", "action"]
    date_hierarchy = "at"
    fields = readonly_fields = SHOWN

    def supplier_id_of(self, obj: Any) -> int:
        return obj.supplier_id

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # written by the services that make the changes, never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
