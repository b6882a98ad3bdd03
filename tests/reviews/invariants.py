"""What must hold of reviews after anything: checked after concurrent load and after every step of the property
test."""

from django.db.models import Count, Max

from reviews.models import Decision, Origin, Reply, Review, StatusChange, Suggestion, Vote


def assert_reviews_consistent() -> None:
    # Every review's current text is its latest revision, numbered 1..n without a gap.
    for review in Review.objects.prefetch_related("revisions", "decisions"):
        numbers = [revision.number for revision in review.revisions.all()]
        assert numbers == list(range(1, review.revision_count + 1)), (review.pk, numbers)
        latest = review.revisions.all()[len(numbers) - 1]
        assert (latest.rating, latest.title, latest.body) == (review.rating, review.title, review.body), review.pk
        assert (review.origin == Origin.VERIFIED_PURCHASE) == (review.order_line_id is not None)
        decisions = list(review.decisions.all())
        if review.state == Review.State.REMOVED:
            assert decisions, f"review {review.pk} removed without a decision"
            assert decisions[-1].outcome == Decision.Outcome.REMOVE
        if review.state == Review.State.HELD:
            assert review.flags.filter(reason="harmful", decision__isnull=True, by_supplier__isnull=True).exists()
    # At most one review per unit bought, never more than the line's units.
    per_line = (
        Review.objects.filter(order_line__isnull=False)
        .values("order_line_id", "order_line__quantity")
        .annotate(reviews=Count("id"), top_unit=Max("unit"))
    )
    for row in per_line:
        assert row["reviews"] <= row["order_line__quantity"], row
        assert row["top_unit"] <= row["order_line__quantity"], row
    for reply in Reply.objects.prefetch_related("revisions"):
        assert [r.number for r in reply.revisions.all()] == list(range(1, reply.revision_count + 1))
        assert reply.revisions.all()[reply.revision_count - 1].body == reply.body
    # Votes: the count kept on each suggestion is its votes; nobody votes twice for one.
    counted = dict(Vote.objects.values("suggestion_id").annotate(n=Count("id")).values_list("suggestion_id", "n"))
    for suggestion in Suggestion.objects.prefetch_related("history"):
        assert suggestion.vote_count == counted.get(suggestion.pk, 0), (suggestion.pk, suggestion.vote_count)
        history = list(suggestion.history.all())
        assert history, f"suggestion {suggestion.pk} has no history"
        assert history[0].status == Suggestion.Status.OPEN
        assert history[0].previous == ""
        assert history[-1].status == suggestion.status
        for before, after in zip(history, history[1:], strict=False):
            assert after.previous == before.status
        if suggestion.status == Suggestion.Status.DUPLICATE:
            assert suggestion.duplicate_of_id is not None
            assert suggestion.vote_count == 0
    assert not StatusChange.objects.filter(status=Suggestion.Status.DUPLICATE, duplicate_of__isnull=True).exists()
