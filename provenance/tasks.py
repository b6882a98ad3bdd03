"""Provenance background jobs."""

from celery import shared_task
from django.db import connection

from products.models import Supplier
from provenance import services


@shared_task
def chains_verify_all() -> list[str]:
    """Re-verify every supplier's hash chain from its first event and record the outcome on its head (nightly, from
    beat); returns the broken ones' slugs."""
    broken = [report.supplier_id for report in services.chain_heads_verify_all() if not report.ok]
    return list(Supplier.objects.filter(pk__in=broken).order_by("slug").values_list("slug", flat=True))


@shared_task
def chain_head_advance(supplier_id: int) -> int:
    """Verify the events a supplier recorded since its head was last advanced (after a capture, from the outbox);
    returns how far the chain is verified."""
    return services.chain_head_advance(supplier_id=supplier_id).verified_through


@shared_task
def provenance_tables_analyze() -> None:
    """Refresh PostgreSQL's statistics of the event tables (after a bulk capture)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE provenance_traceevent, provenance_eventline")
