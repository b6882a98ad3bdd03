"""Where the catalog's rows appear on public pages (core/pages.py): a product on its page and on its batches' pages,
a declaration on its product's, a batch on its own page and in its product's list, a supplier on all of theirs."""

from collections.abc import Iterable
from typing import Any

from core import pages
from products.models import Batch, Declaration, Product, Supplier


def product_page_id(product: Product) -> str:
    """The id of a product's public page: its URL's slugs, which the view knows without a query."""
    return f"{product.supplier.slug}/{product.slug}"


def _product_roots(product: Product) -> list[pages.Root]:
    return [("product", product.pk), ("product-page", product_page_id(product))]


def _product_changes(product: Product, before: Product | None) -> list[pages.Root]:
    if before is not None and before.gtin != product.gtin:
        return [("product-traces", product.pk)]  # its batches' identifiers, and so their lineage, change
    return []


def _batch_changes(batch: Batch, before: Batch | None) -> list[pages.Root]:
    if before is not None and (before.lot, before.product_id) != (batch.lot, batch.product_id):
        return [("batch-trace", batch.pk)]  # another identifier: another lineage
    return []


def _supplier_changed_status(supplier: Supplier, before: Supplier | None) -> bool:
    return before is not None and before.status != supplier.status


def _product_changed_publication(product: Product, before: Product | None) -> bool:
    return before is not None and before.is_public != product.is_public


def _declaration_is_safety_news(declaration: Declaration, before: Declaration | None) -> bool:
    """A risk, or any declaration withdrawn or brought back."""
    withdrawn_changed = before is not None and before.is_withdrawn != declaration.is_withdrawn
    return declaration.kind == Declaration.Kind.RISK or withdrawn_changed


@pages.expands("product")
def _product_batches(product_ids: set[Any]) -> Iterable[pages.Root]:
    for batch_id in Batch.objects.filter(product_id__in=product_ids).values_list("pk", flat=True):
        yield ("batch", batch_id)


@pages.expands("product-traces")
def _product_batch_traces(product_ids: set[Any]) -> Iterable[pages.Root]:
    for batch_id in Batch.objects.filter(product_id__in=product_ids).values_list("pk", flat=True):
        yield ("batch-trace", batch_id)


@pages.expands("product-page-of")
def _product_page(product_ids: set[Any]) -> Iterable[pages.Root]:
    for supplier_slug, slug in Product.objects.filter(pk__in=product_ids).values_list("supplier__slug", "slug"):
        yield ("product-page", f"{supplier_slug}/{slug}")


@pages.expands("supplier")
def _supplier_products(supplier_ids: set[Any]) -> Iterable[pages.Root]:
    for product_id in Product.objects.filter(supplier_id__in=supplier_ids).values_list("pk", flat=True):
        yield ("product", product_id)
        yield ("product-page-of", product_id)


def register() -> None:
    pages.shows(
        Supplier, roots=lambda supplier: [("supplier", supplier.pk)], safety=_supplier_changed_status, previous=True
    )
    pages.shows(
        Product, roots=_product_roots, changes=_product_changes, safety=_product_changed_publication, previous=True
    )
    pages.shows(
        Declaration,
        roots=lambda declaration: [("product", declaration.product_id), ("product-page-of", declaration.product_id)],
        safety=_declaration_is_safety_news,
        previous=True,
    )
    pages.shows(
        Batch,
        roots=lambda batch: [("batch", batch.pk), ("product-page-of", batch.product_id)],
        changes=_batch_changes,
        previous=True,
    )
