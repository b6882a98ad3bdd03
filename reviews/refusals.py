from typing import Any

from django.core.exceptions import ValidationError


class ReviewRefused(ValidationError):
    """What the rules of reviews refuse, with a code (the API's error code: `not_found` is a 404,
    `permission_denied` a 403, `wrong_state` and `already_reviewed` a 409, `rate_limited` a 429); nothing was
    changed."""

    def __init__(self, message: str | list[str] | dict[str, Any], *, code: str, retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.code = code
        self.retry_after = retry_after  # rate_limited: seconds until the limit lets one more through
