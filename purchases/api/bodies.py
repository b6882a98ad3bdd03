"""What the API's writes take: shapes and types here; the rules of sale are the services'."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from purchases import services
from purchases.api.representation import FULFILMENT, FULFILMENTS, ID_MAX, PickupFulfilment
from purchases.models import Dispute, Means, Method, Order
from purchases.services.checkout import MAX_LINES, MAX_UNITS


@extend_schema_field(FULFILMENT)
class FulfilmentField(serializers.Field):
    default_error_messages = {
        "invalid": 'An object: {{"method": "pickup", "facility": id}} or {{"method": "delivery", "address": {{…}}}}.',
    }

    def to_internal_value(self, data: Any) -> services.Fulfilment:
        if not isinstance(data, dict):
            self.fail("invalid")
        method = data.get("method")
        shape = FULFILMENTS.get(method) if isinstance(method, str) else None
        if shape is None:
            raise serializers.ValidationError({"method": ['"pickup" or "delivery".']})
        serializer = shape(data=data)
        serializer.is_valid(raise_exception=True)
        if shape is PickupFulfilment:
            return services.Fulfilment(Method.PICKUP, facility_id=serializer.validated_data["facility"])
        return services.Fulfilment(Method.DELIVERY, address=services.Address(**serializer.validated_data["address"]))


class OrderLineIn(serializers.Serializer):
    batch = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="A batch id.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS, help_text="Units of it.")


class OrderIn(serializers.Serializer):
    lines = OrderLineIn(  # type: ignore[call-arg]  # the stubs do not know ListSerializer's max_length
        many=True,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text=f"Batches of one supplier; at most {MAX_LINES} lines and {MAX_UNITS} units.",
    )
    payment = serializers.ChoiceField(choices=Means.choices)
    cash_method = serializers.ChoiceField(
        choices=Order.CashMethod.choices,
        default=Order.CashMethod.CASH_AT_PICKUP,
        help_text="For cash: how the buyer pays the supplier. Card and bank payments go through the supplier's own "
        "provider: the platform never sees card data.",
    )
    fulfilment = FulfilmentField()
    date = serializers.DateField(
        allow_null=True,
        default=None,
        input_formats=["%Y-%m-%d"],
        help_text="A day the supplier's calendar offers for this pick-up point or for delivery; null or left out: "
        "as soon as possible.",
    )


class NoteIn(serializers.Serializer):
    note = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", help_text="For the buyer (a tracking link)."
    )


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why: required from the supplier or an operator, and shown to the buyer.",
    )


class DisputeIn(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Dispute.Reason.choices)
    description = serializers.CharField(max_length=5000, help_text="What went wrong.")
    evidence_url = serializers.URLField(
        max_length=200, required=False, allow_blank=True, default="", help_text="A link to a photo or a report."
    )


class CashReceivedIn(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=Order.CashMethod.choices, required=False, help_text="How it was paid; the buyer's choice if left out."
    )
    provider = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    reference = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="The provider's reference (required for card and bank payments). Never a card number.",
    )


class RescheduleIn(serializers.Serializer):
    date = serializers.DateField(
        allow_null=True, input_formats=["%Y-%m-%d"], help_text="A day the calendar offers; null: as soon as possible."
    )
    facility = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="Pick-ups: another of the supplier's pick-up points."
    )


class AnswerIn(serializers.Serializer):
    response = serializers.CharField(max_length=5000, help_text="Shown to the buyer and the deciding operator.")


class DecideIn(serializers.Serializer):
    upheld = serializers.BooleanField(help_text="true: the buyer is refunded; false: the dispute is rejected.")
    reason = serializers.CharField(max_length=5000, help_text="The written reasons, shown to both parties.")


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
