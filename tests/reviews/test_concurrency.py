"""Many people at once on PostgreSQL: the same unit reviewed from several devices at the same moment, votes and
unvotes racing, and a merge racing the votes for the suggestion being merged. Afterwards nobody has reviewed a
unit twice, every vote count matches its votes, and nobody has two votes for one suggestion."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from reviews import services
from reviews.models import Review, Suggestion, Vote
from reviews.services import ReviewRefused
from tests.accounts.factories import UserFactory
from tests.conftest import database_is_postgres
from tests.network_credits.test_concurrency import run_clients
from tests.reviews.factories import buyer, delivered, fresh_text, shop, suggestion
from tests.reviews.invariants import assert_reviews_consistent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not database_is_postgres(), reason="concurrent reviewers need PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


class Told:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()

    def run(self, action) -> None:
        try:
            action()
        except ReviewRefused as refusal:
            outcome = refusal.code
        else:
            outcome = "done"
        with self.lock:
            self.outcomes[outcome] += 1


def _review(s, who, n: int, **fields) -> None:
    services.review_create(
        author=who, batch_id=s.batch.pk, rating=1 + n % 5, title=f"Attempt {n}", body=fresh_text(), **fields
    )


@pytest.mark.parametrize("name_the_line", [True, False])
def test_one_unit_reviewed_from_six_devices_at_once_is_reviewed_once(name_the_line):
    s = shop()
    who = buyer()
    line = delivered(s, who).lines.get()
    fields = {"order_line_id": line.pk} if name_the_line else {}
    texts = [fresh_text() for _ in range(6)]
    told = Told()
    run_clients(
        6,
        lambda n: told.run(
            lambda: services.review_create(
                author=who, batch_id=s.batch.pk, rating=3, title=f"Try {n}", body=texts[n], **fields
            )
        ),
    )
    assert told.outcomes == {"done": 1, "already_reviewed": 5}
    assert list(Review.objects.values_list("order_line_id", "unit")) == [(line.pk, 1)]
    assert_reviews_consistent()


def test_three_units_reviewed_by_eight_attempts_at_once_get_three_reviews():
    s = shop()
    who = buyer()
    line = delivered(s, who, quantity=3).lines.get()
    told = Told()
    texts = [fresh_text() for _ in range(8)]
    run_clients(
        8,
        lambda n: told.run(
            lambda: services.review_create(author=who, batch_id=s.batch.pk, rating=4, title=f"T{n}", body=texts[n])
        ),
    )
    assert told.outcomes == {"done": 3, "already_reviewed": 5}
    assert sorted(Review.objects.filter(order_line=line).values_list("unit", flat=True)) == [1, 2, 3]
    assert_reviews_consistent()


def test_without_a_purchase_simultaneous_reviews_by_one_person_make_one():
    s = shop()
    who = UserFactory()
    texts = [fresh_text() for _ in range(6)]
    told = Told()
    run_clients(
        6,
        lambda n: told.run(
            lambda: services.review_create(author=who, batch_id=s.batch.pk, rating=2, title=f"U{n}", body=texts[n])
        ),
    )
    assert told.outcomes == {"done": 1, "already_reviewed": 5}
    assert Review.objects.count() == 1
    assert_reviews_consistent()


def test_votes_and_unvotes_racing_keep_the_count_exact():
    s = shop()
    made = suggestion(s)
    voters = [UserFactory() for _ in range(12)]
    for who in voters[:6]:
        services.suggestion_vote(voter=who, suggestion_id=made.pk)
    told = Told()

    def act(n: int) -> None:
        who = voters[n % 12]
        if n < 12:
            told.run(lambda: services.suggestion_vote(voter=who, suggestion_id=made.pk))
        else:
            told.run(lambda: services.suggestion_unvote(voter=who, suggestion_id=made.pk))

    run_clients(18, act)  # 12 votes (6 of them again) and 6 unvotes of the first six
    made.refresh_from_db()
    assert made.vote_count == Vote.objects.filter(suggestion=made).count()
    assert_reviews_consistent()


def test_a_merge_racing_votes_for_the_duplicate_leaves_no_double_vote():
    s = shop()
    keep, dup = suggestion(s), suggestion(s)
    voters = [UserFactory() for _ in range(10)]
    for who in voters[:5]:
        services.suggestion_vote(voter=who, suggestion_id=keep.pk)
    told = Told()

    def act(n: int) -> None:
        if n == 10:
            told.run(
                lambda: services.suggestion_status_set(
                    actor=s.owner, suggestion_id=dup.pk, status="duplicate", response="Same", duplicate_of_id=keep.pk
                )
            )
        else:
            told.run(lambda: services.suggestion_vote(voter=voters[n], suggestion_id=dup.pk))

    run_clients(11, act)
    dup.refresh_from_db()
    keep.refresh_from_db()
    assert dup.status == Suggestion.Status.DUPLICATE
    voters_of_keep = list(Vote.objects.filter(suggestion=keep).values_list("voter_id", flat=True))
    assert len(voters_of_keep) == len(set(voters_of_keep)) == keep.vote_count
    # Every vote that was accepted for the duplicate before the merge is now keep's; the rest were told "closed".
    assert set(voters_of_keep) >= {who.pk for who in voters[:5]} | {keep.author_id, dup.author_id}
    assert told.outcomes["done"] + told.outcomes["wrong_state"] == 11
    assert_reviews_consistent()
