"""Every write to the catalog: suppliers and their members, products, declarations, batches."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from products.models import Batch, Declaration, Product, Supplier, SupplierMember

SUPPLIER_PROFILE_FIELDS = frozenset(
    {"legal_name", "country", "description", "gln", "open_supply_hub_id", "vat_number", "public_email", "website"}
)
PRODUCT_FIELDS = frozenset(
    {"name", "slug", "description", "category", "gtin", "image", "use", "care", "repair", "end_of_life"}
)
DECLARATION_FIELDS = frozenset({"kind", "topic", "statement", "evidence_level", "evidence_url", "valid_until"})
BATCH_FIELDS = frozenset({"lot", "produced_on", "expires_on", "quantity"})


def _assign(instance: models.Model, data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    for field, value in data.items():
        setattr(instance, field, value)


def _unique_slug(queryset: models.QuerySet[Any], text: str, exclude_pk: int | None = None) -> str:
    base = slugify(text)[:70] or "item"
    taken = set(queryset.exclude(pk=exclude_pk).filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def supplier_create(*, data: Mapping[str, Any], owner: User | None = None) -> Supplier:
    """Register a supplier (operators do this), optionally with its first owner."""
    supplier = Supplier()
    _assign(supplier, {k: v for k, v in data.items() if k != "slug"}, SUPPLIER_PROFILE_FIELDS)
    supplier.slug = data.get("slug") or _unique_slug(Supplier.objects.all(), supplier.legal_name)
    supplier.full_clean()
    supplier.save()
    if owner is not None:
        supplier_member_add(supplier=supplier, user=owner, role=SupplierMember.Role.OWNER)
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, data: Mapping[str, Any]) -> Supplier:
    """Change a supplier's public profile. Status is not part of it: see supplier_status_set."""
    _assign(supplier, data, SUPPLIER_PROFILE_FIELDS)
    supplier.full_clean()
    supplier.save()
    return supplier


@transaction.atomic
def supplier_status_set(*, supplier: Supplier, status: str, reason: str) -> Supplier:
    """Restrict, suspend or reinstate a supplier; the reason is shown on its public pages."""
    if status not in Supplier.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if status != Supplier.Status.ACTIVE and not reason.strip():
        raise ValidationError({"status_reason": "A restriction or suspension needs a written reason."})
    if status != supplier.status:
        supplier.status_changed_at = timezone.now()
    supplier.status = status
    supplier.status_reason = reason.strip()
    supplier.full_clean()
    supplier.save(update_fields=["status", "status_reason", "status_changed_at"])
    return supplier


@transaction.atomic
def supplier_member_add(*, supplier: Supplier, user: User, role: str) -> SupplierMember:
    """Give a user a role at a supplier, or change the role they have."""
    member, _ = SupplierMember.objects.get_or_create(supplier=supplier, user=user, defaults={"role": role})
    member.role = role
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def product_create(*, supplier: Supplier, data: Mapping[str, Any]) -> Product:
    """Add an unpublished product to a supplier's catalog."""
    product = Product(supplier=supplier)
    _assign(product, data, PRODUCT_FIELDS)
    if not product.slug:
        product.slug = _unique_slug(supplier.products.all(), product.name)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, data: Mapping[str, Any]) -> Product:
    _assign(product, data, PRODUCT_FIELDS)
    if not product.slug:
        product.slug = _unique_slug(product.supplier.products.all(), product.name, exclude_pk=product.pk)
    product.full_clean()
    product.save()
    return product


def publication_gate_errors(kinds: Iterable[str]) -> list[str]:
    """What keeps a product with declarations of these kinds from being public: it needs a risk and a benefit."""
    present = set(kinds)
    errors = []
    if Declaration.Kind.RISK not in present:
        errors.append("A public product must declare at least one risk.")
    if Declaration.Kind.BENEFIT not in present:
        errors.append("A public product must declare at least one benefit.")
    return errors


def _lock(product: Product) -> Product:
    # Lock the product row so that two concurrent edits cannot together remove its last risk or benefit.
    return Product.objects.select_for_update().get(pk=product.pk)


@transaction.atomic
def product_publish(*, product: Product) -> Product:
    """Make a product public; refused unless it declares at least one risk and at least one benefit."""
    locked = _lock(product)
    errors = publication_gate_errors(locked.declarations.values_list("kind", flat=True))
    if errors:
        raise ValidationError(errors)
    if locked.published_at is None:
        locked.published_at = timezone.now()
        locked.save(update_fields=["published_at", "updated_at"])
    product.published_at = locked.published_at
    return product


@transaction.atomic
def product_unpublish(*, product: Product) -> Product:
    locked = _lock(product)
    locked.published_at = None
    locked.save(update_fields=["published_at", "updated_at"])
    product.published_at = None
    return product


def _check_gate_after(product: Product, *, without: int, extra_kind: str | None = None) -> None:
    if product.published_at is None:
        return
    kinds = list(product.declarations.exclude(pk=without).values_list("kind", flat=True))
    if extra_kind:
        kinds.append(extra_kind)
    errors = publication_gate_errors(kinds)
    if errors:
        raise ValidationError([*errors, "Add the missing declaration first, or take the product off public view."])


@transaction.atomic
def declaration_create(*, product: Product, data: Mapping[str, Any]) -> Declaration:
    """Declare a risk or a benefit of a product."""
    declaration = Declaration(product=product)
    _assign(declaration, data, DECLARATION_FIELDS)
    declaration.full_clean()
    declaration.save()
    return declaration


@transaction.atomic
def declaration_update(*, declaration: Declaration, data: Mapping[str, Any]) -> Declaration:
    """Change a declaration; a public product keeps at least one risk and one benefit throughout."""
    product = _lock(declaration.product)
    _assign(declaration, data, DECLARATION_FIELDS)
    declaration.full_clean()
    _check_gate_after(product, without=declaration.pk, extra_kind=declaration.kind)
    declaration.save()
    return declaration


@transaction.atomic
def declaration_delete(*, declaration: Declaration) -> None:
    """Withdraw a declaration; refused if it is a public product's last risk or last benefit."""
    product = _lock(declaration.product)
    _check_gate_after(product, without=declaration.pk)
    declaration.delete()


@transaction.atomic
def batch_create(*, product: Product, data: Mapping[str, Any]) -> Batch:
    """Record a production lot of a product."""
    batch = Batch(product=product)
    _assign(batch, data, BATCH_FIELDS)
    batch.full_clean()
    batch.save()
    return batch


@transaction.atomic
def batch_update(*, batch: Batch, data: Mapping[str, Any]) -> Batch:
    _assign(batch, data, BATCH_FIELDS)
    batch.full_clean()
    batch.save()
    return batch
