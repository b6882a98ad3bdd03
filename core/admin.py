"""The outbox in the dashboard: operators read what background work is pending, done or failed, and why."""

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.dashboard import DashboardSite
from core.models import OutboxMessage

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
