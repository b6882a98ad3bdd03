import secrets
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField
from stdnum import vatin

from core import gs1


def internal_ref_new() -> str:
    """A short, unguessable identifier for products that have no GTIN (resolved under /p/<ref>)."""
    return "".join(secrets.choice(gs1.INTERNAL_REF_ALPHABET) for _ in range(gs1.INTERNAL_REF_LENGTH))


def vat_validate(value: str) -> None:
    if not vatin.is_valid(value):
        raise ValidationError(
            "This is not a valid VAT number; give it with its country prefix, e.g. DE136695976.", code="vat_invalid"
        )


class Supplier(models.Model):
    """A business that sells on the network. Its status is set by the network's enforcement, never by itself."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RESTRICTED = "restricted", "Restricted"
        SUSPENDED = "suspended", "Suspended"

    legal_name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    country = CountryField()
    description = models.TextField(blank=True)
    gln = models.CharField(
        "GLN", max_length=13, blank=True, validators=[gs1.gln_validate], help_text="GS1 Global Location Number."
    )
    open_supply_hub_id = models.CharField(
        "Open Supply Hub ID",
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]{6,20}$", "An Open Supply Hub ID has 6–20 capital letters and digits.")],
    )
    vat_number = models.CharField("VAT number", max_length=20, blank=True, validators=[vat_validate])
    public_email = models.EmailField(blank=True, help_text="Where shoppers can reach you.")
    website = models.URLField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(blank=True, help_text="Why the status was last changed; shown on public pages.")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["legal_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "restricted", "suspended"]), name="supplier_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class SupplierMember(models.Model):
    """A user working for a supplier. Owners manage everything, editors the catalog; viewers only read."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supplier_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["supplier", "user"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "user"], name="supplier_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.supplier}"

    @property
    def can_edit(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.EDITOR)


class ProductQuerySet(models.QuerySet["Product"]):
    def public(self) -> "ProductQuerySet":
        """Products shoppers can see: published (which required a declared risk and benefit)."""
        return self.filter(published_at__isnull=False)


