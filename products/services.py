"""Every write to the catalog: suppliers and their members, products, declarations, batches.

Creates take typed keyword arguments; updates take the fields to change as keyword arguments and write only the
fields whose value changed, so two people changing different fields of one row keep both changes. Changes that
matter to trust (declarations, a supplier's status, memberships, publication) are written to the audit log.
"""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from core.audit import audit_record, changes_between, snapshot
from core.changes import assign_changes, save_changes
from products.models import Batch, Declaration, Product, Supplier, SupplierMember


class SupplierDetails(TypedDict, total=False):
    description: str
    gln: str
    open_supply_hub_id: str
    vat_number: str
    public_email: str
    website: str


class SupplierProfile(SupplierDetails, total=False):
    legal_name: str
    country: str


class ProductDetails(TypedDict, total=False):
    slug: str
    description: str
    gtin: str | None
    image: Any
    use: str
    care: str
    repair: str
    end_of_life: str


class ProductFields(ProductDetails, total=False):
    name: str
    category: str


class DeclarationDetails(TypedDict, total=False):
    evidence_level: str
    evidence_url: str
    valid_until: date | None


class DeclarationFields(DeclarationDetails, total=False):
    kind: str
    topic: str
    statement: str


class BatchFields(TypedDict, total=False):
    lot: str
    produced_on: date
    expires_on: date | None
    quantity: int


SUPPLIER_PROFILE_FIELDS = frozenset(SupplierProfile.__annotations__)
PRODUCT_FIELDS = frozenset(ProductFields.__annotations__)
DECLARATION_FIELDS = frozenset(DeclarationFields.__annotations__)
BATCH_FIELDS = frozenset(BatchFields.__annotations__)
# What a declaration's public history shows of each change.
DECLARATION_HISTORY_FIELDS = ("kind", "topic", "statement", "evidence_level", "evidence_url", "valid_until")

# Apps that refer to batches from outside the catalog (trace events name them by GS1 identifier) register a check
# here, in their AppConfig.ready(): a batch one of them refers to is archived, never deleted. products cannot
# import them (dependency direction).
batch_references: list[Callable[[Batch], bool]] = []
# Apps that keep something for every supplier (the ledger opens its credit account) register a function here that
# is called in the transaction that registers a supplier.
supplier_registered: list[Callable[[Supplier], None]] = []

# Called as (supplier, status before, reason) in the transaction that changes a supplier's status: the project
# plugs in what other apps do then (purchases returns the credits of a suspended supplier's unpaid orders).
supplier_status_changed: list[Callable[[Supplier, str, str], None]] = []


def _unique_slug(queryset: models.QuerySet[Any], text: str, exclude_pk: int | None = None) -> str:
    base = slugify(text)[:70] or "item"
    taken = set(queryset.exclude(pk=exclude_pk).filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


# Suppliers and members ----------------------------------------------------------------------------------------------


@transaction.atomic
def supplier_create(
    *, legal_name: str, country: str, slug: str = "", owner: User | None = None, **profile: Unpack[SupplierDetails]
) -> Supplier:
    """Register a supplier (operators do this), optionally with its first owner."""
    supplier = Supplier(legal_name=legal_name, country=country)
    assign_changes(supplier, dict(profile), SUPPLIER_PROFILE_FIELDS)
    supplier.slug = slug or _unique_slug(Supplier.objects.all(), legal_name)
    supplier.full_clean()
    supplier.save()
    for registered in supplier_registered:
        registered(supplier)
    if owner is not None:
        supplier_member_add(supplier=supplier, email=owner.email, role=SupplierMember.Role.OWNER, actor=None)
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, **changes: Unpack[SupplierProfile]) -> Supplier:
    """Change a supplier's public profile. Status is not part of it: see supplier_status_set."""
    save_changes(supplier, assign_changes(supplier, dict(changes), SUPPLIER_PROFILE_FIELDS))
    return supplier


@transaction.atomic
def supplier_status_set(*, supplier: Supplier, status: str, reason: str, actor: User | None = None) -> Supplier:
    """Restrict, suspend or reinstate a supplier; the reason is shown on its public pages and kept in the audit log."""
    if status not in Supplier.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if status != Supplier.Status.ACTIVE and not reason.strip():
        raise ValidationError({"status_reason": "A restriction or suspension needs a written reason."})
    before = snapshot(supplier, ["status", "status_reason"])
    previous = supplier.status
    if status != supplier.status:
        supplier.status_changed_at = timezone.now()
    supplier.status = status
    supplier.status_reason = reason.strip()
    supplier.full_clean()
    supplier.save(update_fields=["status", "status_reason", "status_changed_at"])
    changes = changes_between(before, snapshot(supplier, ["status", "status_reason"]))
    if changes:
        audit_record(
            actor=actor,
            action="supplier.status_changed",
            target=supplier,
            supplier_id=supplier.pk,
            changes=changes,
            reason=reason,
        )
    if previous != supplier.status:
        for changed in supplier_status_changed:
            changed(supplier, previous, supplier.status_reason)
    return supplier


