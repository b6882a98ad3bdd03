"""The supplier dashboard for the catalog: suppliers and their members, products with their declarations, batches.

Every admin here is a core.dashboard.ScopedAdmin: a member sees only their own suppliers' rows, operators see
everything under Django's model permissions. Every write goes through products.services, and a rule a service
enforces is never repeated here: its ValidationError shows on the form.
"""

import io
import re
import zipfile
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.access import Access
from core.dashboard import ScopedAdmin, ScopedInline, form_changes, refusal_for, stored
from core.gs1 import batch_uri
from core.qr import qr_png, qr_svg
from products import services
from products.models import Batch, Declaration, Product, Supplier, SupplierMember


class SupplierMemberInline(ScopedInline, admin.TabularInline):
    """A supplier's members. Owners (and operators) change roles and remove members here; they add people by e-mail
    address on the supplier's form, and never see a list of the platform's users."""

    model = SupplierMember
    extra = 0
    fields = ["email", "role", "created_at"]
    readonly_fields = ["email", "created_at"]

    @admin.display(description="e-mail address")
    def email(self, obj: SupplierMember) -> str:
        return obj.user.email

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[SupplierMember]:
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # by e-mail address, on the supplier's form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and self.access(request).can_own(obj.pk)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)


class SupplierForm(forms.ModelForm):
    email = forms.EmailField(
        required=False,
        label="E-mail address",
        help_text="Of someone who has signed up on the site: they become a member of this supplier.",
    )
    role = forms.ChoiceField(
        required=False, choices=SupplierMember.Role.choices, initial=SupplierMember.Role.EDITOR, label="Role"
    )

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


@admin.register(Supplier)
class SupplierAdmin(ScopedAdmin):
    supplier_path = "id"
    form = SupplierForm
    list_display = ["legal_name", "country", "status", "status_changed_at"]
    list_filter = ["status", "country"]
    search_fields = ["legal_name", "slug", "gln", "open_supply_hub_id"]
    inlines = [SupplierMemberInline]
    profile_fieldsets = [
        (None, {"fields": ["legal_name", "slug", "country", "description", "public_email", "website"]}),
        ("Identifiers", {"fields": ["gln", "open_supply_hub_id", "vat_number"]}),
        ("Network status", {"fields": ["status", "status_reason", "status_changed_at"]}),
    ]
    member_fieldset = ("Add a member", {"fields": [("email", "role")]})

    def writable_ids(self, access: Access) -> frozenset[int]:
        return access.owned  # only owners change the supplier's profile and members

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Suppliers join the network through an operator.
        return self.access(request).operator and super().has_add_permission(request, *args)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and self.has_change_permission(request, obj):
            return [*self.profile_fieldsets, self.member_fieldset]
        return self.profile_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if self.access(request).operator:
            return ["status_changed_at"]
        return ["slug", "status", "status_reason", "status_changed_at"]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {"slug": ["legal_name"]} if self.access(request).operator else {}

    def service_save(self, request: HttpRequest, obj: Supplier, form: forms.ModelForm, change: bool) -> Supplier:
        profile = form_changes(form, services.SUPPLIER_PROFILE_FIELDS, change)
        if change:
            saved = services.supplier_update(supplier=obj, **profile)
        else:
            saved = services.supplier_create(slug=form.cleaned_data["slug"], **profile)
        if {"status", "status_reason"} & set(form.changed_data):
            services.supplier_status_set(
                supplier=saved,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["status_reason"],
                actor=request.user,
            )
        if form.cleaned_data.get("email"):
            services.supplier_member_add(
                supplier=saved,
                email=form.cleaned_data["email"],
                role=form.cleaned_data.get("role") or SupplierMember.Role.EDITOR,
                actor=request.user,
            )
        return saved

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        # Members change through the services; the admin's change message reads these lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for member_form in formset.initial_forms:
            member = member_form.instance
            with refusal_for(member_form):
                if member_form in formset.deleted_forms:
                    services.supplier_member_remove(member=member, actor=request.user)
                    formset.deleted_objects.append(member)
                elif "role" in member_form.changed_data:
                    services.supplier_member_role_set(
                        member=stored(member), role=member_form.cleaned_data["role"], actor=request.user
                    )
                    formset.changed_objects.append((member, ["role"]))


