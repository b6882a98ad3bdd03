"""Offers, stock, the supplier's calendar and terms of sale, orders and their settlement, disputes and the guarantee.

Money is an integer of the smallest unit: minor units of an ISO 4217 currency for cash (purchases/money.py), and
hundredths of a credit for credits. Facilities live in provenance, which purchases does not import: a window or an
order names its facility by id, and an order keeps the place's name and address as they were when it was placed.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from network_credits.models import Hold, Transfer
from products.models import Batch, Declaration, Product, Supplier, effective_evidence_level
from purchases import money

CURRENCY_CODE = RegexValidator(r"^[A-Z]{3}$", "A currency is its three-letter ISO 4217 code, such as EUR.")


class Means(models.TextChoices):
    CASH = "cash", "Cash"
    CREDITS = "credits", "Network credits"


class Method(models.TextChoices):
    PICKUP = "pickup", "Pick-up"
    DELIVERY = "delivery", "Delivery"


def currency_validate(value: str) -> None:
    CURRENCY_CODE(value)
    if not money.is_currency(value):
        raise ValidationError(f"{value} is not an ISO 4217 currency.", code="currency_unknown")


class Offer(models.Model):
    """A product (every batch of it) or one batch for sale, at a price in hard currency and/or in credits.

    A batch's own offer, if any, takes the place of its product's."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="offers")
    batch = models.ForeignKey(
        Batch,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="offers",
        help_text="Leave empty to offer every batch.",
    )
    price = models.PositiveBigIntegerField(
        "price in hard currency", null=True, blank=True, help_text="In the currency's minor units (cents for EUR)."
    )
    currency = models.CharField(max_length=3, blank=True, validators=[currency_validate])
    price_credits = models.PositiveBigIntegerField(
        "price in credits", null=True, blank=True, help_text="In hundredths of a credit."
    )
    active = models.BooleanField(default=True, help_text="Untick to stop selling without losing the prices.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "batch"]
        constraints = [
            models.UniqueConstraint(fields=["product"], condition=Q(batch__isnull=True), name="offer_one_per_product"),
            models.UniqueConstraint(fields=["batch"], condition=Q(batch__isnull=False), name="offer_one_per_batch"),
            models.CheckConstraint(
                condition=Q(price__isnull=False) | Q(price_credits__isnull=False), name="offer_has_a_price"
            ),
            models.CheckConstraint(
                condition=(Q(price__isnull=True) & Q(currency="")) | (Q(price__gt=0) & ~Q(currency="")),
                name="offer_cash_price_has_currency",
            ),
            models.CheckConstraint(
                condition=Q(price_credits__isnull=True) | Q(price_credits__gt=0), name="offer_credit_price_positive"
            ),
        ]

    def __str__(self) -> str:
        what = f"lot {self.batch.lot}" if self.batch_id and self.batch else str(self.product)
        return f"Offer: {what}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.price is None and self.price_credits is None:
            errors["price"] = "Give a price in hard currency, in credits, or both."
        if self.price is not None and not self.currency:
            errors["currency"] = "A price in hard currency needs its currency."
        if self.price is None and self.currency:
            self.currency = ""
        if self.price == 0:
            errors["price"] = "A price is more than zero."
        if self.price_credits == 0:
            errors["price_credits"] = "A price is more than zero."
        if self.batch is not None and self.product_id and self.batch.product_id != self.product_id:
            errors["batch"] = "This batch is of another product."
        if errors:
            raise ValidationError(errors)

    def price_in(self, means: str) -> int | None:
        return self.price if means == Means.CASH else self.price_credits


class Stock(models.Model):
    """How many units of a batch orders have taken: held by open orders, or sold. Locked by every checkout."""

    batch = models.OneToOneField(Batch, on_delete=models.CASCADE, primary_key=True, related_name="stock")
    held = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(held__gte=0), name="stock_held_not_negative")]

    def __str__(self) -> str:
        return f"{self.batch}: {self.held} held"


