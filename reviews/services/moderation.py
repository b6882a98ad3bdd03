"""Flags and moderators' decisions.

A flagged review stays on the page while moderators check it, under the same neutral rules for every review: only a
report of harmful or illegal content hides it meanwhile, and not when it comes from the reviewed supplier's own
people (a supplier's flags never take a review off its page; its flags are counted in public). Only an operator
decides, always with a written reason that is shown where the review was; the decision closes every open flag on the
review, is written to the audit log, and is never rewritten (a later decision is a new row). Removing a review never
deletes it; its rating leaves the summary and the reason takes its place.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import outbox
from core.audit import audit_record
from products.access import access_for
from reviews import limits
from reviews.models import NOTE_MAX, REASON_MAX, Decision, Flag, Review
from reviews.refusals import ReviewRefused
from reviews.services.common import first_by_id, refuse_errors, require_person, text_field


def _review_locked(review_id: Any) -> Review:
    review = first_by_id(
        Review.objects.select_for_update(of=("self",)).select_related("supplier"),
        review_id,
    )
    if review is None:
        raise ReviewRefused("There is no such review.", code="not_found")
    return review


@transaction.atomic
def flag_create(*, flagger: Any, review_id: int, reason: str, note: str = "", address: str = "") -> Flag:
    """Report a review to the moderators, with a reason."""
    require_person(flagger)
    review = _review_locked(review_id)
    errors: dict[str, str] = {}
    if reason not in Flag.Reason.values:
        errors["reason"] = "Choose a reason: " + ", ".join(f"{value} ({label})" for value, label in Flag.Reason.choices)
    note = text_field(errors, "note", note, label="The note", limit=NOTE_MAX, required=False)
    refuse_errors(errors)
    if review.author_id == flagger.pk:
        raise ReviewRefused("You wrote this review: edit it instead.", code="permission_denied")
    if review.state == Review.State.REMOVED:
        raise ReviewRefused("This review has already been removed.", code="wrong_state")
    if Flag.objects.filter(review=review, flagger=flagger).exists():
        raise ReviewRefused("You have already reported this review.", code="already_flagged")
    limits.check_rate("flag", user=flagger, address=address)
    access = access_for(flagger)
    by_supplier = review.supplier if access.can_read(review.supplier_id) and not access.operator else None
    flag = Flag(review=review, reason=reason, note=note, flagger=flagger, by_supplier=by_supplier, address=address)
    flag.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError:
        raise ReviewRefused("You have already reported this review.", code="already_flagged") from None
    if reason == Flag.Reason.HARMFUL and by_supplier is None and review.state == Review.State.PUBLISHED:
        review.state = Review.State.HELD
        review.save(update_fields=["state"])
    return flag


STATE_AFTER = {
    Decision.Outcome.KEEP: Review.State.PUBLISHED,
    Decision.Outcome.REMOVE: Review.State.REMOVED,
    Decision.Outcome.EDIT: Review.State.EDIT_REQUESTED,
}


@transaction.atomic
def review_decide(*, moderator: Any, review_id: int, outcome: str, reason: str) -> Decision:
    """An operator's decision on a review — keep it, remove it, or ask its author to edit it — with the written
    reason shown where it is."""
    require_person(moderator)
    if not access_for(moderator).operator:
        raise ReviewRefused("Only the network's operators moderate reviews.", code="permission_denied")
    review = _review_locked(review_id)
    errors: dict[str, str] = {}
    if outcome not in Decision.Outcome.values:
        errors["outcome"] = "Decide keep, remove or edit."
    reason = text_field(errors, "reason", reason, label="The reason", limit=REASON_MAX)
    refuse_errors(errors)
    decision = Decision.objects.create(
        review=review, outcome=outcome, reason=reason, moderator=moderator, created_at=timezone.now()
    )
    Flag.objects.filter(review=review, decision__isnull=True).update(decision=decision)
    before = review.state
    review.state = STATE_AFTER[Decision.Outcome(outcome)]
    if review.state != before:
        review.save(update_fields=["state"])
    audit_record(
        actor=moderator,
        action=f"review.{outcome}",
        target=review,
        supplier_id=review.supplier_id,
        changes={"state": [before, review.state]} if review.state != before else {},
        reason=reason,
    )
    outbox.enqueue("reviews.tasks.review_decided_notify", decision.pk)
    return decision
