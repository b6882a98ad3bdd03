"""Reviews through the integrator API: public reads with every review's label, state, reply and decision; writes by
the author (review, edit), the supplier (reply), anyone signed in (flags) and operators (decisions). Refusals say
why with the project's error body and change nothing; a supplier cannot hide, delete, reorder or re-rate a review
through the API."""

import json

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.addresses import address_key
from products.models import SupplierMember
from reviews import services
from reviews.models import Decision, Flag, Origin, Reply, ReplyRevision, Review, ReviewRevision
from tests.accounts.factories import UserFactory
from tests.products.factories import BatchFactory, SupplierMemberFactory
from tests.reviews.factories import buyer, delivered, fresh_text, review, shop

pytestmark = pytest.mark.django_db

REVIEWS = "/api/v1/reviews/"


def api(user) -> APIClient:
    """An API client authenticated the way integrators are: with the user's token."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(user, path, body):
    return api(user).post(path, body, format="json")


def trace() -> tuple:
    """What a refused request must leave as it was: every row of reviews, and each review's state and text."""
    return (
        sorted(Review.objects.values_list("id", "state", "rating", "title", "body", "revision_count")),
        ReviewRevision.objects.count(),
        sorted(Reply.objects.values_list("id", "body", "revision_count")),
        ReplyRevision.objects.count(),
        Flag.objects.count(),
        Decision.objects.count(),
    )


def new_review(who, s, **body):
    return {"batch": s.batch.pk, "rating": 4, "title": "Good", "body": fresh_text(), **body}


@pytest.fixture
def s(owner):
    """own_supplier's shop: a public product with a batch on offer."""
    return shop(supplier=owner.supplier, owner=owner.user)


@pytest.fixture
def ama():
    return buyer(email="ama.mensah@example.org", display_name="Ama")


# Reading -------------------------------------------------------------------------------------------------------------


def test_anyone_reads_a_review_with_its_label_lot_reply_and_who_wrote_it(s, ama, owner):
    verified = review(s, ama, rating=2, verified=True, title="Chalky")
    services.reply_save(author=owner.user, review_id=verified.pk, body="We now ship in insulated boxes.")
    unverified = review(s, rating=5)
    response = APIClient().get(REVIEWS)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [unverified.pk, verified.pk]  # newest first
    first = results[1]
    assert first["origin"] == "verified_purchase"
    assert results[0]["origin"] == "unverified"
    assert (first["state"], first["shown"], first["counts"], first["note"]) == ("published", True, True, None)
    assert (first["rating"], first["title"], first["body"]) == (2, "Chalky", verified.body)
    assert (first["batch"], first["lot"], first["product"]) == (s.batch.pk, s.batch.lot, s.batch.product_id)
    assert first["author"] == "Ama"
    assert (first["edited"], first["revision_count"], first["decision"]) == (False, 1, None)
    assert first["history"] == f"http://testserver{REVIEWS}{verified.pk}/"
    assert first["reply"]["body"] == "We now ship in insulated boxes."
    assert first["reply"]["supplier"] == {"slug": s.supplier.slug, "name": s.supplier.legal_name}
    assert first["reply"]["edited"] is False
    assert "ama.mensah" not in response.content.decode()  # never an e-mail address
    assert results[0]["reply"] is None