class SalesTerms(models.Model):
    """A supplier's terms of sale: delivery fees, dispatch time, how to pay it in cash."""

    supplier = models.OneToOneField(Supplier, on_delete=models.CASCADE, related_name="sales_terms")
    delivers = models.BooleanField(default=True, help_text="Whether you deliver at all (pick-up is always possible).")
    currency = models.CharField(max_length=3, default="EUR", validators=[currency_validate])
    delivery_flat = models.PositiveBigIntegerField(default=0, help_text="Per delivery, in minor units.")
    delivery_per_item = models.PositiveBigIntegerField(default=0, help_text="Per unit delivered, in minor units.")
    delivery_free_above = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Orders of at least this much (minor units) are delivered free."
    )
    delivery_flat_credits = models.PositiveBigIntegerField(default=0, help_text="In hundredths of a credit.")
    delivery_per_item_credits = models.PositiveBigIntegerField(default=0, help_text="In hundredths of a credit.")
    delivery_free_above_credits = models.PositiveBigIntegerField(null=True, blank=True)
    dispatch_hours = models.PositiveIntegerField(
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text="An order for 'now' is ready or dispatched within this many hours, or it is cancelled.",
    )
    payment_instructions = models.TextField(
        blank=True,
        help_text="How buyers pay by card or bank transfer (a payment link, your IBAN). Never ask for card numbers.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "sales terms"

    def __str__(self) -> str:
        return f"Sales terms of {self.supplier}"

    def delivery_fee(self, *, means: str, subtotal: int, units: int) -> int:
        """The delivery fee for an order of `units` worth `subtotal`, in the means' smallest unit."""
        if means == Means.CASH:
            flat, per_item, free_above = self.delivery_flat, self.delivery_per_item, self.delivery_free_above
        else:
            flat, per_item, free_above = (
                self.delivery_flat_credits,
                self.delivery_per_item_credits,
                self.delivery_free_above_credits,
            )
        if free_above is not None and subtotal >= free_above:
            return 0
        return flat + per_item * units


class Window(models.Model):
    """A weekly pick-up or delivery window at one of the supplier's facilities, with its order cut-off."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="windows")
    method = models.CharField(max_length=8, choices=Method.choices)
    facility_id = models.PositiveBigIntegerField(
        "facility", help_text="Where buyers pick up, or where deliveries leave from."
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    cutoff_hours = models.PositiveIntegerField(
        default=24,
        validators=[MaxValueValidator(24 * 14)],
        help_text="Orders for this window close this many hours before it starts.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["supplier", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="window_ends_after_start"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="window_weekday_valid"),
            models.CheckConstraint(condition=Q(method__in=["pickup", "delivery"]), name="window_method_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "A window ends after it starts."})


class Closure(models.Model):
    """A day the supplier takes no pick-ups or deliveries (a holiday), whatever its windows say."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="closures")
    day = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["supplier", "day"]
        constraints = [models.UniqueConstraint(fields=["supplier", "day"], name="closure_once_per_day")]

    def __str__(self) -> str:
        return f"{self.supplier} closed on {self.day}"


class PriceSplit(models.Model):
    """Where a product's price goes along its chain, as the supplier declares it, with its evidence like any claim."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="price_split")
    producers = models.PositiveSmallIntegerField("raw-material producers %", validators=[MaxValueValidator(100)])
    processing = models.PositiveSmallIntegerField("processing %", validators=[MaxValueValidator(100)])
    transport = models.PositiveSmallIntegerField("transport %", validators=[MaxValueValidator(100)])
    retail = models.PositiveSmallIntegerField("retail and the supplier %", validators=[MaxValueValidator(100)])
    evidence_level = models.CharField(
        max_length=24,
        choices=[
            (value, label) for value, label in Declaration.EvidenceLevel.choices if value not in ("expired", "revoked")
        ],
        default=Declaration.EvidenceLevel.SELF_DECLARED,
    )
    evidence_url = models.URLField("evidence link", blank=True)
    valid_until = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="How the shares were worked out.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(producers__lte=100, processing__lte=100, transport__lte=100, retail__lte=100),
                name="price_split_shares_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Price split of {self.product}"

    def clean(self) -> None:
        total = sum(v or 0 for v in (self.producers, self.processing, self.transport, self.retail))
        if total != 100:
            raise ValidationError(f"The shares add up to {total} %; they must add up to 100 %.")
        if self.evidence_level != Declaration.EvidenceLevel.SELF_DECLARED and not self.evidence_url:
            raise ValidationError({"evidence_url": "Documented or verified shares need a link to their evidence."})

    def shares(self) -> list[tuple[str, int]]:
        return [
            ("Raw-material producers", self.producers),
            ("Processing", self.processing),
            ("Transport", self.transport),
            ("Retail and the supplier", self.retail),
        ]

    def effective_evidence_level(self) -> str:
        return effective_evidence_level(self.evidence_level, valid_until=self.valid_until)


class OrderQuerySet(models.QuerySet["Order"]):
    def open(self) -> "OrderQuerySet":
        return self.filter(state__in=Order.OPEN_STATES)


class Order(models.Model):
    """One buyer's purchase from one supplier: what, how it is paid, where and when it is handed over, and its state."""

    class State(models.TextChoices):
        PLACED = "placed", "Placed"
        CONFIRMED = "confirmed", "Confirmed by the supplier"
        DISPATCHED = "dispatched", "Dispatched"
        READY = "ready", "Ready for pick-up"
        DELIVERED = "delivered", "Delivered"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"
        DISPUTED = "disputed", "Disputed"

    class CashMethod(models.TextChoices):
        CASH_AT_PICKUP = "cash_at_pickup", "Cash at pick-up or on delivery"
        CARD = "card", "Card, through the supplier's payment provider"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"

    OPEN_STATES = ("placed", "confirmed", "dispatched", "ready", "delivered", "disputed")

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLACED)
    payment = models.CharField(max_length=8, choices=Means.choices)
    cash_method = models.CharField(max_length=16, choices=CashMethod.choices, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217, for cash; empty for credits.")
    subtotal = models.PositiveBigIntegerField()
    delivery_fee = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField()
    fulfilment = models.CharField(max_length=8, choices=Method.choices)
    window = models.ForeignKey(Window, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders")
    facility_id = models.PositiveBigIntegerField(null=True, blank=True)
    place_name = models.CharField(max_length=200, blank=True)
    place_address = models.CharField(max_length=400, blank=True)
    address_name = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    address_city = models.CharField(max_length=100, blank=True)
    address_postcode = models.CharField(max_length=20, blank=True)
    address_country = CountryField(blank=True)
    scheduled_for = models.DateField(null=True, blank=True, help_text="Empty: as soon as possible.")
    changeable_until = models.DateTimeField(help_text="The buyer may change or cancel until then.")
    dispatch_by = models.DateTimeField(help_text="Ready or dispatched by then, or the order is cancelled.")
    confirm_by = models.DateTimeField(
        null=True, blank=True, help_text="Credits are paid to the supplier then unless the buyer has disputed."
    )
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="order")
    paid_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    placed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    idempotency_key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["supplier", "state"], name="order_supplier_state"),
            models.Index(fields=["buyer", "-placed_at"], name="order_buyer_recent"),
            models.Index(fields=["state", "dispatch_by"], name="order_state_dispatch_by"),
            models.Index(fields=["state", "confirm_by"], name="order_state_confirm_by"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "idempotency_key"], name="order_key_unique_per_buyer"),
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "placed",
                        "confirmed",
                        "dispatched",
                        "ready",
                        "delivered",
                        "closed",
                        "cancelled",
                        "disputed",
                    ]
                ),
                name="order_state_valid",
            ),
            models.CheckConstraint(condition=Q(total=F("subtotal") + F("delivery_fee")), name="order_total_adds_up"),
            models.CheckConstraint(
                condition=(Q(payment="cash") & ~Q(currency="") & ~Q(cash_method=""))
                | (Q(payment="credits") & Q(currency="") & Q(cash_method="")),
                name="order_payment_consistent",
            ),
            models.CheckConstraint(
                condition=(Q(fulfilment="pickup") & Q(facility_id__isnull=False))
                | (Q(fulfilment="delivery") & ~Q(address_line1="") & ~Q(address_country="")),
                name="order_fulfilment_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("purchases:order", kwargs={"order_id": self.pk})

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def guaranteed(self) -> bool:
        """Bought with credits: the network guarantees it."""
        return self.payment == Means.CREDITS

    def total_text(self) -> str:
        return (
            money.text(self.total, currency=self.currency) if self.payment == Means.CASH else money.credits(self.total)
        )

    def amount_text(self, amount: int) -> str:
        return money.text(amount, currency=self.currency) if self.payment == Means.CASH else money.credits(amount)

    def delivery_address(self) -> str:
        parts = [
            self.address_name,
            self.address_line1,
            self.address_line2,
            f"{self.address_postcode} {self.address_city}".strip(),
            self.address_country.name if self.address_country else "",
        ]
        return ", ".join(part for part in parts if part)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.PositiveBigIntegerField(help_text="In the order's means, smallest unit.")
    line_total = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "batch"], name="order_line_one_per_batch"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(line_total=F("unit_price") * F("quantity")), name="order_line_total_adds_up"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.batch}"


