"""Reviews in the dashboard: scoped to the supplier's people, read-only for them (no change, hide or delete of a
review by any admin path), answered with a public reply and status changes through the services, refusals shown
on the forms; the operators' moderation queue; and what reviews put on the dashboard's home."""

import pytest
from django.urls import reverse

from products.models import SupplierMember
from reviews import services
from reviews.models import Decision, Flag, Reply, Review, StatusChange, Suggestion
from tests.accounts.factories import UserFactory
from tests.products.factories import SupplierFactory, SupplierMemberFactory
from tests.reviews.factories import review, shop, suggestion

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")
REVIEWS = reverse("admin:reviews_review_changelist")
SUGGESTIONS = reverse("admin:reviews_suggestion_changelist")
QUEUE = reverse("admin:reviews_flag_changelist")


def change(model: str, pk: int) -> str:
    return reverse(f"admin:reviews_{model}_change", args=[pk])


def reply_url(pk: int) -> str:
    return reverse("admin:reviews_review_reply", args=[pk])


@pytest.fixture
def own_shop(owner):
    return shop(supplier=owner.supplier, owner=owner.user, quantity=100)


@pytest.fixture
def other_shop(other_member):
    return shop(supplier=other_member.supplier, owner=other_member.user, quantity=100)


def listed(client, url: str, **query) -> list:
    response = client.get(url, query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


# Scope ------------------------------------------------------------------------------------------------------------


def test_a_member_of_another_supplier_sees_none_of_our_reviews_or_suggestions(
    owner, other_member, own_shop, other_shop
):
    ours, theirs = review(own_shop), review(other_shop)
    our_idea, their_idea = suggestion(own_shop), suggestion(other_shop)
    assert listed(owner.client, REVIEWS) == [ours]
    assert listed(other_member.client, REVIEWS) == [theirs]
    assert listed(other_member.client, SUGGESTIONS) == [their_idea]
    assert other_member.client.get(change("review", ours.pk)).status_code == 404
    assert other_member.client.get(change("suggestion", our_idea.pk)).status_code == 404
    assert other_member.client.get(reply_url(ours.pk)).status_code == 404
    response = other_member.client.post(reply_url(ours.pk), {"body": "Not yours."})
    assert response.status_code == 404
    assert not Reply.objects.exists()


# Read-only for suppliers ------------------------------------------------------------------------------------------


def test_a_supplier_cannot_change_a_reviews_rating_or_text_through_the_admin(owner, own_shop):
    low = review(own_shop, rating=1)
    response = owner.client.post(change("review", low.pk), {"rating": 5, "title": "Great", "body": "Best ever."})
    assert response.status_code == 403
    low.refresh_from_db()
    assert (low.rating, low.state, low.revision_count) == (1, Review.State.PUBLISHED, 1)
    page = owner.client.get(change("review", low.pk))
    assert page.status_code == 200
    assert 'name="rating"' not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()


def test_a_supplier_cannot_delete_or_hide_a_review_through_the_admin(owner, own_shop):
    low = review(own_shop, rating=1)
    delete = reverse("admin:reviews_review_delete", args=[low.pk])
    assert owner.client.get(delete).status_code == 403
    assert owner.client.post(delete, {"post": "yes"}).status_code == 403
    bulk = owner.client.post(REVIEWS, {"action": "delete_selected", "_selected_action": [low.pk], "post": "yes"})
    assert bulk.status_code in (200, 302)
    assert owner.client.get(reverse("admin:reviews_review_add")).status_code == 403
    low.refresh_from_db()
    assert low.state == Review.State.PUBLISHED
    assert Review.objects.filter(pk=low.pk).exists()


def test_operators_cannot_change_or_delete_a_review_either(operator, own_shop):
    low = review(own_shop, rating=2)
    assert operator.client.post(change("review", low.pk), {"rating": 5}).status_code == 403
    assert (
        operator.client.post(reverse("admin:reviews_review_delete", args=[low.pk]), {"post": "yes"}).status_code == 403
    )
    low.refresh_from_db()
    assert low.rating == 2


# Replies ----------------------------------------------------------------------------------------------------------


def test_the_supplier_replies_from_the_reviews_page(owner, own_shop):
    low = review(own_shop, rating=2, body="It arrived <b>melted</b>.")
    page = owner.client.get(change("review", low.pk)).content.decode()
    assert f'action="{reply_url(low.pk)}"' in page
    assert "It arrived &lt;b&gt;melted&lt;/b&gt;." in page
    response = owner.client.post(reply_url(low.pk), {"body": "Sorry: we now ship in cool boxes."})
    assert response.status_code == 302
    assert response["Location"] == change("review", low.pk)
    reply = Reply.objects.get(review=low)
    assert (reply.body, reply.author, reply.supplier) == (
        "Sorry: we now ship in cool boxes.",
        owner.user,
        owner.supplier,
    )
    low.refresh_from_db()
    assert low.rating == 2
    page = owner.client.get(change("review", low.pk)).content.decode()
    assert "Sorry: we now ship in cool boxes." in page
    assert "Change the reply" in page


def test_a_refused_reply_shows_on_the_form_and_changes_nothing(owner, own_shop):
    low = review(own_shop)
    response = owner.client.post(reply_url(low.pk), {"body": "   "})
    assert response.status_code == 200
    assert response.context["reply_form"].errors == {"body": ["The reply cannot be empty."]}
    assert not Reply.objects.exists()


def test_a_viewer_reads_reviews_but_a_reply_is_refused_on_the_form(own_shop):
    viewer = UserFactory()
    SupplierMemberFactory(supplier=own_shop.supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    from django.test import Client

    client = Client()
    client.force_login(viewer)
    low = review(own_shop)
    page = client.get(change("review", low.pk)).content.decode()
    assert "the supplier's owners and editors reply to it" in page
    response = client.post(reply_url(low.pk), {"body": "Hello."})
    assert response.status_code == 200
    assert "who edit its catalog can reply" in " ".join(response.context["reply_form"].non_field_errors())
    assert not Reply.objects.exists()


# Suggestions ------------------------------------------------------------------------------------------------------


def _status(client, idea: Suggestion, **data):
    return client.post(change("suggestion", idea.pk), {"status": "", "response": "", "duplicate_of": "", **data})


def test_the_supplier_answers_a_suggestion_with_a_status_and_a_public_response(owner, own_shop):
    idea = suggestion(own_shop)
    response = _status(owner.client, idea, status="planned", response="Coming in the spring batch.")
    assert response.status_code == 302
    idea.refresh_from_db()
    assert idea.status == Suggestion.Status.PLANNED
    step = StatusChange.objects.get(suggestion=idea, previous="open")
    assert (step.status, step.response, step.by_supplier) == ("planned", "Coming in the spring batch.", owner.supplier)
    page = owner.client.get(change("suggestion", idea.pk)).content.decode()
    assert "Open → Planned" in page
    assert "Coming in the spring batch." in page


def test_a_refused_status_change_shows_on_the_form(owner, own_shop):
    idea = suggestion(own_shop)
    response = _status(owner.client, idea, status="duplicate", response="Same as another.")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["duplicate_of"] == ["Say which suggestion it duplicates."]
    response = _status(owner.client, idea, status="declined", response="")
    assert response.context["adminform"].form.errors["response"] == ["The response cannot be empty."]
    idea.refresh_from_db()
    assert idea.status == Suggestion.Status.OPEN
    assert StatusChange.objects.filter(suggestion=idea).count() == 1


def test_merging_a_duplicate_through_the_admin_moves_its_votes(owner, own_shop):
    first, second = suggestion(own_shop), suggestion(own_shop)
    response = _status(owner.client, second, status="duplicate", response="Same idea.", duplicate_of=first.pk)
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.status, second.duplicate_of_id, first.vote_count) == ("duplicate", first.pk, 2)
    assert _status(owner.client, second, status="open", response="Back.").status_code == 403  # merged: read-only


# The moderation queue ---------------------------------------------------------------------------------------------


def test_suppliers_never_see_the_moderation_queue(owner, own_shop):
    flag = services.flag_create(flagger=UserFactory(), review_id=review(own_shop).pk, reason="advertising")
    assert owner.client.get(QUEUE).status_code == 403
    assert owner.client.get(change("flag", flag.pk)).status_code == 403


def test_the_queue_lists_harmful_reports_first_then_the_oldest(operator, own_shop, other_shop):
    older = services.flag_create(flagger=UserFactory(), review_id=review(own_shop).pk, reason="advertising")
    harmful = services.flag_create(flagger=UserFactory(), review_id=review(other_shop).pk, reason="harmful")
    newer = services.flag_create(flagger=UserFactory(), review_id=review(own_shop).pk, reason="personal_data")
    assert listed(operator.client, QUEUE) == [harmful, older, newer]


def test_an_operator_removes_a_review_from_the_queue_with_a_written_reason(operator, own_shop):
    reported = review(own_shop)
    flag = services.flag_create(flagger=UserFactory(), review_id=reported.pk, reason="personal_data")
    other = services.flag_create(flagger=UserFactory(), review_id=reported.pk, reason="advertising")
    response = operator.client.post(change("flag", flag.pk), {"outcome": "remove", "reason": ""})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reason"] == ["The reason cannot be empty."]
    assert not Decision.objects.exists()
    response = operator.client.post(
        change("flag", flag.pk), {"outcome": "remove", "reason": "It gives the seller's home address."}
    )
    assert response.status_code == 302
    reported.refresh_from_db()
    assert reported.state == Review.State.REMOVED
    decision = Decision.objects.get(review=reported)
    assert (decision.outcome, decision.reason, decision.moderator) == (
        "remove",
        "It gives the seller's home address.",
        operator.user,
    )
    assert set(Flag.objects.filter(pk__in=[flag.pk, other.pk]).values_list("decision", flat=True)) == {decision.pk}
    assert listed(operator.client, QUEUE) == []
    assert operator.client.post(change("flag", flag.pk), {"outcome": "keep", "reason": "x"}).status_code == 403


def test_an_operator_keeps_a_reported_low_review(operator, own_shop):
    low = review(own_shop, rating=1)
    flag = services.flag_create(flagger=own_shop.owner, review_id=low.pk, reason="not_genuine")
    response = operator.client.post(
        change("flag", flag.pk), {"outcome": "keep", "reason": "A real buyer's honest experience."}
    )
    assert response.status_code == 302
    low.refresh_from_db()
    flag.refresh_from_db()
    assert (low.state, low.rating, flag.upheld) == (Review.State.PUBLISHED, 1, False)


# The dashboard's home ---------------------------------------------------------------------------------------------


def home(client) -> list:
    response = client.get(HOME)
    assert response.status_code == 200
    return [item for item in response.context["attention"] if "/reviews/" in item.url]


def test_the_suppliers_inbox_lists_unanswered_reviews_and_suggestions_oldest_first(owner, own_shop, other_shop):
    first = review(own_shop, rating=2)
    idea = suggestion(own_shop)
    answered = review(own_shop)
    services.reply_save(author=owner.user, review_id=answered.pk, body="Thanks.")
    review(other_shop)
    items = home(owner.client)
    assert [item.url for item in items] == [change("review", first.pk), change("suggestion", idea.pk)]
    assert items[0].title.startswith("A 2-star review of ")
    assert items[0].action == "Reply"
    assert "7 days left to answer within 7 days." in items[0].detail
    assert items[1].action == "Answer"
    services.reply_save(author=owner.user, review_id=first.pk, body="Sorry.")
    services.suggestion_status_set(actor=owner.user, suggestion_id=idea.pk, status="under_review", response="Maybe.")
    assert home(owner.client) == []


def test_more_unanswered_reviews_than_shown_are_one_item_linking_to_the_list(owner, own_shop):
    for _ in range(12):
        review(own_shop)
    items = home(owner.client)
    assert len(items) == 11
    [more] = [item for item in items if "more" in item.title]
    assert more.title == "2 more reviews to answer"
    response = owner.client.get(more.url)
    assert len(response.context["cl"].result_list) == 12


def test_operators_see_the_reports_to_decide_on_their_home(operator, own_shop):
    reported = review(own_shop)
    flag = services.flag_create(flagger=UserFactory(), review_id=reported.pk, reason="harmful", note="A threat.")
    [item] = home(operator.client)
    assert item.url == change("flag", flag.pk)
    assert item.title.startswith("Decide on a review reported as harmful or illegal")
    assert "Hidden until you decide." in item.detail
    assert "“A threat.”" in item.detail


# The session, the user, the access, every app's providers, the permissions for the app list (members only), the
# recent actions: the home's count in tests/purchases/test_admin_attention.py, and one query for each of reviews'
# providers (the owner's two inboxes; the operators' reports to decide).
@pytest.mark.parametrize(("persona", "queries"), [("owner", 14 + 2), ("operator", 12 + 1)])
def test_home_query_count_does_not_grow_with_reviews_suggestions_or_flags(
    persona, queries, request, owner, operator, own_shop, other_shop, django_assert_num_queries
):
    client = request.getfixturevalue(persona).client

    def add(s, n):
        for _ in range(n):
            services.flag_create(flagger=UserFactory(), review_id=review(s).pk, reason="advertising")
            suggestion(s)

    add(own_shop, 1)
    add(other_shop, 1)
    client.get(HOME)
    with django_assert_num_queries(queries):
        few = home(client)
    more = shop(supplier=SupplierFactory(), quantity=100)
    for s in (own_shop, other_shop, more):
        add(s, 6)
    with django_assert_num_queries(queries):
        many = home(client)
    assert len(many) > len(few)
