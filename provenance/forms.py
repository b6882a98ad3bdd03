"""The dashboard's simple-event form: plain fields in, a provenance.services.SimpleEvent out.

Only the shape of the input is checked here (types, the +HH:MM offset); every rule of what makes a valid event is
checked by provenance.services.simple_event_build, whose errors are put on the fields they are about.
"""

import re
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from core.dashboard import add_service_error
from products.models import Batch
from provenance import services
from provenance.epcis import parse_offset
from provenance.models import Facility
from provenance.simple_events import INSPECTION_RESULTS, UNITS, SimpleKind

ITEM_ROWS = 4
# A service error's key (`items[0].quantity`) names a part of the event; these are the form fields of each part.
PART_FIELDS = ("batch", "lot", "quantity", "uom")


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Batch) -> str:
        return f"{obj.product.name} — lot {obj.lot}"


def aware(when: datetime, zone: tzinfo) -> datetime:
    """A local wall-clock time (as the form's widget gives it) in the time zone of an offset from UTC."""
    naive = timezone.make_naive(when) if timezone.is_aware(when) else when
    return naive.replace(tzinfo=zone)


class SimpleEventForm(forms.Form):
    """A harvest, shipment, receipt, transformation or inspection, in plain fields."""

    kind = forms.ChoiceField(label="What happened", choices=SimpleKind.choices)
    facility = forms.ModelChoiceField(queryset=Facility.objects.none(), label="Where")
    when = forms.SplitDateTimeField(label="When", widget=AdminSplitDateTime, help_text="Local time at the facility.")
    offset = forms.CharField(
        label="Time zone offset",
        max_length=6,
        help_text="Of that local time from UTC, e.g. +00:00 in Accra, +03:00 in Nairobi, +05:30 in India.",
    )
    output_batch = BatchChoiceField(queryset=Batch.objects.none(), required=False, label="Batch")
    output_lot = forms.CharField(required=False, max_length=200, label="or lot")
    output_quantity = forms.DecimalField(required=False, min_value=Decimal("0.001"), label="Quantity")
    output_uom = forms.ChoiceField(required=False, choices=[("", "—"), *UNITS], label="Unit")
    other_facility = forms.ModelChoiceField(
        queryset=Facility.objects.none(),
        required=False,
        label="Shipped to / received from",
        help_text="The other facility of a shipment or receipt, if it is one of yours.",
    )
    result = forms.ChoiceField(required=False, choices=[("", "—"), *INSPECTION_RESULTS], label="Result")
    note = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was checked and found, e.g. 'Cut test: 82 % well fermented, moisture 7.2 %'.",
    )

    lot_help = (
        "Pick a batch of your catalogue, or give a lot that is not in it: a URI (https://id.gs1.org/01/…/10/…, "
        "urn:epc:class:lgtin:…, your own https://…) or a plain lot code, which stays the same identifier each time "
        "you type it."
    )

    def __init__(
        self, *args: Any, facilities: models.QuerySet[Facility], batches: models.QuerySet[Batch], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities
        self.fields["other_facility"].queryset = facilities
        self.fields["output_batch"].queryset = batches
        for row in range(1, ITEM_ROWS + 1):
            self.fields[f"item_{row}_batch"] = BatchChoiceField(queryset=batches, required=False, label=f"{row}. Batch")
            self.fields[f"item_{row}_lot"] = forms.CharField(required=False, max_length=200, label="or lot")
            self.fields[f"item_{row}_quantity"] = forms.DecimalField(
                required=False, min_value=Decimal("0.001"), label="Quantity"
            )
            self.fields[f"item_{row}_uom"] = forms.ChoiceField(
                required=False, choices=[("", "—"), *UNITS], label="Unit"
            )
        self.event: services.SimpleEvent | None = None

    @classmethod
    def fieldsets(cls) -> list[tuple[str | None, dict[str, Any]]]:
        rows = [
            (f"item_{r}_batch", f"item_{r}_lot", f"item_{r}_quantity", f"item_{r}_uom") for r in range(1, ITEM_ROWS + 1)
        ]
        return [
            (None, {"fields": ["kind", "facility", "when", "offset"]}),
            (
                "What was shipped, received, inspected, or went into a transformation",
                {"description": cls.lot_help + " A transformation needs the quantity of each input.", "fields": rows},
            ),
            (
                "What came out of a harvest or a transformation",
                {"fields": [("output_batch", "output_lot", "output_quantity", "output_uom")]},
            ),
            ("Shipping and receiving", {"fields": ["other_facility"]}),
            ("Inspection", {"fields": ["result", "note"]}),
        ]

    def clean_offset(self) -> tzinfo:
        zone = parse_offset(self.cleaned_data["offset"])
        if zone is None:
            raise ValidationError("Give the offset as +HH:MM or -HH:MM, e.g. +03:00.")
        return zone

    def _part(self, prefix: str) -> services.Item | None:
        data = self.cleaned_data
        values = [data.get(f"{prefix}_{name}") for name in PART_FIELDS]
        if not any(value not in (None, "") for value in values):
            return None  # an empty row
        batch, lot, quantity, uom = values
        return services.Item(batch=batch, lot=(lot or "").strip(), quantity=quantity, uom=uom or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind, facility, when, offset = (data.get(name) for name in ("kind", "facility", "when", "offset"))
        if self.errors or not (kind and facility and when and offset):
            return data
        rows = [row for row in range(1, ITEM_ROWS + 1) if self._part(f"item_{row}")]
        output = self._part("output")
        event = services.SimpleEvent(
            kind=kind,
            facility=facility,
            when=aware(when, offset),
            items=tuple(part for row in rows if (part := self._part(f"item_{row}"))),
            outputs=(output,) if output else (),
            other_facility=data.get("other_facility"),
            result=data.get("result") or "",
            note=(data.get("note") or "").strip(),
        )
        try:
            services.simple_event_build(event)
        except ValidationError as error:
            self._add_event_error(error, rows)
        else:
            self.event = event
        return data

    def _add_event_error(self, error: ValidationError, rows: list[int]) -> None:
        """Put the service's errors on the fields they name: `items[1].quantity` is the quantity of the second
        row that was filled in, `outputs` the output's batch, and so on."""
        fields: dict[str, list[ValidationError]] = {}
        for key, messages in error.error_dict.items():
            fields.setdefault(self._field_for(key, rows), []).extend(messages)
        add_service_error(self, ValidationError(fields))

    @staticmethod
    def _field_for(key: str, rows: list[int]) -> str:
        match = re.fullmatch(r"(items|outputs)(?:\[(\d+)\])?(?:\.(\w+))?", key)
        if match is None:
            return key
        part, index, name = match.groups()
        if part == "outputs":
            prefix = "output"
        else:
            position = int(index) if index is not None else 0
            prefix = f"item_{rows[position] if position < len(rows) else 1}"
        return f"{prefix}_{name or 'batch'}"
