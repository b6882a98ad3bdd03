"""EPCIS 2.0 REST bindings: capture (POST /epcis/capture, GET /epcis/capture/{id})."""

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import APIError, error_body
from products.access import access_for_request
from products.models import Supplier
from provenance import epcis, services
from provenance.models import Capture

JSON_TYPES = ("application/json", "application/ld+json")

CaptureOut = inline_serializer(
    "CaptureJob",
    {
        "captureID": serializers.UUIDField(),
        "url": serializers.URLField(),
        "createdAt": serializers.DateTimeField(),
        "finishedAt": serializers.DateTimeField(allow_null=True),
        "running": serializers.BooleanField(),
        "success": serializers.BooleanField(),
        "captureErrorBehaviour": serializers.CharField(),
        "eventCount": serializers.IntegerField(),
        "duplicateCount": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)


def capture_body(capture: Capture, request: Request) -> dict[str, Any]:
    return {
        "captureID": str(capture.id),
        "url": request.build_absolute_uri(reverse("epcis:capture-detail", args=[capture.id])),
        "createdAt": capture.created_at.isoformat(),
        "finishedAt": capture.finished_at.isoformat() if capture.finished_at else None,
        "running": False,
        "success": True,  # a capture that fails is rolled back: only successful ones are stored
        "captureErrorBehaviour": "rollback",
        "eventCount": capture.event_count,
        "duplicateCount": capture.duplicate_count,
        "errors": [],
    }


def _capturing_supplier(request: Request) -> Supplier:
    access = access_for_request(request)
    slug = request.query_params.get("supplier")
    if slug:
        supplier = Supplier.objects.filter(slug=slug).first()
        if supplier is None:
            raise exceptions.ValidationError({"supplier": ["No supplier has this slug."]})
    elif len(access.editable) == 1:
        supplier = Supplier.objects.get(pk=next(iter(access.editable)))
    else:
        raise exceptions.ValidationError(
            {"supplier": ["Say which supplier the events belong to: ?supplier=<slug> (you may edit several, or none)."]}
        )
    if not access.can_edit(supplier.pk):
        raise exceptions.PermissionDenied("You may record events only for a supplier you work for.")
    return supplier


class CaptureView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Capture an EPCIS document",
        description="A whole EPCISDocument (JSON or JSON-LD), validated against GS1's EPCIS 2.0 schema and stored "
        "all or nothing. Events whose eventID is already stored are skipped.",
        request={"application/json": OpenApiTypes.OBJECT, "application/ld+json": OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("supplier", str, description="Whose events these are (a slug you may edit).")],
        responses={202: CaptureOut, 413: OpenApiTypes.OBJECT},
        tags=["epcis"],
    )
    def post(self, request: Request) -> Response:
        content_type = request.content_type.split(";")[0].strip()
        if content_type not in JSON_TYPES:
            raise exceptions.UnsupportedMediaType(content_type)
        limit = settings.EPCIS_CAPTURE_MAX_BYTES
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        raw = b"" if declared > limit else request._request.read(limit + 1)
        if declared > limit or len(raw) > limit:
            raise APIError(
                status_code=413,
                code="payload_too_large",
                message=f"A capture is at most {limit // 1_000_000} MB; split the document.",
            )
        try:
            document = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise exceptions.ParseError(f"The body is not JSON: {error}") from None
        supplier = _capturing_supplier(request)
        try:
            capture = services.capture_document(supplier=supplier, submitted_by=request.user, document=document)
        except epcis.InvalidDocument as invalid:
            errors: dict[str, list[str]] = {}
            for problem in invalid.problems:
                errors.setdefault(problem.path, []).append(problem.message)
            message = "The document is not a valid EPCIS 2.0 document; nothing was stored. See `errors` (by JSON path)."
            return Response(error_body(400, "invalid_document", message, errors), status=status.HTTP_400_BAD_REQUEST)
        except ValidationError as error:
            raise exceptions.PermissionDenied(" ".join(error.messages)) from None
        body = capture_body(capture, request)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class CaptureDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="The state of a capture", responses={200: CaptureOut}, tags=["epcis"])
    def get(self, request: Request, capture_id: str) -> Response:
        capture = get_object_or_404(Capture, pk=capture_id)
        if not (
            access_for_request(request).can_read(capture.supplier_id) or capture.submitted_by_id == request.user.pk
        ):
            raise exceptions.NotFound()
        return Response(capture_body(capture, request))
