"""What every write of reviews checks first: who is asking, and that the text they typed is fit to keep."""

from typing import Any, TypeVar

from django.db import models

from core.text import clean_text
from reviews.refusals import ReviewRefused

M = TypeVar("M", bound=models.Model)


def as_id(value: Any) -> int | None:
    """A row id as sent (an int, not a bool), or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def first_by_id(queryset: models.QuerySet[M], value: Any) -> M | None:
    """The row of `queryset` with this id, None when there is none or `value` is no id."""
    pk = as_id(value)
    return None if pk is None else queryset.filter(pk=pk).first()


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
