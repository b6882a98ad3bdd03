"""Random sequences of what shoppers, the supplier and operators do with reviews and suggestions, with every invariant
after every step: each unit bought reviewed at most once, every revision kept in order, removed reviews only by a
moderator's decision, vote counts equal to the votes, histories unbroken; a refused step changes nothing; and no
step by the supplier ever changes a review's rating, text or visibility."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from reviews import services
from reviews.models import Decision, Flag, Reply, Review, StatusChange, Suggestion, Vote
from reviews.services import ReviewRefused
from tests.accounts.factories import UserFactory
from tests.reviews.factories import Shop, buyer, delivered, fresh_text, shop
from tests.reviews.invariants import assert_reviews_consistent

picks = st.integers(min_value=0, max_value=1_000)
PEOPLE = ["buyer0", "buyer1", "shopper", "other", "supplier", "operator"]


def everything() -> tuple[Any, ...]:
    """The state of every table of reviews, to compare before and after a refused step."""
    return (
        tuple(Review.objects.order_by("pk").values_list("pk", "rating", "title", "body", "state", "revision_count")),
        tuple(Reply.objects.order_by("pk").values_list("pk", "body", "revision_count")),
        tuple(Flag.objects.order_by("pk").values_list("pk", "decision_id")),
        Decision.objects.count(),
        tuple(Suggestion.objects.order_by("pk").values_list("pk", "status", "vote_count", "duplicate_of_id")),
        tuple(Vote.objects.order_by("pk").values_list("pk", "suggestion_id", "voter_id", "notify")),
        StatusChange.objects.count(),
    )


def reviews_as_written() -> tuple[Any, ...]:
    return tuple(Review.objects.order_by("pk").values_list("pk", "rating", "title", "body", "state"))


class ReviewMachine(RuleBasedStateMachine):
    shop: Shop
    people: dict[str, Any]
    lines: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def attempt(self, who: str, action) -> Any:
        """Run a service; a refusal must change nothing, and nothing the supplier does may touch a review."""
        before = everything()
        written = reviews_as_written()
        refused: list[str] = []
        try:
            with transaction.atomic():
                result = action()
        except ReviewRefused as refusal:
            refused, result = refusal.messages, None
        if refused:
            assert everything() == before, refused
            return None
        if who == "supplier":
            assert reviews_as_written() == written
        return result

    @staticmethod
    def pick(queryset, n: int):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        return ids[n % len(ids)] if ids else 10**9

    @rule(who=st.sampled_from(PEOPLE), rating=st.integers(min_value=0, max_value=6), with_line=st.booleans())
    def write_review(self, who: str, rating: int, with_line: bool) -> None:
        person = self.people[who]
        line = self.lines.get(who) if with_line else None
        self.attempt(
            who,
            lambda: services.review_create(
                author=person,
                batch_id=self.shop.batch.pk,
                rating=rating,
                title="A title",
                body=fresh_text(),
                order_line_id=line,
            ),
        )

    @rule(who=st.sampled_from(PEOPLE), n=picks, rating=st.integers(min_value=1, max_value=5))
    def edit_review(self, who: str, n: int, rating: int) -> None:
        review_id = self.pick(Review.objects.all(), n)
        self.attempt(
            who,
            lambda: services.review_edit(
                author=self.people[who], review_id=review_id, rating=rating, body=fresh_text()
            ),
        )

    @rule(who=st.sampled_from(PEOPLE), n=picks)
    def reply(self, who: str, n: int) -> None:
        review_id = self.pick(Review.objects.all(), n)
        self.attempt(who, lambda: services.reply_save(author=self.people[who], review_id=review_id, body=fresh_text()))

    @rule(who=st.sampled_from(PEOPLE), n=picks, reason=st.sampled_from(Flag.Reason.values))
    def flag(self, who: str, n: int, reason: str) -> None:
        review_id = self.pick(Review.objects.all(), n)
        self.attempt(who, lambda: services.flag_create(flagger=self.people[who], review_id=review_id, reason=reason))

    @rule(n=picks, reason=st.sampled_from(Flag.Reason.values), outcome=st.sampled_from(Decision.Outcome.values))
    def supplier_tries_to_bury(self, n: int, reason: str, outcome: str) -> None:
        """Every path a supplier has to a review it dislikes: a flag, a decision, an edit of its rating."""
        review_id = self.pick(Review.objects.all(), n)
        owner = self.people["supplier"]
        self.attempt("supplier", lambda: services.flag_create(flagger=owner, review_id=review_id, reason=reason))
        self.attempt(
            "supplier",
            lambda: services.review_decide(moderator=owner, review_id=review_id, outcome=outcome, reason="Unfair"),
        )
        self.attempt("supplier", lambda: services.review_edit(author=owner, review_id=review_id, rating=5))

    @rule(who=st.sampled_from(["operator", "supplier"]), n=picks, outcome=st.sampled_from(Decision.Outcome.values))
    def decide(self, who: str, n: int, outcome: str) -> None:
        review_id = self.pick(Review.objects.all(), n)
        self.attempt(
            who,
            lambda: services.review_decide(
                moderator=self.people[who], review_id=review_id, outcome=outcome, reason="Checked against the rules"
            ),
        )

    @rule(who=st.sampled_from(PEOPLE))
    def suggest(self, who: str) -> None:
        self.attempt(
            who,
            lambda: services.suggestion_create(
                author=self.people[who], product_id=self.shop.batch.product_id, title="An idea", body=fresh_text()
            ),
        )

    @rule(who=st.sampled_from(PEOPLE), n=picks, unvote=st.booleans())
    def vote(self, who: str, n: int, unvote: bool) -> None:
        suggestion_id = self.pick(Suggestion.objects.all(), n)
        person = self.people[who]
        if unvote:
            self.attempt(who, lambda: services.suggestion_unvote(voter=person, suggestion_id=suggestion_id))
        else:
            self.attempt(who, lambda: services.suggestion_vote(voter=person, suggestion_id=suggestion_id))

    @rule(
        who=st.sampled_from(["supplier", "operator", "shopper"]),
        n=picks,
        m=picks,
        status=st.sampled_from(Suggestion.Status.values),
    )
    def answer(self, who: str, n: int, m: int, status: str) -> None:
        suggestion_id = self.pick(Suggestion.objects.all(), n)
        target = self.pick(Suggestion.objects.all(), m)
        self.attempt(
            who,
            lambda: services.suggestion_status_set(
                actor=self.people[who],
                suggestion_id=suggestion_id,
                status=status,
                response="Our answer",
                duplicate_of_id=target,
            ),
        )

    @invariant()
    def consistent(self) -> None:
        assert_reviews_consistent()


@pytest.mark.django_db
def test_random_sequences_of_reviews_and_suggestions_keep_every_invariant():
    s = shop(quantity=10)
    people = {"buyer0": buyer(), "buyer1": buyer(), "shopper": UserFactory(), "other": UserFactory()}
    lines = {"buyer0": delivered(s, people["buyer0"], quantity=2).lines.get().pk}
    lines["buyer1"] = delivered(s, people["buyer1"]).lines.get().pk
    people |= {"supplier": s.owner, "operator": UserFactory(is_staff=True)}
    ReviewMachine.shop, ReviewMachine.people, ReviewMachine.lines = s, people, lines
    run_state_machine_as_test(
        ReviewMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
