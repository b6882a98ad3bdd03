"""How the API writes an order: its lines, amounts, payment, fulfilment, timeline and dispute."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from purchases.models import Dispute, Means, Method, Order, OrderEvent, OrderLine

ID_MAX = 2**63 - 1  # BigAutoField
ADDRESS_PARTS = ("name", "line1", "line2", "city", "postcode", "country")


class MoneyOut(serializers.Serializer):
    means = serializers.ChoiceField(choices=Means.choices)
    amount = serializers.IntegerField(
        help_text="In the smallest unit: the currency's minor units (cents for EUR), or hundredths of a credit."
    )
    currency = serializers.CharField(allow_null=True, help_text="ISO 4217 code; null for credits.")
    text = serializers.CharField(help_text='As people read it: "€4.50", "5.00 credits".')


def money(order: Order, amount: int) -> dict[str, Any]:
    return {
        "means": order.payment,
        "amount": amount,
        "currency": order.currency or None,
        "text": order.amount_text(amount),
    }


@extend_schema_field(MoneyOut)
class MoneyField(serializers.Field):
    """An amount in the order's means, read from the attribute `of` of the order or of one of its lines."""

    def __init__(self, *, of: str, **kwargs: Any) -> None:
        self.of = of
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Order | OrderLine) -> dict[str, Any]:
        order = value if isinstance(value, Order) else value.order
        return money(order, getattr(value, self.of))


class SupplierRef(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(source="legal_name")


class LineOut(serializers.ModelSerializer):
    batch = serializers.IntegerField(source="batch_id")
    product = serializers.IntegerField(source="batch.product_id")
    product_name = serializers.CharField(source="batch.product.name")
    lot = serializers.CharField(source="batch.lot")
    unit_price = MoneyField(of="unit_price")
    line_total = MoneyField(of="line_total")

    class Meta:
        model = OrderLine
        fields = ["batch", "product", "product_name", "lot", "quantity", "unit_price", "line_total"]


class HoldOut(serializers.Serializer):
    state = serializers.CharField(help_text="pending (reserved), posted (paid to the supplier) or voided (given back).")
    amount = serializers.IntegerField(help_text="Hundredths of a credit.")
    expires_at = serializers.DateTimeField()


class CashReceiptOut(serializers.Serializer):
    method = serializers.ChoiceField(choices=Order.CashMethod.choices)
    provider = serializers.CharField()
    reference = serializers.CharField()
    received_at = serializers.DateTimeField()


class PaymentOut(serializers.Serializer):
    means = serializers.ChoiceField(choices=Means.choices)
    cash_method = serializers.ChoiceField(
        choices=Order.CashMethod.choices, allow_null=True, help_text="How the buyer pays in cash; null for credits."
    )
    paid_at = serializers.DateTimeField(
        allow_null=True, help_text="Cash: when the supplier confirmed receipt. Credits: when they were paid to it."
    )
    guaranteed_by_network = serializers.BooleanField(
        help_text="Bought with credits: if a dispute is upheld after the supplier was paid, the network refunds the "
        "buyer from its guarantee fund."
    )
    hold = HoldOut(allow_null=True, help_text="Credits: the amount reserved from the buyer's account; null for cash.")
    cash_receipt = CashReceiptOut(allow_null=True, help_text="Cash: the receipt the supplier recorded, if any.")


# Fulfilment, one serializer per method for both directions: the request leaves out what is read-only.


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, help_text="Who receives it.")
    line1 = serializers.CharField(max_length=200, allow_blank=True)
    line2 = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    city = serializers.CharField(max_length=100, allow_blank=True)
    postcode = serializers.CharField(max_length=20, allow_blank=True)
    country = serializers.CharField(max_length=2, allow_blank=True, help_text="ISO 3166-1 alpha-2 code, such as GH.")


class PickupFulfilment(serializers.Serializer):
    method = serializers.ChoiceField(choices=[(Method.PICKUP.value, Method.PICKUP.label)])
    facility = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, help_text="One of the supplier's pick-up points (a facility id)."
    )
    place_name = serializers.CharField(read_only=True, help_text="The pick-up point's name when the order was placed.")
    place_address = serializers.CharField(read_only=True)


class DeliveryFulfilment(serializers.Serializer):
    method = serializers.ChoiceField(choices=[(Method.DELIVERY.value, Method.DELIVERY.label)])
    address = AddressSerializer()


FULFILMENTS: dict[str, type[serializers.Serializer]] = {
    Method.PICKUP.value: PickupFulfilment,
    Method.DELIVERY.value: DeliveryFulfilment,
}
FULFILMENT = PolymorphicProxySerializer(
    component_name="Fulfilment", serializers=dict(FULFILMENTS), resource_type_field_name="method"
)