def test_the_history_has_every_version_of_the_review_and_of_its_reply(s, ama, owner):
    made = review(s, ama, rating=1, verified=True, title="Chalky")
    services.review_edit(author=ama, review_id=made.pk, rating=2, body="Replaced, and the new one was fine.")
    services.reply_save(author=owner.user, review_id=made.pk, body="Sorry about that.")
    services.reply_save(author=owner.user, review_id=made.pk, body="Sorry about that: we sent a new one.")
    response = APIClient().get(f"{REVIEWS}{made.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["edited"], body["revision_count"], body["rating"]) == (True, 2, 2)
    assert body["edited_at"] is not None
    assert [(v["number"], v["rating"], v["title"]) for v in body["revisions"]] == [(1, 1, "Chalky"), (2, 2, "Chalky")]
    assert body["revisions"][1]["body"] == "Replaced, and the new one was fine."
    reply = body["reply"]
    assert (reply["edited"], reply["revision_count"]) == (True, 2)
    assert [v["body"] for v in reply["revisions"]] == ["Sorry about that.", "Sorry about that: we sent a new one."]


def test_a_held_or_removed_review_stays_listed_with_a_note_instead_of_its_text_in_every_version(s, ama, operator):
    held = review(s, rating=1, title="Nasty words")
    removed = review(s, ama, rating=1, verified=True, title="Home address")
    services.review_edit(author=ama, review_id=removed.pk, body="Still the address, again.")
    services.flag_create(flagger=UserFactory(), review_id=held.pk, reason="harmful")
    services.review_decide(moderator=operator.user, review_id=removed.pk, outcome="remove", reason="A home address.")
    listed = {r["id"]: r for r in APIClient().get(REVIEWS).json()["results"]}
    assert set(listed) == {held.pk, removed.pk}
    assert (listed[held.pk]["state"], listed[held.pk]["shown"], listed[held.pk]["counts"]) == ("held", False, True)
    assert listed[held.pk]["note"] == Review.State.HELD.label
    assert (listed[removed.pk]["state"], listed[removed.pk]["counts"]) == ("removed", False)
    assert listed[removed.pk]["note"] == "Removed by the network's moderators: A home address."
    assert listed[removed.pk]["decision"]["outcome"] == "remove"
    assert listed[removed.pk]["decision"]["reason"] == "A home address."
    for review_id in (held.pk, removed.pk):
        detail = APIClient().get(f"{REVIEWS}{review_id}/").json()
        assert (detail["title"], detail["body"]) == (None, None)
        assert detail["rating"] == 1
        assert {(v["title"], v["body"]) for v in detail["revisions"]} == {(None, None)}
    content = APIClient().get(f"{REVIEWS}{removed.pk}/").content.decode()
    assert "Home address" not in content
    assert "Still the address" not in content


def test_a_review_the_author_is_asked_to_edit_stays_shown_with_the_reason(s, operator):
    made = review(s, rating=2)
    services.review_decide(moderator=operator.user, review_id=made.pk, outcome="edit", reason="Drop the name.")
    body = APIClient().get(f"{REVIEWS}{made.pk}/").json()
    assert (body["state"], body["shown"], body["body"], body["note"]) == ("edit_requested", True, made.body, None)
    assert body["decision"]["reason"] == "Drop the name."


def test_filters_by_batch_product_supplier_origin_and_rating(s, ama):
    other_batch = BatchFactory(product=s.batch.product)
    elsewhere = shop()
    a = review(s, ama, rating=5, verified=True)
    b = review(s, rating=2)
    c = services.review_create(
        author=UserFactory(), batch_id=other_batch.pk, rating=2, title="Other lot", body=fresh_text()
    )
    d = review(elsewhere, rating=2)

    def ids(**query):
        response = APIClient().get(REVIEWS, query)
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    assert ids() == {a.pk, b.pk, c.pk, d.pk}
    assert ids(batch=s.batch.pk) == {a.pk, b.pk}
    assert ids(product=s.batch.product_id) == {a.pk, b.pk, c.pk}
    assert ids(supplier=elsewhere.supplier.slug) == {d.pk}
    assert ids(origin="verified_purchase") == {a.pk}
    assert ids(origin="unverified", product=s.batch.product_id) == {b.pk, c.pk}
    assert ids(rating=2) == {b.pk, c.pk, d.pk}


@pytest.mark.parametrize(
    "query",
    [{"rating": "6"}, {"rating": "0"}, {"batch": "1.5"}, {"origin": "bought"}, {"order": "supplier"}, {"order": ""}],
)
def test_a_filter_it_cannot_apply_is_a_400_not_every_review(s, query):
    review(s)
    response = APIClient().get(REVIEWS, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["errors"]) == set(query)


def test_readers_choose_among_the_stated_orders_and_the_supplier_gets_the_same_order(s, owner):
    made = [review(s, rating=rating) for rating in (3, 1, 5, 2)]  # oldest first
    three, one, five, two = (r.pk for r in made)

    def order(client, **query):
        return [r["id"] for r in client.get(REVIEWS, query).json()["results"]]

    anonymous = APIClient()
    assert order(anonymous) == [two, five, one, three]
    assert order(anonymous, order="newest") == [two, five, one, three]
    assert order(anonymous, order="oldest") == [three, one, five, two]
    assert order(anonymous, order="highest") == [five, three, two, one]
    assert order(anonymous, order="lowest") == [one, two, three, five]
    supplier = api(owner.user)
    assert order(supplier) == order(anonymous)  # the supplier's own view puts no review lower
    assert order(supplier, ordering="-rating") == order(anonymous)  # DRF's ordering parameter does nothing here


def test_pages_follow_an_order_through_ties_without_losing_or_repeating_a_review(s):
    made = [review(s, rating=5 if n % 4 else 1) for n in range(11)]
    seen, url, pages = [], f"{REVIEWS}?order=highest&page_size=3", []
    while url:
        page = APIClient().get(url).json()
        pages.append(page)
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    expected = sorted(made, key=lambda r: (-r.rating, -r.created_at.timestamp(), -r.pk))
    assert seen == [r.pk for r in expected]
    assert len(pages) == 4
    assert pages[0]["previous"] is None
    back = APIClient().get(pages[2]["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in pages[1]["results"]]


def test_a_cursor_from_another_order_or_made_up_is_a_400(s):
    for _ in range(3):
        review(s)
    next_link = APIClient().get(f"{REVIEWS}?page_size=1&order=lowest").json()["next"]
    cursor = next_link.split("cursor=")[1].split("&")[0]
    for query in ({"cursor": cursor, "order": "newest"}, {"cursor": "bm9wZQ"}, {"cursor": "!!"}):
        response = APIClient().get(REVIEWS, query)
        assert response.status_code == 400, query
        assert list(response.json()["errors"]) == ["cursor"]


def test_reviews_of_an_unpublished_product_are_not_shown_to_the_public(s, owner):
    made = review(s)
    s.batch.product.published_at = None
    s.batch.product.save(update_fields=["published_at"])
    assert APIClient().get(REVIEWS).json()["results"] == []
    assert APIClient().get(f"{REVIEWS}{made.pk}/").status_code == 404
    assert post(UserFactory(), f"{REVIEWS}{made.pk}/flags/", {"reason": "advertising"}).status_code == 404
    assert [r["id"] for r in api(owner.user).get(REVIEWS).json()["results"]] == [made.pk]  # its own people see it
    assert APIClient().get(f"{REVIEWS}999999/").json()["code"] == "not_found"


def seed(s, owner, operator, n: int) -> None:
    """n reviews of every kind: verified and not, edited, replied to (some revised), flagged, decided."""
    for i in range(n):
        who = buyer() if i % 3 == 0 else UserFactory()
        made = review(s, who, rating=1 + i % 5, verified=i % 3 == 0)
        if i % 2:
            services.review_edit(author=who, review_id=made.pk, body=fresh_text("Edited. "))
            services.reply_save(author=owner.user, review_id=made.pk, body=f"Reply {i}")
        if i % 4 == 1:
            services.reply_save(author=owner.user, review_id=made.pk, body=f"Reply {i}, revised")
        if i % 5 == 2:
            services.flag_create(flagger=UserFactory(), review_id=made.pk, reason="advertising")
            services.review_decide(moderator=operator.user, review_id=made.pk, outcome="keep", reason="Fine.")


def test_listing_costs_the_same_queries_for_3_and_30_reviews(s, owner, operator, django_assert_num_queries):
    shopper = api(UserFactory())
    seed(s, owner, operator, 3)
    with django_assert_num_queries(2):  # the page with authors, batches, products and replies; the decisions
        assert len(APIClient().get(REVIEWS).json()["results"]) == 3
    with django_assert_num_queries(4):  # and the token with its user, and what the user may read
        assert len(shopper.get(REVIEWS).json()["results"]) == 3
    seed(s, owner, operator, 27)
    with django_assert_num_queries(2):
        assert len(APIClient().get(REVIEWS).json()["results"]) == 30
    with django_assert_num_queries(4):
        assert len(shopper.get(REVIEWS, {"order": "lowest", "batch": s.batch.pk}).json()["results"]) == 30


def test_a_review_costs_the_same_queries_however_long_its_history(s, ama, owner, django_assert_num_queries):
    made = review(s, ama, verified=True)
    services.reply_save(author=owner.user, review_id=made.pk, body="Thanks.")
    # The review with its parts; its decisions; its revisions; its reply's revisions, and their authors.
    with django_assert_num_queries(5):
        assert len(APIClient().get(f"{REVIEWS}{made.pk}/").json()["revisions"]) == 1
    for n in range(4):
        services.review_edit(author=ama, review_id=made.pk, body=fresh_text(f"Version {n}. "))
        services.reply_save(author=owner.user, review_id=made.pk, body=f"Thanks, {n}.")
    with django_assert_num_queries(5):
        body = APIClient().get(f"{REVIEWS}{made.pk}/").json()
    assert (len(body["revisions"]), len(body["reply"]["revisions"])) == (5, 5)


# Writing a review ----------------------------------------------------------------------------------------------------


def test_a_buyer_reviews_what_was_delivered_and_gets_the_verified_label(s, ama):
    placed = delivered(s, ama)
    line = placed.lines.get()
    response = api(ama).post(
        REVIEWS, new_review(ama, s, rating=2, order_line=line.pk), format="json", REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"] == f"{REVIEWS}{body['id']}/"
    assert (body["origin"], body["rating"], body["state"]) == ("verified_purchase", 2, "published")
    assert len(body["revisions"]) == 1
    made = Review.objects.get(pk=body["id"])
    assert (made.order_line_id, made.unit, made.author_id) == (line.pk, 1, ama.pk)
    assert made.address == address_key("203.0.113.9")  # the limits count per address, kept only as a keyed hash


def test_someone_who_did_not_buy_gets_the_unverified_label_whatever_they_send(s):
    who = UserFactory()
    response = post(who, REVIEWS, {**new_review(who, s), "origin": "verified_purchase", "state": "removed"})
    assert response.status_code == 201, response.json()
    assert (response.json()["origin"], response.json()["state"]) == ("unverified", "published")
    assert Review.objects.get().origin == Origin.UNVERIFIED


def test_the_same_key_replays_the_first_review_instead_of_a_409(s):
    who = UserFactory()
    body = new_review(who, s)
    first = api(who).post(REVIEWS, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    again = api(who).post(REVIEWS, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Review.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "five"}, "rating"),
        ({"rating": None}, "rating"),
        ({"title": None}, "title"),
        ({"title": " \u202e\x07 "}, "title"),  # nothing left once cleaned
        ({"body": ""}, "body"),
        ({"title": "x" * 121}, "title"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "NUL\x00"}, "body"),
        ({"batch": "seven"}, "batch"),
        ({"batch": 999_999}, "batch"),  # no such batch: a field error, as for any id a body names
        ({"order_line": 999_999}, "order_line"),
    ],
)
def test_bad_input_is_a_400_on_its_field_and_changes_nothing(s, change, field):
    who = UserFactory()
    before = trace()
    response = post(who, REVIEWS, {**new_review(who, s), **change})
    assert response.status_code == 400, response.json()
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid")
    assert list(body["errors"]) == [field]
    assert trace() == before


def test_a_missing_field_is_a_400_naming_it(s):
    response = post(UserFactory(), REVIEWS, {"batch": s.batch.pk})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"rating", "title", "body"}
    assert Review.objects.count() == 0