def _member_target(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ValidationError(
            {
                "email": "No one has signed up with this address yet. Ask them to sign up on the site with it, "
                "then add them again."
            }
        )
    return user


@transaction.atomic
def supplier_member_add(*, supplier: Supplier, email: str, role: str, actor: User | None) -> SupplierMember:
    """Give the person who signed up with this e-mail address a role at a supplier, or change the role they have."""
    user = _member_target(email)
    member = SupplierMember.objects.select_for_update().filter(supplier=supplier, user=user).first()
    if member is None:
        member = SupplierMember(supplier=supplier, user=user, role=role)
        member.full_clean()
        member.save()
        audit_record(
            actor=actor, action="member.added", target=member, supplier_id=supplier.pk, changes={"role": [None, role]}
        )
        return member
    return supplier_member_role_set(member=member, role=role, actor=actor)


def _owners_left(supplier_id: int, without: SupplierMember) -> int:
    owners = SupplierMember.objects.select_for_update().filter(supplier_id=supplier_id, role=SupplierMember.Role.OWNER)
    return owners.exclude(pk=without.pk).count()


@transaction.atomic
def supplier_member_role_set(*, member: SupplierMember, role: str, actor: User | None) -> SupplierMember:
    """Change a member's role; a supplier always keeps at least one owner."""
    if member.role == role:
        return member
    if member.role == SupplierMember.Role.OWNER and not _owners_left(member.supplier_id, member):
        raise ValidationError({"role": "A supplier keeps at least one owner: make someone else owner first."})
    before = member.role
    member.role = role
    member.full_clean()
    member.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="member.role_changed",
        target=member,
        supplier_id=member.supplier_id,
        changes={"role": [before, role]},
    )
    return member


@transaction.atomic
def supplier_member_remove(*, member: SupplierMember, actor: User | None) -> None:
    """Take a person off a supplier's members; a supplier always keeps at least one owner."""
    if member.role == SupplierMember.Role.OWNER and not _owners_left(member.supplier_id, member):
        raise ValidationError("A supplier keeps at least one owner: make someone else owner first.")
    audit_record(
        actor=actor,
        action="member.removed",
        target=member,
        supplier_id=member.supplier_id,
        changes={"role": [member.role, None]},
    )
    member.delete()


# Products -----------------------------------------------------------------------------------------------------------


@transaction.atomic
def product_create(*, supplier: Supplier, name: str, category: str, **fields: Unpack[ProductDetails]) -> Product:
    """Add an unpublished product to a supplier's catalog."""
    product = Product(supplier=supplier, name=name, category=category)
    assign_changes(product, dict(fields), PRODUCT_FIELDS)
    if not product.slug:
        product.slug = _unique_slug(supplier.products.all(), product.name)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, **changes: Unpack[ProductFields]) -> Product:
    """Change a product's fields; only those that changed are written."""
    changed = assign_changes(product, dict(changes), PRODUCT_FIELDS)
    if not product.slug:
        product.slug = _unique_slug(product.supplier.products.all(), product.name, exclude_pk=product.pk)
        changed.append("slug")
    save_changes(product, changed)
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
def product_publish(*, product: Product, actor: User | None = None) -> Product:
    """Make a product public; refused unless it declares at least one risk and at least one benefit."""
    locked = _lock(product)
    errors = publication_gate_errors(locked.declarations.current().values_list("kind", flat=True))
    if errors:
        raise ValidationError(errors)
    if locked.published_at is None:
        locked.published_at = timezone.now()
        locked.first_published_at = locked.first_published_at or locked.published_at
        locked.save(update_fields=["published_at", "first_published_at", "updated_at"])
        audit_record(actor=actor, action="product.published", target=locked, supplier_id=locked.supplier_id)
    product.published_at, product.first_published_at = locked.published_at, locked.first_published_at
    return product


