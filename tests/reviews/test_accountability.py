"""A supplier's accountability figures, each checked against rows built for it: answers within 7 days over the last
90 days, the median wait for a first answer, and the flagging statistics. The same tests run on SQLite and (with
DATABASE_URL) on PostgreSQL, whose median is computed by the database."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import User
from reviews import accountability as figures_of
from reviews.accountability import FORMULAS, accountability, accountability_of, duration_text
from reviews.models import Decision, Flag, Origin, Reply, Review, StatusChange, Suggestion
from tests.conftest import database_is_postgres
from tests.products.factories import BatchFactory, ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
_people = itertools.count(1)


def person(**fields) -> User:
    """Someone who writes (no password: hashing one would be most of these tests' time)."""
    return User.objects.create(email=f"reader{next(_people)}@example.org", **fields)


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


class Rows:
    """A supplier with a product and batch, and helpers that write reviews, replies, suggestions and flags at
    chosen moments (the services stamp the present; these figures are about the past)."""

    def __init__(self, supplier=None) -> None:
        self.supplier = supplier or SupplierFactory()
        self.product = ProductFactory(supplier=self.supplier)
        self.batch = BatchFactory(product=self.product)
        self.staff = person()
        self.moderator = person(is_staff=True, is_superuser=True)

    def review(self, at: datetime, *, replied_after: timedelta | None = None, state=Review.State.PUBLISHED) -> Review:
        made = Review.objects.create(
            batch=self.batch,
            product=self.product,
            supplier=self.supplier,
            author=person(),
            origin=Origin.UNVERIFIED,
            rating=2,
            title="Not great",
            body="It arrived late.",
            state=state,
            created_at=at,
        )
        if replied_after is not None:
            Reply.objects.create(
                review=made, supplier=self.supplier, author=self.staff, body="Sorry.", created_at=at + replied_after
            )
        return made

    def suggestion(self, at: datetime, *, answered_after: timedelta | None = None) -> Suggestion:
        made = Suggestion.objects.create(
            product=self.product,
            supplier=self.supplier,
            author=person(),
            title="Smaller bars",
            body="Please.",
            created_at=at,
            status_changed_at=at,
        )
        StatusChange.objects.create(suggestion=made, status="open", by=made.author, created_at=at)
        if answered_after is not None:
            self.status(made, at + answered_after)
        return made

    def status(self, suggestion: Suggestion, at: datetime, status: str = "under_review") -> None:
        previous = suggestion.history.order_by("-created_at").first().status
        StatusChange.objects.create(
            suggestion=suggestion,
            status=status,
            previous=previous,
            response="We are looking at it.",
            by=self.staff,
            by_supplier=self.supplier,
            created_at=at,
        )

    def flag(self, review: Review, at: datetime, *, own: bool = False, decided: str | None = None) -> Flag:
        decision = None
        if decided:
            decision = Decision.objects.create(
                review=review, outcome=decided, reason="Checked.", moderator=self.moderator, created_at=at
            )
        return Flag.objects.create(
            review=review,
            reason=Flag.Reason.NOT_GENUINE,
            flagger=self.staff if own else person(),
            by_supplier=self.supplier if own else None,
            decision=decision,
            created_at=at,
        )

    def figures(self):
        return accountability_of(self.supplier.pk, now=NOW)


# Answered within 7 days ----------------------------------------------------------------------------------------------


def test_a_reply_within_seven_days_is_in_time_and_one_on_day_eight_is_late():
    rows = Rows()
    rows.review(ago(30), replied_after=timedelta(days=6, hours=23))
    rows.review(ago(30), replied_after=timedelta(days=7))  # exactly 7 days: still within
    rows.review(ago(30), replied_after=timedelta(days=7, minutes=1))  # on day 8: late
    found = rows.figures()
    assert (found.reviews_counted, found.reviews_in_time) == (3, 2)
    assert found.answered_in_time == Decimal("66.7")


def test_a_review_older_than_ninety_days_does_not_count_even_if_answered_lately():
    rows = Rows()
    rows.review(ago(91), replied_after=timedelta(days=88))  # answered 3 days ago, received 91 days ago
    rows.review(ago(20), replied_after=timedelta(days=1))
    found = rows.figures()
    assert (found.counted, found.in_time, found.answered) == (1, 1, 1)
    assert found.median_wait == timedelta(days=1)


def test_an_unanswered_review_younger_than_seven_days_is_still_in_time_and_left_out():
    rows = Rows()
    rows.review(ago(3))  # unanswered, 3 days old: left out
    rows.review(ago(2), replied_after=timedelta(hours=5))  # young and answered: counts, in time
    rows.review(ago(10))  # unanswered for 10 days: counts, late
    found = rows.figures()
    assert (found.reviews_counted, found.reviews_in_time, found.waiting) == (2, 1, 1)
    assert found.answered_in_time == Decimal("50.0")


def test_a_reply_after_now_is_not_an_answer_yet():
    rows = Rows()
    rows.review(ago(10), replied_after=timedelta(days=11))  # replied tomorrow, seen from NOW
    found = rows.figures()
    assert (found.counted, found.in_time, found.answered, found.median_wait) == (1, 0, 0, None)


def test_removed_reviews_need_no_answer_and_count_as_removed_after_a_report():
    rows = Rows()
    flagged = rows.review(ago(20), state=Review.State.REMOVED)
    rows.flag(flagged, ago(19), decided=Decision.Outcome.REMOVE)
    rows.review(ago(20), state=Review.State.REMOVED)  # removed by a moderator without a report
    rows.review(ago(20), replied_after=timedelta(days=2))
    rows.review(ago(20), state=Review.State.HELD)  # hidden while checked, still to be answered
    found = rows.figures()
    assert (found.reviews_counted, found.reviews_in_time) == (2, 1)
    assert (found.reviews_received, found.removed_after_flags, found.removed_share) == (4, 1, Decimal("25.0"))


def test_a_suggestion_is_answered_by_its_first_status_change_after_opening():
    rows = Rows()
    rows.suggestion(ago(40), answered_after=timedelta(days=3))
    late = rows.suggestion(ago(40), answered_after=timedelta(days=8))
    rows.status(late, ago(40) + timedelta(days=9), "planned")  # a later change does not move the first answer
    rows.suggestion(ago(40))  # only its opening: unanswered and late
    rows.suggestion(ago(1))  # unanswered, a day old: left out
    found = rows.figures()
    assert (found.suggestions_counted, found.suggestions_in_time, found.waiting) == (3, 1, 1)
    assert found.suggestions_answered_in_time == Decimal("33.3")
    assert found.median_wait == timedelta(days=5, hours=12)  # the middle of 3 and 8 days


def test_reviews_and_suggestions_count_together():
    rows = Rows()
    rows.review(ago(30), replied_after=timedelta(hours=2))
    rows.review(ago(30), replied_after=timedelta(days=9))
    rows.suggestion(ago(30), answered_after=timedelta(days=1))
    found = rows.figures()
    assert (found.counted, found.in_time) == (3, 2)
    assert found.answered_in_time == Decimal("66.7")
    assert found.median_wait == timedelta(days=1)  # 2 hours, 1 day, 9 days


def test_the_median_of_an_even_number_of_waits_is_the_mean_of_the_middle_two():
    rows = Rows()
    for wait in (timedelta(hours=2), timedelta(hours=10), timedelta(days=3)):
        rows.review(ago(50), replied_after=wait)
    rows.suggestion(ago(50), answered_after=timedelta(days=1))
    assert rows.figures().median_wait == timedelta(hours=17)


# Flags ----------------------------------------------------------------------------------------------------------------


def test_flagging_statistics_count_the_suppliers_own_reports_and_how_many_were_upheld():
    rows = Rows()
    kept, removed, asked, open_, others = (rows.review(ago(60)) for _ in range(5))
    rows.flag(kept, ago(50), own=True, decided=Decision.Outcome.KEEP)
    rows.flag(removed, ago(50), own=True, decided=Decision.Outcome.REMOVE)
    rows.flag(removed, ago(49), own=False, decided=None)  # a second report of the same review: one review
    rows.flag(asked, ago(40), own=False, decided=Decision.Outcome.EDIT)
    rows.flag(open_, ago(5), own=True)
    rows.flag(others, ago(100), own=True, decided=Decision.Outcome.KEEP)  # reported before the window
    found = rows.figures()
    assert (found.flagged_by_supplier, found.flagged_by_supplier_decided, found.flagged_by_supplier_upheld) == (3, 2, 1)
    assert found.supplier_flags_upheld == Decimal("50.0")
    assert (found.flagged, found.flagged_decided, found.flagged_upheld) == (4, 3, 2)
    assert found.flags_upheld == Decimal("66.7")


def test_another_suppliers_rows_stay_in_its_own_figures():
    ours, theirs = Rows(), Rows()
    ours.review(ago(10), replied_after=timedelta(hours=1))
    theirs.review(ago(10))
    theirs.flag(theirs.review(ago(10)), ago(9), own=True)
    both = accountability([ours.supplier.pk, theirs.supplier.pk], now=NOW)
    assert (both[ours.supplier.pk].in_time, both[ours.supplier.pk].flagged) == (1, 0)
    assert (both[theirs.supplier.pk].in_time, both[theirs.supplier.pk].flagged_by_supplier) == (0, 1)


def test_an_empty_window_gives_no_figure_rather_than_zero():
    rows = Rows()
    rows.review(ago(120), replied_after=timedelta(days=1))
    found = rows.figures()
    assert found.answered_in_time is None
    assert found.median_wait is None
    assert found.supplier_flags_upheld is None
    assert found.flags_upheld is None
    assert found.removed_share is None
    assert found.counted == 0


def test_every_figure_has_its_formula_in_words():
    assert set(FORMULAS) == {
        "answered_in_time",
        "median_reply",
        "flagged_by_supplier",
        "flagged_by_anyone",
        "removed_after_flags",
    }
    assert "7 days" in FORMULAS["answered_in_time"]
    assert "left out until its 7 days are up" in FORMULAS["answered_in_time"]


@pytest.mark.parametrize(
    ("wait", "text"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=25), "25 minutes"),
        (timedelta(hours=3, minutes=1), "3 hours 1 minute"),
        (timedelta(days=2, hours=4, minutes=30), "2 days 4 hours"),
        (timedelta(days=1), "1 day"),
    ],
)
def test_a_wait_reads_as_people_say_it(wait, text):
    assert duration_text(wait) == text


