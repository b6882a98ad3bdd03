"""The supplier dashboard for the catalog: every row scoped to the suppliers the user works for.

Operators (staff) see and change everything, subject to Django's model permissions. A supplier member
sees only their own suppliers' rows: querysets, object permissions and foreign-key choices are all
filtered through one DashboardScope, worked out once per request. Writes go through products.services.
"""

import io
import re
import zipfile
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.access import Access
from core.dashboard import ScopedAdmin, ScopedInline, form_changes
from core.gs1 import batch_uri
from core.qr import qr_png, qr_svg
from products import services
from products.models import Batch, Declaration, Product, Supplier, SupplierMember


class SupplierMemberInline(ScopedInline, admin.TabularInline):
    model = SupplierMember
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.access(request).operator and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.access(request).operator and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.access(request).operator and super().has_delete_permission(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # the parent SupplierAdmin already limits which suppliers can be opened

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if self.access(request).operator else ["user", "role", "created_at"]


class SupplierStatusForm(forms.ModelForm):
    class Meta:
        model = Supplier
        # The admin narrows these further by the user's rights (members never get status fields).
        fields = [
            "legal_name",
            "slug",
            "country",
            "description",
            "public_email",
            "website",
            "gln",
            "open_supply_hub_id",
            "vat_number",
            "status",
            "status_reason",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("status", Supplier.Status.ACTIVE) != Supplier.Status.ACTIVE
            and not (data.get("status_reason") or "").strip()
        ):
            self.add_error("status_reason", "A restriction or suspension needs a written reason.")
        return data


@admin.register(Supplier)
class SupplierAdmin(ScopedAdmin):
    supplier_path = "id"
    form = SupplierStatusForm
    list_display = ["legal_name", "country", "status", "status_changed_at"]
    list_filter = ["status", "country"]
    search_fields = ["legal_name", "slug", "gln", "open_supply_hub_id"]
    inlines = [SupplierMemberInline]
    operator_fieldsets = [
        (None, {"fields": ["legal_name", "slug", "country", "description", "public_email", "website"]}),
        ("Identifiers", {"fields": ["gln", "open_supply_hub_id", "vat_number"]}),
        ("Network status", {"fields": ["status", "status_reason", "status_changed_at"]}),
    ]

    def supplier_id_of(self, obj: models.Model) -> int:
        return obj.pk

    def writable_ids(self, scope: Access) -> frozenset[int]:
        return scope.owned  # only owners change the supplier's profile

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Suppliers join the network through an operator.
        return self.access(request).operator and super().has_add_permission(request, *args)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.operator_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if self.access(request).operator:
            return ["status_changed_at"]
        return ["slug", "status", "status_reason", "status_changed_at"]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {"slug": ["legal_name"]} if self.access(request).operator else {}

    def service_save(self, request: HttpRequest, obj: Supplier, form: forms.ModelForm, change: bool) -> Supplier:
        profile = form_changes(form, services.SUPPLIER_PROFILE_FIELDS, change)
        if change:
            saved = services.supplier_update(supplier=obj, data=profile)
        else:
            saved = services.supplier_create(data={**profile, "slug": form.cleaned_data["slug"]})
        if {"status", "status_reason"} & set(form.changed_data):
            services.supplier_status_set(
                supplier=saved, status=form.cleaned_data["status"], reason=form.cleaned_data["status_reason"]
            )
        return saved


class DeclarationFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if self.instance.pk is None or not self.instance.is_public:
            return
        kinds = [
            form.cleaned_data["kind"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("kind")
        ]
        errors = services.publication_gate_errors(kinds)
        if errors:
            raise ValidationError([*errors, "Add the missing declaration first, or unpublish the product."])


class DeclarationInline(ScopedInline, admin.StackedInline):
    model = Declaration
    formset = DeclarationFormSet
    extra = 0
    fields = [("kind", "topic"), "statement", ("evidence_level", "evidence_url", "valid_until")]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.access(request)
        if scope.operator:
            return request.user.has_perm("products.change_product")
        return bool(scope.editable) if obj is None else obj.supplier_id in scope.editable

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # the parent ProductAdmin already limits which products can be opened


@admin.register(Product)
class ProductAdmin(ScopedAdmin):
    list_display = ["name", "supplier", "category", "gtin", "is_public"]
    list_filter = ["category", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "gtin", "internal_ref"]
    list_select_related = ["supplier"]
    inlines = [DeclarationInline]
    actions = ["publish", "unpublish"]
    readonly_fields = ["internal_ref", "published_at"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["supplier", "name", "slug", "category", "description", "image"]}),
        ("Identifiers", {"fields": ["gtin", "internal_ref", "published_at"]}),
        ("How it fits into people's lives", {"fields": ["use", "care", "repair", "end_of_life"]}),
    ]

    @admin.display(boolean=True, description="public")
    def is_public(self, obj: Product) -> bool:
        return obj.is_public

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A product never moves to another supplier.
        return [*self.readonly_fields, "supplier"] if obj else self.readonly_fields

    def service_save(self, request: HttpRequest, obj: Product, form: forms.ModelForm, change: bool) -> Product:
        data = form_changes(form, services.PRODUCT_FIELDS, change)
        if change:
            return services.product_update(product=obj, data=data)
        return services.product_create(supplier=form.cleaned_data["supplier"], data=data)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        # Declarations go through the services; the admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.initial_forms + formset.extra_forms:
            declaration = inline_form.instance
            if inline_form in formset.deleted_forms:
                if declaration.pk:
                    formset.deleted_objects.append(declaration)
                    services.declaration_delete(declaration=declaration)
            elif declaration.pk is None:
                if inline_form.has_changed():
                    data = form_changes(inline_form, services.DECLARATION_FIELDS, change=False)
                    formset.new_objects.append(services.declaration_create(product=form.instance, data=data))
            elif inline_form.has_changed():
                data = form_changes(inline_form, services.DECLARATION_FIELDS, change=True)
                services.declaration_update(declaration=declaration, data=data)
                formset.changed_objects.append((declaration, inline_form.changed_data))

    @admin.action(description="Publish the selected products (each needs a risk and a benefit)")
    def publish(self, request: HttpRequest, queryset: models.QuerySet[Product]) -> None:
        scope = self.access(request)
        for product in queryset:
            if not (scope.operator or product.supplier_id in scope.editable):
                continue
            try:
                services.product_publish(product=product)
            except ValidationError as error:
                self.message_user(request, f"{product}: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{product} is public.", messages.SUCCESS)

    @admin.action(description="Take the selected products off public view")
    def unpublish(self, request: HttpRequest, queryset: models.QuerySet[Product]) -> None:
        scope = self.access(request)
        for product in queryset:
            if scope.operator or product.supplier_id in scope.editable:
                services.product_unpublish(product=product)
                self.message_user(request, f"{product} is no longer public.", messages.SUCCESS)