def test_another_buyers_order_line_is_not_yours_to_review(s, ama):
    line = delivered(s, ama).lines.get()
    someone = buyer()
    response = post(someone, REVIEWS, new_review(someone, s, order_line=line.pk))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["order_line"]
    assert Review.objects.count() == 0


@pytest.mark.parametrize("code", ["already_reviewed", "not_delivered", "duplicate_text"])
def test_conflicts_with_what_exists_are_409_with_their_code(s, ama, code):
    from tests.purchases.factories import order

    if code == "already_reviewed":
        delivered(s, ama)
        assert post(ama, REVIEWS, new_review(ama, s)).status_code == 201
        body = new_review(ama, s)
    elif code == "not_delivered":
        body = new_review(ama, s, order_line=order(s, ama).lines.get().pk)
    else:
        text = fresh_text()
        review(s, ama, title="Bitter", body=text)
        body = new_review(ama, s, batch=BatchFactory(product=s.batch.product).pk, title="bitter", body=text + "!")
    before = trace()
    response = post(ama, REVIEWS, body)
    assert response.status_code == 409, response.json()
    assert (response.json()["status"], response.json()["code"]) == (409, code)
    assert response.json()["message"]
    assert trace() == before


def test_the_suppliers_own_people_do_not_review_its_products(s, owner):
    response = post(owner.user, REVIEWS, new_review(owner.user, s))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Review.objects.count() == 0


