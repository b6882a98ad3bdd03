"""How the API writes reviews, replies, decisions, flags, suggestions and their history.

People are named by the name they show others (never an e-mail address); a supplier by its slug and name. A review
whose text is not shown (held while moderators check a report of harmful content, or removed) has `title` and `body`
null, in its every version too, and `note` says what stands in their place; its rating stays, and `counts` says
whether it is in the product's rating.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from purchases.api.representation import SupplierRef  # one component for a supplier named in a body
from reviews import selectors
from reviews.models import Decision, Flag, Origin, Reply, Review, ReviewRevision, StatusChange, Suggestion, Vote

NULL_TEXT = serializers.CharField(allow_null=True)
OPERATORS = "The network's operators"


def absolute(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request else path


class DecisionOut(serializers.ModelSerializer):
    decided_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Decision
        fields = ["outcome", "reason", "decided_at"]
        extra_kwargs = {"reason": {"help_text": "The moderator's written reason, shown where the review is."}}


class ReplyRevisionOut(serializers.Serializer):
    number = serializers.IntegerField(help_text="1 is the reply as first posted.")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReplyOut(serializers.ModelSerializer):
    supplier = SupplierRef(read_only=True)
    edited = serializers.BooleanField(source="is_edited", read_only=True)

    class Meta:
        model = Reply
        fields = ["supplier", "body", "created_at", "edited", "edited_at", "revision_count"]
        extra_kwargs = {"revision_count": {"help_text": "How many versions it has had (1: never edited)."}}


class ReplyDetailOut(ReplyOut):
    revisions = ReplyRevisionOut(many=True, read_only=True, help_text="Every version, the first first.")

    class Meta(ReplyOut.Meta):
        fields = [*ReplyOut.Meta.fields, "revisions"]


class ReviewRevisionOut(serializers.Serializer):
    number = serializers.IntegerField(help_text="1 is the review as first posted.")
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(allow_null=True, help_text="Null while the review's text is not shown.")
    body = serializers.CharField(allow_null=True, help_text="Null while the review's text is not shown.")
    created_at = serializers.DateTimeField()


def note_on(review: Review) -> str | None:
    """What stands where a review's text is not shown: why, in the moderators' words once they have decided."""
    if review.is_shown:
        return None
    decision = selectors.last_decision(review)
    if review.state == Review.State.REMOVED and decision is not None:
        return f"{Review.State.REMOVED.label}: {decision.reason}"
    return Review.State(review.state).label


class ReviewOut(serializers.ModelSerializer):
    history = serializers.SerializerMethodField(
        help_text="This review with every version of it and of its reply, where anyone may read them."
    )
    origin = serializers.ChoiceField(
        choices=Origin.choices,
        read_only=True,
        help_text="How it was collected: verified_purchase (by the buyer of a delivered unit of the batch, one "
        "review per unit) or unverified (by someone who did not buy it here). Nobody chooses it.",
    )
    state = serializers.ChoiceField(
        choices=Review.State.choices,
        read_only=True,
        help_text="published; held (hidden while moderators check a report of harmful or illegal content); "
        "edit_requested (shown, its author asked to edit it: see `decision`); removed (by moderators, never "
        "deleted: see `note` and `decision`).",
    )
    shown = serializers.BooleanField(source="is_shown", read_only=True, help_text="Whether its text is shown.")
    counts = serializers.BooleanField(
        read_only=True,
        help_text="Whether its rating counts in the product's rating: every review's does until removed.",
    )
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField(
        help_text="Null while the text is shown; otherwise what stands in its place, with the moderators' reason."
    )
    edited = serializers.BooleanField(source="is_edited", read_only=True)
    lot = serializers.CharField(source="batch.lot", read_only=True)
    author = serializers.CharField(
        source="author.public_name", read_only=True, help_text="The name its author shows others."
    )
    reply = serializers.SerializerMethodField(help_text="The supplier's public reply; null until there is one.")
    decision = serializers.SerializerMethodField(
        help_text="The moderators' decision that stands, with its reason; null if none was ever needed."
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "history",
            "origin",
            "state",
            "shown",
            "counts",
            "rating",
            "title",
            "body",
            "note",
            "created_at",
            "edited",
            "edited_at",
            "revision_count",
            "batch",
            "lot",
            "product",
            "author",
            "reply",
            "decision",
        ]
        extra_kwargs = {
            "revision_count": {"help_text": "How many versions it has had (1: never edited)."},
            "edited_at": {"help_text": "When its author last changed it."},
        }

    reply_serializer: type[serializers.Serializer] = ReplyOut

    @extend_schema_field(OpenApiTypes.URI)
    def get_history(self, review: Review) -> str:
        return absolute(self.context, reverse("api:review-detail", args=[review.pk]))

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Null while its text is not shown."))
    def get_title(self, review: Review) -> str | None:
        return review.title if review.is_shown else None

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Null while its text is not shown."))
    def get_body(self, review: Review) -> str | None:
        return review.body if review.is_shown else None

    @extend_schema_field(NULL_TEXT)
    def get_note(self, review: Review) -> str | None:
        return note_on(review)

    @extend_schema_field(ReplyOut(allow_null=True))
    def get_reply(self, review: Review) -> dict[str, Any] | None:
        reply = selectors.reply_of(review)
        return self.reply_serializer(reply, context=self.context).data if reply else None

    @extend_schema_field(DecisionOut(allow_null=True))
    def get_decision(self, review: Review) -> dict[str, Any] | None:
        decision = selectors.last_decision(review)
        return DecisionOut(decision).data if decision else None


class ReviewDetailOut(ReviewOut):
    revisions = serializers.SerializerMethodField(help_text="Every version its author wrote, the first first.")

    reply_serializer = ReplyDetailOut

    class Meta(ReviewOut.Meta):
        fields = [*ReviewOut.Meta.fields, "revisions"]

    @extend_schema_field(ReviewRevisionOut(many=True))
    def get_revisions(self, review: Review) -> list[dict[str, Any]]:
        return [self.revision(review, revision) for revision in review.revisions.all()]

    @staticmethod
    def revision(review: Review, revision: ReviewRevision) -> dict[str, Any]:
        shown = review.is_shown
        return ReviewRevisionOut(
            {
                "number": revision.number,
                "rating": revision.rating,
                "title": revision.title if shown else None,
                "body": revision.body if shown else None,
                "created_at": revision.created_at,
            }
        ).data

    @extend_schema_field(ReplyDetailOut(allow_null=True))
    def get_reply(self, review: Review) -> dict[str, Any] | None:
        return super().get_reply(review)


class FlagOut(serializers.ModelSerializer):
    counted_for_supplier = serializers.SerializerMethodField(
        help_text="You work for the reviewed supplier: your report is counted in its public flagging figures, and "
        "it never hides the review."
    )
    review_state = serializers.ChoiceField(
        source="review.state",
        choices=Review.State.choices,
        read_only=True,
        help_text="The review's state now: `held` when the report was of harmful or illegal content.",
    )

    class Meta:
        model = Flag
        fields = ["id", "review", "reason", "note", "created_at", "counted_for_supplier", "review_state"]

    def get_counted_for_supplier(self, flag: Flag) -> bool:
        return flag.by_supplier_id is not None


class ActorOut(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=[("author", "Its author"), ("supplier", "The supplier"), ("operator", "The network's operators")]
    )
    name = serializers.CharField(help_text="The author's public name, the supplier's name, or the operators.")
    supplier = serializers.SlugField(allow_null=True, help_text="The supplier's slug when it answered.")


class StatusChangeOut(serializers.ModelSerializer):
    previous = serializers.SerializerMethodField()
    by = serializers.SerializerMethodField()
    duplicate_of = serializers.IntegerField(
        source="duplicate_of_id", allow_null=True, read_only=True, help_text="The suggestion it was merged into."
    )

    class Meta:
        model = StatusChange
        fields = ["status", "previous", "response", "by", "created_at", "duplicate_of", "votes_moved"]
        extra_kwargs = {
            "response": {"help_text": "The public response that came with the change."},
            "votes_moved": {"help_text": "Votes moved to `duplicate_of` by the merge (a person's second is dropped)."},
        }

    @extend_schema_field(
        serializers.ChoiceField(choices=Suggestion.Status.choices, allow_null=True, help_text="Null for its opening.")
    )
    def get_previous(self, change: StatusChange) -> str | None:
        return change.previous or None

    @extend_schema_field(ActorOut)
    def get_by(self, change: StatusChange) -> dict[str, Any]:
        by: dict[str, str | None]
        if change.by_supplier is not None:
            by = {"role": "supplier", "name": change.by_supplier.legal_name, "supplier": change.by_supplier.slug}
        elif not change.previous:
            by = {"role": "author", "name": change.by.public_name, "supplier": None}
        else:
            by = {"role": "operator", "name": OPERATORS, "supplier": None}
        return ActorOut(by).data


class YourVoteOut(serializers.ModelSerializer):
    class Meta:
        model = Vote
        fields = ["notify", "created_at"]
        extra_kwargs = {"notify": {"help_text": "Whether you are e-mailed when its status changes."}}


class SuggestionOut(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    votes = serializers.IntegerField(source="vote_count", read_only=True)
    votes_open = serializers.SerializerMethodField(
        help_text="Whether it still takes votes: not once completed, declined or merged as a duplicate."
    )
    duplicate_of = serializers.IntegerField(
        source="duplicate_of_id", allow_null=True, read_only=True, help_text="The suggestion it was merged into."
    )
    author = serializers.CharField(source="author.public_name", read_only=True)
    your_vote = serializers.SerializerMethodField(help_text="Your vote; null if you have not voted (or signed in).")
    history = StatusChangeOut(many=True, read_only=True, help_text="Every status change, the opening first.")

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "url",
            "product",
            "title",
            "body",
            "status",
            "votes",
            "votes_open",
            "duplicate_of",
            "author",
            "created_at",
            "status_changed_at",
            "your_vote",
            "history",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, suggestion: Suggestion) -> str:
        return absolute(self.context, reverse("api:suggestion-detail", args=[suggestion.pk]))

    def get_votes_open(self, suggestion: Suggestion) -> bool:
        return not suggestion.votes_locked

    @extend_schema_field(YourVoteOut(allow_null=True))
    def get_your_vote(self, suggestion: Suggestion) -> dict[str, Any] | None:
        vote = self.context.get("votes", {}).get(suggestion.pk)
        return YourVoteOut(vote).data if vote else None


class VoteOut(serializers.Serializer):
    suggestion = serializers.IntegerField()
    voted = serializers.BooleanField(help_text="Whether you vote for it now.")
    notify = serializers.BooleanField(help_text="Whether you are e-mailed when its status changes.")
    votes = serializers.IntegerField(help_text="Its votes now.")
