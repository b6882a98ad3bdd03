"""The rules of reviews, through their services: labels, one review per unit bought, revisions, replies, flags and
moderation, suggestions and votes, and the abuse limits. A refusal changes nothing."""

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from core.models import AuditEntry
from products.models import SupplierMember
from reviews import services
from reviews.models import (
    Decision,
    Flag,
    Origin,
    Reply,
    ReplyRevision,
    Review,
    ReviewRevision,
    StatusChange,
    Suggestion,
    Vote,
)
from reviews.services import ReviewRefused
from tests.accounts.factories import UserFactory
from tests.products.factories import SupplierMemberFactory
from tests.reviews.factories import buyer, delivered, fresh_text, review, shop, suggestion

pytestmark = pytest.mark.django_db


def refused(code: str):
    return pytest.raises(ReviewRefused, match="") if code is None else _Refused(code)


class _Refused:
    def __init__(self, code: str) -> None:
        self.code = code

    def __enter__(self):
        self.ctx = pytest.raises(ReviewRefused)
        self.info = self.ctx.__enter__()
        return self.info

    def __exit__(self, *exc):
        handled = self.ctx.__exit__(*exc)
        assert self.info.value.code == self.code, self.info.value.messages
        return handled


def write(who, s, **fields):
    return services.review_create(
        author=who,
        batch_id=s.batch.pk,
        rating=fields.pop("rating", 5),
        title=fields.pop("title", "Good"),
        body=fields.pop("body", fresh_text()),
        **fields,
    )


# Labels and one review per unit -------------------------------------------------------------------------------------


def test_buyer_of_a_delivered_unit_gets_the_verified_label():
    s = shop()
    who = buyer()
    placed = delivered(s, who)
    made = write(who, s, order_line_id=placed.lines.get().pk)
    assert made.origin == Origin.VERIFIED_PURCHASE
    assert (made.order_line_id, made.unit) == (placed.lines.get().pk, 1)


def test_a_buyer_who_names_no_line_is_still_reviewing_their_purchase():
    s = shop()
    who = buyer()
    delivered(s, who)
    assert write(who, s).origin == Origin.VERIFIED_PURCHASE


def test_someone_who_did_not_buy_gets_only_the_unverified_label():
    s = shop()
    made = write(UserFactory(), s)
    assert made.origin == Origin.UNVERIFIED
    assert made.order_line_id is None


def test_an_order_not_yet_delivered_does_not_verify_and_changes_nothing():
    s = shop()
    who = buyer()
    from tests.purchases.factories import order

    placed = order(s, who)
    with _Refused("not_delivered"):
        write(who, s, order_line_id=placed.lines.get().pk)
    assert not Review.objects.exists()


def test_someone_elses_order_line_is_not_found():
    s = shop()
    placed = delivered(s, buyer())
    with _Refused("not_found"):
        write(UserFactory(), s, order_line_id=placed.lines.get().pk)
    assert not Review.objects.exists()


def test_one_review_per_unit_bought():
    s = shop()
    who = buyer()
    placed = delivered(s, who, quantity=2)
    line = placed.lines.get()
    first = write(who, s, order_line_id=line.pk)
    second = write(who, s, order_line_id=line.pk)
    assert [first.unit, second.unit] == [1, 2]
    with _Refused("already_reviewed"):
        write(who, s, order_line_id=line.pk)
    with _Refused("already_reviewed"):
        write(who, s)
    assert Review.objects.count() == 2


def test_without_a_purchase_one_review_per_batch():
    s = shop()
    who = UserFactory()
    write(who, s)
    with _Refused("already_reviewed"):
        write(who, s)
    assert Review.objects.count() == 1


