"""The forms of the shopper's purchase pages: checkout, and what a buyer does with an order (change it, cancel it,
report a problem). They parse what was typed; the rules are the services' (purchases.services), and `refused` puts
each of their refusals next to the field it concerns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django_countries import countries

from purchases.models import Dispute, Means, Method, Order
from purchases.refusals import OrderRefused
from purchases.selectors import BuyBox
from purchases.services import Address, Fulfilment, LineIn
from purchases.services.checkout import MAX_UNITS

DELIVERY = "delivery"
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "country")
ADDRESS_REQUIRED = "This part of the address is required."


@dataclass(frozen=True)
class Way:
    """A way to get the order, as the checkout and order pages offer it: a pick-up point, or delivery; with the days
    the supplier's calendar offers for it (date, words)."""

    value: str  # the radio's value: "pickup-<facility id>" or "delivery"
    method: str
    label: str
    facility_id: int | None = None
    address: str = ""
    days: list[tuple[date, str]] = field(default_factory=list)

    @staticmethod
    def pickup_value(facility_id: int) -> str:
        return f"pickup-{facility_id}"


def _day_choices(ways: list[Way]) -> list[Any]:
    """As soon as possible, then the days offered, grouped by the way they are offered for (a <select> with one
    <optgroup> each): a day is checked against the way chosen by the service."""
    groups: list[Any] = [("", "As soon as possible")]
    for way in ways:
        if way.days:
            groups.append(
                (f"For {way.label[0].lower()}{way.label[1:]}", [(d.isoformat(), text) for d, text in way.days])
            )
    return groups


