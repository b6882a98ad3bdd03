"""The dashboard's forms for purchases: amounts as people type them, and the small forms behind an order's buttons
and a dispute's answer or decision. They parse what was typed; the services decide."""

import re
from decimal import InvalidOperation
from typing import Any, ClassVar

from django import forms

from network_credits.forms import CreditsField
from products.models import Batch, Product
from purchases import money
from purchases.admin.scoped import major
from purchases.models import Dispute, Offer, Order, SalesTerms, Window

# "4,50": a decimal comma. money.parse reads a comma as a thousands separator (1,250.00), which would make this
# €450.00; it is refused rather than guessed.
DECIMAL_COMMA = re.compile(r"\s*\d+,\d{1,2}\s*")


class AmountField(forms.CharField):
    """An amount of hard currency in major units, as typed ("4.50"); its form turns it into minor units once it
    knows the currency."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"})
        )
        super().__init__(**kwargs)


class MoneyForm(forms.ModelForm):
    """A model form with amounts of hard currency typed in major units of the form's `currency` field, shown back
    the same way. `amounts` names each AmountField and the value it means when left empty."""

    amounts: ClassVar[dict[str, int | None]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        currency = instance.currency or "EUR"
        for name in self.amounts:
            if name in self.fields and instance.pk is not None:  # a new row keeps the initial values it was given
                self.initial[name] = major(getattr(instance, name), currency=currency)

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        currency = data.get("currency") or ""
        for name, empty in self.amounts.items():
            if name not in self.fields or name in self.errors:
                continue
            text = (data.get(name) or "").strip()
            if not text:
                data[name] = empty
            elif DECIMAL_COMMA.fullmatch(text):
                self.add_error(name, f"Write the decimals with a point: {text.replace(',', '.')}.")
            elif not currency:
                self.add_error("currency" if "currency" in self.fields else name, "Give the currency of the price.")
            else:
                try:
                    data[name] = money.parse(text, currency=currency)
                except (ValueError, ArithmeticError, InvalidOperation):
                    self.add_error(name, f"Write an amount of {currency} like 4.50 (at most the currency's decimals).")
        return data


def _credits(label: str, help_text: str = "", *, allow_zero: bool = True) -> CreditsField:
    return CreditsField(allow_zero=allow_zero, required=False, label=label, help_text=help_text)


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.product.name}, lot {obj.lot}"


class OfferForm(MoneyForm):
    """An offer's prices. Its product and batch are the form's own fields, not the model's: the service checks them
    (whose they are, one offer each) and says so in words, where the model's check would name a constraint."""

    amounts: ClassVar[dict[str, int | None]] = {"price": None}
    # The person's own products and batches: the admin gives them (the fields are shared by every request).
    products: ClassVar[Any] = Product.objects.none()
    batches: ClassVar[Any] = Batch.objects.none()

    product = forms.ModelChoiceField(queryset=Product.objects.none(), label="Product")
    batch = BatchChoiceField(
        queryset=Batch.objects.none(),
        required=False,
        empty_label="Every batch",
        label="Batch",
        help_text="One batch of its own price, or every batch of the product.",
    )

    price = AmountField(label="Price in hard currency", help_text="In the currency's main unit, like 4.50.")
    currency = forms.CharField(
        required=False,
        max_length=3,
        label="Currency",
        help_text="Its ISO 4217 code, like EUR or GHS.",
        widget=forms.TextInput(attrs={"size": 4, "autocomplete": "off"}),
    )
    price_credits = _credits("Price in credits", "Like 5 or 4.50 credits.", allow_zero=False)

    class Meta:
        model = Offer
        fields = ["price", "currency", "price_credits", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "product" in self.fields:
            self.fields["product"].queryset = self.products  # type: ignore[attr-defined]
        if "batch" in self.fields:
            self.fields["batch"].queryset = self.batches  # type: ignore[attr-defined]
            if self.instance.pk:
                self.initial.setdefault("batch", self.instance.batch_id)


class SalesTermsForm(MoneyForm):
    amounts: ClassVar[dict[str, int | None]] = {
        "delivery_flat": 0,
        "delivery_per_item": 0,
        "delivery_free_above": None,
    }

    delivery_flat = AmountField(label="Per delivery", help_text="In the currency above, like 3.00; empty for none.")
    delivery_per_item = AmountField(label="Per unit delivered", help_text="Like 0.50; empty for none.")
    delivery_free_above = AmountField(
        label="Free from", help_text="Orders of at least this much are delivered free; empty: never free."
    )
    delivery_flat_credits = _credits("Per delivery (credits)", "Like 3 or 2.50; empty for none.")
    delivery_per_item_credits = _credits("Per unit delivered (credits)")
    delivery_free_above_credits = _credits("Free from (credits)", "Empty: never free.")

    class Meta:
        model = SalesTerms
        fields = [
            "supplier",
            "delivers",
            "currency",
            "delivery_flat",
            "delivery_per_item",
            "delivery_free_above",
            "delivery_flat_credits",
            "delivery_per_item_credits",
            "delivery_free_above_credits",
            "dispatch_hours",
            "payment_instructions",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("delivery_flat_credits", "delivery_per_item_credits"):
            if name in self.fields and data.get(name) is None and name not in self.errors:
                data[name] = 0
        return data


class WindowForm(forms.ModelForm):
    """A window at one of the supplier's facilities: the admin gives the choices (`facility_choices`)."""

    facility_choices: ClassVar[list[Any]] = []
    facility_help: ClassVar[str] = "Where buyers pick up, or where deliveries leave from."

    facility_id = forms.TypedChoiceField(coerce=int, label="Facility")

    class Meta:
        model = Window
        fields = ["supplier", "method", "facility_id", "weekday", "starts_at", "ends_at", "cutoff_hours", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "facility_id" in self.fields:
            field = self.fields["facility_id"]
            field.choices = [("", "---------"), *self.facility_choices]  # type: ignore[attr-defined]
            field.help_text = self.facility_help


class CancelForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=500,
        label="Why (the buyer reads it)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CashReceiptForm(forms.Form):
    method = forms.ChoiceField(choices=Order.CashMethod.choices, label="Paid by")
    provider = forms.CharField(
        required=False, max_length=80, label="Provider", help_text="The card or bank provider, if any."
    )
    reference = forms.CharField(
        required=False,
        max_length=120,
        label="Payment reference",
        help_text="The provider's or the bank's reference. Never a card number.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class DisputeAnswerForm(forms.ModelForm):
    response = forms.CharField(
        label="Your answer",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The buyer and the network's operator who decides read it. You may change it until they decide.",
    )

    class Meta:
        model = Dispute
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("response", self.instance.supplier_response)


class DisputeDecisionForm(forms.ModelForm):
    decision = forms.ChoiceField(
        label="Decision",
        widget=forms.RadioSelect,
        choices=[
            ("upheld", "Uphold: the buyer gets their money back"),
            ("rejected", "Reject: the supplier keeps the payment"),
        ],
    )
    reason = forms.CharField(
        required=False,
        max_length=5000,
        label="Written reasons",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to the buyer and the supplier, and kept in the audit log.",
    )

    class Meta:
        model = Dispute
        fields: list[str] = []


class PickListForm(forms.Form):
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
