"""`manage.py runserver` that hands the request path to the app as the client sent it, as gunicorn does.

Django's development server gives only PATH_INFO, already percent-decoded, so the Digital Link resolver could not tell
the lot "CH26-0212/" (…/10/CH26-0212%2F) from the lot "CH26-0212" with a trailing slash. This command's server adds
the request target to the environ as RAW_URI, gunicorn's name for it. It wraps whitenoise's runserver (listed after
`socialbiz` in INSTALLED_APPS), so static files are still left to whitenoise. The browser tests' live server uses
RawUriThreadedWSGIServer for the same reason.
"""

from __future__ import annotations

from typing import Any

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler, WSGIServer
from whitenoise.runserver_nostatic.management.commands.runserver import Command as WhitenoiseRunserverCommand


def with_raw_uri(handler_class: type[WSGIRequestHandler]) -> type[WSGIRequestHandler]:
    """The request handler class, extended to put the request target, not decoded, into the environ as RAW_URI."""

    class RawUriRequestHandler(handler_class):  # type: ignore[misc,valid-type]
        def get_environ(self) -> dict[str, Any]:
            environ = super().get_environ()
            environ["RAW_URI"] = self.path  # the target of the request line, exactly as sent
            return environ

    return RawUriRequestHandler


class RawUriServerMixin:
    """A Django development server whose request handler (whichever it is given) sets RAW_URI."""

    def __init__(self, server_address: Any, handler_class: type[WSGIRequestHandler], *args: Any, **kwargs: Any):
        super().__init__(server_address, with_raw_uri(handler_class), *args, **kwargs)  # type: ignore[call-arg]


class RawUriWSGIServer(RawUriServerMixin, WSGIServer):
    pass


class RawUriThreadedWSGIServer(RawUriServerMixin, ThreadedWSGIServer):
    pass


class Command(WhitenoiseRunserverCommand):
    server_cls = RawUriWSGIServer
