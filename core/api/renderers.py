"""Renderers the APIs share."""

from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request


class JSONLDRenderer(JSONRenderer):
    """JSON-LD documents (EPCIS 2.0 among them): JSON under their own media type, chosen by Accept or ?format=jsonld."""

    media_type = "application/ld+json"
    format = "jsonld"


class JSONErrorsMixin:
    """For views that answer JSON-LD: their errors keep the API's one JSON shape and media type, whatever the client
    accepts for the document."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400 and isinstance(getattr(request, "accepted_renderer", None), JSONLDRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
