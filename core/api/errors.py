"""One JSON error shape for the whole API: status, a machine-readable code, a message, and field errors.

    {"status": 400, "code": "invalid", "message": "The request has errors: see `errors`.",
     "errors": {"gtin": ["The GTIN's check digit is wrong: …"]}}

Used by DRF's exception handler, by the project's 404/500 handlers for paths under the API, and documented on
every operation of the OpenAPI schema.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)

API_PREFIXES = ("/api/", "/epcis/")
MESSAGES = {
    "invalid": "The request has errors: see `errors`.",
    "not_found": "Nothing is at this address, or you may not see it.",
    "server_error": "Something went wrong on our side; it has been logged. Please try again later.",
}


class APIError(exceptions.APIException):
    """An API error with its own status and code, for rules the generic DRF exceptions do not name."""

    def __init__(self, *, status_code: int, code: str, message: str) -> None:
        self.status_code = status_code
        super().__init__(detail=message, code=code)


def error_body(status_code: int, code: str, message: str, errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def _django_validation_to_drf(error: DjangoValidationError) -> exceptions.ValidationError:
    detail = as_serializer_error(error)
    if "__all__" in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop("__all__")
    return exceptions.ValidationError(detail=detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, with Django's own exceptions mapped and every body in the one shape."""
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a real server error: Django's handler500 answers, in the same shape (see api_server_error)

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
        body = error_body(exc.status_code, "invalid", MESSAGES["invalid"], detail)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        body = error_body(exc.status_code, code, str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body(404, "not_found", MESSAGES["not_found"]), status=404)


def api_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body(500, "server_error", MESSAGES["server_error"]), status=500)


ERROR_STATUSES = {
    "400": "The request is malformed or invalid; nothing was changed.",
    "401": "No valid credentials were given.",
    "403": "The credentials are valid but do not allow this.",
    "404": "Not found, or not visible to you.",
    "405": "This method is not allowed here.",
    "406": "None of the accepted media types can be produced.",
    "415": "The request body is not JSON.",
    "422": "An Idempotency-Key was reused with a different request.",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
    "500": "A server error; nothing was changed.",
}
SAFE_ONLY = {"400", "401", "404", "405", "406", "429", "500"}


def document_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation documents the error responses it can give."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "The body of every error response.",
        "properties": {
            "status": {"type": "integer", "description": "The HTTP status code, repeated."},
            "code": {"type": "string", "description": "Machine-readable: invalid, not_found, throttled, …"},
            "message": {"type": "string", "description": "What went wrong, for people."},
            "errors": {
                "type": "object",
                "additionalProperties": True,
                "description": "Field name → list of messages; `non_field_errors` for the rest.",
            },
        },
        "required": ["status", "code", "message"],
    }
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            statuses = SAFE_ONLY if method in ("get", "head", "options") else set(ERROR_STATUSES) - {"422"}
            if operation.pop("x-idempotent", False):
                statuses = statuses | {"422"}
            responses = operation.setdefault("responses", {})
            for code in sorted(statuses):
                responses.setdefault(code, {"description": ERROR_STATUSES[code], "content": reference})
    return result
