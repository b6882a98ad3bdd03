"""The shop in the dashboard: offers, terms of sale, the calendar (windows and closures) and price splits.

Prices are typed in major units of their currency ("4.50") and credits in credits ("5.00"); the services get
minor units and hundredths. Products, batches and suppliers to choose from are the person's own; a window's
facility is one of its supplier's facilities (purchases.facilities). Writes go through purchases.services.shop.
"""

import operator
from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import dateformat

from core.dashboard import form_changes
from products.models import Batch, Product, Supplier
from purchases import calendar, facilities, money, services
from purchases.admin.forms import OfferForm, SalesTermsForm, WindowForm
from purchases.admin.scoped import PurchasesAdmin, writable_choices
from purchases.models import Closure, Means, Offer, PriceSplit, SalesTerms, Window
from purchases.services.shop import (
    CLOSURE_FIELDS,
    OFFER_FIELDS,
    PRICE_SPLIT_FIELDS,
    SALES_TERMS_FIELDS,
    WINDOW_FIELDS,
)


def days_text(days: list[date], *, shown: int = 4) -> str:
    """The next days offered, as the dashboard writes them: "Sat 6 Dec, Sat 13 Dec, …"."""
    if not days:
        return "none in the next weeks"
    text = ", ".join(dateformat.format(day, "D j M") for day in days[:shown])
    return text + (", …" if len(days) > shown else "")


class ForSupplierColumn:
    """Shows the supplier column to those who see several suppliers' rows (operators, members of several)."""

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = list(super().get_list_display(request))  # type: ignore[misc]
        access = self.access(request)  # type: ignore[attr-defined]
        return [*shown, "supplier_name"] if access.operator or len(access.readable) > 1 else shown

    @admin.display(description="supplier")
    def supplier_name(self, obj: Any) -> str:
        path = self.supplier_path.replace("__", ".")  # type: ignore[attr-defined]
        return operator.attrgetter(path)(obj).legal_name


# Offers ---------------------------------------------------------------------------------------------------------------


@admin.register(Offer)
class OfferAdmin(ForSupplierColumn, PurchasesAdmin):
    supplier_path = "product__supplier"
    form = OfferForm
    list_display = ["product", "what", "cash_price", "credits_price", "active"]
    list_filter = ["active"]
    list_select_related = ["product__supplier", "batch"]
    search_fields = ["product__name", "batch__lot"]
    fieldsets = [
        (None, {"fields": ["product", "batch", "active"]}),
        (
            "Prices",
            {
                "description": "A price in hard currency, in credits, or both: buyers choose how they pay. Credits "
                "are typed in credits, like 5.00.",
                "fields": [("price", "currency"), "price_credits"],
            },
        ),
    ]

    @admin.display(description="offers", ordering="batch__lot")
    def what(self, obj: Offer) -> str:
        return f"lot {obj.batch.lot}" if obj.batch_id and obj.batch else "every batch"

    @admin.display(description="price", ordering="price")
    def cash_price(self, obj: Offer) -> str:
        return "—" if obj.price is None else money.text(obj.price, currency=obj.currency)

    @admin.display(description="in credits", ordering="price_credits")
    def credits_price(self, obj: Offer) -> str:
        return "—" if obj.price_credits is None else money.credits(obj.price_credits)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["product"] if obj else []  # an offer stays with its product

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        editable = self.access(request).editable
        if "currency" not in initial and len(editable) == 1:
            terms = SalesTerms.objects.filter(supplier_id=next(iter(editable))).first()
            initial["currency"] = terms.currency if terms else ""
        return initial

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        products = writable_choices(self, request, Product.objects.order_by("name", "pk"))
        batches = Batch.objects.select_related("product").filter(archived_at__isnull=True)
        batches = writable_choices(self, request, batches.order_by("product__name", "-produced_on", "lot"))
        attrs: dict[str, Any] = {"products": products, "batches": batches}
        if obj is not None:  # an offer stays with its product: shown, not a field
            batches = batches.filter(product_id=obj.product_id)
            attrs |= {"batches": batches, "product": None}
        kwargs["form"] = type("OfferForm", (OfferForm,), attrs)
        kwargs["fields"] = OfferForm.Meta.fields  # the product and batch are the form's own (see OfferForm)
        return super().get_form(request, obj, change, **kwargs)

    def service_save(self, request: HttpRequest, obj: Offer, form: forms.ModelForm, change: bool) -> Offer:
        data = form.cleaned_data
        changes = form_changes(form, OFFER_FIELDS, change)
        if {"price", "currency"} & set(changes):  # an amount means nothing without its currency
            changes |= {"price": data.get("price"), "currency": data.get("currency", "")}
        if change:
            return services.offer_save(supplier=obj.product.supplier, offer=obj, **changes)
        product = data["product"]
        return services.offer_save(supplier=product.supplier, product=product, **changes)


# Terms of sale --------------------------------------------------------------------------------------------------------