# All suppliers at once --------------------------------------------------------------------------------------------


def _busy(n: int) -> list[int]:
    ids = []
    for i in range(n):
        rows = Rows()
        rows.review(ago(20 + i % 5), replied_after=timedelta(hours=i + 1))
        rows.review(ago(3))
        rows.flag(rows.review(ago(30), replied_after=timedelta(days=9)), ago(29), own=i % 2 == 0, decided="keep")
        rows.suggestion(ago(15), answered_after=timedelta(days=2))
        ids.append(rows.supplier.pk)
    return ids


@pytest.mark.parametrize("n", [3, 30])
def test_the_figures_of_many_suppliers_take_the_same_four_queries(n, django_assert_num_queries):
    ids = _busy(n)
    with django_assert_num_queries(4):
        found = accountability(ids, now=NOW)
    assert set(found) == set(ids)
    assert all(f.counted == 3 and f.in_time == 2 and f.answered == 3 for f in found.values())


@pytest.mark.parametrize("n", [3, 30])
def test_every_suppliers_figures_take_five_queries(n, django_assert_num_queries):
    ids = _busy(n)
    quiet = SupplierFactory().pk
    with django_assert_num_queries(5):  # and the list of suppliers
        found = accountability(now=NOW)
    assert set(found) == {*ids, quiet}
    assert found[quiet].answered_in_time is None


@pytest.mark.skipif(not database_is_postgres(), reason="compares PostgreSQL's percentile_cont with the fallback")
def test_postgresql_and_the_fallback_give_the_same_medians():
    ids = _busy(8)
    extra = Rows()
    for wait in (timedelta(minutes=7), timedelta(hours=5, seconds=3), timedelta(days=2, minutes=1)):
        extra.review(ago(12), replied_after=wait)
    extra.suggestion(ago(12), answered_after=timedelta(days=6, seconds=1))
    waits = figures_of.waits_of([*ids, extra.supplier.pk], now=NOW)
    in_sql = figures_of.median_waits(waits, in_database=True)
    in_python = figures_of.median_waits(waits, in_database=False)
    assert in_sql == in_python
    # The middle two, 5:00:03 and 48:01:00, average 26:30:31.5: rounded to the second.
    assert in_sql[extra.supplier.pk] == timedelta(hours=26, minutes=30, seconds=32)
