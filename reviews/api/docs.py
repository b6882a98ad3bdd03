"""The OpenAPI description of the reviews and suggestions resources: what each operation does, who may, what it
refuses with which status and code, and examples."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from reviews.api.bodies import DecisionIn, FlagIn, ReplyIn, ReviewEditIn, ReviewIn, StatusIn, SuggestionIn, VoteIn
from reviews.api.representation import FlagOut, ReviewDetailOut, SuggestionOut, VoteOut

ERROR_REF = {"$ref": "#/components/schemas/Error"}  # the shape core.api.errors documents


def refused(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_REF, description=description)


FORBIDDEN = refused("`permission_denied`: signed in, but not the one who may do this (the message says who may).")
NOT_FOUND = refused("No such review or suggestion, or it is of a product you may not see.")
LIMITED = refused(
    "`rate_limited`: you, or your network address, posted as much of this as the network allows in a while; "
    "`Retry-After` says after how many seconds one more is allowed. Nothing was written."
)
INVALID = (
    "Bad input, nothing written: `invalid`, with `errors` by field (the same rules as the site's forms: empty "
    "after cleaning, too long, a value not offered)."
)
IDEMPOTENCY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Optional: a repeat with the same key and body returns the first response (header "
    "`Idempotent-Replayed: true`) instead of being refused as a second one; the same key with a different body is "
    "a 422.",
)
IDEMPOTENT: dict[str, Any] = {"parameters": [IDEMPOTENCY], "extensions": {"x-idempotent": True}}

REVIEW_EXAMPLE: dict[str, Any] = {
    "id": 41,
    "history": "https://socialbiz.example.org/api/v1/reviews/41/",
    "origin": "verified_purchase",
    "state": "published",
    "shown": True,
    "counts": True,
    "rating": 2,
    "title": "Chalky, and the wrapper tore",
    "body": "The bar had bloomed white when it arrived. It tasted flat.",
    "note": None,
    "created_at": "2026-11-02T09:15:00Z",
    "edited": True,
    "edited_at": "2026-11-03T18:40:00Z",
    "revision_count": 2,
    "batch": 7,
    "lot": "L2026-09",
    "product": 3,
    "author": "Ama",
    "reply": {
        "supplier": {"slug": "kumasi-cocoa", "name": "Kumasi Cocoa Cooperative"},
        "body": "Heat on the road causes bloom: we now ship in insulated boxes. Write to us for a replacement.",
        "created_at": "2026-11-04T08:00:00Z",
        "edited": False,
        "edited_at": None,
        "revision_count": 1,
        "revisions": [
            {
                "number": 1,
                "body": "Heat on the road causes bloom: we now ship in insulated boxes. Write to us for a replacement.",
                "created_at": "2026-11-04T08:00:00Z",
            }
        ],
    },
    "decision": None,
    "revisions": [
        {
            "number": 1,
            "rating": 1,
            "title": "Chalky",
            "body": "The bar had bloomed white when it arrived.",
            "created_at": "2026-11-02T09:15:00Z",
        },
        {
            "number": 2,
            "rating": 2,
            "title": "Chalky, and the wrapper tore",
            "body": "The bar had bloomed white when it arrived. It tasted flat.",
            "created_at": "2026-11-03T18:40:00Z",
        },
    ],
}
REMOVED_EXAMPLE = {
    **REVIEW_EXAMPLE,
    "state": "removed",
    "shown": False,
    "counts": False,
    "title": None,
    "body": None,
    "note": "Removed by the network's moderators: It gave a person's home address.",
    "reply": None,
    "decision": {
        "outcome": "remove",
        "reason": "It gave a person's home address.",
        "decided_at": "2026-11-05T10:00:00Z",
    },
    "revisions": [{**revision, "title": None, "body": None} for revision in REVIEW_EXAMPLE["revisions"]],
}
SUGGESTION_EXAMPLE = {
    "id": 12,
    "url": "https://socialbiz.example.org/api/v1/suggestions/12/",
    "product": 3,
    "title": "A paper wrapper instead of foil",
    "body": "Foil cannot go in our recycling; paper can.",
    "status": "planned",
    "votes": 18,
    "votes_open": True,
    "duplicate_of": None,
    "author": "Kofi",
    "created_at": "2026-10-01T12:00:00Z",
    "status_changed_at": "2026-10-20T09:30:00Z",
    "your_vote": {"notify": True, "created_at": "2026-10-02T07:00:00Z"},
    "history": [
        {
            "status": "open",
            "previous": None,
            "response": "",
            "by": {"role": "author", "name": "Kofi", "supplier": None},
            "created_at": "2026-10-01T12:00:00Z",
            "duplicate_of": None,
            "votes_moved": 0,
        },
        {
            "status": "planned",
            "previous": "open",
            "response": "Our wrapper supplier can make paper ones from March.",
            "by": {"role": "supplier", "name": "Kumasi Cocoa Cooperative", "supplier": "kumasi-cocoa"},
            "created_at": "2026-10-20T09:30:00Z",
            "duplicate_of": None,
            "votes_moved": 0,
        },
    ],
}


def example(name: str, value: Any, **kwargs: Any) -> OpenApiExample:
    return OpenApiExample(name, value=value, **kwargs)


REVIEWS = {
    "list": extend_schema(
        summary="Reviews",
        description="Every review of the public products, each with the label saying how it was collected, its "
        "state, the supplier's reply and the moderators' decision; newest first unless `order` says otherwise. "
        "Held and removed reviews are listed too, where they were, with a note instead of their text.",
    ),
    "retrieve": extend_schema(
        summary="A review with its history",
        description="Every version its author wrote and every version of the supplier's reply.",
        responses={200: ReviewDetailOut, 404: NOT_FOUND},
        examples=[
            example("An edited review with a reply", REVIEW_EXAMPLE, response_only=True),
            example("A removed review", REMOVED_EXAMPLE, response_only=True),
        ],
    ),
    "create": extend_schema(
        summary="Review a batch",
        description="Signed in. The label is not chosen: a review of a delivered unit you bought (one review per "
        "unit) is `verified_purchase`, any other `unverified` (one per person and batch). The supplier's own "
        "people do not review its products (403). Conflicts (409): `already_reviewed`, `not_delivered` (the order "
        "line named is not delivered yet), `duplicate_text` (almost the same words as another review of yours). "
        "A batch or order line that is not there is a 400 on its field.",
        request=ReviewIn,
        responses={
            201: ReviewDetailOut,
            400: refused(INVALID),
            403: FORBIDDEN,
            409: refused("`already_reviewed`, `not_delivered` or `duplicate_text`; nothing written."),
            429: LIMITED,
        },
        examples=[
            example(
                "Two stars",
                {"batch": 7, "rating": 2, "title": "Chalky", "body": "The bar had bloomed white when it arrived."},
                request_only=True,
            ),
            example(
                "Of one order line",
                {"batch": 7, "rating": 5, "title": "Rich", "body": "Deep and fruity.", "order_line": 120},
                request_only=True,
            ),
            example("The review", REVIEW_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
        **IDEMPOTENT,
    ),
    "partial_update": extend_schema(
        summary="Edit your review",
        description="Its author only: any of the rating, title and text. The version before is kept and the "
        "review says it was edited. A review moderators asked to be edited is published again; a removed one "
        "cannot be edited (409 `wrong_state`).",
        request=ReviewEditIn,
        responses={
            200: ReviewDetailOut,
            400: refused(INVALID),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: refused("`wrong_state` (removed) or `duplicate_text`; nothing written."),
            429: LIMITED,
        },
        examples=[example("A better rating", {"rating": 3, "body": "A replacement came, and it was good."})],
    ),
    "reply": extend_schema(
        summary="Reply to a review (the supplier)",
        description="An owner or editor of the reviewed batch's supplier posts its one public reply (201); "
        "posting again revises it (200), every version kept. A reply changes nothing else of the review.",
        request=ReplyIn,
        responses={
            200: ReviewDetailOut,
            201: ReviewDetailOut,
            400: refused(INVALID),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: refused("`wrong_state`: the review was removed."),
        },
        examples=[example("A reply", {"body": "We now ship in insulated boxes. Write to us for a replacement."})],
    ),
    "flags": extend_schema(
        summary="Report a review to the moderators",
        description="Signed in, not its author, once per review. It stays on the page while moderators check it, "
        "except for a report of harmful or illegal content, which holds it meanwhile (not when the report comes "
        "from the reviewed supplier's people: their reports never hide a review, and are counted in public).",
        request=FlagIn,
        responses={
            201: FlagOut,
            400: refused(INVALID),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: refused("`already_flagged`, or `wrong_state` (already removed)."),
            429: LIMITED,
        },
        examples=[example("Personal data", {"reason": "personal_data", "note": "It gives the driver's phone number."})],
    ),
    "decision": extend_schema(
        summary="Decide on a review (operators)",
        description="keep (published), remove (its text leaves the page, its rating the summary; it is never "
        "deleted) or edit (its author is asked to edit it; it stays shown), with a written reason shown where "
        "the review is. Closes every open report of it; written to the audit log.",
        request=DecisionIn,
        responses={201: ReviewDetailOut, 400: refused(INVALID), 403: FORBIDDEN, 404: NOT_FOUND},
        examples=[example("Remove", {"outcome": "remove", "reason": "It gave a person's home address."})],
    ),
}

SUGGESTIONS = {
    "list": extend_schema(
        summary="Suggestions",
        description="Suggestions for the public products, most votes first, then the oldest; each with its "
        "whole status history.",
    ),
    "retrieve": extend_schema(
        summary="A suggestion with its history",
        responses={200: SuggestionOut, 404: NOT_FOUND},
        examples=[example("A planned suggestion", SUGGESTION_EXAMPLE, response_only=True)],
    ),
    "create": extend_schema(
        summary="Suggest an improvement to a product",
        description="Signed in; your vote comes with it. `duplicate_text` (409): almost the same words as another "
        "suggestion of yours. A product that is not there is a 400 on `product`.",
        request=SuggestionIn,
        responses={
            201: SuggestionOut,
            400: refused(INVALID),
            409: refused("`duplicate_text`; nothing written."),
            429: LIMITED,
        },
        examples=[
            example(
                "A suggestion",
                {"product": 3, "title": "A paper wrapper", "body": "Foil cannot be recycled here.", "notify": True},
                request_only=True,
            ),
            example("The suggestion", SUGGESTION_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
        **IDEMPOTENT,
    ),
    "status_set": extend_schema(
        summary="Answer a suggestion with a status (the supplier or operators)",
        description="An owner or editor of its supplier, or an operator, moves it to a status with a public "
        "response: a new entry of its history, nothing overwritten. `duplicate` merges it into `duplicate_of` (its "
        "votes move there, one per person). Votes lock once completed, declined or duplicate.",
        request=StatusIn,
        responses={
            201: SuggestionOut,
            400: refused(INVALID),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: refused("`wrong_state`: it was merged into another."),
        },
        examples=[
            example("Planned", {"status": "planned", "response": "Paper wrappers from March."}),
            example("A duplicate", {"status": "duplicate", "response": "Asked before: see there.", "duplicate_of": 9}),
        ],
    ),
}

VOTE = [
    extend_schema(
        methods=["POST"],
        summary="Vote for a suggestion",
        description="Once per person: 201 for a new vote, 200 when you had voted already (only `notify` changes).",
        request=VoteIn,
        responses={
            200: VoteOut,
            201: VoteOut,
            404: NOT_FOUND,
            409: refused("`wrong_state`: votes are locked (completed, declined or duplicate)."),
            429: LIMITED,
        },
        examples=[example("With e-mails", {"notify": True})],
    ),
    extend_schema(
        methods=["DELETE"],
        summary="Take your vote back",
        description="While votes are open; 200 whether or not you had voted.",
        request=None,
        responses={200: VoteOut, 404: NOT_FOUND, 409: refused("`wrong_state`: votes are locked.")},
    ),
]