class DisputeOut(serializers.ModelSerializer):
    outstanding = serializers.IntegerField(
        read_only=True, help_text="What the supplier still owes the guarantee fund, in hundredths of a credit."
    )

    class Meta:
        model = Dispute
        fields = [
            "reason",
            "state",
            "description",
            "evidence_url",
            "opened_at",
            "supplier_response",
            "responded_at",
            "decision_reason",
            "decided_at",
            "refunded",
            "recovered",
            "outstanding",
        ]


class EventOut(serializers.ModelSerializer):
    from_state = serializers.SerializerMethodField()
    to_state = serializers.ChoiceField(choices=Order.State.choices)
    actor = serializers.SerializerMethodField(
        help_text="The name the person who took the step shows others (never an e-mail address); null for the "
        "platform's own steps."
    )

    class Meta:
        model = OrderEvent
        fields = ["action", "from_state", "to_state", "role", "actor", "note", "at"]

    @extend_schema_field(serializers.ChoiceField(choices=Order.State.choices, allow_null=True))
    def get_from_state(self, event: OrderEvent) -> str | None:
        return event.from_state or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: OrderEvent) -> str | None:
        return event.actor.public_name if event.actor else None


class OrderOut(serializers.ModelSerializer):
    supplier = SupplierRef(read_only=True)
    lines = LineOut(many=True, read_only=True)
    subtotal = MoneyField(of="subtotal")
    delivery_fee = MoneyField(of="delivery_fee")
    total = MoneyField(of="total")
    payment = serializers.SerializerMethodField()
    fulfilment = serializers.SerializerMethodField()
    date = serializers.DateField(
        source="scheduled_for", read_only=True, allow_null=True, help_text="The day chosen; null: as soon as possible."
    )
    timeline = EventOut(source="timeline_events", many=True, read_only=True, help_text="Every step, oldest first.")
    dispute = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The order's page for its buyer.")

    class Meta:
        model = Order
        fields = [
            "id",
            "state",
            "supplier",
            "lines",
            "subtotal",
            "delivery_fee",
            "total",
            "payment",
            "fulfilment",
            "date",
            "changeable_until",
            "dispatch_by",
            "confirm_by",
            "placed_at",
            "delivered_at",
            "timeline",
            "dispute",
            "url",
        ]
        extra_kwargs = {
            "changeable_until": {"help_text": "The buyer may change or cancel until then."},
            "dispatch_by": {
                "help_text": "Ready or dispatched by then, or the order is cancelled and credits returned."
            },
            "confirm_by": {"help_text": "Credits: paid to the supplier then unless the buyer confirmed or disputed."},
        }

    @extend_schema_field(PaymentOut)
    def get_payment(self, order: Order) -> dict[str, Any]:
        hold = order.hold
        receipt = getattr(order, "cash_payment", None)
        payment = {
            "means": order.payment,
            "cash_method": order.cash_method or None,
            "paid_at": order.paid_at,
            "guaranteed_by_network": order.guaranteed,
            "hold": {"state": hold.state, "amount": hold.amount, "expires_at": hold.expires_at} if hold else None,
            "cash_receipt": (
                {
                    "method": receipt.method,
                    "provider": receipt.provider,
                    "reference": receipt.reference,
                    "received_at": receipt.received_at,
                }
                if receipt
                else None
            ),
        }
        return PaymentOut(payment).data  # times as the API writes them everywhere

    @extend_schema_field(FULFILMENT)
    def get_fulfilment(self, order: Order) -> dict[str, Any]:
        if order.fulfilment == Method.PICKUP:
            return {
                "method": order.fulfilment,
                "facility": order.facility_id,
                "place_name": order.place_name,
                "place_address": order.place_address,
            }
        parts = {part: getattr(order, f"address_{part}") for part in ADDRESS_PARTS}
        parts["country"] = parts["country"].code if parts["country"] else ""
        return {"method": order.fulfilment, "address": parts}

    @extend_schema_field(DisputeOut(allow_null=True))
    def get_dispute(self, order: Order) -> dict[str, Any] | None:
        dispute = getattr(order, "dispute", None)  # a missing reverse one-to-one raises an AttributeError
        return DisputeOut(dispute).data if dispute else None

    @extend_schema_field(serializers.URLField())
    def get_url(self, order: Order) -> str:
        request = self.context.get("request")
        path = order.get_absolute_url()
        return request.build_absolute_uri(path) if request else path
