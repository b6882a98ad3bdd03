"""What the community says, publicly: reviews of batches with the supplier's replies, flags and moderation, and
suggestions for products with their votes and status history.

Nothing here is ever rewritten in place without a trace: a review's and a reply's every version is a revision row,
a suggestion's every status change is a row, a moderator's every decision is a row (all append-only in the database,
migration 0002). The current text of a review or a reply is kept on it as well, so that pages read one row.

Rows written by people carry `address`: a keyed hash of the address the request came from (never the address
itself), so that the abuse limits can count per address without keeping anyone's IP.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from products.models import Batch, Product, Supplier
from purchases.models import OrderLine

TITLE_MAX = 120
BODY_MAX = 5000
REPLY_MAX = 5000
NOTE_MAX = 1000
REASON_MAX = 2000


class Origin(models.TextChoices):
    """How a review was collected: the label every review carries, on every page and in the API."""

    VERIFIED_PURCHASE = "verified_purchase", "Verified purchase"
    UNVERIFIED = "unverified", "Not verified"


class Review(models.Model):
    """One person's rating and account of a batch (and so of its product)."""

    class State(models.TextChoices):
        PUBLISHED = "published", "Published"
        HELD = "held", "Hidden while moderators check a report of harmful or illegal content"
        EDIT_REQUESTED = "edit_requested", "The author has been asked to edit it"
        REMOVED = "removed", "Removed by the network's moderators"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="reviews")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reviews", editable=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="reviews", editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    origin = models.CharField(max_length=20, choices=Origin.choices)
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="reviews", editable=False
    )
    unit = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="Which unit of the order line this review is of (1, 2, …)."
    )
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PUBLISHED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    revision_count = models.PositiveIntegerField(default=1, editable=False)
    address = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order_line", "unit"], name="review_one_per_unit_bought"),
            # Without a purchase to tie it to, one review per person and batch.
            models.UniqueConstraint(
                fields=["author", "batch"], condition=Q(order_line__isnull=True), name="review_unverified_one_per_batch"
            ),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
            models.CheckConstraint(
                condition=(
                    Q(origin="verified_purchase", order_line__isnull=False, unit__gte=1)
                    | Q(origin="unverified", order_line__isnull=True, unit__isnull=True)
                ),
                name="review_origin_matches_purchase",
            ),
            models.CheckConstraint(condition=Q(revision_count__gte=1), name="review_has_a_revision"),
        ]
        indexes = [
            models.Index(fields=["batch", "-created_at"], name="review_batch_newest"),
            models.Index(fields=["product", "-created_at"], name="review_product_newest"),
            models.Index(fields=["supplier", "created_at"], name="review_supplier_oldest"),
            models.Index(fields=["author", "-created_at"], name="review_author_newest"),
            models.Index(fields=["address", "created_at"], name="review_address_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:review", kwargs={"review_id": self.pk})

    @property
    def is_edited(self) -> bool:
        return self.revision_count > 1

    @property
    def is_shown(self) -> bool:
        """Whether its text is on the page (a held or removed review leaves a note in its place)."""
        return self.state in (self.State.PUBLISHED, self.State.EDIT_REQUESTED)

    @property
    def counts(self) -> bool:
        """Whether its rating counts in the summary: every review until moderators remove it, whatever it says."""
        return self.state != self.State.REMOVED


class ReviewRevision(models.Model):
    """A version of a review as its author wrote it: the first is the original. Append-only."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["review", "number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "number"], name="review_revision_numbered_once"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_revision_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.review_id} v{self.number}"


class Reply(models.Model):
    """The supplier's one public reply to a review."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="review_replies", editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_replies")
    body = models.TextField(max_length=REPLY_MAX)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    revision_count = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "replies"

    def __str__(self) -> str:
        return f"Reply to {self.review_id}"

    @property
    def is_edited(self) -> bool:
        return self.revision_count > 1


class ReplyRevision(models.Model):
    """A version of a reply. Append-only."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField(max_length=REPLY_MAX)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["reply", "number"]
        constraints = [models.UniqueConstraint(fields=["reply", "number"], name="reply_revision_numbered_once")]

    def __str__(self) -> str:
        return f"{self.reply_id} v{self.number}"


class Decision(models.Model):
    """A moderator's decision on a review, with its written reason, shown where the review is. Append-only."""

    class Outcome(models.TextChoices):
        KEEP = "keep", "Kept: it breaks no rule"
        REMOVE = "remove", "Removed"
        EDIT = "edit", "The author was asked to edit it"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(max_length=REASON_MAX)
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["review", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.review_id})"


