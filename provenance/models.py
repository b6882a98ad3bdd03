import uuid
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

from core import gs1
from products.models import Declaration, Supplier, effective_evidence_level


class Facility(models.Model):
    """A place where a supplier or its own suppliers grow, mine, make, store or ship things."""

    owner = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="facilities")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=60, blank=True, help_text="Farm, mine, mill, workshop, warehouse, port, …")
    address = models.TextField(blank=True)
    country = CountryField()
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )  # fmt: skip
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )  # fmt: skip
    gln = models.CharField("GLN", max_length=13, blank=True, validators=[gs1.gln_validate])
    open_supply_hub_id = models.CharField(
        "Open Supply Hub ID",
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]{6,20}$", "An Open Supply Hub ID has 6–20 capital letters and digits.")],
    )
    location_uri = models.CharField(
        max_length=512,
        unique=True,
        help_text="The identifier events use for this place (readPoint / bizLocation); from the GLN if there is one.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["owner", "name"]
        verbose_name_plural = "facilities"
        constraints = [
            models.CheckConstraint(
                # Both or neither: SQL lets a NULL pass a comparison, so each must be required explicitly.
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="facility_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country.name})"

    def clean(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError("Give both latitude and longitude, or neither.")


class Capture(models.Model):
    """One EPCIS document stored from /epcis/capture (or the dashboard): all or nothing, so every capture stored
    succeeded. A rejected one is rolled back and never stored; its errors go back in the response."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="captures")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    document_id = models.CharField(max_length=512, blank=True, help_text="The document's own `id`, if it has one.")
    context = models.JSONField(
        default=list, blank=True, help_text="The document's @context: its events' extension prefixes are defined there."
    )
    event_count = models.PositiveIntegerField(default=0, help_text="Events stored.")
    duplicate_count = models.PositiveIntegerField(default=0, help_text="Events already stored, skipped.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"capture {self.id}"


class TraceEvent(models.Model):
    """One EPCIS 2.0 event, append-only: the columns index it, `document` keeps it exactly as it came.

    Each supplier's events form a hash chain: `hash` covers the event's canonical JSON and the previous hash.
    """

    class Type(models.TextChoices):
        OBJECT = "ObjectEvent", "Object event"
        AGGREGATION = "AggregationEvent", "Aggregation event"
        TRANSACTION = "TransactionEvent", "Transaction event"
        TRANSFORMATION = "TransformationEvent", "Transformation event"
        ASSOCIATION = "AssociationEvent", "Association event"

    class Action(models.TextChoices):
        ADD = "ADD", "Add"
        OBSERVE = "OBSERVE", "Observe"
        DELETE = "DELETE", "Delete"

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="trace_events")
    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=512, unique=True)
    event_id_generated = models.BooleanField(default=False, help_text="True when the sender gave no eventID.")
    type = models.CharField(max_length=24, choices=Type.choices)
    action = models.CharField(max_length=8, choices=Action.choices, blank=True)
    event_time = models.DateTimeField(db_index=True)
    event_time_zone_offset = models.CharField(max_length=6)
    record_time = models.DateTimeField(default=timezone.now, db_index=True)
    biz_step = models.CharField(max_length=255, blank=True, db_index=True)
    disposition = models.CharField(max_length=255, blank=True)
    read_point = models.CharField(max_length=512, blank=True, db_index=True)
    biz_location = models.CharField(max_length=512, blank=True, db_index=True)
    transformation_id = models.CharField(max_length=512, blank=True, db_index=True)
    document = models.JSONField(help_text="The event exactly as captured, extensions included.")
    chain_index = models.PositiveIntegerField(help_text="Position in the supplier's hash chain, from 1.")
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["event_time", "id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "chain_index"], name="trace_event_chain_position_unique"),
        ]
        indexes = [models.Index(fields=["type", "event_time"])]

    def __str__(self) -> str:
        return f"{self.type} {self.biz_step or ''} at {self.event_time:%Y-%m-%d}".replace("  ", " ")


class ChainHead(models.Model):
    """How far a supplier's hash chain of events is verified, and where it breaks if it does: what pages read
    instead of hashing the chain (see provenance.hashchain). One per supplier that has events; written only by
    provenance.services."""

    supplier = models.OneToOneField(Supplier, on_delete=models.PROTECT, related_name="chain_head")
    verified_through = models.PositiveIntegerField(
        default=0, help_text="chain_index of the last event verified (0: none yet)."
    )
    verified_hash = models.CharField(
        max_length=64, help_text="The hash of that event, as verified: the next check starts from it."
    )
    verified_at = models.DateTimeField(null=True, blank=True, help_text="When the head last moved on.")
    fully_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the whole chain last verified from its first event (nightly)."
    )
    broken_at = models.PositiveIntegerField(
        null=True, blank=True, help_text="chain_index of the first event that does not verify."
    )
    broken_event_id = models.CharField(max_length=512, blank=True, help_text="Its eventID (empty if it is missing).")
    broken_reason = models.CharField(max_length=200, blank=True)
    broken_found_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["supplier"]
        verbose_name = "hash chain"
        constraints = [
            models.CheckConstraint(
                condition=Q(broken_at__isnull=True, broken_found_at__isnull=True, broken_reason="")
                | Q(broken_at__isnull=False, broken_found_at__isnull=False),
                name="chain_head_break_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"hash chain of {self.supplier}"

    def is_broken(self) -> bool:
        return self.broken_at is not None


class EventLine(models.Model):
    """An identifier an event touches, in a role, with a quantity where one was given: what lineage walks."""

    class Role(models.TextChoices):
        EPC = "epc", "Object (epcList / quantityList)"
        PARENT = "parent", "Parent (parentID)"
        CHILD = "child", "Child (childEPCs / childQuantityList)"
        INPUT = "input", "Input (inputEPCList / inputQuantityList)"
        OUTPUT = "output", "Output (outputEPCList / outputQuantityList)"

    event = models.ForeignKey(TraceEvent, on_delete=models.PROTECT, related_name="lines")
    role = models.CharField(max_length=8, choices=Role.choices)
    identifier = models.CharField(max_length=512, help_text="Canonical form (GS1 Digital Link on id.gs1.org).")
    is_class = models.BooleanField(default=False)
    quantity = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    uom = models.CharField(max_length=8, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["identifier", "role"]),
            models.Index(fields=["event", "role"]),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.identifier}"


class ErrorDeclaration(models.Model):
    """An EPCIS error declaration: the event stays, marked as erroneous, with the reason and its corrections."""

    event = models.ForeignKey(TraceEvent, on_delete=models.PROTECT, related_name="error_declarations")
    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="error_declarations")
    declaration_time = models.DateTimeField()
    reason = models.CharField(max_length=255, blank=True)
    corrective_event_ids = models.JSONField(default=list, blank=True)
    document = models.JSONField(help_text="The errorDeclaration object as captured, extensions included.")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["declaration_time", "id"]

    def __str__(self) -> str:
        return f"error declared on {self.event.event_id}"


class Evidence(models.Model):
    """A document or URL that backs a claim: a certificate, an audit, a lab test, a contract."""

    owner = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="evidence")
    title = models.CharField(max_length=200)
    issuer = models.CharField(max_length=200, help_text="Who issued it: a certifier, a lab, an auditor, yourselves.")
    scheme = models.CharField(max_length=120, blank=True, help_text="Fairtrade, GOTS, EU Organic, ISO 17025, …")
    url = models.URLField(blank=True)
    document = models.FileField(upload_to="evidence/", blank=True)
    sha256 = models.CharField(
        "SHA-256",
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^[0-9a-f]{64}$", "A SHA-256 is 64 lower-case hexadecimal characters.")],
        help_text="Of the document; computed from an upload.",
    )
    level = models.CharField(
        max_length=24,
        choices=[(c, label) for c, label in Declaration.EvidenceLevel.choices if c not in ("expired", "revoked")],
        default=Declaration.EvidenceLevel.DOCUMENTED,
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    events = models.ManyToManyField(TraceEvent, blank=True, related_name="evidence")
    declarations = models.ManyToManyField(Declaration, blank=True, related_name="evidence")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["owner", "title"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(condition=~Q(url="") | ~Q(document=""), name="evidence_has_url_or_document"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="evidence_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.issuer})"

    def effective_level(self, today: date | None = None) -> str:
        """Its level as shown: revoked or expired when it is, else the level recorded."""
        return effective_evidence_level(
            self.level, revoked=self.revoked_at is not None, valid_until=self.valid_until, today=today
        )

    def status(self, today: date | None = None) -> str:
        """revoked, expired, not_yet_valid or valid."""
        today = today or timezone.localdate()
        level = self.effective_level(today)
        if level in (Declaration.EvidenceLevel.REVOKED, Declaration.EvidenceLevel.EXPIRED):
            return str(level)
        if self.valid_from and self.valid_from > today:
            return "not_yet_valid"
        return "valid"
