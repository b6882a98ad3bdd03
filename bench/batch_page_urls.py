"""The URLconf gunicorn serves for bench/batch_page.py: the project's URLs plus a minimal view, the baseline.

bench/batch_page.py makes this module the ROOT_URLCONF (see its `wsgi()`), so that `/__minimal__` goes through
exactly the project's middleware, like every other page; `/__bench_write__/<tag>/` makes one write of the mixed
scenario (a GET, so that the load generators need no request bodies; it exists only here).
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def minimal(request: HttpRequest) -> HttpResponse:
    """The baseline: a view that does nothing but answer."""
    return HttpResponse(b"ok", content_type="text/plain")


def write(request: HttpRequest, tag: str) -> HttpResponse:
    """One write of the mixed scenario's mix (bench/busy_network.py, on the writers' network), as a supplier's
    dashboard or API call makes it."""
    import busy_network

    return HttpResponse(busy_network.write(tag).encode(), content_type="text/plain")


urlpatterns = [
    path("__minimal__", minimal),
    path("__bench_write__/<str:tag>/", write),
    path("", include("socialbiz.urls")),
]

# The project's error handlers, so that errors look as they do on the real site.
handler404 = "socialbiz.views.page_not_found"
handler500 = "socialbiz.views.server_error"
