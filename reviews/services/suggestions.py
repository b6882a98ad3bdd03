"""Suggestions for products, their votes, and their status history.

Every status change is a row of the suggestion's public history with the response that came with it; nothing is
overwritten. Marking one a duplicate of another merges it: its votes move to the other (a person who voted for both
keeps one vote) and it takes no more. Votes are also closed once a suggestion is completed or declined.
`vote_count` is kept on the suggestion row, changed only under its row lock, so that boards sort by it.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import outbox
from products.access import access_for
from products.models import Product
from reviews import limits
from reviews.models import BODY_MAX, TITLE_MAX, StatusChange, Suggestion, Vote
from reviews.refusals import ReviewRefused
from reviews.services.common import as_id, first_by_id, refuse_errors, require_person, text_field

Status = Suggestion.Status


@transaction.atomic
def suggestion_create(
    *, author: Any, product_id: int, title: str, body: str, notify: bool = False, address: str = ""
) -> Suggestion:
    """Propose an improvement to a product; its author's vote comes with it."""
    require_person(author)
    product = first_by_id(Product.objects.public().select_related("supplier"), product_id)
    if product is None:
        raise ReviewRefused("There is no such product.", code="not_found")
    _refuse_own_people(author, product.supplier, doing="suggest improvements to")
    errors: dict[str, str] = {}
    title = text_field(errors, "title", title, label="The title", limit=TITLE_MAX, line=True)
    body = text_field(errors, "body", body, label="The suggestion", limit=BODY_MAX)
    refuse_errors(errors)
    limits.check_rate("suggestion", user=author, address=address)
    earlier = Suggestion.objects.filter(author=author).order_by("-created_at", "-id").values_list("title", "body")
    if limits.is_near_duplicate(f"{title} {body}", [f"{t} {b}" for t, b in earlier[: limits.COMPARED]]):
        raise ReviewRefused(
            "You have already made a suggestion with almost the same words; vote for it or add to it instead.",
            code="duplicate_text",
        )
    now = timezone.now()
    suggestion = Suggestion(
        product=product,
        supplier=product.supplier,
        author=author,
        title=title,
        body=body,
        vote_count=1,
        created_at=now,
        status_changed_at=now,
        address=address,
    )
    suggestion.full_clean()
    suggestion.save()
    StatusChange.objects.create(suggestion=suggestion, status=Status.OPEN, by=author, created_at=now)
    Vote.objects.create(suggestion=suggestion, voter=author, notify=bool(notify), created_at=now, address=address)
    outbox.enqueue("reviews.tasks.suggestion_arrived_notify", suggestion.pk)
    return suggestion


def may_vote(user: Any, supplier_id: int) -> bool:
    """Whether a signed-in person may suggest and vote for a supplier's products: anyone but its own people (the
    board is the community's; the supplier's people answer it, they do not add to it or to its votes)."""
    access = access_for(user)
    return not access.can_read(supplier_id) or access.operator


def _refuse_own_people(user: Any, supplier: Any, *, doing: str) -> None:
    if not may_vote(user, supplier.pk):
        raise ReviewRefused(
            f"You work for {supplier.legal_name}: its own people do not {doing} its products. Answer suggestions "
            "with a status and a public response instead.",
            code="permission_denied",
        )


def _locked(suggestion_id: Any) -> Suggestion:
    suggestion = first_by_id(
        Suggestion.objects.select_for_update(of=("self",)).select_related("supplier", "product"),
        suggestion_id,
    )
    if suggestion is None:
        raise ReviewRefused("There is no such suggestion.", code="not_found")
    return suggestion


def _votes_closed(suggestion: Suggestion) -> ReviewRefused:
    return ReviewRefused(
        f"Voting on this suggestion has closed: it is {suggestion.get_status_display().lower()}.", code="wrong_state"
    )


@dataclass(frozen=True)
class Voted:
    vote: Vote
    created: bool  # False: the person had already voted (their choice about e-mails is updated)


@transaction.atomic
def suggestion_vote(*, voter: Any, suggestion_id: int, notify: bool = False, address: str = "") -> Voted:
    """Vote for a suggestion, once; voting again changes nothing but whether to be e-mailed about it."""
    require_person(voter)
    suggestion = _locked(suggestion_id)
    _refuse_own_people(voter, suggestion.supplier, doing="vote on suggestions for")
    if suggestion.votes_locked:
        raise _votes_closed(suggestion)
    vote = Vote.objects.filter(suggestion=suggestion, voter=voter).first()
    if vote is not None:
        if vote.notify != bool(notify):
            vote.notify = bool(notify)
            vote.save(update_fields=["notify"])
        return Voted(vote, created=False)
    limits.check_rate("vote", user=voter, address=address)
    vote = Vote.objects.create(suggestion=suggestion, voter=voter, notify=bool(notify), address=address)
    suggestion.vote_count += 1
    suggestion.save(update_fields=["vote_count"])
    return Voted(vote, created=True)


