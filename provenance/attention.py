"""What in provenance needs a supplier's attention, for the dashboard's home (see core.dashboard).

- evidence behind a public product's declaration that runs out within products.attention.EXPIRY_NOTICE, has run
  out, or was revoked;
- batches that no trace event names, so their page cannot say where they came from; batches of a product without
  a GTIN cannot be named by an event at all (their identifier is the GS1 Digital Link of GTIN and lot);
- a supplier's hash chain that does not verify, as its head records it (see provenance.hashchain).

Each runs two or three queries, whatever the number of suppliers, batches or events.
"""

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from core.access import Access
from core.dashboard import AttentionItem, readable_rows
from products.attention import EXPIRY_NOTICE, day_text
from products.models import Batch, Declaration, Product
from provenance.lineage import _any_of, batch_identifier
from provenance.models import ChainHead, EventLine, Evidence, TraceEvent

NAMED_DECLARATIONS = 3  # an item names this many of the public declarations its evidence backs


def evidence_running_out(access: Access) -> Iterator[AttentionItem]:
    """Evidence behind public declarations that expires within EXPIRY_NOTICE, has expired or was revoked."""
    today = timezone.localdate()
    public = Declaration.objects.filter(product__published_at__isnull=False)
    backs_public = Evidence.declarations.through.objects.filter(
        evidence_id=OuterRef("pk"), declaration__product__published_at__isnull=False
    )
    evidence = (
        readable_rows(Evidence.objects.all(), access, "owner")
        .filter(Exists(backs_public))
        .filter(Q(revoked_at__isnull=False) | Q(valid_until__lte=today + EXPIRY_NOTICE))
        .select_related("owner")
        .prefetch_related(
            Prefetch(
                "declarations",
                queryset=public.select_related("product").order_by("product__name", "kind", "id"),
                to_attr="public_declarations",
            )
        )
    )
    for item in evidence:
        if item.revoked_at:
            since, state = item.revoked_at, "was revoked"
        else:
            since = item.valid_until - EXPIRY_NOTICE
            state = f"{'expired' if item.valid_until < today else 'expires'} on {day_text(item.valid_until)}"
        backed = item.public_declarations
        named = ", ".join(f"{d.product.name} ({d.get_kind_display().lower()})" for d in backed[:NAMED_DECLARATIONS])
        more = f" and {len(backed) - NAMED_DECLARATIONS} more" if len(backed) > NAMED_DECLARATIONS else ""
        shown = "Shoppers see them as revoked" if item.revoked_at else "Shoppers see them as expired once it has"
        yield AttentionItem(
            since=since,
            title=f"{item.title} ({item.issuer}) {state}",
            detail=f"It backs {_declarations(len(backed))} of public products: {named}{more}. {shown}; "
            "record the renewed evidence and link it to them.",
            url=reverse("admin:provenance_evidence_change", args=[item.pk]),
            supplier_id=item.owner_id,
            supplier_name=item.owner.legal_name,
            action="Review the evidence",
        )


def batches_without_events(access: Access) -> Iterator[AttentionItem]:
    """Batches no trace event names (events declared erroneous do not count); for a product without a GTIN, one
    item saying that its batches cannot have events until it has one."""
    batches = readable_rows(
        Batch.objects.filter(archived_at__isnull=True).select_related("product__supplier"), access, "product__supplier"
    )
    identified: dict[str, Batch] = {}
    untraceable: dict[Product, list[Batch]] = defaultdict(list)
    for batch in batches.order_by("created_at", "pk"):
        identifier = batch_identifier(batch)
        if identifier is None:
            untraceable[batch.product].append(batch)
        else:
            identified[identifier] = batch
    traced = set()
    if identified:
        lines = EventLine.objects.filter(identifier__in=_any_of(identified), event__error_declarations__isnull=True)
        traced = set(lines.values_list("identifier", flat=True).distinct())
    event_add = reverse("admin:provenance_traceevent_add")
    for identifier, batch in identified.items():
        if identifier in traced:
            continue
        supplier_id = batch.product.supplier_id
        if access.can_edit(supplier_id):
            url, action = f"{event_add}?output_batch={batch.pk}", "Record an event"
        else:  # a viewer cannot record one: the batch's page, to read
            url, action = reverse("admin:products_batch_change", args=[batch.pk]), "See the batch"
        yield AttentionItem(
            since=batch.created_at,
            title=f"{batch.product.name}, lot {batch.lot} has no trace events",
            detail="Its page cannot say where it came from. Record the harvest or transformation that made it, "
            "or its receipt.",
            url=url,
            supplier_id=supplier_id,
            supplier_name=batch.product.supplier.legal_name,
            action=action,
        )
    for product, product_batches in untraceable.items():
        lots = ", ".join(batch.lot for batch in product_batches[:NAMED_DECLARATIONS])
        if len(product_batches) > NAMED_DECLARATIONS:
            lots += f" and {len(product_batches) - NAMED_DECLARATIONS} more"
        count = len(product_batches)
        yield AttentionItem(
            since=product_batches[0].created_at,
            title=f"{product.name} has no GTIN: its {'batch' if count == 1 else f'{count} batches'} cannot have "
            "trace events",
            detail=f"Events name a batch by its product's GTIN and lot ({lots}). Give the product its GTIN.",
            url=reverse("admin:products_product_change", args=[product.pk]),
            supplier_id=product.supplier_id,
            supplier_name=product.supplier.legal_name,
            action="Give it a GTIN",
        )


def chains_not_verifying(access: Access) -> Iterator[AttentionItem]:
    """Suppliers whose hash chain of trace events does not verify (an event stored was changed or removed), as their
    chain's head records it: one query, nothing hashed."""
    event = TraceEvent.objects.filter(event_id=OuterRef("broken_event_id")).values("pk")[:1]
    heads = (
        readable_rows(ChainHead.objects.filter(broken_at__isnull=False), access, "supplier")
        .select_related("supplier")
        .annotate(event_pk=Subquery(event))
    )
    for head in heads.order_by("supplier__legal_name"):
        yield AttentionItem(
            since=head.broken_found_at,
            title=f"The hash chain of {head.supplier.legal_name}'s trace events does not verify",
            detail=f"It breaks at event #{head.broken_at}: {head.broken_reason}. Public pages of its batches say the "
            "chain is broken. Stored events are never edited: tell the network's operators.",
            url=reverse("admin:provenance_traceevent_change", args=[head.event_pk])
            if head.event_pk
            else reverse("admin:provenance_chainhead_change", args=[head.pk]),
            supplier_id=head.supplier_id,
            supplier_name=head.supplier.legal_name,
            action="See the event",
        )


def _declarations(count: int) -> str:
    return "1 declaration" if count == 1 else f"{count} declarations"