class Product(models.Model):
    class Category(models.TextChoices):
        FOOD = "food", "Food and drink"
        TEXTILE = "textile", "Textiles and clothing"
        HOUSEHOLD = "household", "Household goods"
        PERSONAL_CARE = "personal_care", "Personal care"
        ELECTRONICS = "electronics", "Electronics"
        OTHER = "other", "Other"

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=80, blank=True, help_text="Part of the page address; made from the name if left empty."
    )
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    gtin = models.CharField(
        "GTIN",
        max_length=14,
        unique=True,
        null=True,
        blank=True,
        help_text="GTIN-8, -12, -13 or -14; stored as 14 digits. Leave empty if the product has none.",
    )
    internal_ref = models.CharField(max_length=10, unique=True, default=internal_ref_new, editable=False)
    image = models.ImageField(upload_to="products/", blank=True)
    use = models.TextField("use", blank=True, help_text="What it is for and how to use it well.")
    care = models.TextField("care", blank=True, help_text="How to keep it, store it, clean it.")
    repair = models.TextField("repair", blank=True, help_text="How it can be mended, and where.")
    end_of_life = models.TextField("end of life", blank=True, help_text="What to do with it when it is used up.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_published_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it was first public: its batches' codes may be printed."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "slug"], name="product_slug_unique_per_supplier"),
            models.CheckConstraint(
                condition=Q(gtin__isnull=True) | Q(gtin__regex=r"^[0-9]{14}$"), name="product_gtin_14_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("storefront:product", kwargs={"supplier_slug": self.supplier.slug, "product_slug": self.slug})

    def clean(self) -> None:
        if self.gtin:
            try:
                self.gtin = gs1.gtin_normalize(self.gtin)
            except ValidationError as error:
                raise ValidationError({"gtin": error}) from None
        else:
            self.gtin = None

    @property
    def is_public(self) -> bool:
        return self.published_at is not None

    @property
    def was_ever_public(self) -> bool:
        """Whether shoppers may have seen it (and its batches' QR codes may be printed)."""
        return self.first_published_at is not None or self.published_at is not None

    @property
    def has_fit_text(self) -> bool:
        return any((self.use, self.care, self.repair, self.end_of_life))


class DeclarationQuerySet(models.QuerySet["Declaration"]):
    def current(self) -> "DeclarationQuerySet":
        """Declarations in force: not withdrawn (withdrawn ones stay, as the product's public history)."""
        return self.filter(withdrawn_at__isnull=True)


class Declaration(models.Model):
    """A risk or a benefit of a product, with how well it is evidenced. Risks and benefits weigh the same.

    Never deleted: a withdrawn declaration stays, with the date and the reason, in the product's public history.
    """

    class Kind(models.TextChoices):
        RISK = "risk", "Risk"
        BENEFIT = "benefit", "Benefit"

    class Topic(models.TextChoices):
        HEALTH = "health", "Health"
        ENVIRONMENT = "environment", "Environment"
        CLIMATE = "climate", "Climate"
        LABOUR = "labour", "Labour"
        SAFETY = "safety", "Safety"
        ANIMAL_WELFARE = "animal_welfare", "Animal welfare"
        COMMUNITY = "community", "Community"
        OTHER = "other", "Other"

    class EvidenceLevel(models.TextChoices):
        SELF_DECLARED = "self_declared", "Self-declared"
        DOCUMENTED = "documented", "Documented"
        THIRD_PARTY_VERIFIED = "third_party_verified", "Verified by a third party"
        EXPIRED = "expired", "Evidence expired"
        REVOKED = "revoked", "Evidence revoked"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="declarations")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    topic = models.CharField(max_length=20, choices=Topic.choices)
    statement = models.TextField(validators=[MaxLengthValidator(1000)])
    evidence_level = models.CharField(max_length=24, choices=EvidenceLevel.choices, default=EvidenceLevel.SELF_DECLARED)
    evidence_url = models.URLField(
        "evidence link", blank=True, help_text="Required for documented and third-party verified declarations."
    )
    valid_until = models.DateField(null=True, blank=True, help_text="When the evidence runs out, if it does.")
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeclarationQuerySet.as_manager()

    class Meta:
        ordering = ["product", "kind", "topic", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["risk", "benefit"]), name="declaration_kind_valid"),
            models.CheckConstraint(
                condition=~Q(evidence_level__in=["documented", "third_party_verified"]) | ~Q(evidence_url=""),
                name="declaration_evidence_has_link",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.statement[:60]}"

    def clean(self) -> None:
        if self.evidence_level in (self.EvidenceLevel.DOCUMENTED, self.EvidenceLevel.THIRD_PARTY_VERIFIED) and (
            not self.evidence_url
        ):
            raise ValidationError(
                {"evidence_url": "A documented or third-party verified declaration needs a link to its evidence."}
            )

    def effective_evidence_level(self, today: date | None = None) -> str:
        """The level to show (see effective_evidence_level below)."""
        return effective_evidence_level(self.evidence_level, valid_until=self.valid_until, today=today)

    def effective_evidence_label(self) -> str:
        return self.EvidenceLevel(self.effective_evidence_level()).label

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


def effective_evidence_level(
    level: str, *, revoked: bool = False, valid_until: date | None = None, today: date | None = None
) -> str:
    """The evidence level to show for a recorded one: revoked beats expired beats the recorded level.

    The one rule for declarations and for the evidence behind trace events (provenance.models.Evidence).
    """
    levels = Declaration.EvidenceLevel
    if revoked or level == levels.REVOKED:
        return levels.REVOKED
    if level == levels.EXPIRED or (valid_until is not None and valid_until < (today or timezone.localdate())):
        return levels.EXPIRED
    return level


class Batch(models.Model):
    """A production lot of a product (GS1 AI 10): what a QR code on a pack points at."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    lot = models.CharField(max_length=gs1.LOT_MAX_LENGTH, validators=[gs1.lot_validate])
    produced_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="Best-before or expiry date, if any.")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)], help_text="Units produced.")
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["product", "-produced_on", "lot"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(fields=["product", "lot"], name="batch_lot_unique_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="batch_quantity_positive"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("produced_on")),
                name="batch_expires_after_produced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} — lot {self.lot}"

    def clean(self) -> None:
        if self.expires_on and self.produced_on and self.expires_on < self.produced_on:
            raise ValidationError({"expires_on": "The expiry date cannot be before the production date."})

    def is_expired(self, today: date | None = None) -> bool:
        return bool(self.expires_on and self.expires_on < (today or timezone.localdate()))

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