@override_settings(REVIEWS_RATE_LIMITS={"review": {"user": "2/hour", "address": ""}})
def test_too_many_reviews_is_a_429_saying_when_to_retry(s):
    who = UserFactory()
    for _ in range(2):
        assert post(who, REVIEWS, new_review(who, s, batch=BatchFactory(product=s.batch.product).pk)).status_code == 201
    before = trace()
    response = post(who, REVIEWS, new_review(who, s))
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 3500 <= int(response["Retry-After"]) <= 3600  # when the first of the two leaves the hour
    assert trace() == before


@override_settings(REVIEWS_RATE_LIMITS={"flag": {"user": "", "address": "1/minute"}})
def test_flags_are_limited_per_address_too(s):
    first, second = review(s), review(s)
    assert (
        api(UserFactory())
        .post(f"{REVIEWS}{first.pk}/flags/", {"reason": "advertising"}, REMOTE_ADDR="198.51.100.7")
        .status_code
        == 201
    )
    response = api(UserFactory()).post(
        f"{REVIEWS}{second.pk}/flags/", {"reason": "advertising"}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Flag.objects.count() == 1


# Who may write what --------------------------------------------------------------------------------------------------


def write_requests(s, made) -> list[tuple[str, str, dict]]:
    return [
        ("post", REVIEWS, new_review(None, s)),
        ("patch", f"{REVIEWS}{made.pk}/", {"rating": 5}),
        ("post", f"{REVIEWS}{made.pk}/reply/", {"body": "Thanks"}),
        ("post", f"{REVIEWS}{made.pk}/flags/", {"reason": "advertising"}),
        ("post", f"{REVIEWS}{made.pk}/decision/", {"outcome": "remove", "reason": "No."}),
    ]


def test_anonymous_writes_are_401_and_change_nothing(s):
    made = review(s, rating=1)
    before = trace()
    for method, path, body in write_requests(s, made):
        response = getattr(APIClient(), method)(path, body, format="json")
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "not_authenticated"
    assert trace() == before


def test_only_its_author_edits_a_review_and_every_version_is_kept(s, ama, owner, other_member, operator):
    made = review(s, ama, rating=1, verified=True)
    before = trace()
    for who in (owner.user, other_member.user, operator.user, UserFactory()):
        response = api(who).patch(f"{REVIEWS}{made.pk}/", {"rating": 5, "body": "Great!"}, format="json")
        assert response.status_code == 403, who
        assert response.json()["code"] == "permission_denied"
    assert trace() == before
    response = api(ama).patch(f"{REVIEWS}{made.pk}/", {"rating": 3}, format="json")
    assert response.status_code == 200
    assert (response.json()["rating"], response.json()["edited"], len(response.json()["revisions"])) == (3, True, 2)
    assert ReviewRevision.objects.filter(review=made).count() == 2


def test_an_edit_with_bad_input_is_a_400_and_keeps_the_review(s, ama):
    made = review(s, ama)
    before = trace()
    for body in ({"rating": 9}, {"body": "   "}, {"title": "t" * 200}):
        response = api(ama).patch(f"{REVIEWS}{made.pk}/", body, format="json")
        assert response.status_code == 400, body
        assert list(response.json()["errors"]) == list(body)
    assert trace() == before


def test_a_removed_review_cannot_be_edited(s, ama, operator):
    made = review(s, ama)
    services.review_decide(moderator=operator.user, review_id=made.pk, outcome="remove", reason="Spam.")
    response = api(ama).patch(f"{REVIEWS}{made.pk}/", {"body": "Let me back in."}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "wrong_state")


@pytest.mark.parametrize("persona", ["author", "owner", "operator"])
def test_nobody_deletes_or_replaces_a_review(s, ama, owner, operator, persona):
    made = review(s, ama, rating=1)
    who = {"author": ama, "owner": owner.user, "operator": operator.user}[persona]
    before = trace()
    assert api(who).delete(f"{REVIEWS}{made.pk}/").status_code == 405
    assert (
        api(who).put(f"{REVIEWS}{made.pk}/", {"rating": 5, "title": "t", "body": "b"}, format="json").status_code == 405
    )
    assert trace() == before


def test_the_supplier_replies_once_and_revises_its_reply(s, owner):
    made = review(s, rating=1)
    editor = UserFactory()
    SupplierMemberFactory(supplier=s.supplier, user=editor, role=SupplierMember.Role.EDITOR)
    first = post(owner.user, f"{REVIEWS}{made.pk}/reply/", {"body": "Sorry: a replacement is on its way."})
    assert first.status_code == 201, first.json()
    assert first.json()["reply"]["body"] == "Sorry: a replacement is on its way."
    again = post(editor, f"{REVIEWS}{made.pk}/reply/", {"body": "It arrived on Monday.", "rating": 5})
    assert again.status_code == 200
    assert (again.json()["reply"]["revision_count"], again.json()["reply"]["edited"]) == (2, True)
    assert [v["body"] for v in again.json()["reply"]["revisions"]] == [
        "Sorry: a replacement is on its way.",
        "It arrived on Monday.",
    ]
    assert again.json()["rating"] == 1  # a reply changes nothing else of the review
    assert Review.objects.get().rating == 1
    assert Reply.objects.count() == 1


def test_only_the_batch_suppliers_editors_reply(s, other_member, ama):
    made = review(s, rating=1)
    viewer = UserFactory()
    SupplierMemberFactory(supplier=s.supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    before = trace()
    for who in (other_member.user, ama, viewer, made.author):
        response = post(who, f"{REVIEWS}{made.pk}/reply/", {"body": "Not you."})
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), who
    assert trace() == before
    response = post(s.owner, f"{REVIEWS}{made.pk}/reply/", {"body": " \x1b\x07 \u202e "})
    assert (response.status_code, list(response.json()["errors"])) == (400, ["body"])
    assert trace() == before


def test_a_report_keeps_the_review_shown_except_harmful_content_from_outside_the_supplier(s, owner):
    advertised, harmful, by_supplier = review(s, rating=1), review(s, rating=1), review(s, rating=1)
    response = post(UserFactory(), f"{REVIEWS}{advertised.pk}/flags/", {"reason": "advertising", "note": "A link."})
    assert response.status_code == 201, response.json()
    assert response.json()["reason"] == "advertising"
    assert (response.json()["review_state"], response.json()["counted_for_supplier"]) == ("published", False)
    response = post(UserFactory(), f"{REVIEWS}{harmful.pk}/flags/", {"reason": "harmful"})
    assert response.json()["review_state"] == "held"
    response = post(owner.user, f"{REVIEWS}{by_supplier.pk}/flags/", {"reason": "harmful"})
    assert response.status_code == 201
    assert (response.json()["review_state"], response.json()["counted_for_supplier"]) == ("published", True)
    listed = {r["id"]: r for r in APIClient().get(REVIEWS).json()["results"]}
    assert listed[by_supplier.pk]["body"] == by_supplier.body
    assert listed[by_supplier.pk]["shown"] is True
    assert listed[advertised.pk]["shown"] is True
    assert listed[harmful.pk]["shown"] is False


def test_the_supplier_cannot_hide_a_low_rating_by_reporting_it_on_every_ground(s, owner):
    made = review(s, rating=1)
    members = [owner.user]
    for _ in Flag.Reason.values[1:]:
        members.append(UserFactory())
        SupplierMemberFactory(supplier=s.supplier, user=members[-1], role=SupplierMember.Role.EDITOR)
    for who, reason in zip(members, Flag.Reason.values, strict=True):
        assert post(who, f"{REVIEWS}{made.pk}/flags/", {"reason": reason}).status_code == 201
    body = APIClient().get(f"{REVIEWS}{made.pk}/").json()
    assert (body["state"], body["shown"], body["rating"], body["body"]) == ("published", True, 1, made.body)
    assert [r["id"] for r in APIClient().get(REVIEWS, {"order": "newest"}).json()["results"]] == [made.pk]


def test_refused_reports_say_why_and_change_nothing(s, ama, operator):
    made = review(s, ama)
    flagger = UserFactory()
    assert post(flagger, f"{REVIEWS}{made.pk}/flags/", {"reason": "advertising"}).status_code == 201
    removed = review(s)
    services.review_decide(moderator=operator.user, review_id=removed.pk, outcome="remove", reason="Spam.")
    before = trace()
    cases = [
        (flagger, made, {"reason": "wrong_product"}, 409, "already_flagged"),
        (ama, made, {"reason": "advertising"}, 403, "permission_denied"),  # its author
        (UserFactory(), removed, {"reason": "advertising"}, 409, "wrong_state"),
        (UserFactory(), made, {"reason": "negative"}, 400, "invalid"),
        (UserFactory(), made, {"reason": "advertising", "note": "n" * 1001}, 400, "invalid"),
    ]
    for who, target, body, code, error in cases:
        response = post(who, f"{REVIEWS}{target.pk}/flags/", body)
        assert (response.status_code, response.json()["code"]) == (code, error), body
    assert trace() == before


def test_operators_decide_with_a_written_reason_shown_where_the_review_was(s, operator):
    made = review(s, rating=1)
    services.flag_create(flagger=UserFactory(), review_id=made.pk, reason="personal_data")
    response = post(operator.user, f"{REVIEWS}{made.pk}/decision/", {"outcome": "remove", "reason": "A phone number."})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["shown"], body["counts"], body["body"]) == ("removed", False, False, None)
    assert body["decision"]["outcome"] == "remove"
    assert body["decision"]["reason"] == "A phone number."
    assert Review.objects.filter(pk=made.pk).exists()  # removed, never deleted
    assert Flag.objects.get().decision_id == Decision.objects.get().pk


