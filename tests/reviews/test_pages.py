"""The community's HTML pages, without JavaScript: writing a review (and which label it will get), a review's page with
every version, the reply and the moderators' decisions; editing, replying and flagging; suggestions, votes and
status changes. Each form's success, its refusals (shown on the form, nothing changed) and who may use it."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from products.models import SupplierMember
from reviews import services
from reviews.models import Flag, Origin, Reply, Review, StatusChange, Suggestion, Vote
from tests.accounts.factories import UserFactory
from tests.products.factories import SupplierMemberFactory
from tests.reviews.factories import buyer, delivered, fresh_text, review, shop, suggestion

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def words(response) -> str:
    """The page's text as a reader sees it (entities such as &#x27; for ' read back)."""
    return html.unescape(text(response))


def errors_of(body: str, field_id: str) -> str:
    """The error block under the field whose widget has this id."""
    marker = f'id="{field_id}_error"'
    start = body.index(marker)
    return body[start : body.index("</div>", start)]


def write_url(s) -> str:
    return reverse("reviews:write", kwargs={"batch_id": s.batch.pk})


def slugs(s) -> dict:
    return {"supplier_slug": s.supplier.slug, "product_slug": s.batch.product.slug}


# Writing a review ----------------------------------------------------------------------------------------------------


def test_a_stranger_is_sent_to_log_in_and_back_to_the_review_form():
    s = shop()

    response = Client().get(write_url(s))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={write_url(s)}"
    assert Client().post(write_url(s), {"rating": 5, "title": "T", "body": "B"}).status_code == 302
    assert not Review.objects.exists()


def test_a_buyer_who_received_it_is_told_the_review_is_verified_and_it_is():
    s = shop()
    who = buyer()
    delivered(s, who)
    client = logged_in(who)

    form = text(client.get(write_url(s)))
    assert "Verified purchase" in form
    assert "You received a unit of this lot you have not reviewed yet" in form
    assert 'type="radio" name="rating" value="5"' in form
    assert "csrfmiddlewaretoken" in form

    response = client.post(write_url(s), {"rating": "2", "title": "Bitter", "body": "Too bitter for me."})

    made = Review.objects.get()
    assert response.status_code == 302
    assert response["Location"] == made.get_absolute_url()
    assert (made.origin, made.rating, made.title, made.author) == (Origin.VERIFIED_PURCHASE, 2, "Bitter", who)
    page = text(client.get(made.get_absolute_url()))
    assert "your review is published, labelled “Verified purchase”" in page


def test_someone_who_did_not_buy_is_told_the_review_is_not_verified():
    s = shop()
    who = UserFactory()
    client = logged_in(who)

    assert "labelled “Not verified”" in text(client.get(write_url(s)))
    client.post(write_url(s), {"rating": "4", "title": "Nice", "body": "Tasted one at a friend's."})

    assert Review.objects.get().origin == Origin.UNVERIFIED


def test_a_refused_review_shows_each_error_on_its_field_and_changes_nothing():
    s = shop()
    client = logged_in(UserFactory())

    response = client.post(write_url(s), {"rating": "4", "title": "  \u200f ", "body": "x" * 5001})

    body = text(response)
    assert response.status_code == 400
    assert "The title cannot be empty." in errors_of(body, "id_title")
    assert "The review is 5001 characters long; the most is 5000." in errors_of(body, "id_body")
    assert 'value="4" id="id_rating_1" required checked' in body  # what was typed is kept
    assert not Review.objects.exists()


def test_a_rating_outside_1_to_5_is_refused_on_the_rating():
    s = shop()

    response = logged_in(UserFactory()).post(write_url(s), {"rating": "6", "title": "T", "body": "B"})

    assert response.status_code == 400
    assert "Select a valid choice" in text(response)
    assert not Review.objects.exists()


def test_a_second_review_of_the_same_batch_without_a_purchase_is_refused_with_a_link_to_the_first():
    s = shop()
    who = UserFactory()
    first = review(s, who)
    client = logged_in(who)

    response = client.post(write_url(s), {"rating": "1", "title": "Again", "body": fresh_text()})

    assert response.status_code == 409
    assert "You have already reviewed this batch. Edit your review instead." in text(response)
    assert f'href="{first.get_absolute_url()}"' in text(response)
    assert Review.objects.count() == 1


def test_the_suppliers_own_people_are_told_they_do_not_review_and_are_refused():
    s = shop()
    client = logged_in(s.owner)

    assert "its own people do not review its products" in text(client.get(write_url(s)))
    response = client.post(write_url(s), {"rating": "5", "title": "Best", "body": "We are great."})

    assert response.status_code == 403
    assert "its own people do not review its products" in text(response)
    assert not Review.objects.exists()


def test_too_many_reviews_are_refused_with_the_limit_in_words(settings):
    settings.REVIEWS_RATE_LIMITS = {"review": {"user": "1/hour"}}
    first, second = shop(), shop()
    who = UserFactory()
    review(first, who)

    response = logged_in(who).post(write_url(second), {"rating": "3", "title": "Fine", "body": fresh_text()})

    assert response.status_code == 429
    assert "You have posted 1 reviews and edits in less than an hour" in text(response)
    assert Review.objects.count() == 1


def test_an_unpublished_or_unknown_batch_has_no_review_form():
    client = logged_in(UserFactory())

    assert client.get(reverse("reviews:write", kwargs={"batch_id": 999999})).status_code == 404


# A review's page -----------------------------------------------------------------------------------------------------


def test_a_reviews_page_shows_every_version_the_reply_with_its_versions_and_the_decisions(operator):
    s = shop()
    who = buyer(display_name="Kofi")
    made = review(s, who, verified=True, rating=2, title="Stale", body="It arrived stale.")
    services.review_edit(author=who, review_id=made.pk, rating=3, body="It arrived stale; the second one was fine.")
    services.reply_save(author=s.owner, review_id=made.pk, body="Sorry: a warm truck.")
    services.reply_save(author=s.owner, review_id=made.pk, body="Sorry: a warm truck. We changed carriers.")
    services.review_decide(moderator=operator.user, review_id=made.pk, outcome="keep", reason="A real experience.")

    body = text(Client().get(made.get_absolute_url()))

    assert "Verified purchase" in body
    assert "3 of 5 stars" in body
    assert '<a href="#history">edited</a>' in body
    history = body[body.index('id="history"') :]
    assert "Original" in history
    assert "It arrived stale.</p>" in history
    assert "Version 2" in history
    assert "the second one was fine." in history
    assert "2 of 5 stars" in history
    assert f"Reply from {s.supplier.legal_name}" in body
    replies = body[body.index('id="reply-history"') :]
    assert "Sorry: a warm truck.</p>" in replies
    assert "We changed carriers." in replies
    assert "Kept: it breaks no rule" in body
    assert 'Reason: <span dir="auto">A real experience.</span>' in body
    assert 'By <span dir="auto">Kofi</span>' in body
    # A visitor gets no form but a way to log in and report it.
    assert 'action="/reviews/' not in body
    assert f"{reverse('accounts:login')}?next=" in body


def test_the_author_sees_the_edit_form_and_nobody_else_does(other_member):
    s = shop()
    who = UserFactory()
    made = review(s, who)

    assert f'action="{reverse("reviews:edit", args=[made.pk])}"' in text(logged_in(who).get(made.get_absolute_url()))
    for other in (s.owner, other_member.user, UserFactory()):
        assert 'id="edit"' not in text(logged_in(other).get(made.get_absolute_url()))


def test_the_author_edits_and_the_page_says_edited_with_the_history():
    s = shop()
    who = UserFactory()
    made = review(s, who, rating=5, title="Great")
    client = logged_in(who)

    response = client.post(
        reverse("reviews:edit", args=[made.pk]), {"rating": "4", "title": "Good", "body": "Good, a bit sweet."}
    )

    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.rating, made.title, made.revision_count) == (4, "Good", 2)
    page = text(client.get(made.get_absolute_url()))
    assert "the version before stays in its history" in page
    assert "Great</strong>" in page
    assert "Good, a bit sweet." in page


def test_a_refused_edit_shows_its_errors_on_the_edit_form_and_changes_nothing():
    s = shop()
    who = UserFactory()
    made = review(s, who, title="Fine")

    response = logged_in(who).post(reverse("reviews:edit", args=[made.pk]), {"rating": "4", "title": "", "body": "x"})

    assert response.status_code == 400
    assert "This field is required." in errors_of(text(response), "edit-title")
    made.refresh_from_db()
    assert (made.title, made.revision_count) == ("Fine", 1)


def test_a_supplier_cannot_edit_a_review_of_its_product():
    s = shop()
    made = review(s, rating=1, title="Awful")

    response = logged_in(s.owner).post(
        reverse("reviews:edit", args=[made.pk]), {"rating": "5", "title": "Lovely", "body": "Lovely."}
    )

    assert response.status_code == 403
    assert "Only its author can edit a review." in text(response)
    made.refresh_from_db()
    assert (made.rating, made.title, made.revision_count) == (1, "Awful", 1)


def test_a_stranger_is_sent_to_log_in_by_every_write_of_a_review():
    s = shop()
    made = review(s)
    for name in ("edit", "reply", "flag"):
        url = reverse(f"reviews:{name}", args=[made.pk])
        response = Client().post(url, {"rating": "5", "title": "x", "body": "x", "reason": "advertising"})
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse('accounts:login')}?next={url}")
    assert (Review.objects.get().revision_count, Reply.objects.count(), Flag.objects.count()) == (1, 0, 0)


def test_a_link_to_a_form_comes_back_to_it_on_the_reviews_page_once_logged_in():
    s = shop()
    made = review(s)
    client = logged_in(UserFactory())

    for name in ("edit", "reply", "flag"):
        response = client.get(reverse(f"reviews:{name}", args=[made.pk]))
        assert response["Location"] == f"{made.get_absolute_url()}#{name}"


def test_the_supplier_replies_then_changes_its_reply_and_both_versions_are_public():
    s = shop()
    made = review(s, rating=2)
    client = logged_in(s.owner)

    assert 'id="reply"' in text(client.get(made.get_absolute_url()))
    first = client.post(reverse("reviews:reply", args=[made.pk]), {"body": "We are sorry."})
    second = client.post(reverse("reviews:reply", args=[made.pk]), {"body": "We are sorry; a refund is on its way."})

    assert first.status_code == second.status_code == 302
    reply = Reply.objects.get()
    assert (reply.body, reply.revision_count) == ("We are sorry; a refund is on its way.", 2)
    page = text(Client().get(made.get_absolute_url()))
    assert "We are sorry.</p>" in page
    assert "a refund is on its way." in page


def test_another_supplier_and_a_shopper_cannot_reply(other_member):
    s = shop()
    made = review(s)
    for who in (other_member.user, UserFactory()):
        client = logged_in(who)
        assert 'id="reply"' not in text(client.get(made.get_absolute_url()))
        response = client.post(reverse("reviews:reply", args=[made.pk]), {"body": "Buy ours instead."})
        assert response.status_code == 403
        assert "who edit its catalog can reply to this review" in text(response)
    assert not Reply.objects.exists()


def test_an_empty_reply_is_refused_on_its_field():
    s = shop()
    made = review(s)

    response = logged_in(s.owner).post(reverse("reviews:reply", args=[made.pk]), {"body": " \u0007 "})

    assert response.status_code == 400
    assert "The reply cannot be empty." in errors_of(text(response), "reply-body")
    assert not Reply.objects.exists()


def test_someone_reports_a_review_with_a_reason_and_it_stays_on_the_page():
    s = shop()
    made = review(s, title="Meh")
    client = logged_in(UserFactory())

    form = text(client.get(made.get_absolute_url()))
    for label in Flag.Reason.labels:
        assert label in form
    response = client.post(reverse("reviews:flag", args=[made.pk]), {"reason": "advertising", "note": "A link."})

    assert response.status_code == 302
    flag = Flag.objects.get()
    assert (flag.reason, flag.note) == ("advertising", "A link.")
    page = words(client.get(made.get_absolute_url()))
    assert "The review stays on the page while the network's moderators check it." in page
    assert "You have reported this review" in page
    assert "Meh</h1>" in text(Client().get(made.get_absolute_url()))


def test_a_harmful_report_hides_the_review_meanwhile_but_the_author_still_sees_it():
    s = shop()
    author = UserFactory()
    made = review(s, author, title="Contains a threat")

    logged_in(UserFactory()).post(reverse("reviews:flag", args=[made.pk]), {"reason": "harmful"})

    made.refresh_from_db()
    assert made.state == Review.State.HELD
    public = text(Client().get(made.get_absolute_url()))
    assert "Contains a threat" not in public
    assert "hidden while the network's moderators check it" in html.unescape(public)
    assert "Only you, its author, see what you wrote" in text(logged_in(author).get(made.get_absolute_url()))


def test_a_report_without_a_reason_is_refused_on_the_reason_and_the_author_cannot_report():
    s = shop()
    author = UserFactory()
    made = review(s, author)

    response = logged_in(UserFactory()).post(reverse("reviews:flag", args=[made.pk]), {"note": "bad"})
    assert response.status_code == 400
    assert "This field is required." in text(response)

    own = logged_in(author)
    assert "You wrote it: edit it instead." in text(own.get(made.get_absolute_url()))
    response = own.post(reverse("reviews:flag", args=[made.pk]), {"reason": "advertising"})
    assert response.status_code == 403
    assert "You wrote this review: edit it instead." in text(response)
    assert not Flag.objects.exists()


def test_reporting_twice_is_refused():
    s = shop()
    made = review(s)
    client = logged_in(UserFactory())
    client.post(reverse("reviews:flag", args=[made.pk]), {"reason": "advertising"})

    response = client.post(reverse("reviews:flag", args=[made.pk]), {"reason": "not_genuine"})

    assert response.status_code == 409
    assert Flag.objects.count() == 1


def test_a_removed_review_leaves_the_moderators_reason_where_it_was(operator):
    s = shop()
    made = review(s, title="Call me on 0244 123 456")
    services.review_decide(
        moderator=operator.user, review_id=made.pk, outcome="remove", reason="It gave a phone number."
    )

    body = text(Client().get(made.get_absolute_url()))

    assert "0244 123 456" not in body
    assert "Removed by the network's moderators" in html.unescape(body)
    assert "It gave a phone number." in body
    assert "Its rating no longer counts." in body


def test_an_unknown_review_is_not_found():
    assert Client().get(reverse("reviews:review", args=[999999])).status_code == 404


# A product's reviews -------------------------------------------------------------------------------------------------


def test_all_reviews_of_a_product_in_the_order_chosen_with_pages():
    s = shop()
    for n in range(23):
        review(s, rating=n % 5 + 1, title=f"Review number {n}")
    url = reverse("reviews:product_reviews", kwargs=slugs(s))

    newest = text(Client().get(url))
    lowest = text(Client().get(url, {"order": "lowest"}))
    second = text(Client().get(url, {"order": "oldest", "page": 2}))

    assert newest.index("Review number 22") < newest.index("Review number 21")
    assert "Review number 2<" not in newest  # on page 2
    assert '<strong aria-current="page">Newest first</strong>' in newest
    assert "Newest first (the default)" in newest
    assert lowest.index("1 of 5 stars") < lowest.index("5 of 5 stars")
    assert '<strong aria-current="page">Lowest rated</strong>' in lowest
    assert "Page 2 of 2" in second
    assert "Review number 22" in second
    assert "Review number 0<" not in second
    assert "How reviews work" in newest


# Suggestions ---------------------------------------------------------------------------------------------------------


def test_someone_suggests_an_improvement_and_gets_its_page_with_their_vote():
    s = shop()
    who = UserFactory()
    url = reverse("reviews:suggest", kwargs=slugs(s))
    client = logged_in(who)

    assert "csrfmiddlewaretoken" in text(client.get(url))
    response = client.post(url, {"title": "Paper wrapper", "body": "Please drop the plastic.", "notify": "on"})

    made = Suggestion.objects.get()
    assert response["Location"] == made.get_absolute_url()
    assert Vote.objects.get().notify is True
    page = text(client.get(made.get_absolute_url()))
    assert "Your suggestion is published, with your vote." in page
    assert "<strong>1</strong> vote" in page
    assert "Opened</strong>" in page


def test_a_refused_suggestion_shows_its_errors_and_a_near_duplicate_is_refused():
    s = shop()
    who = UserFactory()
    url = reverse("reviews:suggest", kwargs=slugs(s))
    client = logged_in(who)

    empty = client.post(url, {"title": "Paper wrapper", "body": "\u202e\u0000"})
    assert empty.status_code == 400
    assert not Suggestion.objects.exists()

    client.post(url, {"title": "Paper wrapper", "body": "Please drop the plastic wrapper for paper."})
    again = client.post(url, {"title": "Paper wrapper!", "body": "Please drop the plastic wrapper for paper"})
    assert again.status_code == 400
    assert "almost the same words" in text(again)
    assert Suggestion.objects.count() == 1


def test_a_stranger_is_sent_to_log_in_to_suggest_or_vote():
    s = shop()
    made = suggestion(s)
    for url in (reverse("reviews:suggest", kwargs=slugs(s)), reverse("reviews:vote", args=[made.pk])):
        assert Client().get(url)["Location"] == f"{reverse('accounts:login')}?next={url}"
    assert Client().post(reverse("reviews:vote", args=[made.pk])).status_code == 302
    assert Client().post(reverse("reviews:status", args=[made.pk]), {"status": "planned"}).status_code == 302
    made.refresh_from_db()
    assert (made.vote_count, made.status) == (1, "open")


def test_voting_once_choosing_e_mails_and_taking_the_vote_back():
    s = shop()
    made = suggestion(s)
    client = logged_in(UserFactory())
    vote, unvote = reverse("reviews:vote", args=[made.pk]), reverse("reviews:unvote", args=[made.pk])

    assert client.get(vote)["Location"] == f"{made.get_absolute_url()}#vote"
    client.post(vote, {"notify": "on"})
    client.post(vote, {"notify": "on"})
    made.refresh_from_db()
    assert made.vote_count == 2
    page = text(client.get(made.get_absolute_url()))
    assert "You voted for it, and are e-mailed when its status changes." in page
    assert "your vote counts once" in page

    client.post(unvote)
    made.refresh_from_db()
    assert made.vote_count == 1


def test_a_vote_from_the_batch_page_comes_back_to_it_but_never_to_another_site():
    s = shop()
    made = suggestion(s)
    client = logged_in(UserFactory())
    batch_page = reverse("storefront:batch", kwargs={"batch_id": s.batch.pk})

    assert client.post(reverse("reviews:vote", args=[made.pk]), {"next": batch_page})["Location"] == batch_page
    away = client.post(reverse("reviews:unvote", args=[made.pk]), {"next": "https://evil.example/"})
    assert away["Location"] == made.get_absolute_url()


def test_the_supplier_answers_and_the_history_shows_who_when_and_the_response():
    s = shop()
    made = suggestion(s)
    client = logged_in(s.owner)
    url = reverse("reviews:status", args=[made.pk])

    assert 'id="answer"' in text(client.get(made.get_absolute_url()))
    client.post(url, {"status": "planned", "response": "Next season's wrappers are paper."})
    client.post(url, {"status": "completed", "response": "Done: paper since March."})

    made.refresh_from_db()
    assert made.status == "completed"
    page = text(Client().get(made.get_absolute_url()))
    history = page[page.index('id="history"') :]
    assert history.index("Open → Planned") < history.index("Planned → Completed")
    assert f'by <span dir="auto">{s.supplier.legal_name}</span>' in history
    assert "Next season&#x27;s wrappers are paper." in history
    assert "Done: paper since March." in history
    assert "Voting has closed: it is completed." in page


def test_another_supplier_and_a_shopper_cannot_answer(other_member):
    s = shop()
    made = suggestion(s)
    for who in (other_member.user, UserFactory()):
        client = logged_in(who)
        assert 'id="answer"' not in text(client.get(made.get_absolute_url()))
        response = client.post(reverse("reviews:status", args=[made.pk]), {"status": "declined", "response": "No."})
        assert response.status_code == 403
    assert StatusChange.objects.filter(suggestion=made).count() == 1


def test_an_editor_answers_but_a_viewer_member_cannot():
    s = shop()
    made = suggestion(s)
    viewer = UserFactory()
    SupplierMemberFactory(supplier=s.supplier, user=viewer, role=SupplierMember.Role.VIEWER)

    response = logged_in(viewer).post(reverse("reviews:status", args=[made.pk]), {"status": "planned", "response": "x"})

    assert response.status_code == 403
    made.refresh_from_db()
    assert made.status == "open"


def test_a_duplicate_needs_its_target_and_merging_moves_the_votes():
    s = shop()
    kept, copy = suggestion(s), suggestion(s)
    voter = UserFactory()
    services.suggestion_vote(voter=voter, suggestion_id=copy.pk)
    client = logged_in(s.owner)
    url = reverse("reviews:status", args=[copy.pk])

    form = text(client.get(copy.get_absolute_url()))
    assert f'<option value="{kept.pk}">#{kept.pk} {kept.title} (1 votes)</option>' in form
    missing = client.post(url, {"status": "duplicate", "response": "Same as another."})
    assert missing.status_code == 400
    assert "Say which suggestion it duplicates." in errors_of(text(missing), "id_duplicate_of")
    copy.refresh_from_db()
    assert copy.status == "open"

    merged = client.post(url, {"status": "duplicate", "response": "Same as another.", "duplicate_of": kept.pk})

    assert merged.status_code == 302
    kept.refresh_from_db()
    assert kept.vote_count == 3
    page = text(Client().get(copy.get_absolute_url()))
    assert f'Merged into <a href="{kept.get_absolute_url()}"' in page
    assert "2 votes moved to it" in page


def test_all_suggestions_of_a_product_by_votes_with_their_latest_response():
    s = shop()
    low, high = suggestion(s, title="Fewer votes"), suggestion(s, title="More votes")
    services.suggestion_vote(voter=UserFactory(), suggestion_id=high.pk)
    services.suggestion_status_set(actor=s.owner, suggestion_id=low.pk, status="under_review", response="Looking.")

    body = text(Client().get(reverse("reviews:product_suggestions", kwargs=slugs(s))))

    assert body.index("More votes") < body.index("Fewer votes")
    assert "Looking." in body
    assert "Under review" in body
    assert "Not answered yet." in body


# Queries: each page costs the same however many versions, replies, decisions, reviews or history entries


@pytest.mark.parametrize("edits", [1, 6])
def test_a_reviews_page_costs_a_fixed_number_of_queries(django_assert_num_queries, operator, settings, edits):
    settings.REVIEWS_RATE_LIMITS = {}
    s = shop()
    who = UserFactory()
    made = review(s, who)
    for n in range(edits):
        services.review_edit(author=who, review_id=made.pk, body=fresh_text(f"Edit {n}. "))
        services.reply_save(author=s.owner, review_id=made.pk, body=f"Reply version {n}.")
        services.review_decide(moderator=operator.user, review_id=made.pk, outcome="keep", reason=f"Reason {n}.")

    # The review with its product, supplier, author, batch and reply; its decisions, revisions, the reply's
    # revisions and their authors.
    with django_assert_num_queries(5):
        body = text(Client().get(made.get_absolute_url()))

    assert body.count('<li class="revision">') == edits + 1 + edits


@pytest.mark.parametrize("changes", [1, 5])
def test_a_suggestions_page_costs_a_fixed_number_of_queries(django_assert_num_queries, changes):
    s = shop()
    made = suggestion(s)
    for n in range(changes):
        status = "under_review" if n % 2 == 0 else "planned"
        services.suggestion_status_set(actor=s.owner, suggestion_id=made.pk, status=status, response=f"Step {n}.")

    with django_assert_num_queries(2):  # the suggestion with its product, supplier and author; its history
        body = text(Client().get(made.get_absolute_url()))

    assert body.count('<li class="step status-') == changes + 1


@pytest.mark.parametrize("count", [2, 25])
def test_the_list_of_a_products_reviews_costs_a_fixed_number_of_queries(django_assert_num_queries, count):
    s = shop()
    for _ in range(count):
        review(s)

    # The product, the rating, the page's count and its reviews with their parts, their decisions.
    with django_assert_num_queries(5):
        body = text(Client().get(reverse("reviews:product_reviews", kwargs=slugs(s))))

    assert body.count('<article class="review ') == min(count, 20)


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_of_a_products_suggestions_costs_a_fixed_number_of_queries(django_assert_num_queries, count):
    s = shop()
    for _ in range(count):
        suggestion(s)

    with django_assert_num_queries(4):  # the product, the page's count, its suggestions, their histories
        body = text(Client().get(reverse("reviews:product_suggestions", kwargs=slugs(s))))

    assert body.count('<li class="suggestion ') == count


def test_the_suppliers_own_people_are_offered_answers_not_votes():
    s = shop()
    made = suggestion(s)
    owner = Client()
    owner.force_login(s.owner)
    page = owner.get(made.get_absolute_url()).content.decode()
    assert f'action="/suggestions/{made.pk}/vote/"' not in page
    assert "rather than vote on them" in page
    batch = owner.get(f"/batches/{s.batch.pk}/").content.decode()
    assert f'action="/suggestions/{made.pk}/vote/"' not in batch
    assert f'href="/batches/{s.batch.pk}/review/"' not in batch
    shopper = Client()
    shopper.force_login(UserFactory())
    assert f'action="/suggestions/{made.pk}/vote/"' in shopper.get(made.get_absolute_url()).content.decode()
