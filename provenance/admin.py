"""The supplier dashboard for provenance: facilities, evidence and trace events, scoped like the catalog.

Every admin here is a products.admin.ScopedAdmin: a member sees only their own suppliers' rows, operators see
everything under Django's model permissions. Writes go through provenance.services. Trace events are append-only:
they are read, never changed or deleted, and the only way to add one here is the "simple event" form, which builds
an EPCIS 2.0 event from a plain form and hands it to services.capture_document like any other capture.
"""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.access import Access
from core.dashboard import ScopedAdmin, add_service_error, form_changes
from products.models import Batch, Declaration
from provenance import services
from provenance.epcis import format_offset
from provenance.forms import SimpleEventForm
from provenance.models import ChainHead, EventLine, Evidence, Facility, TraceEvent
from provenance.selectors import ChainState, ChainStatus, chain_length

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
            return services.facility_update(facility=obj, **data)
        return services.facility_create(owner=form.cleaned_data["owner"], **data)


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
        return services.evidence_create(owner=form.cleaned_data["owner"], actor=request.user, **data)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        services.evidence_links_set(
            evidence=form.instance,
            events=form.cleaned_data.get("events") or [],
            declarations=form.cleaned_data.get("declarations") or [],
            actor=request.user,
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
            try:
                services.evidence_revoke(evidence=evidence, reason=reason, actor=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.WARNING)
            else:
                self.message_user(request, f"{evidence} is revoked.", messages.SUCCESS)


# Trace events ---------------------------------------------------------------------------------------------------------


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
        """The add page is a plain form that becomes one EPCIS event, recorded by provenance.services."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        now = timezone.localtime().replace(second=0, microsecond=0)
        # The query string preselects fields, as on any admin add page (the home's "Record an event" names the batch).
        initial = {**self.get_changeform_initial_data(request), "offset": format_offset(now), "when": now}
        form = SimpleEventForm(data, initial=initial, **self._choices(request))
        if form.is_valid() and form.event is not None:
            try:
                capture = services.simple_events_record(events=[form.event], submitted_by=request.user)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                event = capture.events.get()
                self.log_addition(request, event, [{"added": {}}])
                return self.response_add(request, event)
        admin_form = helpers.AdminForm(form, form.fieldsets(), {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": "Record a trace event",
            "opts": self.opts,
            "adminform": admin_form,
            "errors": helpers.AdminErrorList(form, []),
            "media": self.media + admin_form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/provenance/traceevent/record_event.html", context)


# Hash chains ----------------------------------------------------------------------------------------------------------


@admin.register(ChainHead)
class ChainHeadAdmin(ScopedAdmin):
    """Each supplier's hash chain as its head records it (see provenance.hashchain): read-only, written by the check
    after each capture and by the nightly verification."""

    supplier_path = "supplier"
    list_display = ["supplier", "status", "recorded", "verified_through", "verified_at", "fully_verified_at"]
    list_select_related = ["supplier"]
    search_fields = ["supplier__legal_name", "supplier__slug"]
    fieldsets = [
        (None, {"fields": ["supplier", "status", "recorded"]}),
        ("Verified", {"fields": ["verified_through", "verified_hash", "verified_at", "fully_verified_at"]}),
        ("Break", {"fields": ["broken_at", "broken_event", "broken_reason", "broken_found_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[ChainHead]:
        return super().get_queryset(request).annotate(recorded=chain_length())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return flatten_fieldsets(self.fieldsets)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # a head is created by the first check of a chain

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # only a verification moves a head on, or clears a break

    @admin.display(description="events recorded", ordering="recorded")
    def recorded(self, obj: ChainHead) -> int:
        return obj.recorded or 0  # type: ignore[attr-defined]

    @admin.display(description="status")
    def status(self, obj: ChainHead) -> str:
        status = ChainStatus.of_head(obj, recorded=self.recorded(obj))
        if status.state == ChainState.BROKEN:
            return f"broken at event #{status.broken_at}: {status.broken_reason}"
        if status.state == ChainState.PENDING:
            return f"verified so far ({status.unchecked} recorded since, not yet checked)"
        return "verified"

    @admin.display(description="broken event")
    def broken_event(self, obj: ChainHead) -> str:
        if not obj.broken_event_id:
            return "—"
        event = TraceEvent.objects.filter(event_id=obj.broken_event_id).values_list("pk", flat=True).first()
        if event is None:
            return obj.broken_event_id
        url = reverse("admin:provenance_traceevent_change", args=[event])
        return format_html('<a href="{}">{}</a>', url, obj.broken_event_id)
