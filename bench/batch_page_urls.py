"""The URLconf gunicorn serves for bench/batch_page.py: the project's URLs plus a minimal view, the baseline.

bench/batch_page.py makes this module the ROOT_URLCONF (see its `wsgi()`), so that `/__minimal__` goes through
exactly the project's middleware, like every other page.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def minimal(request: HttpRequest) -> HttpResponse:
    """The baseline: a view that does nothing but answer."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("__minimal__", minimal),
    path("", include("socialbiz.urls")),
]

# The project's error handlers, so that errors look as they do on the real site.
handler404 = "socialbiz.views.page_not_found"
handler500 = "socialbiz.views.server_error"
