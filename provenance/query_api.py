"""EPCIS 2.0 REST bindings: query (GET /epcis/events, GET /epcis/events/{eventID}).

Open to everyone, signed in or not: captured trace events are public on this platform — a shopper, an auditor or a
trading partner can follow a product's chain without an account, which is the point of recording it.
"""

from datetime import datetime
from urllib.parse import urlencode

from django.core import signing
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.api.renderers import JSONErrorsMixin, JSONLDRenderer
from provenance import event_query, selectors

PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 1000
PAGING_PARAMETERS = ("perPage", "nextPageToken")
TOKEN_SALT = "provenance.epcis.events.next-page"


def _list(description: str) -> str:
    return f"{description} Several values, comma-separated or repeated, match any of them."


IDENTIFIER_VALUES = "EPC URNs or GS1 Digital Link URIs (the same object matches in either form)"
# The Accept header chooses JSON or JSON-LD; DRF's ?format= override still works but is not part of the interface.
NO_FORMAT = OpenApiParameter("format", exclude=True)
QUERY_PARAMETERS = [
    OpenApiParameter("eventType", str, description=_list("ObjectEvent, AggregationEvent, TransactionEvent, …")),
    *(
        OpenApiParameter(name, OpenApiTypes.DATETIME, description=f"{name[:2]} this time; with its offset.")
        for name in event_query.TIME_FILTERS
    ),
    OpenApiParameter("EQ_action", str, description=_list("ADD, OBSERVE or DELETE.")),
    OpenApiParameter("EQ_bizStep", str, description=_list("A CBV business step, short (shipping) or as a URI.")),
    OpenApiParameter("EQ_disposition", str, description=_list("A CBV disposition, short (in_transit) or as a URI.")),
    OpenApiParameter("EQ_readPoint", str, description=_list("A read point id (SGLN URN or Digital Link).")),
    OpenApiParameter("EQ_bizLocation", str, description=_list("A business location id (SGLN URN or Digital Link).")),
    OpenApiParameter("EQ_transformationID", str, description=_list("A transformation id.")),
    OpenApiParameter("EQ_eventID", str, description=_list("An eventID.")),
    OpenApiParameter("MATCH_epc", str, description=_list(f"In epcList or childEPCs: {IDENTIFIER_VALUES}.")),
    OpenApiParameter("MATCH_parentID", str, description=_list(f"The parentID: {IDENTIFIER_VALUES}.")),
    OpenApiParameter("MATCH_inputEPC", str, description=_list(f"In inputEPCList: {IDENTIFIER_VALUES}.")),
    OpenApiParameter("MATCH_outputEPC", str, description=_list(f"In outputEPCList: {IDENTIFIER_VALUES}.")),
    OpenApiParameter("MATCH_anyEPC", str, description=_list(f"In any EPC list or the parentID: {IDENTIFIER_VALUES}.")),
    OpenApiParameter(
        "MATCH_epcClass",
        str,
        description=_list(
            "An epcClass in quantityList or childQuantityList: EPC class URNs, GTIN-level patterns "
            "(urn:epc:idpat:sgtin:CompanyPrefix.ItemRef.*, which match every lot and serial of the GTIN) or Digital "
            "Link URIs."
        ),
    ),
    OpenApiParameter("MATCH_inputEPCClass", str, description=_list("An epcClass in inputQuantityList.")),
    OpenApiParameter("MATCH_outputEPCClass", str, description=_list("An epcClass in outputQuantityList.")),
    OpenApiParameter("MATCH_anyEPCClass", str, description=_list("An epcClass in any quantity list.")),
    OpenApiParameter("orderBy", str, enum=sorted(event_query.ORDER_FIELDS), description="Default: eventTime."),
    OpenApiParameter(
        "orderDirection",
        str,
        enum=["ASC", "DESC"],
        description="DESC when orderBy is given (as the standard says), else ASC.",
    ),
    OpenApiParameter(
        "perPage",
        int,
        description=f"Events per page, 1 to {PER_PAGE_MAX} (default {PER_PAGE_DEFAULT}).",
    ),
    OpenApiParameter(
        "nextPageToken",
        str,
        description='From the URL in the previous page\'s `Link: <…>; rel="next"` header; opaque.',
    ),
]


