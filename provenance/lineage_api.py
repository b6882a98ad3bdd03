"""A batch's lineage through the integrator API: as JSON, and as one EPCIS 2.0 document of the events behind it.

    GET /api/v1/batches/{id}/lineage/   origins, hops (where, when, how well backed), mass-balance warnings, and
                                        whether each supplier's hash chain verifies
    GET /api/v1/batches/{id}/epcis/     an EPCISDocument (JSON-LD) of every event of the batch and what it was made
                                        from, each exactly as captured: re-capturable elsewhere as it is

Both are readable by everyone when the batch's product is public (like the batch itself), and by the supplier's
members otherwise; anyone else gets 404. Included by socialbiz/api/urls.py under `v1/`.
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.renderers import JSONErrorsMixin, JSONLDRenderer
from products.access import access_for_request
from products.models import Batch, Declaration
from provenance import lineage
from provenance.models import TraceEvent
from provenance.selectors import ChainState

# Output


class LineageBatchOut(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    gtin = serializers.CharField(source="product.gtin", read_only=True, allow_null=True)

    class Meta:
        model = Batch
        fields = ["id", "product", "product_name", "gtin", "lot", "produced_on"]


class FacilityOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    country = serializers.CharField(source="country.code", help_text="ISO 3166-1 alpha-2 code.")
    country_name = serializers.CharField(source="country.name")
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)


class HopOut(serializers.Serializer):
    event_id = serializers.CharField(source="event.event_id", help_text="The EPCIS eventID.")
    type = serializers.ChoiceField(source="event.type", choices=TraceEvent.Type.choices)
    event_time = serializers.DateTimeField(source="event.event_time")
    date = serializers.DateField(help_text="The date where the event happened (in its own time zone).")
    biz_step = serializers.CharField(help_text="CBV business step, short form: commissioning, shipping, …")
    facility = FacilityOut(allow_null=True, help_text="The facility at the event's bizLocation or readPoint.")
    country = serializers.CharField(allow_null=True)
    evidence_levels = serializers.ListField(
        child=serializers.ChoiceField(choices=Declaration.EvidenceLevel.choices),
        help_text="One per piece of evidence attached to the event; expired or revoked evidence says so.",
    )


class MassBalanceOut(serializers.Serializer):
    event_id = serializers.CharField(source="event.event_id")
    inputs = serializers.DecimalField(max_digits=26, decimal_places=6)
    outputs = serializers.DecimalField(max_digits=26, decimal_places=6)
    uom = serializers.CharField(help_text="UN/CEFACT unit of measure code, e.g. KGM.")


class ChainOut(serializers.Serializer):
    supplier = serializers.SlugField(help_text="The supplier's slug.")
    verified = serializers.BooleanField(
        help_text="No event of this supplier's hash chain is known not to verify: its status is verified or pending.",
    )
    status = serializers.ChoiceField(
        choices=ChainState.choices,
        help_text="verified: through its last event; pending: its latest events are still to be checked (seconds "
        "after they were recorded); broken: an event was changed or removed after it was recorded. Every chain is "
        "also verified again from its first event every night.",
    )
    unchecked_events = serializers.IntegerField(help_text="Events recorded after the last one verified.")


class LineageOut(serializers.Serializer):
    batch = LineageBatchOut()
    identifier = serializers.CharField(
        allow_null=True, help_text="The batch's GS1 Digital Link (null when its product has no GTIN)."
    )
    upstream = serializers.ListField(child=serializers.CharField(), help_text="Everything the batch was made from.")
    downstream = serializers.ListField(child=serializers.CharField(), help_text="Everything made from the batch.")
    origins = serializers.ListField(child=serializers.CharField(), help_text="Upstream identifiers nothing went into.")
    hops = HopOut(many=True, help_text="The events of the lineage in time order.")
    facilities = FacilityOut(many=True)
    mass_balance = MassBalanceOut(many=True, help_text="Transformations that put out more than went in.")
    chain_verified = ChainOut(many=True)


def _found(request: Request, batch_id: int, *, with_documents: bool = False) -> tuple[Batch, lineage.Lineage]:
    found = lineage.batch_lineage_for(batch_id, access_for_request(request), with_documents=with_documents)
    if found is None:
        raise exceptions.NotFound()
    return found


class BatchLineageView(APIView):
    @extend_schema(
        summary="A batch's lineage",
        description="Everything the batch was made from (to the origins) and everything made from it, the events in "
        "time order with their facility and evidence, mass-balance warnings, and whether each supplier's hash chain "
        "verifies.",
        responses={200: LineageOut},
    )
    def get(self, request: Request, batch_id: int) -> Response:
        batch, found = _found(request, batch_id)
        verified = lineage.chains_verified(found)
        body = {
            "batch": batch,
            "identifier": found.identifier,
            "upstream": sorted(found.upstream),
            "downstream": sorted(found.downstream),
            "origins": sorted(found.origins),
            "hops": found.hops,
            "facilities": found.facilities,
            "mass_balance": found.mass_balance,
            "chain_verified": [
                {"supplier": slug, "verified": s.intact, "status": s.state, "unchecked_events": s.unchecked}
                for slug, s in verified.items()
            ],
        }
        return Response(LineageOut(body).data)


class BatchEpcisView(JSONErrorsMixin, APIView):
    renderer_classes = [JSONLDRenderer, JSONRenderer]

    @extend_schema(
        summary="A batch's events as one EPCIS 2.0 document",
        description="Every event that touches the batch or anything it was made from, in time order and exactly as "
        "captured, as one EPCISDocument (JSON-LD) that validates against GS1's EPCIS 2.0 schema.",
        responses={(200, "application/ld+json"): OpenApiTypes.OBJECT, (200, "application/json"): OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("format", exclude=True)],  # the Accept header chooses
    )
    def get(self, request: Request, batch_id: int) -> Response:
        _batch, found = _found(request, batch_id, with_documents=True)
        return Response(lineage.epcis_export(found))


urlpatterns = [
    path("batches/<int:batch_id>/lineage/", BatchLineageView.as_view(), name="batch-lineage"),
    path("batches/<int:batch_id>/epcis/", BatchEpcisView.as_view(), name="batch-epcis"),
]
