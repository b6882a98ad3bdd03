"""Every write of reviews: reviews and replies, flags and moderation, suggestions and votes. A refusal is a
ReviewRefused with a code (the API's error code) and changes nothing: each service is one transaction."""

from reviews.refusals import ReviewRefused
from reviews.services.moderation import flag_create, review_decide
from reviews.services.reviewing import may_reply, public_batch, reply_save, review_create, review_edit
from reviews.services.suggestions import (
    Voted,
    may_answer,
    may_vote,
    suggestion_create,
    suggestion_status_set,
    suggestion_unvote,
    suggestion_vote,
)

__all__ = [
    "ReviewRefused",
    "Voted",
    "flag_create",
    "may_answer",
    "may_reply",
    "may_vote",
    "public_batch",
    "reply_save",
    "review_create",
    "review_decide",
    "review_edit",
    "suggestion_create",
    "suggestion_status_set",
    "suggestion_unvote",
    "suggestion_vote",
]