@admin.register(Batch)
class BatchAdmin(ScopedAdmin):
    supplier_path = "product__supplier"
    list_display = ["lot", "product", "produced_on", "expires_on", "quantity"]
    list_filter = ["produced_on"]
    search_fields = ["lot", "product__name"]
    list_select_related = ["product__supplier"]
    date_hierarchy = "produced_on"
    actions = ["download_qr_codes"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["product", "qr_codes"] if obj else []

    @staticmethod
    def qr_file_stem(batch: Batch) -> str:
        """`{gtin or internal ref}-{lot}`, with the lot's `/`, `:`, `?` and the like (allowed by GS1) made file-safe."""
        lot = re.sub(r"[^A-Za-z0-9._-]", "_", batch.lot)
        return f"{batch.product.gtin or batch.product.internal_ref}-{lot}"

    @admin.display(description="QR codes")
    def qr_codes(self, obj: Batch) -> SafeString:
        uri = batch_uri(obj)
        name = self.qr_file_stem(obj)
        links = format_html(
            '<code>{}</code><br><a href="{}/qr.svg" download="{}.svg">SVG (for print)</a> · '
            '<a href="{}/qr.png" download="{}.png">PNG</a>',
            uri,
            uri,
            name,
            uri,
            name,
        )
        if obj.product.is_public:
            return links
        # The resolver answers for public products only, but packs are printed before launch: the ZIP has them now.
        return format_html(
            "{}<br><small>{}</small>",
            links,
            "These links answer once the product is published; until then, use the batch list's "
            "“Download print-ready QR codes (ZIP)” action.",
        )

    @admin.action(description="Download print-ready QR codes (ZIP)")
    def download_qr_codes(self, request: HttpRequest, queryset: models.QuerySet[Batch]) -> HttpResponse | None:
        # The queryset is already the user's own (get_queryset): other suppliers' ids never get this far.
        batches = list(queryset.select_related("product__supplier").order_by("product__name", "lot", "pk"))
        if not batches:
            self.message_user(request, "None of the selected batches is yours to download.", messages.WARNING)
            return None
        buffer = io.BytesIO()
        stems: set[str] = set()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for batch in batches:
                stem = self.qr_file_stem(batch)
                if stem in stems:  # two lots that differ only in characters a file name cannot hold
                    stem = f"{stem}-{batch.pk}"
                stems.add(stem)
                uri = batch_uri(batch)
                archive.writestr(f"{stem}.svg", qr_svg(uri))
                archive.writestr(f"{stem}.png", qr_png(uri))
        return HttpResponse(
            buffer.getvalue(),
            content_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="qr-codes.zip"'},
        )

    def service_save(self, request: HttpRequest, obj: Batch, form: forms.ModelForm, change: bool) -> Batch:
        data = form_changes(form, services.BATCH_FIELDS, change)
        if change:
            return services.batch_update(batch=obj, data=data)
        return services.batch_create(product=form.cleaned_data["product"], data=data)
