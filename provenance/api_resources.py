"""Facilities and evidence through the integrator API.

Reads show what the public pages show: every facility (events name them by `location_uri`, and events are public
through /epcis/events) but a facility's street address only to its owner's members and operators, since a
smallholder farm's address is a person's; evidence that backs a public product's declaration or a trace event, and
all of their own to a supplier's members. Writes go through provenance.services, allowed by
products.access.SupplierPermission like the catalog's. Registered by socialbiz/api_urls.py on the v1 router.
"""

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import Access
from core.api.filters import StrictFilterSet
from products import selectors as catalog
from products.access import access_for_request
from products.api import IDEMPOTENT, SupplierScopedViewSet, absolute_url, editable_object, validated_input
from products.models import Supplier
from provenance import lineage, services
from provenance.models import Evidence, Facility, TraceEvent

EVIDENCE_LEVELS = Evidence._meta.get_field("level").choices
EVIDENCE_STATUSES = [
    ("valid", "Valid"),
    ("expired", "Expired"),
    ("revoked", "Revoked"),
    ("not_yet_valid", "Not yet valid"),
]
LINKS_MAX = 1000  # events or declarations named in one request
ID_MAX = 2**63 - 1  # BigAutoField


# Reads: what each viewer may see, and the queries for it (constant per page, whatever the page holds).


def facility_list() -> QuerySet[Facility]:
    """Every facility: the places events name are public, like the events (FacilityOut shows the address only to
    those who may read the owner's rows)."""
    return Facility.objects.select_related("owner")


def evidence_list_for(access: Access) -> QuerySet[Evidence]:
    """Evidence that the public pages show (backing a public product's declaration, or a trace event), and all of the
    viewer's own suppliers'; each with the declarations the viewer may see and the events it backs."""
    queryset = Evidence.objects.select_related("owner").prefetch_related(
        Prefetch(
            "declarations",
            queryset=catalog.declaration_list_for(access).select_related(None).only("id").order_by("id"),
            to_attr="visible_declarations",
        ),
        Prefetch(
            "events", queryset=TraceEvent.objects.only("id", "event_id").order_by("event_time", "id"), to_attr="cited"
        ),
    )
    if access.operator:
        return queryset
    backs_public_declaration = Exists(
        Evidence.declarations.through.objects.filter(
            evidence_id=OuterRef("pk"), declaration__product__published_at__isnull=False
        )
    )
    backs_event = Exists(Evidence.events.through.objects.filter(evidence_id=OuterRef("pk")))
    return queryset.filter(Q(backs_public_declaration) | Q(backs_event) | Q(owner_id__in=access.readable))


# Output


@extend_schema_serializer(component_name="Facility")
class FacilityOut(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="The owning supplier's slug.")
    country = serializers.CharField(source="country.code", read_only=True, help_text="ISO 3166-1 alpha-2 code.")
    country_name = serializers.CharField(source="country.name", read_only=True)
    latitude = serializers.FloatField(read_only=True, allow_null=True)
    longitude = serializers.FloatField(read_only=True, allow_null=True)
    address = serializers.SerializerMethodField(
        help_text="The street address: only for the owner's members and operators (a smallholder farm's address is "
        "personal data); null for everyone else."
    )

    class Meta:
        model = Facility
        fields = [
            "id",
            "owner",
            "name",
            "kind",
            "country",
            "country_name",
            "latitude",
            "longitude",
            "gln",
            "open_supply_hub_id",
            "location_uri",
            "address",
            "created_at",
        ]
        extra_kwargs = {
            "location_uri": {"help_text": "The identifier trace events name this place by (readPoint/bizLocation)."}
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_address(self, facility: Facility) -> str | None:
        may_read = access_for_request(self.context["request"]).can_read(facility.owner_id)
        return facility.address if may_read else None


@extend_schema_serializer(component_name="Evidence")
class EvidenceOut(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="The owning supplier's slug.")
    status = serializers.ChoiceField(
        choices=EVIDENCE_STATUSES,
        read_only=True,
        help_text="Today: revoked, expired (past valid_until), not_yet_valid (before valid_from) or valid.",
    )
    document_url = serializers.SerializerMethodField(help_text="An uploaded document, if there is one.")
    sha256_computed = serializers.SerializerMethodField(
        help_text="True when the platform computed `sha256` from an uploaded document; false when it is the "
        "supplier's own claim about the document at `url` (or there is none)."
    )
    declarations = serializers.SerializerMethodField(help_text="The ids of the declarations it backs.")
    events = serializers.SerializerMethodField(help_text="The eventIDs of the trace events it backs.")

    class Meta:
        model = Evidence
        fields = [
            "id",
            "owner",
            "title",
            "issuer",
            "scheme",
            "level",
            "url",
            "document_url",
            "sha256",
            "sha256_computed",
            "valid_from",
            "valid_until",
            "status",
            "revoked_at",
            "revoked_reason",
            "declarations",
            "events",
            "created_at",
        ]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_document_url(self, evidence: Evidence) -> str | None:
        return absolute_url(self.context.get("request"), evidence.document.url) if evidence.document else None

    def get_sha256_computed(self, evidence: Evidence) -> bool:
        return bool(evidence.document and evidence.sha256)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_declarations(self, evidence: Evidence) -> list[int]:
        return [declaration.pk for declaration in evidence.visible_declarations]  # type: ignore[attr-defined]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_events(self, evidence: Evidence) -> list[str]:
        return [event.event_id for event in evidence.cited]  # type: ignore[attr-defined]


# Input: only shapes and types here; every rule is checked by the services.


def _coordinate(limit: int) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-limit,
        max_value=limit,
        coerce_to_string=False,
        required=False,
        allow_null=True,
        help_text="Decimal degrees (WGS 84), up to 6 decimal places; give both coordinates or neither.",
    )


class FacilityFieldsIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.CharField(max_length=60, required=False, allow_blank=True, help_text="Farm, mill, port, …")
    address = serializers.CharField(required=False, allow_blank=True, help_text="Shown to your members only.")
    country = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code.")
    latitude = _coordinate(90)
    longitude = _coordinate(180)
    gln = serializers.CharField(max_length=13, required=False, allow_blank=True)
    open_supply_hub_id = serializers.CharField(max_length=20, required=False, allow_blank=True)


class FacilityCreateIn(FacilityFieldsIn):
    owner = serializers.SlugField(help_text="The slug of a supplier you may edit.")
    location_uri = serializers.CharField(
        max_length=512,
        required=False,
        allow_blank=True,
        help_text="What your events call this place; by default the GLN's Digital Link (https://id.gs1.org/414/…), "
        "or a urn:uuid: of its own without a GLN. Fixed once created.",
    )


class EvidenceIn(serializers.Serializer):
    owner = serializers.SlugField(help_text="The slug of a supplier you may edit.")
    title = serializers.CharField(max_length=200)
    issuer = serializers.CharField(max_length=200, help_text="A certifier, a lab, an auditor, yourselves.")
    scheme = serializers.CharField(max_length=120, required=False, allow_blank=True)
    url = serializers.URLField(max_length=200, help_text="Where the certificate, audit or test can be read.")
    sha256 = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Your SHA-256 of the document at `url`, if you want to publish one: shown as your claim, not "
        "checked by the platform.",
    )
    level = serializers.ChoiceField(choices=EVIDENCE_LEVELS, required=False)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)


class RevokeIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why it is revoked: shown wherever it was cited.")


class LinksIn(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.CharField(max_length=512),
        required=False,
        max_length=LINKS_MAX,
        help_text="EPCIS eventIDs of your supplier's events.",
    )
    declarations = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        max_length=LINKS_MAX,
        help_text="Ids of your supplier's declarations.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("events") and not attrs.get("declarations"):
            raise serializers.ValidationError("Name at least one event or declaration.")
        return attrs


def _events_named(event_ids: list[str]) -> list[TraceEvent]:
    found = {
        e.event_id: e for e in TraceEvent.objects.filter(event_id__in=event_ids).only("id", "event_id", "supplier")
    }
    missing = [event_id for event_id in dict.fromkeys(event_ids) if event_id not in found]
    if missing:
        raise exceptions.ValidationError(
            {"events": [f"No event has the eventID {event_id!r}." for event_id in missing]}
        )
    return list(found.values())


def _declarations_named(request: Request, ids: list[int]) -> list[Any]:
    found = {d.pk: d for d in catalog.declaration_list_for(access_for_request(request)).filter(pk__in=ids)}
    missing = [pk for pk in dict.fromkeys(ids) if pk not in found]
    if missing:
        raise exceptions.ValidationError(
            {"declarations": [f"No declaration {pk}, or you may not see it." for pk in missing]}
        )
    return list(found.values())


# Views


