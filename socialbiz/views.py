from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import csrf, defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import health
from core.api import errors


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers; the cache and worker heartbeat are reported, not required."""
    database = health.database_ok()
    body = {
        "database": "ok" if database else "down",
        "cache": "ok" if health.cache_ok() else "down",
        "worker_heartbeat": health.heartbeat_last(),
    }
    return JsonResponse(body, status=200 if database else 503)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the API's JSON error shape under /api/ and /epcis/, the site's page elsewhere."""
    if errors.is_api_request(request):
        return errors.api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if errors.is_api_request(request):
        return errors.api_server_error(request)
    return defaults.server_error(request)


def login_locked_out(
    request: HttpRequest, credentials: dict | None = None, *args: object, **kwargs: object
) -> HttpResponse:
    """django-axes' answer to a paused log-in: the API's JSON 429 for API clients, the site's page for people."""
    if errors.is_api_request(request):
        return JsonResponse(
            errors.error_body(
                429,
                "login_locked_out",
                "Too many failed log-ins for this account from your address; try again later or reset the password.",
            ),
            status=429,
        )
    context = {"cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)}
    return render(request, "accounts/locked_out.html", context, status=429)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused CSRF check: JSON under the API (for session-authenticated scripts), Django's page elsewhere."""
    if errors.is_api_request(request):
        message = "CSRF check failed: send the CSRF token with session authentication, or use a token."
        return JsonResponse(errors.error_body(403, "csrf_failed", message), status=403)
    return csrf.csrf_failure(request, reason=reason)
