"""The supplier dashboard for provenance: facilities, evidence and trace events, scoped like the catalog.

Every admin here is a products.admin.ScopedAdmin: a member sees only their own suppliers' rows, operators see
everything under Django's model permissions. Writes go through provenance.services. Trace events are append-only:
they are read, never changed or deleted, and the only way to add one here is the "simple event" form, which builds
an EPCIS 2.0 event from a plain form and hands it to services.capture_document like any other capture.
"""

import json
from datetime import timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.widgets import AdminSplitDateTime, RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core import identifiers
from core.access import Access
from core.dashboard import ScopedAdmin, form_changes
from products.models import Batch, Declaration, Supplier
from provenance import epcis, hashchain, services
from provenance.models import EventLine, Evidence, Facility, TraceEvent
from provenance.simple_events import (
    CONTEXT,
    EXTENSION_PREFIX,
    INSPECTION_RESULTS,
    UNITS,
    URI_SCHEME,
    Amount,
    SimpleKind,
    lot_identifier,
    simple_event,
)

LINE_BREAK = mark_safe("<br>")


# Shared ---------------------------------------------------------------------------------------------------------------


def _scoped(queryset: models.QuerySet[Any], scope: Access, path: str, writable: frozenset[int]) -> models.QuerySet[Any]:
    return queryset if scope.operator else queryset.filter(**{f"{path}__in": writable})


def with_place_names(events: models.QuerySet[TraceEvent]) -> models.QuerySet[TraceEvent]:
    """Events annotated with `place_name`: the name of their supplier's facility at the business location, or else at
    the read point (one subquery each, so a list of events costs one query)."""
    own = Facility.objects.filter(owner_id=OuterRef("supplier_id"))
    at = own.filter(location_uri=OuterRef("biz_location")).values("name")[:1]
    seen = own.filter(location_uri=OuterRef("read_point")).values("name")[:1]
    return events.annotate(place_name=Coalesce(Subquery(at), Subquery(seen)))


def _amount_text(line: EventLine) -> str:
    return f"× {line.quantity.normalize():f} {line.uom}".rstrip() if line.quantity is not None else ""


def _event_label(event: TraceEvent) -> str:
    where = getattr(event, "place_name", None) or event.biz_location or event.read_point
    return f"{event.event_time:%Y-%m-%d} · {event.biz_step or event.type} · {where} (#{event.chain_index})"


# Facilities -----------------------------------------------------------------------------------------------------------


