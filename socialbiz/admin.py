from django import forms
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from accounts.models import User


def _dashboard_allowed(user: User) -> bool:
    from products.access import access_for  # the composition root may know the apps

    access = access_for(user)
    return access.operator or bool(access.readable)


class DashboardLoginForm(AuthenticationForm):
    """The admin's log-in, open to supplier members as well as operators (the admin's own wants is_staff)."""

    def confirm_login_allowed(self, user: User) -> None:  # type: ignore[override]
        super().confirm_login_allowed(user)
        if not _dashboard_allowed(user):
            raise forms.ValidationError(
                "This account has no access to the dashboard: it is for suppliers' staff and the network's operators.",
                code="no_dashboard_access",
            )


class DashboardSite(admin.AdminSite):
    """The Django admin as the suppliers' dashboard: open to operators and to members of a supplier.

    What each person may see inside is decided per model by products.admin.SupplierScopedAdmin.
    """

    site_header = "socialbiz dashboard"
    site_title = "socialbiz dashboard"
    index_title = "Dashboard"
    site_url = "/"
    login_form = DashboardLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        from products.access import access_for_request

        access = access_for_request(request)
        return access.operator or bool(access.readable)
