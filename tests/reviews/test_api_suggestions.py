"""Suggestions through the integrator API: boards by votes with every status change, one vote per person, the
supplier's answers kept as a permanent history, duplicates merged with their votes."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from products.models import SupplierMember
from reviews import services
from reviews.models import StatusChange, Suggestion, Vote
from tests.accounts.factories import UserFactory
from tests.products.factories import SupplierMemberFactory
from tests.reviews.factories import fresh_text, shop, suggestion
from tests.reviews.test_api import api, post

pytestmark = pytest.mark.django_db

SUGGESTIONS = "/api/v1/suggestions/"


def trace() -> tuple:
    return (
        sorted(Suggestion.objects.values_list("id", "status", "vote_count", "duplicate_of_id", "title", "body")),
        sorted(StatusChange.objects.values_list("id", "status", "response")),
        sorted(Vote.objects.values_list("suggestion_id", "voter_id", "notify")),
    )


@pytest.fixture
def s(owner):
    return shop(supplier=owner.supplier, owner=owner.user)


def vote(who, target, notify=False):
    return services.suggestion_vote(voter=who, suggestion_id=target.pk, notify=notify)


def test_the_board_is_by_votes_then_oldest_with_each_suggestions_history(s, owner):
    kofi = UserFactory(display_name="Kofi", email="kofi@example.org")
    first = suggestion(s, kofi, title="Paper wrapper")
    second, third = suggestion(s), suggestion(s)
    for _ in range(2):
        vote(UserFactory(), third)
    services.suggestion_status_set(actor=owner.user, suggestion_id=first.pk, status="planned", response="From March.")
    response = APIClient().get(SUGGESTIONS)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [third.pk, first.pk, second.pk]
    planned = results[1]
    assert (planned["title"], planned["status"], planned["votes"], planned["votes_open"]) == (
        "Paper wrapper",
        "planned",
        1,
        True,
    )
    assert (planned["author"], planned["product"], planned["your_vote"]) == ("Kofi", s.batch.product_id, None)
    assert planned["url"] == f"http://testserver{SUGGESTIONS}{first.pk}/"
    opening, answer = planned["history"]
    assert (opening["status"], opening["previous"], opening["by"]) == (
        "open",
        None,
        {"role": "author", "name": "Kofi", "supplier": None},
    )
    assert (answer["status"], answer["previous"], answer["response"]) == ("planned", "open", "From March.")
    assert answer["by"] == {"role": "supplier", "name": s.supplier.legal_name, "supplier": s.supplier.slug}
    assert "kofi@example.org" not in response.content.decode()


def test_filters_by_product_supplier_and_status(s, owner):
    elsewhere = shop()
    a, b, c = suggestion(s), suggestion(s), suggestion(elsewhere)
    services.suggestion_status_set(actor=owner.user, suggestion_id=b.pk, status="declined", response="Not safe.")

    def ids(**query):
        response = APIClient().get(SUGGESTIONS, query)
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    assert ids() == {a.pk, b.pk, c.pk}
    assert ids(product=s.batch.product_id) == {a.pk, b.pk}
    assert ids(supplier=elsewhere.supplier.slug) == {c.pk}
    assert ids(status="declined") == {b.pk}
    assert APIClient().get(SUGGESTIONS, {"status": "rejected"}).status_code == 400


def test_a_signed_in_person_sees_their_own_vote(s):
    voter = UserFactory()
    voted, other = suggestion(s), suggestion(s)
    vote(voter, voted, notify=True)
    listed = {r["id"]: r["your_vote"] for r in api(voter).get(SUGGESTIONS).json()["results"]}
    assert listed[other.pk] is None
    assert listed[voted.pk]["notify"] is True
    assert api(voter).get(f"{SUGGESTIONS}{voted.pk}/").json()["your_vote"]["notify"] is True


def test_listing_costs_the_same_queries_for_3_and_30_suggestions(s, owner, django_assert_num_queries):
    voter = UserFactory()
    client = api(voter)

    def seed(n: int) -> None:
        for i in range(n):
            made = suggestion(s)
            vote(voter, made)
            if i % 2:
                services.suggestion_status_set(
                    actor=owner.user, suggestion_id=made.pk, status="under_review", response=f"Looking {i}."
                )

    seed(3)
    with django_assert_num_queries(2):  # the page with authors and products; the histories with who answered
        assert len(APIClient().get(SUGGESTIONS).json()["results"]) == 3
    with django_assert_num_queries(5):  # and the token with its user, what the user may read, the user's votes
        assert len(client.get(SUGGESTIONS).json()["results"]) == 3
    seed(27)
    with django_assert_num_queries(2):
        assert len(APIClient().get(SUGGESTIONS).json()["results"]) == 30
    with django_assert_num_queries(5):
        results = client.get(SUGGESTIONS, {"product": s.batch.product_id}).json()["results"]
    assert len(results) == 30
    assert all(r["your_vote"] is not None for r in results)
    made = Suggestion.objects.order_by("id").last()
    with django_assert_num_queries(2):  # one suggestion with its history
        assert APIClient().get(f"{SUGGESTIONS}{made.pk}/").json()["id"] == made.pk


def test_pages_of_suggestions_with_equal_votes_lose_and_repeat_none(s):
    made = [suggestion(s) for _ in range(7)]
    vote(UserFactory(), made[3])
    seen, url = [], f"{SUGGESTIONS}?page_size=2"
    while url:
        page = APIClient().get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert seen == [made[3].pk] + [m.pk for m in made if m is not made[3]]


def test_a_signed_in_person_suggests_and_their_vote_comes_with_it(s):
    who = UserFactory()
    body = {"product": s.batch.product_id, "title": "Refill packs", "body": fresh_text(), "notify": True}
    response = api(who).post(SUGGESTIONS, body, format="json", REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 201, response.json()
    made = response.json()
    assert response["Location"] == f"{SUGGESTIONS}{made['id']}/"
    assert (made["status"], made["votes"], made["your_vote"]["notify"]) == ("open", 1, True)
    assert [h["status"] for h in made["history"]] == ["open"]
    assert Suggestion.objects.get().address != ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"product": 999_999}, "product"),
        ({"product": "three"}, "product"),
        ({"title": ""}, "title"),
        ({"title": "\u202e\u2066"}, "title"),
        ({"body": "b" * 5001}, "body"),
        ({"notify": "perhaps"}, "notify"),
    ],
)
def test_a_bad_suggestion_is_a_400_on_its_field_and_changes_nothing(s, change, field):
    before = trace()
    body = {"product": s.batch.product_id, "title": "Refill packs", "body": fresh_text(), **change}
    response = post(UserFactory(), SUGGESTIONS, body)
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]
    assert trace() == before


def test_the_same_suggestion_twice_is_a_409(s):
    who = UserFactory()
    body = {"product": s.batch.product_id, "title": "Refill packs", "body": fresh_text()}
    assert post(who, SUGGESTIONS, body).status_code == 201
    before = trace()
    response = post(who, SUGGESTIONS, {**body, "title": "Refill packs!"})
    assert (response.status_code, response.json()["code"]) == (409, "duplicate_text")
    assert trace() == before


@override_settings(REVIEWS_RATE_LIMITS={"suggestion": {"user": "1/day"}, "vote": {"user": "1/minute"}})
def test_too_many_suggestions_or_votes_are_429_with_retry_after(s):
    who = UserFactory()
    body = {"product": s.batch.product_id, "title": "Refill packs", "body": fresh_text()}
    assert post(who, SUGGESTIONS, body).status_code == 201
    response = post(who, SUGGESTIONS, {**body, "title": "Other", "body": fresh_text()})
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert 86000 <= int(response["Retry-After"]) <= 86400
    first, second = suggestion(s), suggestion(s)
    voter = UserFactory()
    assert post(voter, f"{SUGGESTIONS}{first.pk}/vote/", {}).status_code == 201
    response = post(voter, f"{SUGGESTIONS}{second.pk}/vote/", {})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Suggestion.objects.get(pk=second.pk).vote_count == 1


def test_one_vote_per_person_201_then_200_and_it_can_be_taken_back(s):
    made = suggestion(s)
    voter = UserFactory()
    path = f"{SUGGESTIONS}{made.pk}/vote/"
    first = post(voter, path, {"notify": True})
    assert first.status_code == 201
    assert first.json() == {"suggestion": made.pk, "voted": True, "notify": True, "votes": 2}
    again = post(voter, path, {"notify": False})
    assert again.status_code == 200
    assert again.json() == {"suggestion": made.pk, "voted": True, "notify": False, "votes": 2}
    gone = api(voter).delete(path)
    assert gone.status_code == 200
    assert gone.json() == {"suggestion": made.pk, "voted": False, "notify": False, "votes": 1}
    assert api(voter).delete(path).json()["votes"] == 1  # taking back a vote one does not have changes nothing
    assert not Vote.objects.filter(voter=voter).exists()


def test_votes_lock_once_a_suggestion_is_completed(s, owner):
    made = suggestion(s)
    voter = UserFactory()
    vote(voter, made)
    services.suggestion_status_set(actor=owner.user, suggestion_id=made.pk, status="completed", response="Done.")
    before = trace()
    for response in (
        post(UserFactory(), f"{SUGGESTIONS}{made.pk}/vote/", {}),
        api(voter).delete(f"{SUGGESTIONS}{made.pk}/vote/"),
    ):
        assert (response.status_code, response.json()["code"]) == (409, "wrong_state")
    assert trace() == before


def test_anonymous_writes_are_401(s):
    made = suggestion(s)
    before = trace()
    client = APIClient()
    for response in (
        client.post(SUGGESTIONS, {"product": s.batch.product_id, "title": "t", "body": "b"}, format="json"),
        client.post(f"{SUGGESTIONS}{made.pk}/vote/", {}, format="json"),
        client.delete(f"{SUGGESTIONS}{made.pk}/vote/"),
        client.post(f"{SUGGESTIONS}{made.pk}/status/", {"status": "declined", "response": "No"}, format="json"),
    ):
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert trace() == before


def test_the_supplier_answers_with_a_status_and_every_answer_stays_in_the_history(s, owner, operator):
    made = suggestion(s)
    path = f"{SUGGESTIONS}{made.pk}/status/"
    response = post(owner.user, path, {"status": "under_review", "response": "Checking with our printer."})
    assert response.status_code == 201, response.json()
    response = post(owner.user, path, {"status": "planned", "response": "From March."})
    response = post(operator.user, path, {"status": "started", "response": "The network checked: it has begun."})
    history = response.json()["history"]
    assert [(h["previous"], h["status"]) for h in history] == [
        (None, "open"),
        ("open", "under_review"),
        ("under_review", "planned"),
        ("planned", "started"),
    ]
    assert [h["response"] for h in history[1:]] == [
        "Checking with our printer.",
        "From March.",
        "The network checked: it has begun.",
    ]
    assert history[3]["by"] == {"role": "operator", "name": "The network's operators", "supplier": None}
    detail = APIClient().get(f"{SUGGESTIONS}{made.pk}/").json()
    assert detail["history"] == history
    assert detail["status"] == "started"


def test_only_the_suppliers_editors_and_operators_answer(s, other_member):
    made = suggestion(s)
    viewer = UserFactory()
    SupplierMemberFactory(supplier=s.supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    before = trace()
    for who in (other_member.user, viewer, made.author, UserFactory()):
        response = post(who, f"{SUGGESTIONS}{made.pk}/status/", {"status": "declined", "response": "No."})
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), who
    assert trace() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "rejected", "response": "No."}, "status"),
        ({"status": "declined", "response": ""}, "response"),
        ({"status": "declined"}, "response"),
        ({"status": "duplicate", "response": "Asked before."}, "duplicate_of"),
        ({"status": "duplicate", "response": "Asked before.", "duplicate_of": 999_999}, "duplicate_of"),
    ],
)
def test_a_bad_answer_is_a_400_on_its_field_and_changes_nothing(s, owner, body, field):
    made = suggestion(s)
    before = trace()
    response = post(owner.user, f"{SUGGESTIONS}{made.pk}/status/", body)
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]
    assert trace() == before


def test_a_duplicate_is_merged_its_votes_moved_once_per_person(s, owner):
    original, copy = suggestion(s), suggestion(s)
    both, only_copy = UserFactory(), UserFactory()
    vote(both, original)
    vote(both, copy)
    vote(only_copy, copy)
    response = post(
        owner.user,
        f"{SUGGESTIONS}{copy.pk}/status/",
        {"status": "duplicate", "response": "Asked before: see there.", "duplicate_of": original.pk},
    )
    assert response.status_code == 201, response.json()
    merged = response.json()
    assert (merged["status"], merged["duplicate_of"], merged["votes"], merged["votes_open"]) == (
        "duplicate",
        original.pk,
        0,
        False,
    )
    assert (merged["history"][-1]["duplicate_of"], merged["history"][-1]["votes_moved"]) == (original.pk, 2)
    assert APIClient().get(f"{SUGGESTIONS}{original.pk}/").json()["votes"] == 4  # its author, both, the copy's two
    again = post(owner.user, f"{SUGGESTIONS}{copy.pk}/status/", {"status": "open", "response": "Reopened."})
    assert (again.status_code, again.json()["code"]) == (409, "wrong_state")


def test_suggestions_of_an_unpublished_product_are_not_shown(s):
    made = suggestion(s)
    s.batch.product.published_at = None
    s.batch.product.save(update_fields=["published_at"])
    assert APIClient().get(SUGGESTIONS).json()["results"] == []
    assert APIClient().get(f"{SUGGESTIONS}{made.pk}/").status_code == 404
    assert post(UserFactory(), f"{SUGGESTIONS}{made.pk}/vote/", {}).status_code == 404
    assert Suggestion.objects.get().vote_count == 1


def test_hostile_text_in_a_suggestion_comes_back_cleaned_as_json_text(s):
    body = {"product": s.batch.product_id, "title": "<svg onload=alert(1)>\u202e x", "body": "a\x1b[1m\u2067b"}
    response = post(UserFactory(), SUGGESTIONS, body)
    assert response.status_code == 201, response.json()
    served = APIClient().get(f"{SUGGESTIONS}{response.json()['id']}/")
    assert (served.json()["title"], served.json()["body"]) == ("<svg onload=alert(1)> x", "a[1mb")
    raw = served.content.decode()
    assert "\u202e" not in raw
    assert "\x1b" not in raw