class DeclarationForm(forms.ModelForm):
    reason = forms.CharField(
        required=False,
        label="Why (shown publicly)",
        max_length=500,
        help_text="When you change or withdraw a declaration, say why: the product page keeps its history.",
    )

    class Meta:
        model = Declaration
        fields = ["kind", "topic", "statement", "evidence_level", "evidence_url", "valid_until"]


class DeclarationInline(ScopedInline, admin.StackedInline):
    """A product's declarations in force. "Delete" withdraws one: it stays in the product's public history."""

    model = Declaration
    form = DeclarationForm
    extra = 0
    fields = [("kind", "topic"), "statement", ("evidence_level", "evidence_url", "valid_until"), "reason"]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Declaration]:
        return super().get_queryset(request).current()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        access = self.access(request)
        if access.operator:
            return request.user.has_perm("products.change_product")
        return bool(access.editable) if obj is None else obj.supplier_id in access.editable

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


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
            return services.product_update(product=obj, **data)
        return services.product_create(supplier=form.cleaned_data["supplier"], **data)

    def service_delete(self, request: HttpRequest, obj: Product) -> None:
        services.product_delete(product=obj)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        # Declarations go through the services: new ones first, then changes, then withdrawals, so that replacing a
        # public product's only risk by another one works. The admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        product, actor = form.instance, request.user
        for inline_form in formset.extra_forms:
            if inline_form.has_changed() and inline_form not in formset.deleted_forms:
                data = form_changes(inline_form, services.DECLARATION_FIELDS, change=False)
                with refusal_for(inline_form):
                    formset.new_objects.append(services.declaration_create(product=product, actor=actor, **data))
        for inline_form in formset.initial_forms:
            declaration, reason = inline_form.instance, inline_form.cleaned_data.get("reason", "")
            if inline_form not in formset.deleted_forms and inline_form.has_changed():
                data = form_changes(inline_form, services.DECLARATION_FIELDS, change=True)
                with refusal_for(inline_form):
                    services.declaration_update(declaration=stored(declaration), actor=actor, reason=reason, **data)
                formset.changed_objects.append((declaration, inline_form.changed_data))
        for inline_form in formset.deleted_forms:
            declaration = inline_form.instance
            if declaration.pk:
                reason = inline_form.cleaned_data.get("reason", "")
                with refusal_for(inline_form):
                    services.declaration_withdraw(declaration=stored(declaration), actor=actor, reason=reason)
                formset.deleted_objects.append(declaration)

    @admin.action(description="Publish the selected products (each needs a risk and a benefit)")
    def publish(self, request: HttpRequest, queryset: models.QuerySet[Product]) -> None:
        access = self.access(request)
        for product in queryset:
            if not access.can_edit(product.supplier_id):
                continue
            try:
                services.product_publish(product=product, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{product}: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{product} is public.", messages.SUCCESS)

    @admin.action(description="Take the selected products off public view")
    def unpublish(self, request: HttpRequest, queryset: models.QuerySet[Product]) -> None:
        access = self.access(request)
        for product in queryset:
            if access.can_edit(product.supplier_id):
                services.product_unpublish(product=product, actor=request.user)
                self.message_user(request, f"{product} is no longer public.", messages.SUCCESS)


@admin.register(Batch)
class BatchAdmin(ScopedAdmin):
    supplier_path = "product__supplier"
    list_display = ["lot", "product", "produced_on", "expires_on", "quantity", "archived_at"]
    list_filter = ["produced_on"]
    search_fields = ["lot", "product__name"]
    list_select_related = ["product__supplier"]
    date_hierarchy = "produced_on"
    actions = ["download_qr_codes", "archive"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["product", "qr_codes", "archived_at", "archived_reason"] if obj else []

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
            return services.batch_update(batch=obj, **data)
        return services.batch_create(product=form.cleaned_data["product"], **data)

    def service_delete(self, request: HttpRequest, obj: Batch) -> None:
        services.batch_delete(batch=obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A batch that may be printed on packs is archived (action below), never deleted.
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or not services.batch_is_referred_to(obj))

    @admin.action(description="Archive the selected batches (their pages stay up and say so)", permissions=["change"])
    def archive(self, request: HttpRequest, queryset: models.QuerySet[Batch]) -> None:
        for batch in queryset.select_related("product"):
            if batch.is_archived:
                continue
            services.batch_archive(batch=batch, actor=request.user)
            self.message_user(request, f"{batch} is archived.", messages.SUCCESS)
