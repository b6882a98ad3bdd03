from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """The first response to a POST made with an Idempotency-Key, replayed to repeats of it (core.idempotency)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    response_status = models.PositiveSmallIntegerField()
    # JSON text rather than a JSONField: PostgreSQL's jsonb reorders keys, and a replay must be the same bytes.
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.response_status})"


class AuditEntry(models.Model):
    """One change that matters to trust, as the service that made it wrote it: who, when, what changed, and why.

    Append-only: the database refuses to change or delete a row (migration 0003). `supplier_id` says whose record it
    is (their members may read it); the target is named by content type and id, with its name at the time.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # No foreign-key constraint: a person may be erased, the record of what they did stays, under the name they had.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=200, blank=True, help_text="Who, as they were named then.")
    action = models.CharField(max_length=60, db_index=True, help_text="What happened, e.g. declaration.changed.")
    target_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=200, help_text="What it was about, as it was named then.")
    supplier_id = models.BigIntegerField(null=True, blank=True, db_index=True, help_text="Whose record this is.")
    changes = models.JSONField(default=dict, blank=True, help_text="Field → [before, after].")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}: {self.target_repr}"


class OutboxMessage(models.Model):
    """A task to run once the transaction that recorded it has committed (core.outbox)."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"  # committed, not yet handed to the broker (or waiting to be retried)
        SENT = "sent", "sent"  # handed to the broker, not yet done
        DONE = "done", "done"
        FAILED = "failed", "failed"  # raised OUTBOX_MAX_ATTEMPTS times: left for an operator

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times the work ran and raised.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now, help_text="When the relay may publish it (next).")
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "available_at"], name="outbox_state_available"),
            models.Index(fields=["state", "done_at"], name="outbox_state_done"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk} ({self.state})"
