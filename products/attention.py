"""What in the catalog needs a supplier's attention, for the dashboard's home (see core.dashboard).

- a draft product that lacks a risk or a benefit, and so cannot be published;
- a declaration of a public product whose evidence runs out within EXPIRY_NOTICE (or has run out, or is marked
  revoked): shoppers see it as expired the day after `valid_until`.

One query each, whatever the number of products.
"""

from collections.abc import Iterator
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import dateformat, timezone

from core.access import Access
from core.dashboard import AttentionItem, readable_rows
from products.models import Declaration, Product

# How long before evidence runs out the dashboard starts to say so: time to renew a certificate or an audit.
EXPIRY_NOTICE = timedelta(days=30)


def product_declarations_url(product_id: int) -> str:
    """The product's dashboard page, at its declarations."""
    return reverse("admin:products_product_change", args=[product_id]) + "#declarations-group"


def drafts_missing_a_declaration(access: Access) -> Iterator[AttentionItem]:
    """Draft products that declare no risk or no benefit: the publication gate keeps them off public view."""
    declared = Declaration.objects.filter(product=OuterRef("pk"))
    products = (
        readable_rows(Product.objects.filter(published_at__isnull=True), access, "supplier")
        .annotate(
            has_risk=Exists(declared.filter(kind=Declaration.Kind.RISK)),
            has_benefit=Exists(declared.filter(kind=Declaration.Kind.BENEFIT)),
        )
        .filter(Q(has_risk=False) | Q(has_benefit=False))
        .select_related("supplier")
    )
    for product in products:
        if not (product.has_risk or product.has_benefit):
            missing, action = "neither a risk nor a benefit", "Add a risk and a benefit"
        elif not product.has_risk:
            missing, action = "no risk", "Add a risk"
        else:
            missing, action = "no benefit", "Add a benefit"
        yield AttentionItem(
            since=product.created_at,
            title=f"{product.name} cannot be published yet",
            detail=f"It declares {missing}. A product goes public only with at least one of each, shown side by side.",
            url=product_declarations_url(product.pk),
            supplier_id=product.supplier_id,
            supplier_name=product.supplier.legal_name,
            action=action,
        )


def public_declarations_running_out(access: Access) -> Iterator[AttentionItem]:
    """Declarations of public products whose own validity ends within EXPIRY_NOTICE or has ended, or whose evidence
    is recorded as expired or revoked."""
    today = timezone.localdate()
    lapsed = (Declaration.EvidenceLevel.EXPIRED, Declaration.EvidenceLevel.REVOKED)
    declarations = (
        readable_rows(Declaration.objects.filter(product__published_at__isnull=False), access, "product__supplier")
        .filter(Q(valid_until__lte=today + EXPIRY_NOTICE) | Q(evidence_level__in=lapsed))
        .select_related("product__supplier")
    )
    for declaration in declarations:
        product, kind = declaration.product, declaration.get_kind_display().lower()
        valid_until = declaration.valid_until
        if declaration.evidence_level == Declaration.EvidenceLevel.REVOKED:
            since, state = declaration.updated_at, "is shown with its evidence revoked"
        elif valid_until is not None and valid_until <= today + EXPIRY_NOTICE:
            since = valid_until - EXPIRY_NOTICE
            state = f"{'expired' if valid_until < today else 'expires'} on {day_text(valid_until)}"
        else:  # recorded as expired, whatever its date says
            since, state = declaration.updated_at, "is shown with its evidence expired"
        yield AttentionItem(
            since=since,
            title=f"A {kind} of {product.name} {state}",
            detail=f"“{_excerpt(declaration.statement)}” Renew its evidence and its date, or change the declaration.",
            url=product_declarations_url(product.pk),
            supplier_id=product.supplier_id,
            supplier_name=product.supplier.legal_name,
            action="Update the declaration",
        )


def day_text(day: date) -> str:
    """A date as the dashboard writes it: 1 Dec 2026."""
    return dateformat.format(day, "j M Y")


def _excerpt(text: str, length: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
