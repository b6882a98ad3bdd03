"""Provenance background jobs."""

from celery import shared_task

from products.models import Supplier
from provenance.hashchain import chain_verify


@shared_task
def chains_verify_all() -> list[str]:
    """Re-verify every supplier's hash chain from scratch (nightly, from beat); returns the broken ones' slugs."""
    broken = []
    for supplier_id, slug in Supplier.objects.values_list("pk", "slug"):
        if not chain_verify(supplier_id=supplier_id).ok:
            broken.append(slug)
    return broken