def _per_page(request: Request, errors: dict[str, list[str]]) -> int:
    values = request.query_params.getlist("perPage")
    if not values:
        return PER_PAGE_DEFAULT
    if len(values) == 1 and values[0].isdigit() and 1 <= int(values[0]) <= PER_PAGE_MAX:
        return int(values[0])
    errors["perPage"] = [f"A whole number from 1 to {PER_PAGE_MAX}, given once."]
    return PER_PAGE_DEFAULT


def _page_token(params: dict[str, list[str]], position: event_query.Position) -> str:
    moment, pk = position
    return signing.dumps({"q": params, "at": [moment.isoformat(), pk]}, salt=TOKEN_SALT, compress=True)


def _read_page_token(token: str) -> tuple[dict[str, list[str]], event_query.Position]:
    """The query and position a token was issued for; ValueError if this server did not issue it as it is."""
    try:
        state = signing.loads(token, salt=TOKEN_SALT)
        moment, pk = state["at"]
        return dict(state["q"]), (datetime.fromisoformat(moment), int(pk))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValueError("Not a token this server issued, or it was altered.") from None


class EventQueryView(JSONErrorsMixin, APIView):
    """Public, read-only: see the module docstring."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, JSONLDRenderer, BrowsableAPIRenderer]

    @extend_schema(
        summary="Query trace events (EPCIS 2.0 SimpleEventQuery)",
        description="An EPCISQueryDocument (JSON-LD) with the matching events, each exactly as captured (plus its "
        "recordTime and error declaration). Parameters combine with AND. More pages are announced in a "
        '`Link: <url>; rel="next"` header; the last page has none. An unknown parameter or a malformed value is a '
        "400 naming it. Public: no credentials needed.",
        operation_id="epcis_events_query",
        parameters=[*QUERY_PARAMETERS, NO_FORMAT],
        responses={200: OpenApiTypes.OBJECT},
        tags=["epcis"],
    )
    def get(self, request: Request) -> Response:
        # Paging and DRF's ?format= (the browsable API links to it) are not filters.
        skip = (*PAGING_PARAMETERS, api_settings.URL_FORMAT_OVERRIDE)
        params = {name: values for name, values in request.query_params.lists() if name not in skip}
        errors: dict[str, list[str]] = {}
        per_page = _per_page(request, errors)
        position = None
        if "nextPageToken" in request.query_params:
            try:
                token_params, position = _read_page_token(request.query_params["nextPageToken"])
            except ValueError as error:
                errors["nextPageToken"] = [str(error)]
            else:
                if params and params != token_params:
                    errors["nextPageToken"] = ["It belongs to another query: send the same parameters, or none."]
                params = token_params
        query, query_errors = event_query.compile_query(params)
        errors |= query_errors
        if errors or query is None:
            raise exceptions.ValidationError(errors)

        events, next_position = event_query.page(query, after=position, size=per_page)
        headers = {}
        if next_position is not None:
            query_string = urlencode(
                [(name, value) for name, values in params.items() for value in values]
                + [("perPage", per_page), ("nextPageToken", _page_token(params, next_position))]
            )
            headers["Link"] = f'<{request.build_absolute_uri(request.path)}?{query_string}>; rel="next"'
        return Response(selectors.query_document(events), headers=headers)


class EventDetailView(JSONErrorsMixin, APIView):
    """Public, read-only: see the module docstring."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, JSONLDRenderer, BrowsableAPIRenderer]

    @extend_schema(
        summary="One trace event by its eventID",
        description="The event as JSON-LD, exactly as captured (plus its recordTime and error declaration). The "
        "eventID is percent-encoded in the path (it may contain `/`, `:`, `;` and `?`).",
        operation_id="epcis_event_retrieve",
        parameters=[
            OpenApiParameter("event_id", str, OpenApiParameter.PATH, description="The eventID, encoded."),
            NO_FORMAT,
        ],
        responses={200: OpenApiTypes.OBJECT},
        tags=["epcis"],
    )
    def get(self, request: Request, event_id: str) -> Response:
        event = selectors.event_by_id(event_id)
        if event is None:
            raise exceptions.NotFound()
        return Response(selectors.event_json_ld(event))
