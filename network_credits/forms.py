"""The forms of the credit pages: amounts of credits as people type them, paying someone, topping up, a period."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from network_credits import selectors, services
from network_credits.models import MAX_AMOUNT, Account, ExternalPayment

# Whole credits, then optionally a dot or a comma and the hundredths: "10", "10.5", "10,50".
AMOUNT = re.compile(r"(?P<whole>\d{1,12})(?:[.,](?P<cents>\d*))?")
MAX_PERIOD_DAYS = 366


class CreditsField(forms.Field):
    """An amount of credits as people type it ("10.50", "10,5", "12") → hundredths (1050)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"})
    default_error_messages = {
        "invalid": "Write an amount of credits, like 12 or 10.50.",
        "decimals": "Credits have at most two decimals (write 1000 for a thousand, 10.50 for ten and a half).",
        "negative": "An amount is more than zero.",
        "zero": "An amount is more than zero.",
        "too_large": f"At most {selectors.credits_text(MAX_AMOUNT)} credits at a time.",
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value or "").strip().replace(" ", "").replace("\u00a0", "")
        if not text:
            return None
        if text.startswith("-"):
            raise ValidationError(self.error_messages["negative"], code="negative")
        match = AMOUNT.fullmatch(text.removeprefix("+"))
        if match is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        cents = match["cents"] or ""
        if len(cents) > 2:
            raise ValidationError(self.error_messages["decimals"], code="decimals")
        hundredths = int(match["whole"]) * 100 + int(cents.ljust(2, "0"))
        if hundredths == 0 and not self.allow_zero:
            raise ValidationError(self.error_messages["zero"], code="zero")
        if hundredths > MAX_AMOUNT:
            raise ValidationError(self.error_messages["too_large"], code="too_large")
        return hundredths

    def prepare_value(self, value: Any) -> Any:
        # An initial amount (hundredths) is shown as credits; what someone typed is shown as they typed it.
        if isinstance(value, int) and not isinstance(value, bool):
            return selectors.credits_text(value, grouped=False)
        return value


def _account_choices(accounts: list[Account]) -> list[tuple[str, str]]:
    return [(account.number, f"{account.formatted_number} — {account.name}") for account in accounts]


class _FromAccounts(forms.Form):
    """A form that moves credits out of (or into) one of the person's accounts, with a key made when it is shown:
    sending the same form twice does the work once."""

    account_field = "from_account"

    def __init__(self, *args: Any, accounts: list[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = {account.number: account for account in accounts}
        self.fields["key"].initial = uuid.uuid4()
        field = self.fields[self.account_field]
        field.choices = _account_choices(accounts)
        if len(accounts) == 1:  # no choice to make: the one account, whether or not the form names it
            field.initial = accounts[0].number
            field.required = False
            field.widget = forms.HiddenInput()

    @property
    def single_account(self) -> Account | None:
        return next(iter(self.accounts.values())) if len(self.accounts) == 1 else None

    def _clean_account(self) -> Account:
        number = self.cleaned_data[self.account_field] or self.fields[self.account_field].initial
        return self.accounts[number]  # the choices are exactly these numbers

    @property
    def idempotency_key(self) -> str:
        return f"page:{self.cleaned_data['key']}"


class PayForm(_FromAccounts):
    key = forms.UUIDField(widget=forms.HiddenInput)
    from_account = forms.ChoiceField(label="From")
    to_account = forms.CharField(
        label="To account number",
        max_length=20,
        help_text="Ten digits, as the person or supplier gave it to you; spaces are fine.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "4821 0937 56"}),
    )
    amount = CreditsField(label="Amount (credits)", help_text="Like 12 or 10.50.")
    memo = forms.CharField(
        label="Message for them (optional)", required=False, max_length=200, help_text="Shown on both statements."
    )

    def clean_from_account(self) -> Account:
        return self._clean_account()

    def clean_to_account(self) -> Account:
        try:
            return services.account_by_number(self.cleaned_data["to_account"])
        except ValidationError as error:
            raise ValidationError(error.messages) from None


class TopUpForm(_FromAccounts):
    account_field = "account"

    key = forms.UUIDField(widget=forms.HiddenInput)
    account = forms.ChoiceField(label="Account")
    amount = CreditsField(label="Credits to buy")
    provider = forms.ChoiceField(label="Paid by", choices=ExternalPayment.Provider.choices)
    reference = forms.CharField(
        label="Payment reference",
        max_length=100,
        help_text="The reference the payment provider, your bank or the desk gave you for this payment.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_account(self) -> Account:
        return self._clean_account()


class PeriodForm(forms.Form):
    """A statement's period, `?from=` and `?to=` (both days included); the last 30 days when not given."""

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        date_input = {"type": "date"}
        self.fields["from"] = forms.DateField(label="From", required=False, widget=forms.DateInput(date_input))
        self.fields["to"] = forms.DateField(label="To", required=False, widget=forms.DateInput(date_input))
        self.default_start = today - timedelta(days=29)
        self.fields["from"].initial, self.fields["to"].initial = self.default_start, today

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("from") or self.default_start, data.get("to") or self.today
        if "from" in data and "to" in data:
            if end < start:
                self.add_error("to", "The end of the period comes after its start.")
            elif (end - start).days >= MAX_PERIOD_DAYS:
                self.add_error("to", f"A statement covers at most {MAX_PERIOD_DAYS} days.")
        data["from"], data["to"] = start, end
        return data

    def period(self) -> tuple[date, date]:
        """The period asked for when it is valid; otherwise the default one (the errors are on the form)."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["from"], self.cleaned_data["to"]
        return self.default_start, self.today
