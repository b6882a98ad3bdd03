from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from socialbiz import health


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