def _offered(prices: list[Any], available: int) -> str:
    price = " or ".join(p.text for p in prices)
    left = "sold out" if available <= 0 else f"{available} available"
    return f"{price} a unit; {left}." if price else f"{left.capitalize()}."


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _place_errors(form: forms.Form, error: ValidationError, fields: dict[str, str]) -> None:
    """A service's refusal on the form: each key's messages on the field it concerns (`fields` maps the service's
    keys to the form's), an address's parts on their own fields, the rest as the form's own errors."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, errors in error.error_dict.items():
        target = fields.get(key, key)
        messages = [message for item in errors for message in item.messages]
        form.add_error(target if target in form.fields and target != NON_FIELD_ERRORS else None, messages)


class CheckoutForm(forms.Form):
    """An order from the batch page: how many of it (and of the supplier's other batches), how it is paid, where
    and when it is handed over. A key made when the form is shown makes sending it twice place one order."""

    key = forms.UUIDField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(
        min_value=0, max_value=MAX_UNITS, widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0})
    )
    payment = forms.ChoiceField(label="Pay with", widget=forms.RadioSelect)
    cash_method = forms.ChoiceField(
        label="How you pay in cash",
        choices=Order.CashMethod.choices,
        initial=Order.CashMethod.CASH_AT_PICKUP,
        required=False,
        widget=forms.RadioSelect,
    )
    where = forms.ChoiceField(label="Where", widget=forms.RadioSelect)
    name = forms.CharField(
        label="Name", max_length=200, required=False, widget=forms.TextInput({"autocomplete": "name"})
    )
    line1 = forms.CharField(
        label="Street and number",
        max_length=200,
        required=False,
        widget=forms.TextInput({"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(
        label="More of the address (optional)",
        max_length=200,
        required=False,
        widget=forms.TextInput({"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label="Town or city", max_length=100, required=False, widget=forms.TextInput({"autocomplete": "address-level2"})
    )
    postcode = forms.CharField(
        label="Postcode", max_length=20, required=False, widget=forms.TextInput({"autocomplete": "postal-code"})
    )
    country = forms.ChoiceField(label="Country", required=False, widget=forms.Select({"autocomplete": "country"}))
    day = forms.ChoiceField(label="When", required=False)

    def __init__(self, *args: Any, box: BuyBox, ways: list[Way], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.box, self.ways = box, ways
        batch = box.batch
        self.fields["key"].initial = uuid.uuid4()
        self.fields["quantity"].label = f"{batch.product.name}, lot {batch.lot}"
        self.fields["quantity"].help_text = _offered(box.prices, box.available)
        self.fields["quantity"].widget.attrs["max"] = max(box.available, 0)
        self.others = box.other_batches
        for other, prices, available in self.others:
            self.fields[f"quantity_{other.pk}"] = forms.IntegerField(
                label=f"{other.product.name}, lot {other.lot}",
                min_value=0,
                max_value=MAX_UNITS,
                required=False,
                initial=0,
                help_text=_offered(prices, available),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": available}),
            )
        means = {price.means for price in box.prices}
        self.fields["payment"].choices = [(value, label) for value, label in Means.choices if value in means]
        self.fields["payment"].initial = Means.CASH if Means.CASH in means else Means.CREDITS
        self.fields["where"].choices = [(way.value, way.label) for way in ways]
        self.fields["where"].initial = ways[0].value if ways else None
        self.fields["country"].choices = [("", "Choose a country"), *countries]
        self.fields["country"].initial = batch.product.supplier.country.code
        self.fields["day"].choices = _day_choices(ways)

    def payment_options(self) -> list[tuple[Any, str]]:
        """(radio, means) of each way to pay."""
        return [(radio, radio.data["value"]) for radio in self["payment"]]

    def where_options(self) -> list[tuple[Any, Way]]:
        """(radio, way) of each way to get the order."""
        return list(zip(self["where"], self.ways, strict=True))

    def quantity_fields(self) -> list[forms.BoundField]:
        """This batch's field, then one for each of the supplier's other batches for sale."""
        return [self["quantity"], *(self[f"quantity_{other.pk}"] for other, _, _ in self.others)]

    @property
    def address_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ADDRESS_FIELDS]

    @property
    def address_errors(self) -> list[forms.BoundField]:
        return [field for field in self.address_fields if field.errors]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        way = next((way for way in self.ways if way.value == data.get("where")), None)
        if way is not None and way.method == Method.DELIVERY:
            for name in ("name", "line1", "city", "postcode", "country"):
                if name not in self.errors and not data.get(name):
                    self.add_error(name, ADDRESS_REQUIRED)
        return data

    def order(self) -> dict[str, Any]:
        """The arguments of services.checkout (but the buyer), from a valid form."""
        data = self.cleaned_data
        quantities = [(self.box.batch.pk, data["quantity"] or 0)]
        quantities += [(other.pk, data.get(f"quantity_{other.pk}") or 0) for other, _, _ in self.others]
        way = next(way for way in self.ways if way.value == data["where"])
        if way.method == Method.DELIVERY:
            address = Address(**{name: data[name] for name in ADDRESS_FIELDS})
            fulfilment = Fulfilment(Method.DELIVERY, address=address)
        else:
            fulfilment = Fulfilment(Method.PICKUP, facility_id=way.facility_id)
        return {
            "lines": [LineIn(batch_id, quantity) for batch_id, quantity in quantities if quantity > 0],
            "payment": data["payment"],
            "cash_method": data["cash_method"] or Order.CashMethod.CASH_AT_PICKUP,
            "fulfilment": fulfilment,
            "day": _day(data["day"]),
            "key": f"page:{data['key']}",
        }

    def refused(self, error: OrderRefused) -> None:
        """Put the service's refusal next to the field it concerns. A key already used for another order is the
        form sent again after a change: it gets a fresh key, so the next send is a new order."""
        if error.code == "idempotency_key_reused":
            self.add_error(
                None,
                "This form was already used for another order: check My orders, then send this one again "
                "if you want both.",
            )
            self.data = self.data.copy()
            self.data["key"] = str(uuid.uuid4())
            return
        fields = {"lines": "quantity", "fulfilment": "where", "date": "day"}
        fields |= {f"address.{name}": name for name in ADDRESS_FIELDS}
        _place_errors(self, error, fields)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why (optional, the supplier sees it)",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def refused(self, error: OrderRefused) -> None:
        _place_errors(self, error, {})


class RescheduleForm(forms.Form):
    """Another day (or another pick-up point) for an order, among those the calendar offers."""

    where = forms.ChoiceField(label="Pick-up point", widget=forms.RadioSelect, required=False)
    day = forms.ChoiceField(label="New day", required=False)

    def __init__(self, *args: Any, order: Order, ways: list[Way], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ways = ways
        if order.fulfilment == Method.PICKUP and len(ways) > 1:
            self.fields["where"].choices = [(way.value, way.label) for way in ways]
            self.fields["where"].initial = Way.pickup_value(order.facility_id or 0)
        else:
            del self.fields["where"]
        self.fields["day"].choices = _day_choices(ways)
        self.fields["day"].initial = order.scheduled_for.isoformat() if order.scheduled_for else ""

    def change(self) -> dict[str, Any]:
        """The arguments of services.order_reschedule (but the order and the actor), from a valid form."""
        data = self.cleaned_data
        way = next((way for way in self.ways if way.value == data.get("where")), None)
        return {"day": _day(data["day"]), "facility_id": way.facility_id if way else None}

    def refused(self, error: OrderRefused) -> None:
        _place_errors(self, error, {"date": "day", "fulfilment": "where"})


class DisputeForm(forms.Form):
    reason = forms.ChoiceField(label="What went wrong", choices=Dispute.Reason.choices, widget=forms.RadioSelect)
    description = forms.CharField(
        label="Tell us more",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you received (or did not), and when. The supplier and the network read it.",
    )
    evidence_url = forms.URLField(
        label="Link to a photo or document (optional)",
        required=False,
        assume_scheme="https",
        help_text="A link to where you put it, such as a shared photo.",
    )

    def refused(self, error: OrderRefused) -> None:
        _place_errors(self, error, {})