@transaction.atomic
def product_unpublish(*, product: Product, actor: User | None = None) -> Product:
    """Take a product off public view (its pages answer 404 to shoppers again; its history stays)."""
    locked = _lock(product)
    if locked.published_at is not None:
        locked.published_at = None
        locked.save(update_fields=["published_at", "updated_at"])
        audit_record(actor=actor, action="product.unpublished", target=locked, supplier_id=locked.supplier_id)
    product.published_at = None
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Delete a draft that was never public and has no batches; anything else is refused (unpublish it instead)."""
    locked = _lock(product)
    if locked.was_ever_public:
        raise ValidationError(
            f"{locked} has been public, so people may have read or printed it: take it off public view instead."
        )
    if locked.batches.exists():
        raise ValidationError(f"{locked} has batches: a batch is archived, never deleted with its product.")
    locked.delete()


# Declarations -------------------------------------------------------------------------------------------------------


def _check_gate_after(product: Product, *, without: int, extra_kind: str | None = None) -> None:
    if product.published_at is None:
        return
    kinds = list(product.declarations.current().exclude(pk=without).values_list("kind", flat=True))
    if extra_kind:
        kinds.append(extra_kind)
    errors = publication_gate_errors(kinds)
    if errors:
        raise ValidationError([*errors, "Add the missing declaration first, or take the product off public view."])


@transaction.atomic
def declaration_create(
    *, product: Product, kind: str, topic: str, statement: str, actor: User | None = None,
    **fields: Unpack[DeclarationDetails],
) -> Declaration:  # fmt: skip
    """Declare a risk or a benefit of a product."""
    declaration = Declaration(product=product, kind=kind, topic=topic, statement=statement)
    assign_changes(declaration, dict(fields), DECLARATION_FIELDS)
    declaration.full_clean()
    declaration.save()
    audit_record(
        actor=actor,
        action="declaration.added",
        target=declaration,
        supplier_id=product.supplier_id,
        changes=changes_between({}, snapshot(declaration, DECLARATION_HISTORY_FIELDS)),
    )
    return declaration


@transaction.atomic
def declaration_update(
    *, declaration: Declaration, actor: User | None = None, reason: str = "", **changes: Unpack[DeclarationFields]
) -> Declaration:
    """Change a declaration; a public product keeps at least one risk and one benefit throughout."""
    if declaration.is_withdrawn:
        raise ValidationError("A withdrawn declaration is kept as it was; declare a new one instead.")
    product = _lock(declaration.product)
    before = snapshot(declaration, DECLARATION_HISTORY_FIELDS)
    changed = assign_changes(declaration, dict(changes), DECLARATION_FIELDS)
    _check_gate_after(product, without=declaration.pk, extra_kind=declaration.kind)
    save_changes(declaration, changed)
    if changed:
        audit_record(
            actor=actor,
            action="declaration.changed",
            target=declaration,
            supplier_id=product.supplier_id,
            changes=changes_between(before, snapshot(declaration, DECLARATION_HISTORY_FIELDS)),
            reason=reason,
        )
    return declaration


@transaction.atomic
def declaration_withdraw(*, declaration: Declaration, actor: User | None = None, reason: str = "") -> Declaration:
    """Withdraw a declaration: it stays in the product's public history, with the date and the reason. Refused if
    it is a public product's last risk or last benefit."""
    if declaration.is_withdrawn:
        return declaration
    product = _lock(declaration.product)
    _check_gate_after(product, without=declaration.pk)
    declaration.withdrawn_at = timezone.now()
    declaration.withdrawn_reason = reason.strip()
    declaration.save(update_fields=["withdrawn_at", "withdrawn_reason", "updated_at"])
    audit_record(
        actor=actor, action="declaration.withdrawn", target=declaration, supplier_id=product.supplier_id, reason=reason
    )
    return declaration


# Batches ------------------------------------------------------------------------------------------------------------


@transaction.atomic
def batch_create(
    *, product: Product, lot: str, produced_on: date, quantity: int, expires_on: date | None = None
) -> Batch:
    """Record a production lot of a product."""
    batch = Batch(product=product, lot=lot, produced_on=produced_on, quantity=quantity, expires_on=expires_on)
    batch.full_clean()
    batch.save()
    return batch


@transaction.atomic
def batch_update(*, batch: Batch, **changes: Unpack[BatchFields]) -> Batch:
    """Change a batch's fields; only those that changed are written."""
    save_changes(batch, assign_changes(batch, dict(changes), BATCH_FIELDS))
    return batch


def batch_is_referred_to(batch: Batch) -> bool:
    """Whether a QR code of the batch may be out there (its product was public) or other records name it."""
    return batch.product.was_ever_public or any(check(batch) for check in batch_references)


@transaction.atomic
def batch_archive(*, batch: Batch, actor: User | None = None, reason: str = "") -> Batch:
    """Archive a batch: no longer made or sold, its page stays up (its QR code may be printed) and says so."""
    if batch.archived_at is None:
        batch.archived_at = timezone.now()
        batch.archived_reason = reason.strip()
        batch.save(update_fields=["archived_at", "archived_reason"])
        audit_record(
            actor=actor, action="batch.archived", target=batch, supplier_id=batch.product.supplier_id, reason=reason
        )
    return batch


@transaction.atomic
def batch_delete(*, batch: Batch) -> None:
    """Delete a batch nobody can have seen; one that was on a public page or that trace events name is refused (it
    is archived instead: see batch_archive)."""
    if batch_is_referred_to(batch):
        raise ValidationError(
            f"{batch} was on a public page or trace events name it, so its QR code may be printed: archive it instead."
        )
    batch.delete()