def test_the_database_refuses_a_second_review_of_a_unit():
    made = review(shop(), buyer(), verified=True)
    twin = Review(
        batch=made.batch,
        product=made.product,
        supplier=made.supplier,
        author=made.author,
        origin=made.origin,
        order_line=made.order_line,
        unit=made.unit,
        rating=1,
        title="again",
        body="again",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_the_suppliers_own_people_cannot_review_its_products():
    s = shop()
    with _Refused("permission_denied"):
        write(s.owner, s)
    assert not Review.objects.exists()


def test_bad_input_is_refused_field_by_field_and_changes_nothing():
    s = shop()
    with _Refused("invalid") as info:
        services.review_create(author=UserFactory(), batch_id=s.batch.pk, rating=6, title="", body="x" * 5001)
    assert set(info.value.message_dict) == {"rating", "title", "body"}
    for rating in (0, True, "5", 4.5, None):
        with _Refused("invalid"):
            write(UserFactory(), s, rating=rating)
    assert not Review.objects.exists()


def test_an_unknown_or_unpublished_batch_is_not_found():
    s = shop()
    with _Refused("not_found"):
        services.review_create(author=UserFactory(), batch_id=10**9, rating=3, title="t", body="b")
    s.batch.product.published_at = None
    s.batch.product.save(update_fields=["published_at"])
    with _Refused("not_found"):
        write(UserFactory(), s)


def test_strangers_cannot_write_anything():
    from django.contrib.auth.models import AnonymousUser

    s = shop()
    with _Refused("permission_denied"):
        write(AnonymousUser(), s)


def test_control_characters_and_bidi_overrides_are_taken_out():
    made = write(
        UserFactory(), shop(), title="Ni\u202ece\x00 bar\x1b", body="Line\u2066 one\r\n\r\n\r\n\r\nLine two\x07"
    )
    assert made.title == "Nice bar"
    assert made.body == "Line one\n\nLine two"


# Revisions ------------------------------------------------------------------------------------------------------


def test_only_the_author_edits_and_every_version_is_kept():
    s = shop()
    made = review(s, rating=2, title="Too bitter")
    edited = services.review_edit(author=made.author, review_id=made.pk, rating=3, body="Better after a week.")
    assert (edited.rating, edited.body, edited.revision_count, edited.is_edited) == (3, "Better after a week.", 2, True)
    versions = list(ReviewRevision.objects.filter(review=made).values_list("number", "rating", "title"))
    assert versions == [(1, 2, "Too bitter"), (2, 3, "Too bitter")]
    for who in (s.owner, UserFactory()):
        with _Refused("permission_denied"):
            services.review_edit(author=who, review_id=made.pk, rating=5)
    made.refresh_from_db()
    assert made.rating == 3


def test_an_edit_that_changes_nothing_makes_no_revision():
    made = review(shop())
    services.review_edit(author=made.author, review_id=made.pk, title=made.title, body=made.body)
    assert ReviewRevision.objects.filter(review=made).count() == 1


# Replies --------------------------------------------------------------------------------------------------------


def test_the_supplier_replies_once_and_every_version_is_kept():
    s = shop()
    made = review(s, rating=1)
    services.reply_save(author=s.owner, review_id=made.pk, body="Sorry: we are changing the roast.")
    services.reply_save(author=s.owner, review_id=made.pk, body="Sorry: the new roast is out in May.")
    reply = Reply.objects.get(review=made)
    assert (reply.revision_count, reply.is_edited) == (2, True)
    assert list(ReplyRevision.objects.filter(reply=reply).values_list("number", flat=True)) == [1, 2]
    made.refresh_from_db()
    assert made.rating == 1


def test_only_the_batch_suppliers_editors_reply(other_member):
    s = shop()
    made = review(s)
    viewer = UserFactory()
    SupplierMemberFactory(supplier=s.supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    for who in (other_member.user, viewer, made.author, UserFactory()):
        with _Refused("permission_denied"):
            services.reply_save(author=who, review_id=made.pk, body="We disagree.")
    assert not Reply.objects.exists()


# Flags and moderation --------------------------------------------------------------------------------------------


def test_a_flagged_review_stays_visible_while_checked():
    made = review(shop(), rating=1)
    for reason in ("personal_data", "advertising", "not_genuine", "wrong_product"):
        services.flag_create(flagger=UserFactory(), review_id=made.pk, reason=reason)
    made.refresh_from_db()
    assert made.state == Review.State.PUBLISHED
    assert made.is_shown


def test_a_report_of_harmful_content_hides_it_until_decided(operator):
    made = review(shop())
    services.flag_create(flagger=UserFactory(), review_id=made.pk, reason="harmful", note="A threat")
    made.refresh_from_db()
    assert made.state == Review.State.HELD
    assert not made.is_shown
    assert made.counts
    decision = services.review_decide(
        moderator=operator.user, review_id=made.pk, outcome="keep", reason="No threat: a strong complaint."
    )
    made.refresh_from_db()
    assert made.state == Review.State.PUBLISHED
    assert Flag.objects.get(review=made).decision == decision
    assert AuditEntry.objects.filter(action="review.keep", reason="No threat: a strong complaint.").exists()


def test_the_suppliers_own_flags_never_hide_a_review():
    s = shop()
    made = review(s, rating=1)
    flag = services.flag_create(flagger=s.owner, review_id=made.pk, reason="harmful")
    made.refresh_from_db()
    assert made.state == Review.State.PUBLISHED
    assert flag.by_supplier == s.supplier


def test_only_operators_decide_always_with_a_reason(operator):
    s = shop()
    made = review(s, rating=1)
    for who in (s.owner, made.author, UserFactory()):
        with _Refused("permission_denied"):
            services.review_decide(moderator=who, review_id=made.pk, outcome="remove", reason="Negative")
    with _Refused("invalid"):
        services.review_decide(moderator=operator.user, review_id=made.pk, outcome="remove", reason="  ")
    assert not Decision.objects.exists()
    made.refresh_from_db()
    assert made.state == Review.State.PUBLISHED


def test_removed_reviews_leave_the_rating_and_cannot_be_edited(operator):
    made = review(shop(), rating=1)
    services.review_decide(moderator=operator.user, review_id=made.pk, outcome="remove", reason="A phone number.")
    made.refresh_from_db()
    assert made.state == Review.State.REMOVED
    assert not made.counts
    with _Refused("wrong_state"):
        services.review_edit(author=made.author, review_id=made.pk, body="again")


def test_an_edit_requested_review_is_published_again_once_edited(operator):
    made = review(shop())
    services.review_decide(moderator=operator.user, review_id=made.pk, outcome="edit", reason="Remove the name.")
    services.review_edit(author=made.author, review_id=made.pk, body="Without the name, it was still too sweet.")
    made.refresh_from_db()
    assert made.state == Review.State.PUBLISHED


def test_one_flag_per_person_and_review():
    made = review(shop())
    who = UserFactory()
    services.flag_create(flagger=who, review_id=made.pk, reason="advertising")
    with _Refused("already_flagged"):
        services.flag_create(flagger=who, review_id=made.pk, reason="harmful")
    with _Refused("invalid"):
        services.flag_create(flagger=UserFactory(), review_id=made.pk, reason="negative")
    assert Flag.objects.count() == 1


# Suggestions and votes -------------------------------------------------------------------------------------------


def test_a_suggestion_opens_with_its_authors_vote_and_history():
    made = suggestion(shop())
    assert (made.status, made.vote_count) == ("open", 1)
    assert list(StatusChange.objects.filter(suggestion=made).values_list("status", flat=True)) == ["open"]


def test_one_vote_per_person():
    made = suggestion(shop())
    who = UserFactory()
    assert services.suggestion_vote(voter=who, suggestion_id=made.pk).created
    assert not services.suggestion_vote(voter=who, suggestion_id=made.pk, notify=True).created
    made.refresh_from_db()
    assert made.vote_count == 2 == Vote.objects.filter(suggestion=made).count()
    services.suggestion_unvote(voter=who, suggestion_id=made.pk)
    made.refresh_from_db()
    assert made.vote_count == 1


def test_status_changes_are_kept_with_their_responses():
    s = shop()
    made = suggestion(s)
    services.suggestion_status_set(actor=s.owner, suggestion_id=made.pk, status="planned", response="In spring.")
    services.suggestion_status_set(actor=s.owner, suggestion_id=made.pk, status="started", response="Begun.")
    history = list(StatusChange.objects.filter(suggestion=made).values_list("previous", "status", "response"))
    assert history == [("", "open", ""), ("open", "planned", "In spring."), ("planned", "started", "Begun.")]


def test_only_the_supplier_or_operators_change_status_with_a_response(other_member, operator):
    s = shop()
    made = suggestion(s)
    for who in (other_member.user, made.author):
        with _Refused("permission_denied"):
            services.suggestion_status_set(actor=who, suggestion_id=made.pk, status="declined", response="No")
    with _Refused("invalid"):
        services.suggestion_status_set(actor=s.owner, suggestion_id=made.pk, status="planned", response="")
    services.suggestion_status_set(actor=operator.user, suggestion_id=made.pk, status="under_review", response="Seen")
    made.refresh_from_db()
    assert made.status == "under_review"


@pytest.mark.parametrize("status", ["completed", "declined"])
def test_votes_lock_when_answered(status):
    s = shop()
    made = suggestion(s)
    services.suggestion_status_set(actor=s.owner, suggestion_id=made.pk, status=status, response="Done")
    with _Refused("wrong_state"):
        services.suggestion_vote(voter=UserFactory(), suggestion_id=made.pk)
    with _Refused("wrong_state"):
        services.suggestion_unvote(voter=made.author, suggestion_id=made.pk)
    made.refresh_from_db()
    assert made.vote_count == 1


def test_merging_a_duplicate_moves_its_votes_without_double_votes():
    s = shop()
    keep = suggestion(s)
    dup = suggestion(s)
    both, only_dup = UserFactory(), UserFactory()
    for who in (both,):
        services.suggestion_vote(voter=who, suggestion_id=keep.pk)
    for who in (both, only_dup):
        services.suggestion_vote(voter=who, suggestion_id=dup.pk)
    change = services.suggestion_status_set(
        actor=s.owner, suggestion_id=dup.pk, status="duplicate", response="Same idea", duplicate_of_id=keep.pk
    )
    keep.refresh_from_db()
    dup.refresh_from_db()
    assert change.votes_moved == 2  # dup's author and only_dup; `both` had voted for keep already
    assert keep.vote_count == 4 == Vote.objects.filter(suggestion=keep).count()
    assert set(Vote.objects.filter(suggestion=keep).values_list("voter_id", flat=True)) == {
        keep.author_id,
        dup.author_id,
        both.pk,
        only_dup.pk,
    }
    assert (dup.status, dup.duplicate_of, dup.vote_count) == ("duplicate", keep, 0)
    with _Refused("wrong_state"):
        services.suggestion_vote(voter=UserFactory(), suggestion_id=dup.pk)
    with _Refused("wrong_state"):
        services.suggestion_status_set(actor=s.owner, suggestion_id=dup.pk, status="open", response="Oops")


def test_a_duplicate_must_name_another_suggestion_of_the_product():
    s = shop()
    made = suggestion(s)
    elsewhere = suggestion(shop())
    for target in (None, made.pk, elsewhere.pk, 10**9):
        with _Refused("invalid"):
            services.suggestion_status_set(
                actor=s.owner, suggestion_id=made.pk, status="duplicate", response="Dup", duplicate_of_id=target
            )
    made.refresh_from_db()
    assert made.status == "open"


# Abuse limits ----------------------------------------------------------------------------------------------------


def test_near_duplicate_text_from_the_same_person_is_refused():
    who = UserFactory()
    write(who, shop(), title="Great bar", body="The best chocolate I have had this year, rich and smooth.")
    with _Refused("duplicate_text"):
        write(who, shop(), title="Great bar!", body="The best chocolate I have had this year: rich, smooth.")
    write(UserFactory(), shop(), title="Great bar", body="The best chocolate I have had this year, rich and smooth.")


@override_settings(REVIEWS_RATE_LIMITS={"review": {"user": "2/hour"}, "vote": {"address": "2/hour"}})
def test_rate_limits_per_person_and_per_address_say_so():
    who = UserFactory()
    write(who, shop())
    write(who, shop())
    with _Refused("rate_limited") as info:
        write(who, shop())
    assert "2 reviews and edits" in info.value.messages[0]
    made = suggestion(shop())
    for _ in range(2):
        services.suggestion_vote(voter=UserFactory(), suggestion_id=made.pk, address="a1")
    with _Refused("rate_limited"):
        services.suggestion_vote(voter=UserFactory(), suggestion_id=made.pk, address="a1")
    services.suggestion_vote(voter=UserFactory(), suggestion_id=made.pk, address="a2")
    made.refresh_from_db()
    assert made.vote_count == 4


def test_no_path_lets_the_supplier_change_or_hide_a_low_rating(operator):
    s = shop()
    made = review(s, rating=1, title="Mouldy")
    services.reply_save(author=s.owner, review_id=made.pk, body="We disagree strongly.")
    services.flag_create(flagger=s.owner, review_id=made.pk, reason="not_genuine")
    with _Refused("permission_denied"):
        services.review_edit(author=s.owner, review_id=made.pk, rating=5)
    with _Refused("permission_denied"):
        services.review_decide(moderator=s.owner, review_id=made.pk, outcome="remove", reason="Bad for business")
    made.refresh_from_db()
    assert (made.rating, made.title, made.state) == (1, "Mouldy", "published")


def test_the_suppliers_own_people_neither_suggest_nor_vote_on_its_products():
    s = shop()
    made = suggestion(s)
    with _Refused("permission_denied"):
        services.suggestion_create(author=s.owner, product_id=s.batch.product_id, title="Ours", body=fresh_text())
    with _Refused("permission_denied"):
        services.suggestion_vote(voter=s.owner, suggestion_id=made.pk)
    made.refresh_from_db()
    assert made.vote_count == 1
    assert Suggestion.objects.count() == 1