def test_nobody_but_an_operator_decides_and_bad_decisions_change_nothing(s, owner, other_member, operator):
    made = review(s, rating=1)
    before = trace()
    for who in (owner.user, other_member.user, made.author, UserFactory()):
        response = post(who, f"{REVIEWS}{made.pk}/decision/", {"outcome": "remove", "reason": "Bad for business."})
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), who
    for body in ({"outcome": "hide", "reason": "x"}, {"outcome": "remove", "reason": ""}, {"outcome": "remove"}):
        response = post(operator.user, f"{REVIEWS}{made.pk}/decision/", body)
        assert (response.status_code, response.json()["code"]) == (400, "invalid"), body
    assert trace() == before
    assert APIClient().get(f"{REVIEWS}{made.pk}/").json()["shown"] is True


def test_writes_to_a_review_that_is_not_there_are_404(s, operator):
    for path, body in [
        ("reply/", {"body": "x"}),
        ("flags/", {"reason": "harmful"}),
        ("decision/", {"outcome": "keep", "reason": "x"}),
    ]:
        response = post(operator.user, f"{REVIEWS}424242/{path}", body)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
    assert api(operator.user).patch(f"{REVIEWS}424242/", {"rating": 2}, format="json").status_code == 404


# Text people type ----------------------------------------------------------------------------------------------------

