"""What every write of reviews checks first: who is asking, and that the text they typed is fit to keep."""

from typing import Any

from core.text import clean_text
from reviews.refusals import ReviewRefused


def require_person(user: Any) -> None:
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        raise ReviewRefused("Sign in first.", code="permission_denied")


def text_field(
    errors: dict[str, str], name: str, value: Any, *, label: str, limit: int, required: bool = True, line: bool = False
) -> str:
    """`value` cleaned (core/text.py); an error under `name` when it is not text, is empty or is too long."""
    if not isinstance(value, str):
        errors[name] = f"{label} must be text."
        return ""
    text = clean_text(value, multiline=not line)
    if required and not text:
        errors[name] = f"{label} cannot be empty."
    elif len(text) > limit:
        errors[name] = f"{label} is {len(text)} characters long; the most is {limit}."
    return text


def rating_field(errors: dict[str, str], value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        errors["rating"] = "A rating is a whole number of stars from 1 to 5."
        return 0
    return value


def refuse_errors(errors: dict[str, str]) -> None:
    if errors:
        raise ReviewRefused(errors, code="invalid")