class Flag(models.Model):
    """Someone's report that a review breaks a rule; open until a moderator decides on the review."""

    class Reason(models.TextChoices):
        HARMFUL = "harmful", "Harmful or illegal"
        PERSONAL_DATA = "personal_data", "Contains personal data"
        ADVERTISING = "advertising", "Advertising or promotion"
        NOT_GENUINE = "not_genuine", "Not based on a genuine experience"
        WRONG_PRODUCT = "wrong_product", "About a different product"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.TextField(max_length=NOTE_MAX, blank=True)
    flagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_flags")
    by_supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_flags",
        help_text="Set when the flagger works for the reviewed batch's supplier: counted in its flagging figures.",
    )
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="flags")
    created_at = models.DateTimeField(default=timezone.now)
    address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["review", "flagger"], name="flag_once_per_person_and_review")]
        indexes = [
            models.Index(fields=["decision", "created_at"], name="flag_open_oldest"),
            models.Index(fields=["flagger", "created_at"], name="flag_flagger_recent"),
            models.Index(fields=["address", "created_at"], name="flag_address_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.review_id})"

    @property
    def upheld(self) -> bool | None:
        """None while open; otherwise whether the decision went the flag's way (removed or sent back for edit)."""
        if self.decision is None:
            return None
        return self.decision.outcome != Decision.Outcome.KEEP


class Suggestion(models.Model):
    """Someone's proposal to improve a product; the supplier answers by moving it through its statuses."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UNDER_REVIEW = "under_review", "Under review"
        PLANNED = "planned", "Planned"
        STARTED = "started", "Started"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"
        DUPLICATE = "duplicate", "Duplicate"

    # Votes are counted only while the answer is still to come.
    LOCKED = ("completed", "declined", "duplicate")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="suggestions")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="suggestions", editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suggestions")
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, editable=False)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates", editable=False
    )
    vote_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    address = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-vote_count", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duplicate_of__isnull=True) | (Q(status="duplicate") & ~Q(duplicate_of=models.F("id"))),
                name="suggestion_duplicate_names_another",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "-vote_count"], name="suggestion_product_votes"),
            models.Index(fields=["supplier", "created_at"], name="suggestion_supplier_oldest"),
            models.Index(fields=["author", "-created_at"], name="suggestion_author_newest"),
            models.Index(fields=["address", "created_at"], name="suggestion_address_recent"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("reviews:suggestion", kwargs={"suggestion_id": self.pk})

    @property
    def votes_locked(self) -> bool:
        return self.status in self.LOCKED


class StatusChange(models.Model):
    """One step of a suggestion's public history: the status it moved to and the response that came with it.
    The first is its opening. Append-only."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=20, choices=Suggestion.Status.choices)
    previous = models.CharField(max_length=20, choices=Suggestion.Status.choices, blank=True)
    response = models.TextField(max_length=BODY_MAX, blank=True)
    duplicate_of = models.ForeignKey(Suggestion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    votes_moved = models.PositiveIntegerField(default=0)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["suggestion", "created_at", "id"]
        indexes = [models.Index(fields=["suggestion", "created_at"], name="status_change_history")]

    def __str__(self) -> str:
        return f"{self.suggestion_id}: {self.previous or '—'} → {self.status}"


class Vote(models.Model):
    """One person's vote for a suggestion; `notify` when they asked to be e-mailed about its status changes."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suggestion_votes")
    notify = models.BooleanField(default=False)
    moved_from = models.ForeignKey(
        Suggestion, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["suggestion", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["suggestion", "voter"], name="vote_once_per_person")]
        indexes = [
            models.Index(fields=["voter", "created_at"], name="vote_voter_recent"),
            models.Index(fields=["address", "created_at"], name="vote_address_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.voter_id} → {self.suggestion_id}"


class VoterNotice(models.Model):
    """An e-mail to a voter about a status change: who was told what, and when. One per change and voter."""

    change = models.ForeignKey(StatusChange, on_delete=models.CASCADE, related_name="notices")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    recipient = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["change", "sent_at", "id"]
        constraints = [models.UniqueConstraint(fields=["change", "voter"], name="voter_notice_once_per_change")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient}"