HOSTILE_TITLE = '<script>alert("t")</script> \u202eevil\u202c \x07title'
HOSTILE_BODY = '<img src=x onerror=alert(1)>\r\n"quoted" & \\back\x1b[31m red\u2066 \u05e9\u05dc\u05d5\u05dd\x00'


def test_script_markup_controls_and_bidi_overrides_come_back_cleaned_and_as_json_text(s, owner):
    who = UserFactory()
    response = post(who, REVIEWS, new_review(who, s, title=HOSTILE_TITLE, body=HOSTILE_BODY.replace("\x00", "")))
    assert response.status_code == 201, response.json()
    review_id = response.json()["id"]
    post(owner.user, f"{REVIEWS}{review_id}/reply/", {"body": "<b>Thanks</b>\u202e \x07ok"})
    served = APIClient().get(f"{REVIEWS}{review_id}/")
    assert served["Content-Type"] == "application/json"
    assert served["X-Content-Type-Options"] == "nosniff"
    raw = served.content.decode()
    body = json.loads(raw)
    assert body["title"] == '<script>alert("t")</script> evil title'  # kept as text, not turned into markup
    assert body["body"] == '<img src=x onerror=alert(1)>\n"quoted" & \\back[31m red \u05e9\u05dc\u05d5\u05dd'
    assert body["reply"]["body"] == "<b>Thanks</b> ok"
    assert body["revisions"][0]["title"] == body["title"]
    for bad in ("\u202e", "\u202c", "\u2066", "\x07", "\x1b", "\r", "&lt;", "&amp;"):
        assert bad not in raw
    assert '\\"quoted\\"' in raw
    assert "\\\\back" in raw
    stored = Review.objects.get(pk=review_id)
    assert (stored.title, stored.body) == (body["title"], body["body"])
