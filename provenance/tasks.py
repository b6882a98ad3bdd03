"""Provenance background jobs."""

from celery import shared_task
from django.db import connection

from products.models import Supplier
from provenance.hashchain import chain_verified, chain_verify


@shared_task
def chains_verify_all() -> list[str]:
    """Re-verify every supplier's hash chain from scratch (nightly, from beat); returns the broken ones' slugs."""
    broken = []
    for supplier_id, slug in Supplier.objects.values_list("pk", "slug"):
        if not chain_verify(supplier_id=supplier_id).ok:
            broken.append(slug)
    return broken


@shared_task
def chain_head_verify(supplier_id: int) -> bool:
    """Verify a supplier's chain at its current head and cache the answer, so that pages need not (after a capture)."""
    return chain_verified(supplier_id=supplier_id)


@shared_task
def provenance_tables_analyze() -> None:
    """Refresh PostgreSQL's statistics of the event tables (after a bulk capture)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE provenance_traceevent, provenance_eventline")
