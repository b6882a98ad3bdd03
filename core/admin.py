"""The library's pages in the dashboard: the outbox (operators read what background work is pending, done or failed,
and why) and the audit log (read-only; operators read all of it, a supplier member their own supplier's)."""

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.dashboard import DashboardSite, ScopedAdmin
from core.models import AuditEntry, OutboxMessage

# Arguments not shown, even to operators: an e-mail's body can carry a password-reset link.
HIDDEN_ARGUMENTS = frozenset({"body", "html_body"})


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only, for operators only: rows are written by core.outbox, never by hand."""

    list_display = ["id", "task_name", "state", "attempts", "created_at", "sent_at", "done_at"]
    list_filter = ["state", "task_name"]
    search_fields = ["task_name"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    readonly_fields = (
        "task_name", "arguments", "state", "attempts", "last_error", "created_at", "available_at", "sent_at", "done_at"
    )  # fmt: skip
    fields = readonly_fields

    @admin.display(description="Arguments")
    def arguments(self, obj: OutboxMessage) -> str:
        kwargs = {key: "(hidden)" if key in HIDDEN_ARGUMENTS else value for key, value in obj.kwargs.items()}
        return json.dumps({"args": obj.args, "kwargs": kwargs}, indent=1, default=str)

    def _operator(self, request: HttpRequest) -> bool:
        site = self.admin_site
        return site.access(request).operator if isinstance(site, DashboardSite) else request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._operator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._operator(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


AUDIT_SHOWN = (
    "at",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "actor_name",
    "supplier_id",
    "changes",
    "reason",
)


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdmin):
    supplier_path = "supplier_id"
    list_display = ["at", "action", "target_repr", "actor_name", "reason"]
    list_filter = ["action"]
    search_fields = ["target_repr", "actor_name", "reason", "action"]
    date_hierarchy = "at"
    fields = readonly_fields = AUDIT_SHOWN

    def supplier_id_of(self, obj: Any) -> int:
        return obj.supplier_id

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # written by the services that make the changes, never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
