"""Reviews and the supplier's replies: writing them, and editing them with every version kept.

A review is `verified_purchase` when it is tied to a unit of one of its author's order lines for the batch that has
been delivered, and `unverified` otherwise; nobody chooses the label. Each unit bought is reviewed at most once
(a unique constraint on the line and the unit, which the line's row lock makes concurrent attempts queue for), and
without a purchase a person reviews a batch once.
"""

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import outbox
from products.access import access_for
from products.models import Batch
from purchases.models import Order, OrderLine
from reviews import limits
from reviews.models import BODY_MAX, REPLY_MAX, TITLE_MAX, Origin, Reply, ReplyRevision, Review, ReviewRevision
from reviews.refusals import ReviewRefused
from reviews.services.common import first_by_id, rating_field, refuse_errors, require_person, text_field

# An order's goods have reached the buyer in these states (a disputed order may be one that never arrived: the
# delivery time says).
DELIVERED = (Order.State.DELIVERED, Order.State.CLOSED, Order.State.DISPUTED)


@dataclass(frozen=True)
class ReviewText:
    rating: int
    title: str
    body: str


def _review_text(rating: Any, title: Any, body: Any) -> ReviewText:
    errors: dict[str, str] = {}
    text = ReviewText(
        rating=rating_field(errors, rating),
        title=text_field(errors, "title", title, label="The title", limit=TITLE_MAX, line=True),
        body=text_field(errors, "body", body, label="The review", limit=BODY_MAX),
    )
    refuse_errors(errors)
    return text


def public_batch(batch_id: Any) -> Batch:
    """A batch shoppers can see, with its product and supplier."""
    batch = first_by_id(
        Batch.objects.select_related("product__supplier"),
        batch_id,
    )
    if batch is None or not batch.product.is_public:
        raise ReviewRefused("There is no such batch.", code="not_found")
    return batch


def _refuse_near_duplicate(author: Any, text: ReviewText, *, other_than: int | None = None) -> None:
    earlier = Review.objects.filter(author=author).order_by("-created_at", "-id")
    if other_than is not None:
        earlier = earlier.exclude(pk=other_than)
    texts = [f"{title} {body}" for title, body in earlier.values_list("title", "body")[: limits.COMPARED]]
    if limits.is_near_duplicate(f"{text.title} {text.body}", texts):
        raise ReviewRefused(
            "You have already posted a review with almost the same words. Edit that review instead, or say "
            "something new about this one.",
            code="duplicate_text",
        )


def _delivered(line: OrderLine) -> bool:
    return line.order.state in DELIVERED and line.order.delivered_at is not None


def _free_unit(line: OrderLine) -> int | None:
    used = set(Review.objects.filter(order_line=line).values_list("unit", flat=True))
    return next((unit for unit in range(1, line.quantity + 1) if unit not in used), None)


def _purchase(author: Any, batch: Batch, order_line_id: Any) -> tuple[OrderLine | None, int | None]:
    """The order line and unit a new review is of (locked until commit), or (None, None) for an unverified one."""
    lines = OrderLine.objects.select_for_update(of=("self",)).select_related("order").order_by("id")
    if order_line_id is not None:
        if isinstance(order_line_id, bool) or not isinstance(order_line_id, int):
            raise ReviewRefused({"order_line": "An order line is named by its id."}, code="invalid")
        line = lines.filter(pk=order_line_id, order__buyer=author).first()
        if line is None:
            raise ReviewRefused({"order_line": "You have no such order line."}, code="not_found")
        if line.batch_id != batch.pk:
            raise ReviewRefused({"order_line": "That order line is for another batch."}, code="invalid")
        if not _delivered(line):
            raise ReviewRefused(
                "That order has not been delivered yet: once it has, you can review it as a verified purchase.",
                code="not_delivered",
            )
        unit = _free_unit(line)
        if unit is None:
            raise ReviewRefused(_all_reviewed(line.quantity), code="already_reviewed")
        return line, unit
    # No line named: a buyer's review is still of what they bought, so it is tied to a unit not yet reviewed.
    delivered = [line for line in lines.filter(order__buyer=author, batch=batch) if _delivered(line)]
    for line in delivered:
        unit = _free_unit(line)
        if unit is not None:
            return line, unit
    if delivered:
        raise ReviewRefused(_all_reviewed(sum(line.quantity for line in delivered)), code="already_reviewed")
    return None, None


def _all_reviewed(units: int) -> str:
    each = "the unit" if units == 1 else f"each of the {units} units"
    return f"You have already reviewed {each} you bought of this batch. Edit your review instead."