class FacilityFilter(StrictFilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug", help_text="A supplier's slug.")
    location_uri = django_filters.CharFilter(
        method="filter_location_uri",
        help_text="A facility's location URI, or a readPoint/bizLocation id as events give it (SGLN URN or Digital "
        "Link, with or without a GLN extension): the facility the public pages show for that place.",
    )

    class Meta:
        model = Facility
        fields = ["owner", "country", "gln", "location_uri"]

    def filter_location_uri(self, queryset: QuerySet[Facility], name: str, value: str) -> QuerySet[Facility]:
        return queryset.filter(location_uri__in=lineage.location_keys(value))


@extend_schema_view(
    list=extend_schema(
        summary="List facilities",
        description="Every facility: the places trace events name. Look one up by the location URI an event gives "
        "(`?location_uri=`). Street addresses only for the owner's members.",
    ),
    retrieve=extend_schema(summary="A facility"),
    create=extend_schema(summary="Register a facility", request=FacilityCreateIn, **IDEMPOTENT),
    partial_update=extend_schema(summary="Change a facility (not its location URI)", request=FacilityFieldsIn),
)
class FacilityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, SupplierScopedViewSet):
    serializer_class = FacilityOut
    filterset_class = FacilityFilter
    supplier_path = "owner_id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Facility]:
        return facility_list()

    def create(self, request: Request) -> Response:
        def work() -> Response:
            data = validated_input(FacilityCreateIn, request)
            owner = editable_object(Supplier.objects.all(), request, "owner", slug=data.pop("owner"))
            facility = services.facility_create(owner=owner, **data)
            return self.respond(facility, status.HTTP_201_CREATED)

        return self.idempotent(request, work)

    def partial_update(self, request: Request, pk: str) -> Response:
        facility = self.get_object()
        data = validated_input(FacilityFieldsIn, request, partial=True)
        return self.respond(services.facility_update(facility=facility, **data))


class IdFilter(django_filters.NumberFilter):
    """An id: "1.5" is an error, not 1; and one beyond a big integer is an error, not a database crash."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, min_value=1, max_value=ID_MAX, **kwargs)


class EvidenceFilter(StrictFilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug", help_text="A supplier's slug.")
    event = django_filters.CharFilter(field_name="events__event_id", help_text="Evidence backing this eventID.")
    declaration = IdFilter(field_name="declarations", help_text="Evidence backing this declaration (its id).")

    class Meta:
        model = Evidence
        fields = ["owner", "event", "declaration"]


@extend_schema_view(
    list=extend_schema(
        summary="List evidence",
        description="Certificates, audits and tests that back a public product's declarations or trace events, with "
        "their status today; your own suppliers' evidence too.",
    ),
    retrieve=extend_schema(summary="A piece of evidence"),
    create=extend_schema(summary="Record evidence (by URL)", request=EvidenceIn, **IDEMPOTENT),
    revoke=extend_schema(
        summary="Revoke evidence", description="It stays, shown as revoked wherever it was cited.", request=RevokeIn
    ),
    links=extend_schema(
        summary="Cite evidence for more events and declarations",
        description="Adds to what it backs (never removes): your own supplier's events, by eventID, and "
        "declarations, by id.",
        request=LinksIn,
    ),
)
class EvidenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, SupplierScopedViewSet):
    serializer_class = EvidenceOut
    filterset_class = EvidenceFilter
    supplier_path = "owner_id"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Evidence]:
        return evidence_list_for(access_for_request(self.request))

    def _fresh(self, evidence: Evidence) -> Evidence:
        return self.get_queryset().get(pk=evidence.pk)  # with what it backs, as the viewer may see it

    def create(self, request: Request) -> Response:
        def work() -> Response:
            data = validated_input(EvidenceIn, request)
            owner = editable_object(Supplier.objects.all(), request, "owner", slug=data.pop("owner"))
            evidence = services.evidence_create(owner=owner, actor=request.user, **data)
            return self.respond(self._fresh(evidence), status.HTTP_201_CREATED)

        return self.idempotent(request, work)

    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        evidence = self.get_object()
        reason = validated_input(RevokeIn, request)["reason"]
        services.evidence_revoke(evidence=evidence, reason=reason, actor=request.user)
        return self.respond(self._fresh(evidence))

    @action(detail=True, methods=["post"])
    def links(self, request: Request, pk: str) -> Response:
        evidence = self.get_object()
        data = validated_input(LinksIn, request)
        events = _events_named(data.get("events", []))
        declarations = _declarations_named(request, data.get("declarations", []))
        services.evidence_links_add(evidence=evidence, events=events, declarations=declarations, actor=request.user)
        return self.respond(self._fresh(evidence))
