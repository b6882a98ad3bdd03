"""The OpenAPI schema documents the reviews and suggestions endpoints, and what they serve matches it."""

import pytest
import schemathesis
import yaml
from rest_framework.test import APIClient

from reviews import services
from tests.accounts.factories import UserFactory
from tests.purchases.test_api import conforms
from tests.reviews.factories import fresh_text, review, shop, suggestion
from tests.reviews.test_api import REVIEWS, api, post
from tests.reviews.test_api_suggestions import SUGGESTIONS

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return yaml.safe_load(APIClient().get("/api/schema/").content)


def test_schema_lists_every_reviews_endpoint_with_its_refusals(schema):
    paths = schema["paths"]
    assert set(paths["/api/v1/reviews/"]) == {"get", "post"}
    assert set(paths["/api/v1/reviews/{id}/"]) == {"get", "patch"}  # no DELETE, no PUT
    for name in ("reply", "flags", "decision"):
        assert set(paths[f"/api/v1/reviews/{{id}}/{name}/"]) == {"post"}
    assert set(paths["/api/v1/suggestions/"]) == {"get", "post"}
    assert set(paths["/api/v1/suggestions/{id}/"]) == {"get"}
    assert set(paths["/api/v1/suggestions/{id}/vote/"]) == {"post", "delete"}
    assert set(paths["/api/v1/suggestions/{id}/status/"]) == {"post"}
    create = paths["/api/v1/reviews/"]["post"]
    assert {"201", "400", "401", "403", "409", "422", "429"} <= set(create["responses"])
    assert "already_reviewed" in create["responses"]["409"]["description"]
    assert "Retry-After" in create["responses"]["429"]["description"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    assert {"200", "201"} <= set(paths["/api/v1/reviews/{id}/reply/"]["post"]["responses"])
    assert {"200", "201"} <= set(paths["/api/v1/suggestions/{id}/vote/"]["post"]["responses"])
    filters = {p["name"]: p["schema"] for p in paths["/api/v1/reviews/"]["get"]["parameters"]}
    assert {"batch", "product", "supplier", "origin", "rating", "order", "cursor", "page_size"} <= set(filters)
    assert set(filters["order"]["enum"]) == {"newest", "oldest", "highest", "lowest"}
    assert filters["batch"]["type"] == "integer"
    assert {"product", "supplier", "status"} <= {p["name"] for p in paths["/api/v1/suggestions/"]["get"]["parameters"]}
    components = schema["components"]["schemas"]
    review_out = components["ReviewOut"]["properties"]
    assert {"origin", "state", "rating", "title", "body", "note", "edited", "revision_count", "history"} <= set(
        review_out
    )
    assert review_out["origin"]["allOf"] == [{"$ref": "#/components/schemas/OriginEnum"}]
    assert "revisions" in components["ReviewDetailOut"]["properties"]
    assert set(components["SuggestionOut"]["properties"]["history"]["items"]["$ref"].split("/")[-1:]) == {
        "StatusChangeOut"
    }
    assert components["SuggestionStatusEnum"]["enum"] == [
        "open",
        "under_review",
        "planned",
        "started",
        "completed",
        "declined",
        "duplicate",
    ]
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert {"TwoStars", "OfOneOrderLine"} <= set(examples)


def test_reviews_and_suggestions_as_served_match_their_schema(owner, operator):
    s = shop(supplier=owner.supplier, owner=owner.user)
    shown = review(s, rating=2)
    services.reply_save(author=owner.user, review_id=shown.pk, body="Thanks.")
    removed = review(s, rating=1)
    services.review_decide(moderator=operator.user, review_id=removed.pk, outcome="remove", reason="Spam.")
    held = review(s, rating=1)
    services.flag_create(flagger=UserFactory(), review_id=held.pk, reason="harmful")
    idea = suggestion(s)
    services.suggestion_status_set(actor=owner.user, suggestion_id=idea.pk, status="planned", response="Yes.")
    document = schemathesis.openapi.from_dict(APIClient().get("/api/schema/?format=json").json())
    voter = UserFactory()
    conforms(document, REVIEWS, "GET", APIClient().get(REVIEWS))
    conforms(document, REVIEWS, "GET", APIClient().get(REVIEWS, {"order": "sideways"}))
    for made in (shown, removed, held):
        conforms(document, f"{REVIEWS}{{id}}/", "GET", APIClient().get(f"{REVIEWS}{made.pk}/"))
    body = {"batch": s.batch.pk, "rating": 3, "title": "Fine", "body": fresh_text()}
    conforms(document, REVIEWS, "POST", post(voter, REVIEWS, body))
    conforms(document, REVIEWS, "POST", post(voter, REVIEWS, {**body, "body": fresh_text()}))  # 409
    conforms(document, REVIEWS, "POST", APIClient().post(REVIEWS, body, format="json"))  # 401
    conforms(
        document,
        f"{REVIEWS}{{id}}/flags/",
        "POST",
        post(voter, f"{REVIEWS}{shown.pk}/flags/", {"reason": "advertising"}),
    )
    conforms(
        document, f"{REVIEWS}{{id}}/reply/", "POST", post(owner.user, f"{REVIEWS}{shown.pk}/reply/", {"body": "Again."})
    )
    conforms(
        document,
        f"{REVIEWS}{{id}}/decision/",
        "POST",
        post(owner.user, f"{REVIEWS}{shown.pk}/decision/", {"outcome": "remove", "reason": "No."}),
    )
    conforms(document, SUGGESTIONS, "GET", api(voter).get(SUGGESTIONS))
    conforms(document, f"{SUGGESTIONS}{{id}}/", "GET", APIClient().get(f"{SUGGESTIONS}{idea.pk}/"))
    conforms(document, f"{SUGGESTIONS}{{id}}/vote/", "POST", post(voter, f"{SUGGESTIONS}{idea.pk}/vote/", {}))
    conforms(document, f"{SUGGESTIONS}{{id}}/vote/", "DELETE", api(voter).delete(f"{SUGGESTIONS}{idea.pk}/vote/"))
    answer = {"status": "started", "response": "Begun."}
    conforms(
        document, f"{SUGGESTIONS}{{id}}/status/", "POST", post(owner.user, f"{SUGGESTIONS}{idea.pk}/status/", answer)
    )
    new = {"product": s.batch.product_id, "title": "Refills", "body": fresh_text()}
    conforms(document, SUGGESTIONS, "POST", post(voter, SUGGESTIONS, new))