def fees_text(terms: SalesTerms, means: str) -> str:
    """A supplier's delivery fees in one means, as buyers read them."""
    if not terms.delivers:
        return "does not deliver"
    cash = means == Means.CASH

    def text(value: int) -> str:
        return money.text(value, currency=terms.currency) if cash else money.credits(value)

    flat, per_item, free_above = (
        (terms.delivery_flat, terms.delivery_per_item, terms.delivery_free_above)
        if cash
        else (terms.delivery_flat_credits, terms.delivery_per_item_credits, terms.delivery_free_above_credits)
    )
    parts = [text(flat)] if flat else []
    if per_item:
        parts.append(f"{text(per_item)} per unit")
    shown = " + ".join(parts) or "free"
    return shown + (f"; free from {text(free_above)}" if free_above is not None and parts else "")


@admin.register(SalesTerms)
class SalesTermsAdmin(ForSupplierColumn, PurchasesAdmin):
    form = SalesTermsForm
    list_display = ["terms", "delivers", "fees_in_cash", "fees_in_credits", "dispatch_hours"]
    list_select_related = ["supplier"]
    fieldsets = [
        (None, {"fields": ["supplier", "delivers", "dispatch_hours"]}),
        (
            "Delivery fees in hard currency",
            {"fields": ["currency", ("delivery_flat", "delivery_per_item"), "delivery_free_above"]},
        ),
        (
            "Delivery fees in credits",
            {"fields": [("delivery_flat_credits", "delivery_per_item_credits"), "delivery_free_above_credits"]},
        ),
        (
            "Paying in hard currency",
            {
                "description": "Buyers pay cash at pick-up or on delivery, by card or by bank transfer: outside the "
                "platform, which never sees a card number. You record each payment on its order.",
                "fields": ["payment_instructions"],
            },
        ),
    ]

    @admin.display(description="terms", ordering="supplier__legal_name")
    def terms(self, obj: SalesTerms) -> str:
        return f"Terms of {obj.supplier.legal_name}"

    @admin.display(description="delivery in hard currency")
    def fees_in_cash(self, obj: SalesTerms) -> str:
        return fees_text(obj, Means.CASH)

    @admin.display(description="delivery in credits")
    def fees_in_credits(self, obj: SalesTerms) -> str:
        return fees_text(obj, Means.CREDITS)

    def get_list_display(self, request: HttpRequest) -> Any:
        return self.list_display  # the first column names the supplier already

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["supplier"] if obj else []

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        # One row per supplier: a member whose suppliers all have their terms changes them instead.
        access = self.access(request)
        if not access.operator and self.has_add_permission(request):
            existing = list(SalesTerms.objects.filter(supplier_id__in=access.editable).values_list("pk", flat=True))
            if len(existing) == len(access.editable):
                self.message_user(request, "Your terms of sale are already set: change them here.", messages.INFO)
                target = existing[0] if len(existing) == 1 else None
                opts = self.opts
                name = "change" if target else "changelist"
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=[target] if target else [])
                return HttpResponseRedirect(url)
        return super().add_view(request, form_url, extra_context)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "supplier":
            suppliers = Supplier.objects.filter(sales_terms__isnull=True).order_by("legal_name")
            kwargs["queryset"] = writable_choices(self, request, suppliers)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def service_save(self, request: HttpRequest, obj: SalesTerms, form: forms.ModelForm, change: bool) -> SalesTerms:
        data = form.cleaned_data
        changes = form_changes(form, SALES_TERMS_FIELDS, change)
        if "currency" in changes:  # amounts mean nothing without their currency
            changes |= {name: data[name] for name in ("delivery_flat", "delivery_per_item", "delivery_free_above")}
        return services.sales_terms_save(supplier=obj.supplier if change else data["supplier"], **changes)


# The calendar ---------------------------------------------------------------------------------------------------------


