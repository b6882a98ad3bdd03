"""The demo community: reviews of every kind (verified and not, honest low ratings, edits, replies, a report kept, a
review removed, one sent back for an edit) and suggestions in every status with histories and votes, made through
the services after the demo shop, keeping every invariant, and made once however often the demo runs."""

import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from core import outbox
from core.models import OutboxMessage
from purchases.models import Order
from reviews import demo
from reviews.models import Decision, Flag, Origin, Reply, Review, StatusChange, Suggestion, Vote, VoterNotice
from reviews.services.reviewing import DELIVERED
from tests.core.conftest import celery_eager
from tests.reviews.review_urls import review_urls  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("review_urls")]


@pytest.fixture
def seeded(capsys, django_capture_on_commit_callbacks):
    """The whole demo, with the work each commit queues run after it (e-mails included), as in embedded mode."""
    outbox.broker.reset()
    with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    return capsys.readouterr().out


def test_the_demo_has_reviews_of_every_kind(seeded):
    assert (
        "Demo reviews and suggestions: created 5 people, 11 reviews, 1 edits, 7 replies, 3 flags, 3 decisions, "
        "8 suggestions, 18 votes, 14 status changes." in seeded
    )
    assert "left out" not in seeded.split("Demo reviews and suggestions:")[1].split("\n")[0]
    reviews = Review.objects.select_related("batch__product")
    assert {r.origin for r in reviews} == set(Origin.values)
    assert {r.state for r in reviews} == {"published", "edit_requested", "removed"}
    low = [r for r in reviews if r.rating <= 2 and r.state == "published"]
    assert {r.rating for r in low} == {1, 2}
    assert all(len(r.body) > 120 for r in low), "honest low ratings say what went wrong"
    assert {r.origin for r in low} == set(Origin.values)
    assert reviews.filter(revision_count__gte=2).exists()
    assert Reply.objects.filter(revision_count__gte=2).exists()
    assert Reply.objects.count() >= 6
    # a report kept, with the reason; a review removed, with the reason; one sent back for an edit
    kept = Decision.objects.get(outcome="keep")
    assert kept.review.state == "published"
    assert kept.flags.get().by_supplier_id == kept.review.supplier_id  # the supplier's own report, counted
    assert "low rating is never a reason" in kept.reason
    removed = Decision.objects.get(outcome="remove")
    assert removed.review.state == "removed"
    assert removed.reason
    assert Decision.objects.get(outcome="edit").review.state == "edit_requested"
    assert not Flag.objects.filter(decision__isnull=True).exists()
    # every demo product for sale has something said about it
    assert reviews.values("product").distinct().count() == 6


def test_the_demo_has_suggestions_in_every_status_with_histories_and_votes(seeded):
    suggestions = Suggestion.objects.all()
    assert {s.status for s in suggestions} == set(Suggestion.Status.values)
    longest = StatusChange.objects.values("suggestion").annotate(n=Count("id")).aggregate(most=Max("n"))["most"]
    assert longest >= 4  # opened, then three answers
    assert all(c.response for c in StatusChange.objects.exclude(previous=""))
    merged = Suggestion.objects.get(status="duplicate")
    merge = merged.history.get(status="duplicate")
    assert merge.duplicate_of_id == merged.duplicate_of_id
    assert merge.votes_moved == 3
    assert Vote.objects.filter(moved_from=merged, suggestion=merged.duplicate_of).count() == 3
    assert merged.vote_count == 0
    assert Vote.objects.values("voter").distinct().count() >= 8
    assert Vote.objects.filter(notify=True).exists()
    assert Vote.objects.filter(notify=False).exists()
    # the voters who asked were told of each change after their vote, once
    assert VoterNotice.objects.exists()
    assert not VoterNotice.objects.values("change", "voter").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_the_demo_keeps_every_invariant(seeded):
    for suggestion in Suggestion.objects.all():
        assert suggestion.vote_count == suggestion.votes.count(), suggestion
    for review in Review.objects.prefetch_related("revisions"):
        numbers = [r.number for r in review.revisions.all()]
        assert numbers == list(range(1, review.revision_count + 1)), review
        last = review.revisions.all()[review.revision_count - 1]
        assert (last.rating, last.title, last.body) == (review.rating, review.title, review.body)
        if review.state == Review.State.REMOVED:
            assert review.decisions.filter(outcome="remove").exclude(reason="").exists(), review
        if review.origin == Origin.VERIFIED_PURCHASE:
            order = review.order_line.order
            assert order.buyer_id == review.author_id
            assert order.state in DELIVERED
            assert order.delivered_at is not None
            assert review.order_line.batch_id == review.batch_id
    for reply in Reply.objects.prefetch_related("revisions"):
        assert [r.number for r in reply.revisions.all()] == list(range(1, reply.revision_count + 1))
    # every e-mail the demo's reviews queued was sent: their links resolve
    failed = OutboxMessage.objects.filter(task_name__startswith="reviews.").exclude(state=OutboxMessage.State.DONE)
    assert not failed.exists(), [(m.task_name, m.last_error[-300:]) for m in failed]
    assert Order.objects.exists()


def test_the_demo_is_made_once(seeded):
    counts = [model.objects.count() for model in (Review, Reply, Flag, Decision, Suggestion, Vote, StatusChange)]
    again = demo.seed()
    assert again.total == 0
    assert not again.left_out
    assert str(again) == "nothing to do: the demo reviews are already there"
    assert [
        model.objects.count() for model in (Review, Reply, Flag, Decision, Suggestion, Vote, StatusChange)
    ] == counts
