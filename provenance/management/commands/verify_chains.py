from typing import Any

from django.core.management.base import BaseCommand, CommandError

from products.models import Supplier
from provenance.hashchain import chain_verify


class Command(BaseCommand):
    help = "Re-verify every supplier's hash chain of trace events; exits with an error if any link is broken."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = 0
        for supplier in Supplier.objects.order_by("slug"):
            report = chain_verify(supplier_id=supplier.pk)
            if report.ok:
                self.stdout.write(f"{supplier.slug}: {report.length} events, chain verifies")
            else:
                broken += 1
                where = f"event {report.broken_at} ({report.broken_event_id})"
                self.stdout.write(self.style.ERROR(f"{supplier.slug}: BROKEN at {where}: {report.reason}"))
        if broken:
            raise CommandError(f"{broken} supplier chain(s) do not verify.")
