from django.contrib import admin
from django.http import HttpRequest


class DashboardSite(admin.AdminSite):
    """The Django admin as the suppliers' dashboard: open to operators and to members of a supplier.

    What each person may see inside is decided per model by products.admin.SupplierScopedAdmin.
    """

    site_header = "socialbiz dashboard"
    site_title = "socialbiz dashboard"
    index_title = "Dashboard"
    site_url = "/"

    def has_permission(self, request: HttpRequest) -> bool:
        from products.admin import dashboard_scope  # the project's composition root may know the apps

        scope = dashboard_scope(request)
        return scope.operator or bool(scope.readable)
