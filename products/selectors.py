"""Reads of the catalog that pages, the dashboard and the API share; they decide the queries."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from core.audit import history_of
from products.access import Access, access_for
from products.models import Batch, Declaration, Product, Supplier

CURRENT = {"declarations__withdrawn_at__isnull": True}
HISTORY_ACTIONS = ("declaration.changed", "declaration.withdrawn")


def product_list_public() -> QuerySet[Product]:
    """Public products for the home page, each with its supplier and counts of risks, benefits and batches."""
    return (
        Product.objects.public()
        .select_related("supplier")
        .annotate(
            risk_count=Count(
                "declarations", filter=Q(declarations__kind=Declaration.Kind.RISK, **CURRENT), distinct=True
            ),
            benefit_count=Count(
                "declarations", filter=Q(declarations__kind=Declaration.Kind.BENEFIT, **CURRENT), distinct=True
            ),
            batch_count=Count("batches", distinct=True),
        )
        .order_by("-published_at", "name")
    )


def product_detail(*, supplier_slug: str, product_slug: str, viewer: User) -> Product | None:
    """A product with everything its page shows; unpublished ones only for its members and operators.

    `declarations_all` holds every declaration, withdrawn ones too (for the history); `declarations` the ones in
    force.
    """
    product = (
        Product.objects.select_related("supplier")
        .prefetch_related(
            Prefetch("declarations", queryset=Declaration.objects.order_by("topic", "id"), to_attr="declarations_all"),
            Prefetch("batches", queryset=Batch.objects.order_by("-produced_on", "lot")),
        )
        .filter(supplier__slug=supplier_slug, slug=product_slug)
        .first()
    )
    if product is None:
        return None
    if product.is_public or access_for(viewer).can_read(product.supplier_id):
        return product
    return None


def _visible(queryset: QuerySet[Any], access: Access, supplier_path: str, public: Q) -> QuerySet[Any]:
    if access.operator:
        return queryset
    return queryset.filter(public | Q(**{f"{supplier_path}__in": access.readable}))


def product_list_for(access: Access) -> QuerySet[Product]:
    """Products a user may read through the API: public ones, and all of their own suppliers'."""
    queryset = Product.objects.select_related("supplier").prefetch_related(
        Prefetch("declarations", queryset=Declaration.objects.current().order_by("kind", "topic", "id"))
    )
    return _visible(queryset, access, "supplier", Q(published_at__isnull=False))


def declaration_list_for(access: Access) -> QuerySet[Declaration]:
    queryset = Declaration.objects.select_related("product")
    return _visible(queryset, access, "product__supplier", Q(product__published_at__isnull=False))


def batch_list_for(access: Access) -> QuerySet[Batch]:
    """Batches of the products a user may read."""
    queryset = Batch.objects.select_related("product")
    return _visible(queryset, access, "product__supplier", Q(product__published_at__isnull=False))


def supplier_list() -> QuerySet[Supplier]:
    """Suppliers are public: who sells on the network, and their standing, is for everyone to see."""
    return Supplier.objects.all()


def _batch_with_product() -> QuerySet[Batch]:
    return Batch.objects.select_related("product__supplier")


def batch_for_gtin_lot(*, gtin: str, lot: str) -> Batch | None:
    """A public product's batch by GTIN-14 and lot (what a GS1 Digital Link names)."""
    return _batch_with_product().filter(product__gtin=gtin, lot=lot, product__published_at__isnull=False).first()


def batch_for_ref_lot(*, ref: str, lot: str) -> Batch | None:
    """A public product's batch by the internal reference of a product without GTIN, and lot."""
    return _batch_with_product().filter(product__internal_ref=ref, lot=lot, product__published_at__isnull=False).first()


def product_for_gtin(*, gtin: str) -> Product | None:
    return Product.objects.public().select_related("supplier").filter(gtin=gtin).first()


def product_for_ref(*, ref: str) -> Product | None:
    return Product.objects.public().select_related("supplier").filter(internal_ref=ref).first()


def batch_page(*, batch_id: int, viewer: User) -> Batch | None:
    """A batch with its product, supplier and declarations, for its public page.

    Batches of unpublished products only for their supplier's members and operators, like the product page.
    """
    batch = (
        _batch_with_product()
        .prefetch_related(
            Prefetch("product__declarations", queryset=Declaration.objects.current().order_by("topic", "id"))
        )
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        return None
    if batch.product.is_public or access_for(viewer).can_read(batch.product.supplier_id):
        return batch
    return None


@dataclass(frozen=True)
class DeclarationChange:
    """One change to a product's declaration as its public history shows it: what changed, when, and why."""

    declaration: Declaration
    at: datetime
    withdrawn: bool
    changes: tuple[tuple[str, str, str], ...]  # (what, before, after), in words
    reason: str


def _field_name(field: str) -> str:
    return str(getattr(Declaration._meta.get_field(field), "verbose_name", field))


def _in_words(field: str, value: Any) -> str:
    if value in (None, ""):
        return "none"
    choices = {"kind": Declaration.Kind, "topic": Declaration.Topic, "evidence_level": Declaration.EvidenceLevel}
    if field in choices:
        return str(dict(choices[field].choices).get(value, value))
    return str(value)


def declaration_history(*, product: Product) -> list[DeclarationChange]:
    """Every change to and withdrawal of the product's declarations, newest first, from the audit log: one query
    (two when the product does not come from product_detail).

    A risk that was withdrawn or softened stays visible as such, with the date and the reason given.
    """
    every = getattr(product, "declarations_all", None)
    declarations = {d.pk: d for d in (every if every is not None else Declaration.objects.filter(product=product))}
    if not declarations:
        return []
    entries = history_of(Declaration, declarations).filter(action__in=HISTORY_ACTIONS)
    history = [
        DeclarationChange(
            declaration=declarations[int(entry.target_id)],
            at=entry.at,
            withdrawn=entry.action == "declaration.withdrawn",
            changes=tuple(
                (_field_name(name), _in_words(name, before), _in_words(name, after))
                for name, (before, after) in entry.changes.items()
            ),
            reason=entry.reason,
        )
        for entry in entries
    ]
    return sorted(history, key=lambda change: change.at, reverse=True)
