"""Sales paid in credits, recorded in provenance: the project maps an order to provenance's sale_record.

purchases does not import provenance, nor provenance purchases: once an order's credits are paid to the supplier,
purchases runs each function of `purchases.services.credit_sale_recorders` with the order's id (from a task, after
commit), and socialbiz/apps.py puts `credit_sale_record` there. The sale becomes a TransactionEvent in the
supplier's chain that names the network as guarantor, so the network's responsibility is part of the product's
chain (and of each batch's EPCIS export).

The buyer is named by a pseudonym of their own for each order: an HMAC of the buyer and the order under the
project's SECRET_KEY. No one can tell from the public record who bought, or link one person's purchases together;
the network can work out from its own data which of its members an event names (to answer a dispute, say).
"""

import logging
import uuid

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

from network_credits import services as ledger
from network_credits.models import Account
from provenance.lineage import batch_identifier
from provenance.services import Guarantor, sale_record
from purchases.models import Means, Order

logger = logging.getLogger(__name__)

NETWORK_NAME = "socialbiz network"


def buyer_pseudonym(order: Order) -> str:
    """A URN that stands for the order's buyer in the public record: the same for this order, unlinkable to others."""
    digest = salted_hmac("socialbiz.credit_sales.buyer", f"{order.buyer_id}/{order.pk}", algorithm="sha256").digest()
    return f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=4)}"


def network_guarantor() -> Guarantor:
    """The network, as guarantor of what is bought with its credits: its site, its name, its guarantee fund."""
    fund = ledger.system_account(Account.System.GUARANTEE_FUND)
    return Guarantor(party=f"{settings.SITE_URL.rstrip('/')}/", name=NETWORK_NAME, fund=fund.number)


def credit_sale_record(order_id: int) -> None:
    """Record a sale paid in credits in its supplier's chain, once (the event's id is derived from the order's URL).
    Nothing to record: not a paid credit order, or none of its batches has a GS1 identifier (what provenance names
    batches by)."""
    order = (
        Order.objects.select_related("supplier")
        .prefetch_related("lines__batch__product")
        .filter(pk=order_id, payment=Means.CREDITS, paid_at__isnull=False)
        .first()
    )
    if order is None or order.paid_at is None:
        return
    lines = [(identifier, line.quantity) for line in order.lines.all() if (identifier := batch_identifier(line.batch))]
    if not lines:
        logger.info("Order %s: no batch with a GS1 identifier, so no sale to record in provenance.", order.pk)
        return
    site = settings.SITE_URL.rstrip("/")
    sale_record(
        supplier=order.supplier,
        lines=lines,
        biz_transaction=site + order.get_absolute_url(),
        when=order.paid_at,
        buyer=buyer_pseudonym(order),
        guarantor=network_guarantor(),
        supplier_url=site + reverse("api:supplier-detail", kwargs={"slug": order.supplier.slug}),
    )
