from typing import Any

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


def _open_credit_account(supplier: Any) -> None:
    from network_credits import services as credits

    credits.account_open_for_supplier(supplier_id=supplier.pk, name=supplier.legal_name)


class SocialbizConfig(AppConfig):
    name = "socialbiz"
    verbose_name = "socialbiz"

    def ready(self) -> None:
        # The project ties together apps that may not import each other: every new supplier gets a credit account.
        from network_credits import selectors as credits
        from products import api as catalog_api
        from products import services as catalog

        if _open_credit_account not in catalog.supplier_registered:
            catalog.supplier_registered.append(_open_credit_account)
        # The supplier resource shows its credit account number, so that anyone can pay it.
        if credits.supplier_account_numbers not in catalog_api.supplier_credit_accounts:
            catalog_api.supplier_credit_accounts.append(credits.supplier_account_numbers)


class DashboardAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with the supplier dashboard site (supplier members as well as operators)."""

    default = False
    default_site = "socialbiz.admin.SocialbizDashboard"
