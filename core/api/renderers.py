"""Renderers the APIs share."""

from rest_framework.renderers import JSONRenderer


class JSONLDRenderer(JSONRenderer):
    """JSON-LD documents (EPCIS 2.0 among them): JSON under their own media type, chosen by Accept or ?format=jsonld."""

    media_type = "application/ld+json"
    format = "jsonld"