@admin.register(Window)
class WindowAdmin(ForSupplierColumn, PurchasesAdmin):
    form = WindowForm
    list_display = ["window", "method", "place", "cutoff", "next_days", "active"]
    list_filter = ["method", "weekday", "active"]
    list_select_related = ["supplier"]
    fieldsets = [
        (None, {"fields": ["supplier", "method", "facility_id", "weekday", ("starts_at", "ends_at")]}),
        ("Orders", {"fields": ["cutoff_hours", "active"]}),
    ]
    shown_fieldset = ("The days it offers", {"fields": ["next_days"]})

    @admin.display(description="window", ordering="weekday")
    def window(self, obj: Window) -> str:
        return f"{obj.get_weekday_display()} {obj.starts_at:%H:%M}–{obj.ends_at:%H:%M}"

    @admin.display(description="facility")
    def place(self, obj: Window) -> str:
        place = getattr(obj, "place_shown", None)
        if place is None:
            place = facilities.places_of(obj.supplier_id, [obj.facility_id]).get(obj.facility_id)
        return place.name if place else f"facility {obj.facility_id} (not the supplier's)"

    @admin.display(description="order cut-off", ordering="cutoff_hours")
    def cutoff(self, obj: Window) -> str:
        return f"{obj.cutoff_hours} h before"

    @admin.display(description="next days offered")
    def next_days(self, obj: Window) -> str:
        days = getattr(obj, "days_shown", None)
        if days is None:
            days = calendar.days_by_window([obj])[obj.pk]
        return days_text(days) if obj.active else "none: the window is not active"

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # The days and places of a whole page at once: one query for the closures, one per supplier shown.
        changelist = super().get_changelist_instance(request)
        windows = list(changelist.result_list)
        days = calendar.days_by_window(windows)
        places: dict[int, dict[int, facilities.Place]] = {}
        for window in windows:
            if window.supplier_id not in places:
                ids = {w.facility_id for w in windows if w.supplier_id == window.supplier_id}
                places[window.supplier_id] = facilities.places_of(window.supplier_id, ids)
            window.days_shown = days[window.pk]
            window.place_shown = places[window.supplier_id].get(window.facility_id)
        changelist.result_list = windows
        return changelist

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.fieldsets, self.shown_fieldset] if obj else self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["supplier", "next_days"] if obj else []

    def _supplier_of_form(self, request: HttpRequest, obj: Window | None) -> int | None:
        """Whose facilities the form offers: the window's supplier, the one chosen (sent back, or in the address),
        or the person's only one."""
        if obj is not None:
            return obj.supplier_id
        access = self.access(request)
        chosen = request.POST.get("supplier") or request.GET.get("supplier") or ""
        if chosen.isdigit() and access.can_edit(int(chosen)):
            return int(chosen)
        return next(iter(access.editable)) if len(access.editable) == 1 else None

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        supplier_id = self._supplier_of_form(request, obj)
        help_text = WindowForm.facility_help
        choices: list[Any]
        if supplier_id is not None:
            choices = [(pk, place.name) for pk, place in facilities.places_of(supplier_id).items()]
            if not choices:
                help_text = "This supplier has no facility yet: add one under Provenance › Facilities first."
        elif self.access(request).operator:
            choices = []
            help_text = "Choose the supplier and save: the form then offers its facilities."
        else:  # a member of several suppliers: each one's facilities, under its name
            suppliers = Supplier.objects.filter(pk__in=self.access(request).editable).order_by("legal_name")
            choices = [
                (supplier.legal_name, [(pk, place.name) for pk, place in facilities.places_of(supplier.pk).items()])
                for supplier in suppliers
            ]
        kwargs["form"] = type("WindowForm", (WindowForm,), {"facility_choices": choices, "facility_help": help_text})
        return super().get_form(request, obj, change, **kwargs)

    def service_save(self, request: HttpRequest, obj: Window, form: forms.ModelForm, change: bool) -> Window:
        changes = form_changes(form, WINDOW_FIELDS, change)
        if change:
            return services.window_save(supplier=obj.supplier, window=obj, **changes)
        return services.window_save(supplier=form.cleaned_data["supplier"], **changes)


@admin.register(Closure)
class ClosureAdmin(ForSupplierColumn, PurchasesAdmin):
    list_display = ["day", "reason"]
    list_filter = [("day", admin.DateFieldListFilter)]
    list_select_related = ["supplier"]
    fields = ["supplier", "day", "reason"]
    ordering = ["-day"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["supplier"] if obj else []

    def service_save(self, request: HttpRequest, obj: Closure, form: forms.ModelForm, change: bool) -> Closure:
        changes = form_changes(form, CLOSURE_FIELDS, change)
        if change:
            return services.closure_save(supplier=obj.supplier, closure=obj, **changes)
        return services.closure_save(supplier=form.cleaned_data["supplier"], **changes)

    def service_delete(self, request: HttpRequest, obj: Closure) -> None:
        services.closure_delete(supplier=obj.supplier, closure=obj)


# Where the money goes -------------------------------------------------------------------------------------------------


@admin.register(PriceSplit)
class PriceSplitAdmin(ForSupplierColumn, PurchasesAdmin):
    supplier_path = "product__supplier"
    list_display = ["product", "shares", "evidence_level", "valid_until"]
    list_filter = ["evidence_level"]
    list_select_related = ["product__supplier"]
    search_fields = ["product__name"]
    fieldsets = [
        (None, {"fields": ["product"]}),
        (
            "Shares of the price",
            {
                "description": "Where each unit of the price goes along the chain, as you declare it: the four "
                "shares add up to 100 %. The batch page shows them as a small chart, with their evidence.",
                "fields": [("producers", "processing", "transport", "retail")],
            },
        ),
        ("Evidence", {"fields": ["evidence_level", "evidence_url", "valid_until", "note"]}),
    ]

    @admin.display(description="shares")
    def shares(self, obj: PriceSplit) -> str:
        return " · ".join(f"{name} {share} %" for name, share in obj.shares())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["product"] if obj else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "product":
            products = Product.objects.filter(price_split__isnull=True).order_by("name", "pk")
            kwargs["queryset"] = writable_choices(self, request, products)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def service_save(self, request: HttpRequest, obj: PriceSplit, form: forms.ModelForm, change: bool) -> PriceSplit:
        changes = form_changes(form, PRICE_SPLIT_FIELDS, change)
        if change:
            return services.price_split_save(supplier=obj.product.supplier, split=obj, **changes)
        product = form.cleaned_data["product"]
        return services.price_split_save(supplier=product.supplier, product=product, **changes)
