"""/epcis/: the EPCIS 2.0 REST interface."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from core.api import errors
from provenance import api, query_api

app_name = "epcis"

urlpatterns = [
    path("capture", api.CaptureView.as_view(), name="capture"),
    path("capture/<uuid:capture_id>", api.CaptureDetailView.as_view(), name="capture-detail"),
    path("events", query_api.EventQueryView.as_view(), name="events"),
    path("events/<path:event_id>", query_api.EventDetailView.as_view(), name="event-detail"),
    re_path(r"", csrf_exempt(errors.api_not_found)),
]
