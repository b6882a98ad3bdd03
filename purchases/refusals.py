from typing import Any

from django.core.exceptions import ValidationError


class OrderRefused(ValidationError):
    """What the rules of purchases refuse, with a code (the API's error code; `wrong_state` is a 409, `not_found` a
    404); nothing was changed."""

    def __init__(self, message: str | list[str] | dict[str, Any], *, code: str) -> None:
        super().__init__(message, code=code)
        self.code = code
