"""`manage.py runserver` that hands the request path to the app as the client sent it, as gunicorn does.

Django's development server gives only PATH_INFO, already percent-decoded, so the Digital Link resolver could not tell
the lot "CH26-0212/" (…/10/CH26-0212%2F) from the lot "CH26-0212" with a trailing slash. This command's server adds
the request target to the environ as RAW_URI, gunicorn's name for it. It wraps whitenoise's runserver (listed after
`socialbiz` in INSTALLED_APPS), so static files are still left to whitenoise.
"""

from __future__ import annotations

from typing import Any

from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from whitenoise.runserver_nostatic.management.commands.runserver import Command as WhitenoiseRunserverCommand


class RawUriRequestHandler(WSGIRequestHandler):
    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["RAW_URI"] = self.path  # the request target of the request line, not decoded
        return environ


class RawUriWSGIServer(WSGIServer):
    """Django's development server with a request handler that sets RAW_URI."""

    def __init__(self, server_address: Any, handler_class: type, *args: Any, **kwargs: Any) -> None:
        # runserver passes Django's own handler class; ours extends it.
        super().__init__(server_address, RawUriRequestHandler, *args, **kwargs)


class Command(WhitenoiseRunserverCommand):
    server_cls = RawUriWSGIServer
