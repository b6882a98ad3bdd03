"""Idempotency-Key for API writes: a repeat with the same key and body gets the first response, once done.

The key's row is inserted in the same transaction as the work it guards. A concurrent repeat blocks on the unique
index until the first commits, then finds the stored response; if the work fails (an error response or an
exception), the transaction rolls back and the key is free again, so a corrected retry can use it. Keys are scoped
to the authenticated user and forgotten after IDEMPOTENCY_KEY_TTL_HOURS.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.errors import APIError
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the IETF draft's examples use


class _Failed(Exception):
    """Carries an error response out of the transaction, so that nothing it did is kept."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent_call(request: Request, work: Callable[[], Response], *, required: bool) -> Response:
    """Run `work` at most once per (user, Idempotency-Key); repeats replay the stored response."""
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise APIError(
                status_code=400, code="idempotency_key_required", message=f"This request needs an {HEADER} header."
            )
        return work()
    if not KEY_PATTERN.match(key):
        raise APIError(
            status_code=400,
            code="idempotency_key_invalid",
            message=f"An {HEADER} is 1 to 255 visible ASCII characters, without spaces.",
        )
    if not request.user.is_authenticated:
        raise exceptions.NotAuthenticated("Idempotency keys belong to a user: authenticate first.")
    user = cast(Any, request.user)  # authenticated: the AUTH_USER_MODEL
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=user, key=key, fingerprint=fingerprint, response_status=0
                    )
            except IntegrityError:
                record = None  # the key is taken: a repeat, or a concurrent twin that has now committed
            if record is not None:
                response = work()
                if response.status_code >= 400:
                    raise _Failed(response)
                record.response_status = response.status_code
                record.response_body = json.dumps(response.data, cls=DjangoJSONEncoder)
                record.save(update_fields=["response_status", "response_body"])
                return response
    except _Failed as failed:
        return failed.response
    earlier = IdempotencyKey.objects.filter(user=user, key=key).first()
    if earlier is None:  # the twin rolled back between our insert and this read: it did nothing; neither do we
        raise APIError(
            status_code=409, code="idempotency_conflict", message="A request with this key was running; retry."
        )
    if earlier.fingerprint != fingerprint:
        raise APIError(
            status_code=422,
            code="idempotency_key_reused",
            message=f"This {HEADER} was already used for a different request; use a new key for a new request.",
        )
    body = json.loads(earlier.response_body) if earlier.response_body else None
    return Response(body, status=earlier.response_status, headers={"Idempotent-Replayed": "true"})


def idempotency_keys_purge() -> int:
    """Forget keys older than IDEMPOTENCY_KEY_TTL_HOURS; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
