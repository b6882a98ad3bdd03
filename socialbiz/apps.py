from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


def _open_credit_account(supplier: Any) -> None:
    from network_credits import services as credits

    credits.account_open_for_supplier(supplier_id=supplier.pk, name=supplier.legal_name)


def _supplier_suspended(supplier: Any, before: str, reason: str) -> None:
    """A suspended supplier's unpaid orders are cancelled and their credits go back to the buyers."""
    from purchases import services as purchases

    if supplier.is_suspended:
        purchases.orders_void_for_supplier(supplier=supplier, reason=reason)


def _facilities(supplier_id: int, ids: Iterable[int] | None) -> dict[int, Any]:
    from provenance import selectors as provenance
    from purchases.facilities import Place

    return {
        facility.pk: Place(id=facility.pk, name=facility.name, address=facility.address, country=facility.country.code)
        for facility in provenance.facilities_of(supplier_id=supplier_id, ids=ids)
    }


class SocialbizConfig(AppConfig):
    name = "socialbiz"
    verbose_name = "socialbiz"

    def ready(self) -> None:
        # The project ties together apps that may not import each other.
        from network_credits import selectors as credits
        from products import api as catalog_api
        from products import services as catalog
        from purchases import facilities
        from purchases import selectors as purchases
        from purchases import services as orders
        from socialbiz import credit_sales

        # Every new supplier gets a credit account; a suspended one's unpaid orders give the buyers' credits back.
        if _open_credit_account not in catalog.supplier_registered:
            catalog.supplier_registered.append(_open_credit_account)
        if _supplier_suspended not in catalog.supplier_status_changed:
            catalog.supplier_status_changed.append(_supplier_suspended)
        # The supplier resource shows its credit account number, so that anyone can pay it.
        if credits.supplier_account_numbers not in catalog_api.supplier_credit_accounts:
            catalog_api.supplier_credit_accounts.append(credits.supplier_account_numbers)
        # Batch resources say how many units are still for sale.
        if purchases.available_by_id not in catalog_api.batch_availability:
            catalog_api.batch_availability.append(purchases.available_by_id)
        # Pick-up points and the places deliveries leave from are the supplier's facilities, kept in provenance.
        if _facilities not in facilities.lookups:
            facilities.lookups.append(_facilities)
        # A sale paid in credits is recorded in the supplier's chain, with the network as its guarantor.
        if credit_sales.credit_sale_record not in orders.credit_sale_recorders:
            orders.credit_sale_recorders.append(credit_sales.credit_sale_record)


class DashboardAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with the supplier dashboard site (supplier members as well as operators)."""

    default = False
    default_site = "socialbiz.admin.SocialbizDashboard"
