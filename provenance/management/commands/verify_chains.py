from typing import Any

from django.core.management.base import BaseCommand, CommandError

from products.models import Supplier
from provenance import services


class Command(BaseCommand):
    help = (
        "Re-verify every supplier's hash chain of trace events from its first event and record the outcome on its "
        "head, as the nightly task does (a passing verification is what clears a recorded break); exits with an "
        "error if any link is broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        reports = services.chain_heads_verify_all()
        slugs = dict(Supplier.objects.filter(pk__in=[r.supplier_id for r in reports]).values_list("pk", "slug"))
        broken = 0
        for report in sorted(reports, key=lambda report: slugs[report.supplier_id]):
            slug = slugs[report.supplier_id]
            if report.ok:
                self.stdout.write(f"{slug}: {report.through} events, chain verifies")
            else:
                broken += 1
                where = f"event {report.broken_at}" + (f" ({report.broken_event_id})" if report.broken_event_id else "")
                self.stdout.write(self.style.ERROR(f"{slug}: BROKEN at {where}: {report.reason}"))
        if broken:
            raise CommandError(f"{broken} supplier chain(s) do not verify.")
