"""Hand the outbox's due messages to the broker now (beat does this every OUTBOX_RELAY_SECONDS).

For operations (after an outage, to not wait for beat) and for embedded mode, where no beat runs: there it runs the
pending work in this process.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core import outbox
from core.models import OutboxMessage


class Command(BaseCommand):
    help = "Send the outbox's pending messages to the broker (or run them, with no broker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=outbox.BATCH_SIZE)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        try:
            count = outbox.relay(batch_size=batch_size)
        except outbox.BrokerUnavailable as error:
            raise CommandError(f"The broker is unavailable ({error}); the messages stay pending.") from error
        waiting = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).count()
        failed = OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED).count()
        self.stdout.write(f"Relayed {count} message(s); {waiting} pending (waiting to retry), {failed} failed.")
