"""Reads of the catalog that pages, the dashboard and the API share; they decide the queries."""

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from products.models import Batch, Declaration, Product, SupplierMember


def is_operator(user: User) -> bool:
    """Network operators are the platform's staff."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def member_supplier_ids(user: User, *, editable: bool = False) -> set[int]:
    """The suppliers a user works for; with editable=True only those where they may change the catalog."""
    if not (user.is_authenticated and user.is_active):
        return set()
    memberships = SupplierMember.objects.filter(user=user)
    if editable:
        memberships = memberships.filter(role__in=[SupplierMember.Role.OWNER, SupplierMember.Role.EDITOR])
    return set(memberships.values_list("supplier_id", flat=True))


def product_list_public() -> QuerySet[Product]:
    """Public products for the home page, each with its supplier and counts of risks, benefits and batches."""
    return (
        Product.objects.public()
        .select_related("supplier")
        .annotate(
            risk_count=Count("declarations", filter=Q(declarations__kind=Declaration.Kind.RISK), distinct=True),
            benefit_count=Count("declarations", filter=Q(declarations__kind=Declaration.Kind.BENEFIT), distinct=True),
            batch_count=Count("batches", distinct=True),
        )
        .order_by("-published_at", "name")
    )


def product_detail(*, supplier_slug: str, product_slug: str, viewer: User) -> Product | None:
    """A product with everything its page shows; unpublished ones only for its members and operators."""
    product = (
        Product.objects.select_related("supplier")
        .prefetch_related(
            Prefetch("declarations", queryset=Declaration.objects.order_by("topic", "id")),
            Prefetch("batches", queryset=Batch.objects.order_by("-produced_on", "lot")),
        )
        .filter(supplier__slug=supplier_slug, slug=product_slug)
        .first()
    )
    if product is None:
        return None
    if product.is_public or is_operator(viewer) or product.supplier_id in member_supplier_ids(viewer):
        return product
    return None