@transaction.atomic
def suggestion_unvote(*, voter: Any, suggestion_id: int) -> Suggestion:
    """Take one's vote back, while votes are open."""
    require_person(voter)
    suggestion = _locked(suggestion_id)
    if suggestion.votes_locked:
        raise _votes_closed(suggestion)
    deleted, _ = Vote.objects.filter(suggestion=suggestion, voter=voter).delete()
    if deleted:
        suggestion.vote_count -= 1
        suggestion.save(update_fields=["vote_count"])
    return suggestion


def may_answer(user: Any, suggestion: Suggestion) -> bool:
    """Whether a person may change a suggestion's status: an owner or editor of its supplier, or an operator."""
    return bool(getattr(user, "is_authenticated", False)) and access_for(user).can_edit(suggestion.supplier_id)


def _merge(duplicate: Suggestion, into: Suggestion) -> int:
    """Move the duplicate's votes to `into`, keeping one per person; the number moved."""
    already = Vote.objects.filter(suggestion=into).values("voter_id")
    moving = Vote.objects.filter(suggestion=duplicate).exclude(voter_id__in=already)
    moved = moving.update(suggestion=into, moved_from=duplicate)
    Vote.objects.filter(suggestion=duplicate).delete()
    into.vote_count = Vote.objects.filter(suggestion=into).count()
    into.save(update_fields=["vote_count"])
    duplicate.vote_count = 0
    return moved


@transaction.atomic
def suggestion_status_set(
    *, actor: Any, suggestion_id: int, status: str, response: str, duplicate_of_id: int | None = None
) -> StatusChange:
    """Move a suggestion to a status, with a public response; `duplicate` merges it into `duplicate_of_id`. Each
    change is a new entry of its history (the same status again is an update of the response)."""
    require_person(actor)
    if status == Status.DUPLICATE and as_id(duplicate_of_id) is not None:
        # A merge locks both rows, in id order like every other lock, so that two merges cannot deadlock.
        ids = [as_id(suggestion_id) or 0, as_id(duplicate_of_id) or 0]
        list(Suggestion.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
    suggestion = _locked(suggestion_id)
    if not may_answer(actor, suggestion):
        raise ReviewRefused(
            f"Only {suggestion.supplier.legal_name}'s owners and editors, or the network's operators, answer this "
            "suggestion.",
            code="permission_denied",
        )
    errors: dict[str, str] = {}
    if status not in Status.values:
        errors["status"] = "Choose a status: " + ", ".join(Status.values)
    response = text_field(errors, "response", response, label="The response", limit=BODY_MAX)
    if status == Status.DUPLICATE and as_id(duplicate_of_id) is None:
        errors["duplicate_of"] = "Say which suggestion it duplicates."
    refuse_errors(errors)
    if suggestion.status == Status.DUPLICATE:
        raise ReviewRefused(
            "This suggestion was merged into another as a duplicate; answer that one instead.", code="wrong_state"
        )
    into = None
    if status == Status.DUPLICATE:
        into = _merge_target(suggestion, as_id(duplicate_of_id))
    now = timezone.now()
    change = StatusChange(
        suggestion=suggestion,
        status=status,
        previous=suggestion.status,
        response=response,
        duplicate_of=into,
        by=actor,
        by_supplier=suggestion.supplier if suggestion.supplier_id in access_for(actor).editable else None,
        created_at=now,
    )
    if into is not None:
        change.votes_moved = _merge(suggestion, into)
        suggestion.duplicate_of = into
    suggestion.status, suggestion.status_changed_at = status, now
    suggestion.full_clean()
    suggestion.save(update_fields=["status", "status_changed_at", "duplicate_of", "vote_count"])
    change.full_clean()
    change.save()
    outbox.enqueue("reviews.tasks.voters_notify", change.pk)
    return change


def _merge_target(suggestion: Suggestion, target_id: int | None) -> Suggestion:
    target = first_by_id(Suggestion.objects.all(), target_id)  # locked by suggestion_status_set
    if target is None or target.product_id != suggestion.product_id:
        raise ReviewRefused(
            {"duplicate_of": "A suggestion is a duplicate of another suggestion for the same product."},
            code="invalid",
        )
    if target.pk == suggestion.pk:
        raise ReviewRefused({"duplicate_of": "A suggestion cannot duplicate itself."}, code="invalid")
    if target.status == Status.DUPLICATE:
        raise ReviewRefused(
            {"duplicate_of": "That suggestion is itself a duplicate; merge into the one it was merged into."},
            code="invalid",
        )
    return target