@transaction.atomic
def review_create(
    *,
    author: Any,
    batch_id: int,
    rating: int,
    title: str,
    body: str,
    order_line_id: int | None = None,
    address: str = "",
) -> Review:
    """Publish a review of a batch, labelled by how it was collected: verified when it is of a delivered unit."""
    require_person(author)
    batch = public_batch(batch_id)
    text = _review_text(rating, title, body)
    if access_for(author).can_read(batch.product.supplier_id) and not access_for(author).operator:
        raise ReviewRefused(
            f"You work for {batch.product.supplier.legal_name}: its own people do not review its products. "
            "Answer reviews with a public reply instead.",
            code="permission_denied",
        )
    limits.check_rate("review", user=author, address=address)
    _refuse_near_duplicate(author, text)
    line, unit = _purchase(author, batch, order_line_id)
    if line is None and Review.objects.filter(author=author, batch=batch, order_line__isnull=True).exists():
        raise ReviewRefused("You have already reviewed this batch. Edit your review instead.", code="already_reviewed")
    now = timezone.now()
    review = Review(
        batch=batch,
        product=batch.product,
        supplier=batch.product.supplier,
        author=author,
        origin=Origin.VERIFIED_PURCHASE if line else Origin.UNVERIFIED,
        order_line=line,
        unit=unit,
        rating=text.rating,
        title=text.title,
        body=text.body,
        created_at=now,
        address=address,
    )
    review.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError:
        # The constraints are the last word when two attempts race (the row locks make that rare).
        raise ReviewRefused("You have already reviewed this.", code="already_reviewed") from None
    ReviewRevision.objects.create(
        review=review,
        number=1,
        rating=review.rating,
        title=review.title,
        body=review.body,
        created_at=now,
        address=address,
    )
    outbox.enqueue("reviews.tasks.review_arrived_notify", review.pk)
    return review


def _own_review(author: Any, review_id: Any) -> Review:
    require_person(author)
    review = first_by_id(
        Review.objects.select_for_update(of=("self",)).select_related("batch__product__supplier"),
        review_id,
    )
    if review is None:
        raise ReviewRefused("There is no such review.", code="not_found")
    if review.author_id != author.pk:
        raise ReviewRefused("Only its author can edit a review.", code="permission_denied")
    return review


@transaction.atomic
def review_edit(
    *,
    author: Any,
    review_id: int,
    rating: int | None = None,
    title: str | None = None,
    body: str | None = None,
    address: str = "",
) -> Review:
    """Change one's own review (any of its rating, title and text); the version before is kept, the page says
    "edited". A review moderators asked to be edited is published again."""
    review = _own_review(author, review_id)
    if review.state == Review.State.REMOVED:
        raise ReviewRefused(
            "This review was removed by the network's moderators and can no longer be edited.", code="wrong_state"
        )
    text = _review_text(
        review.rating if rating is None else rating,
        review.title if title is None else title,
        review.body if body is None else body,
    )
    if (text.rating, text.title, text.body) == (review.rating, review.title, review.body):
        return review
    limits.check_rate("review", user=author, address=address)
    _refuse_near_duplicate(author, text, other_than=review.pk)
    now = timezone.now()
    review.revision_count += 1
    ReviewRevision.objects.create(
        review=review,
        number=review.revision_count,
        rating=text.rating,
        title=text.title,
        body=text.body,
        created_at=now,
        address=address,
    )
    review.rating, review.title, review.body, review.edited_at = text.rating, text.title, text.body, now
    fields = ["rating", "title", "body", "edited_at", "revision_count"]
    if review.state == Review.State.EDIT_REQUESTED:
        review.state = Review.State.PUBLISHED
        fields.append("state")
    review.full_clean(validate_unique=False, validate_constraints=False)
    review.save(update_fields=fields)
    return review


def may_reply(user: Any, review: Review) -> bool:
    """Whether a person may answer a review: an owner or editor of the reviewed batch's supplier."""
    return bool(getattr(user, "is_authenticated", False)) and review.supplier_id in access_for(user).editable


@transaction.atomic
def reply_save(*, author: Any, review_id: int, body: str) -> Reply:
    """Post, or change, the supplier's one public reply to a review; every version is kept."""
    require_person(author)
    review = first_by_id(
        Review.objects.select_for_update(of=("self",)).select_related("supplier"),
        review_id,
    )
    if review is None:
        raise ReviewRefused("There is no such review.", code="not_found")
    if not may_reply(author, review):
        raise ReviewRefused(
            f"Only the people of {review.supplier.legal_name} who edit its catalog can reply to this review.",
            code="permission_denied",
        )
    if review.state == Review.State.REMOVED:
        raise ReviewRefused("This review was removed by the network's moderators.", code="wrong_state")
    errors: dict[str, str] = {}
    text = text_field(errors, "body", body, label="The reply", limit=REPLY_MAX)
    refuse_errors(errors)
    now = timezone.now()
    reply = Reply.objects.filter(review=review).first()
    if reply is None:
        reply = Reply(review=review, supplier_id=review.supplier_id, author=author, body=text, created_at=now)
        reply.full_clean(validate_unique=False)
        reply.save()
    elif reply.body == text:
        return reply
    else:
        reply.revision_count += 1
        reply.body, reply.edited_at, reply.author = text, now, author
        reply.full_clean(validate_unique=False)
        reply.save(update_fields=["body", "edited_at", "revision_count", "author"])
    ReplyRevision.objects.create(reply=reply, number=reply.revision_count, body=text, author=author, created_at=now)
    return reply