class OrderEvent(models.Model):
    """A step in an order's life, with who took it and when: the order's timeline. Append-only."""

    class Role(models.TextChoices):
        BUYER = "buyer", "Buyer"
        SUPPLIER = "supplier", "Supplier"
        OPERATOR = "operator", "Network operator"
        SYSTEM = "system", "The platform"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10)
    action = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "at", "id"]

    def __str__(self) -> str:
        return f"{self.order}: {self.from_state or '—'} → {self.to_state}"


class CashPayment(models.Model):
    """The hard-currency side of an order, paid outside the platform and confirmed by the supplier."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="cash_payment")
    method = models.CharField(max_length=16, choices=Order.CashMethod.choices)
    provider = models.CharField(max_length=80, blank=True, help_text="The card or bank provider, if any.")
    reference = models.CharField(
        max_length=120, blank=True, help_text="The provider's reference for the payment (never a card number)."
    )
    amount = models.PositiveBigIntegerField(help_text="In minor units.")
    currency = models.CharField(max_length=3, validators=[currency_validate])
    received_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"], condition=~Q(reference=""), name="cash_payment_reference_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{money.text(self.amount, currency=self.currency)} for {self.order}"


class Dispute(models.Model):
    """A buyer's complaint about an order; the supplier answers, an operator decides with written reasons."""

    class Reason(models.TextChoices):
        NOT_RECEIVED = "not_received", "Not received"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        UNSAFE = "unsafe", "Unsafe"

    class State(models.TextChoices):
        OPEN = "open", "Open: waiting for the supplier"
        ANSWERED = "answered", "Answered: waiting for the network's decision"
        UPHELD = "upheld", "Upheld"
        REJECTED = "rejected", "Rejected"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="dispute")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    description = models.TextField(validators=[MaxLengthValidator(5000)])
    evidence_url = models.URLField("evidence link", blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    supplier_response = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    guarantee_refund = models.ForeignKey(
        Transfer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The guarantee fund's refund to the buyer.",
    )
    refunded = models.PositiveBigIntegerField(default=0, help_text="Credits refunded by the guarantee fund.")
    recovered = models.PositiveBigIntegerField(default=0, help_text="Credits claimed back from the supplier so far.")

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(condition=Q(recovered__lte=F("refunded")), name="dispute_recovered_within_refund"),
            models.CheckConstraint(
                condition=~Q(state__in=["upheld", "rejected"]) | ~Q(decision_reason=""),
                name="dispute_decision_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute on {self.order}: {self.get_reason_display()}"

    @property
    def is_safety(self) -> bool:
        return self.reason == self.Reason.UNSAFE

    @property
    def outstanding(self) -> int:
        """What the supplier still owes the network for the guarantee's refund."""
        return self.refunded - self.recovered


class Recovery(models.Model):
    """Credits the network claimed back from a supplier for a guarantee refund (as much as its floor allowed)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="recoveries")
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["dispute", "at"]
        verbose_name_plural = "recoveries"

    def __str__(self) -> str:
        return f"{money.credits(self.amount)} recovered for {self.dispute.order}"


class Notification(models.Model):
    """An e-mail sent about an order: to whom, about which step, when. One per step and recipient."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(OrderEvent, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.EmailField()
    role = models.CharField(max_length=10, choices=OrderEvent.Role.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient"], name="notification_once_per_step_and_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient}"
