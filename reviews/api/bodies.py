"""What the API's writes take: shapes and types here; the rules (who may, what text is fit to keep, the abuse
limits) are the services'. Text is taken as typed: the services clean it (core/text.py) and say when it is empty or
too long after cleaning."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from reviews.models import BODY_MAX, NOTE_MAX, REASON_MAX, REPLY_MAX, TITLE_MAX, Decision, Flag, Suggestion

ID_MAX = 2**63 - 1  # BigAutoField


def text(limit: int, help_text: str, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=limit, allow_blank=True, trim_whitespace=False, help_text=help_text, **kwargs
    )


class ReviewIn(serializers.Serializer):
    batch = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="The batch reviewed (a public one).")
    rating = serializers.IntegerField(min_value=1, max_value=5, help_text="Stars, 1 to 5.")
    title = text(TITLE_MAX, "One line.")
    body = text(BODY_MAX, "What you found.")
    order_line = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="One of your delivered order lines for the batch. Left out, a review by a buyer of the batch is "
        "still tied to a unit they received (verified_purchase); anyone else's is unverified.",
    )


class ReviewEditIn(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    title = text(TITLE_MAX, "One line.", required=False)
    body = text(BODY_MAX, "What you found.", required=False)


class ReplyIn(serializers.Serializer):
    body = text(REPLY_MAX, "The supplier's public answer.")


class FlagIn(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Flag.Reason.choices)
    note = text(NOTE_MAX, "For the moderators: what breaks which rule.", required=False, default="")


class DecisionIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Decision.Outcome.choices)
    reason = text(REASON_MAX, "Shown where the review is.")


class SuggestionIn(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="The product (a public one).")
    title = text(TITLE_MAX, "One line.")
    body = text(BODY_MAX, "What would be better, and why.")
    notify = serializers.BooleanField(
        required=False, default=False, help_text="E-mail me when its status changes. Your own vote comes with it."
    )


class VoteIn(serializers.Serializer):
    notify = serializers.BooleanField(
        required=False,
        default=False,
        help_text="E-mail me when its status changes (false if left out, also when voting again).",
    )


class StatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=Suggestion.Status.choices)
    response = text(BODY_MAX, "The public response, kept in its history.")
    duplicate_of = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="For `duplicate`: the suggestion for the same product it merges into (its votes move there).",
    )


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