@admin.register(Facility)
class FacilityAdmin(ScopedAdmin):
    supplier_path = "owner"
    list_display = ["name", "kind", "country", "gln", "owner"]
    list_filter = ["country", "kind"]
    search_fields = ["name", "kind", "gln", "open_supply_hub_id", "location_uri"]
    list_select_related = ["owner"]
    readonly_fields = ["location_uri", "created_at"]
    fieldsets = [
        (None, {"fields": ["owner", "name", "kind", "address", "country", ("latitude", "longitude")]}),
        ("Identifiers", {"fields": ["gln", "open_supply_hub_id", "location_uri", "created_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A facility never moves to another supplier: its events are in that supplier's chain.
        return [*self.readonly_fields, "owner"] if obj else list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # events name facilities by location_uri; a deleted one would leave them nameless

    def service_save(self, request: HttpRequest, obj: Facility, form: forms.ModelForm, change: bool) -> Facility:
        data = form_changes(form, services.FACILITY_FIELDS - {"location_uri"}, change)
        if change:
            return services.facility_update(facility=obj, data=data)
        return services.facility_create(owner=form.cleaned_data["owner"], data=data)


# Evidence -------------------------------------------------------------------------------------------------------------


class EventsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: TraceEvent) -> str:
        return _event_label(obj)


class DeclarationsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Declaration) -> str:
        return f"{obj.product.name} — {obj}"


class RevokeActionForm(helpers.ActionForm):
    reason = forms.CharField(
        required=False,
        label="Reason (to revoke)",
        widget=forms.TextInput(attrs={"size": 50, "placeholder": "Why the selected evidence no longer holds"}),
    )


class EvidenceForm(forms.ModelForm):
    class Meta:
        model = Evidence
        fields = [
            "owner", "title", "issuer", "scheme", "level", "url", "document", "valid_from", "valid_until",
            "events", "declarations",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        owner = data.get("owner") or (self.instance.owner if self.instance.owner_id else None)
        if owner is None:
            return data
        foreign_events = [e for e in data.get("events") or [] if e.supplier_id != owner.pk]
        if foreign_events:
            self.add_error("events", f"Evidence of {owner} can back only {owner}'s own events.")
        foreign = [d for d in data.get("declarations") or [] if d.product.supplier_id != owner.pk]
        if foreign:
            self.add_error("declarations", f"Evidence of {owner} can back only {owner}'s own declarations.")
        return data


@admin.register(Evidence)
class EvidenceAdmin(ScopedAdmin):
    supplier_path = "owner"
    form = EvidenceForm
    action_form = RevokeActionForm
    actions = ["revoke"]
    list_display = ["title", "issuer", "scheme", "level", "status", "valid_until", "owner"]
    list_filter = ["level", "scheme"]
    search_fields = ["title", "issuer", "scheme", "url", "sha256"]
    list_select_related = ["owner"]
    filter_horizontal = ["events", "declarations"]
    content_fields = ["owner", "title", "issuer", "scheme", "level", "url", "document", "valid_from", "valid_until"]
    always_readonly = ["sha256", "status", "revoked_at", "revoked_reason", "created_at"]
    fieldsets = [
        (None, {"fields": ["owner", "title", "issuer", "scheme", "level"]}),
        (
            "The document",
            {
                "description": "A link, an upload or both. The SHA-256 of an upload is computed when it is saved.",
                "fields": ["url", "document", "sha256", ("valid_from", "valid_until")],
            },
        ),
        ("What it backs", {"fields": ["events", "declarations"]}),
        ("Status", {"fields": ["status", "revoked_at", "revoked_reason", "created_at"]}),
    ]

    @admin.display(description="status")
    def status(self, obj: Evidence) -> str:
        return obj.status().replace("_", " ")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # What a certificate says is fixed once recorded: a wrong one is revoked and recorded again.
        return [*self.content_fields, *self.always_readonly] if obj else list(self.always_readonly)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # evidence is revoked, never deleted: pages that cited it say so

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        scope = self.access(request)
        writable = self.writable_ids(scope)
        if db_field.name == "events":
            events = with_place_names(TraceEvent.objects.defer("document").order_by("supplier_id", "chain_index"))
            kwargs["queryset"] = _scoped(events, scope, "supplier_id", writable)
        elif db_field.name == "declarations":
            declarations = Declaration.objects.select_related("product")
            kwargs["queryset"] = _scoped(declarations, scope, "product__supplier_id", writable)
        if field_class := {"events": EventsField, "declarations": DeclarationsField}.get(db_field.name):
            kwargs.setdefault("form_class", field_class)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "events" and isinstance(field.widget, RelatedFieldWidgetWrapper):
            field.widget.can_add_related = False  # events are recorded on their own page, not in a pop-up
        return field

    def service_save(self, request: HttpRequest, obj: Evidence, form: forms.ModelForm, change: bool) -> Evidence:
        if change:
            return obj  # only what it backs changes; save_related writes that
        data = {
            name: value
            for name, value in form_changes(form, services.EVIDENCE_FIELDS - {"sha256"}, change).items()
            if value is not None
        }
        return services.evidence_create(owner=form.cleaned_data["owner"], data=data)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        services.evidence_links_set(
            evidence=form.instance,
            events=form.cleaned_data.get("events") or [],
            declarations=form.cleaned_data.get("declarations") or [],
        )

    @admin.action(description="Revoke the selected evidence (give the reason above)", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: models.QuerySet[Evidence]) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Nothing revoked: say why in the reason box first.", messages.ERROR)
            return
        scope = self.access(request)
        for evidence in queryset:
            if not (scope.operator or evidence.owner_id in scope.editable):
                continue
            if evidence.revoked_at:
                self.message_user(request, f"{evidence} was already revoked.", messages.WARNING)
                continue
            services.evidence_revoke(evidence=evidence, reason=reason)
            self.message_user(request, f"{evidence} is revoked.", messages.SUCCESS)


# Trace events ---------------------------------------------------------------------------------------------------------

ITEM_ROWS = 4


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Batch) -> str:
        return f"{obj.product.name} — lot {obj.lot}"


class SimpleEventForm(forms.Form):
    """A harvest, shipment, receipt, transformation or inspection, in plain fields; `clean` builds its EPCIS event."""

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
        self.supplier: Supplier | None = None
        self.event: dict[str, Any] | None = None

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

    def clean_offset(self) -> str:
        offset = self.cleaned_data["offset"].strip()
        if epcis.parse_offset(offset) is None:
            raise ValidationError("Give the offset as +HH:MM or -HH:MM, e.g. +03:00.")
        return offset

    def _amount(self, prefix: str, supplier_id: int) -> Amount | None:
        data = self.cleaned_data
        batch, lot = data.get(f"{prefix}_batch"), (data.get(f"{prefix}_lot") or "").strip()
        quantity, uom = data.get(f"{prefix}_quantity"), data.get(f"{prefix}_uom") or ""
        if quantity is not None and not uom:
            self.add_error(f"{prefix}_uom", "Give the unit of this quantity.")
        if uom and quantity is None:
            self.add_error(f"{prefix}_quantity", "Give the quantity, or leave the unit empty.")
        if batch and lot:
            self.add_error(f"{prefix}_lot", "Pick a batch or give a lot, not both.")
            return None
        if not (batch or lot):
            if quantity is not None:
                self.add_error(f"{prefix}_batch", "Say what this quantity is of: pick a batch or give a lot.")
            return None
        if batch:
            if not batch.product.gtin:
                self.add_error(
                    f"{prefix}_batch",
                    f"{batch.product.name}, lot {batch.lot} cannot be used: its product has no GTIN, so the batch "
                    "has no GS1 identifier for trace events. Give the product a GTIN first.",
                )
                return None
            if batch.product.supplier_id != supplier_id:
                self.add_error(f"{prefix}_batch", "This batch belongs to another supplier than the facility.")
                return None
            identifier = identifiers.batch_uri(batch.product.gtin, batch.lot)
        else:
            try:
                identifier = lot_identifier(lot, supplier_id=supplier_id)
            except ValueError as error:
                self.add_error(f"{prefix}_lot", str(error))
                return None
        return Amount(identifier, quantity, uom if quantity is not None else "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind, facility, when, offset = (data.get(name) for name in ("kind", "facility", "when", "offset"))
        if not (kind and facility):
            return data
        self.supplier = facility.owner
        rows = {row: self._amount(f"item_{row}", facility.owner_id) for row in range(1, ITEM_ROWS + 1)}
        items = {row: amount for row, amount in rows.items() if amount}
        output = self._amount("output", facility.owner_id)
        other = data.get("other_facility")
        self._check_kind(kind, items, output, other, facility)
        if when and offset:
            sign = -1 if offset.startswith("-") else 1
            hours, minutes = offset[1:].split(":")
            zone = dt_timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
            when = timezone.make_naive(when).replace(tzinfo=zone)
            if when > timezone.now() + timedelta(minutes=5):
                self.add_error("when", "This is in the future: record an event once it has happened.")
        if self.errors or not when:
            return data
        lot_code = (data.get("output_lot") or "").strip()
        self.event = simple_event(
            kind=kind,
            location=facility.location_uri,
            when=when,
            items=list(items.values()),
            outputs=[output] if output else [],
            other_location=other.location_uri if other else "",
            result=data.get("result") or "",
            note=(data.get("note") or "").strip(),
            # A plain lot code became an opaque URN: the event that creates the lot keeps the code people use.
            ilmd={f"{EXTENSION_PREFIX}:lotCode": lot_code} if lot_code and not URI_SCHEME.match(lot_code) else None,
        )
        return data

    def _check_kind(
        self, kind: str, items: dict[int, Amount], output: Amount | None, other: Facility | None, facility: Facility
    ) -> None:
        name = SimpleKind(kind).label.split(" (")[0].lower()
        uses_items = kind != SimpleKind.HARVEST
        uses_output = kind in (SimpleKind.HARVEST, SimpleKind.TRANSFORM)
        if not uses_items and items:
            self.add_error("item_1_batch", f"A {name} has no inputs: put what was harvested under 'What came out'.")
        if uses_items and not items and not self._has_row_errors():
            self.add_error("item_1_batch", f"Say what the {name} was of: pick a batch or give a lot.")
        if uses_output and output is None and not self._has_errors("output"):
            self.add_error("output_batch", f"Say what came out of the {name}: pick a batch or give a lot.")
        if uses_output and output is not None and output.quantity is None:
            self.add_error("output_quantity", f"Give the quantity that came out of the {name}.")
        if not uses_output and output is not None:
            self.add_error("output_batch", f"A {name} has no output: leave this empty.")
        if kind == SimpleKind.TRANSFORM:
            for row, item in items.items():
                if item.quantity is None:
                    self.add_error(f"item_{row}_quantity", "A transformation needs the quantity of each input.")
        if kind == SimpleKind.INSPECT:
            if len(items) > 1:
                self.add_error("item_2_batch", "Record one inspection per lot.")
            if not self.cleaned_data.get("result"):
                self.add_error("result", "Say whether it passed.")
        elif self.cleaned_data.get("result") or (self.cleaned_data.get("note") or "").strip():
            self.add_error("result", "Only an inspection has a result: leave the result and note empty.")
        if kind in (SimpleKind.SHIP, SimpleKind.RECEIVE):
            if other is not None and other.pk == facility.pk:
                self.add_error("other_facility", "The goods go from one facility to another: pick the other one.")
        elif other is not None:
            self.add_error("other_facility", "Only a shipment or a receipt has another facility.")

    def _has_errors(self, prefix: str) -> bool:
        return any(field.startswith(prefix) for field in self.errors)

    def _has_row_errors(self) -> bool:
        return self._has_errors("item_")


@admin.register(TraceEvent)
class TraceEventAdmin(ScopedAdmin):
    supplier_path = "supplier"
    list_display = ["event_time", "type", "biz_step", "disposition", "place", "supplier", "chain_index"]
    list_filter = ["type", "biz_step"]
    search_fields = ["event_id", "lines__identifier", "biz_location", "read_point"]
    list_select_related = ["supplier"]
    date_hierarchy = "event_time"
    fieldsets = [
        (None, {"fields": ["event_id", ("type", "action"), ("biz_step", "disposition"), "local_time", "record_time"]}),
        ("Where", {"fields": ["read_point_name", "biz_location_name", "moves"]}),
        ("What", {"fields": ["what", "evidence_list"]}),
        ("Hash chain", {"fields": ["supplier", "chain_index", "previous_hash", "hash", "capture"]}),
        ("EPCIS 2.0 event", {"fields": ["pretty_document"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[TraceEvent]:
        return with_place_names(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return flatten_fieldsets(self.fieldsets)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # append-only: an error is corrected by an EPCIS error declaration, never by an edit

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="place", ordering="place_name")
    def place(self, obj: TraceEvent) -> str:
        return obj.place_name or obj.biz_location or obj.read_point  # type: ignore[attr-defined]

    @admin.display(description="event time (local)")
    def local_time(self, obj: TraceEvent) -> str:
        return f"{obj.document.get('eventTime', '')} (offset {obj.event_time_zone_offset})"

    def _names(self, obj: TraceEvent) -> dict[str, str]:
        if not hasattr(obj, "_facility_names"):
            document = obj.document
            uris = {obj.read_point, obj.biz_location}
            uris |= {s.get("source", "") for s in document.get("sourceList", []) if isinstance(s, dict)}
            uris |= {d.get("destination", "") for d in document.get("destinationList", []) if isinstance(d, dict)}
            facilities = Facility.objects.filter(owner_id=obj.supplier_id, location_uri__in=uris - {""})
            obj._facility_names = dict(facilities.values_list("location_uri", "name"))  # type: ignore[attr-defined]
        return obj._facility_names  # type: ignore[attr-defined]

    def _place(self, obj: TraceEvent, uri: str) -> str:
        if not uri:
            return "—"
        name = self._names(obj).get(uri)
        return format_html("{} <small>{}</small>", name, uri) if name else uri

    @admin.display(description="read point")
    def read_point_name(self, obj: TraceEvent) -> str:
        return self._place(obj, obj.read_point)

    @admin.display(description="business location")
    def biz_location_name(self, obj: TraceEvent) -> str:
        return self._place(obj, obj.biz_location)

    @admin.display(description="from / to")
    def moves(self, obj: TraceEvent) -> str:
        rows = [("from", s.get("source", "")) for s in obj.document.get("sourceList", []) if isinstance(s, dict)]
        rows += [
            ("to", d.get("destination", "")) for d in obj.document.get("destinationList", []) if isinstance(d, dict)
        ]
        if not rows:
            return "—"
        return format_html_join(LINE_BREAK, "{}: {}", ((way, self._place(obj, uri)) for way, uri in rows))

    @admin.display(description="identifiers")
    def what(self, obj: TraceEvent) -> str:
        lines = obj.lines.order_by("id")
        if not lines:
            return "—"
        return format_html_join(
            LINE_BREAK, "{}: {} {}", ((line.get_role_display(), line.identifier, _amount_text(line)) for line in lines)
        )

    @admin.display(description="evidence")
    def evidence_list(self, obj: TraceEvent) -> str:
        evidence = list(obj.evidence.all())
        if not evidence:
            return "—"
        return format_html_join(
            LINE_BREAK, "{} — {} ({})", ((e.title, e.issuer, e.status().replace("_", " ")) for e in evidence)
        )

    @admin.display(description="document")
    def pretty_document(self, obj: TraceEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.document, indent=2, ensure_ascii=False))

    # The add page: a plain form that becomes one EPCIS event.

    def _choices(self, request: HttpRequest) -> dict[str, models.QuerySet[Any]]:
        scope = self.access(request)
        writable = self.writable_ids(scope)
        facilities = _scoped(Facility.objects.select_related("owner"), scope, "owner_id", writable)
        batches = Batch.objects.select_related("product").order_by("product__name", "-produced_on", "lot")
        return {"facilities": facilities, "batches": _scoped(batches, scope, "product__supplier_id", writable)}

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        if not self.has_add_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        now = timezone.localtime().replace(second=0, microsecond=0)
        initial = {"offset": epcis.format_offset(now), "when": now}
        form = SimpleEventForm(data, initial=initial, **self._choices(request))
        if data is not None and form.is_valid():
            response = self._capture(request, form)
            if response is not None:
                return response
        admin_form = helpers.AdminForm(form, form.fieldsets(), {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": "Record a trace event",
            "subtitle": None,
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    def _capture(self, request: HttpRequest, form: SimpleEventForm) -> HttpResponse | None:
        """Record the form's event; None (with the problems on the form) when it cannot be."""
        if form.event is None or form.supplier is None:
            raise ValueError("_capture needs a valid SimpleEventForm")
        if TraceEvent.objects.filter(event_id=hashchain.generated_event_id(form.event)).exists():
            form.add_error(None, "Exactly this event is already recorded.")
            return None
        try:
            capture = services.capture_document(
                supplier=form.supplier,
                submitted_by=request.user,
                document=epcis.epcis_document([form.event], context=[CONTEXT]),
            )
        except epcis.InvalidDocument as invalid:
            for problem in invalid.problems:
                form.add_error(None, f"{problem.message} (at {problem.path})")
            return None
        except ValidationError as error:
            form.add_error(None, error)
            return None
        event = capture.events.get()
        self.log_addition(request, event, [{"added": {}}])
        return self.response_add(request, event)
