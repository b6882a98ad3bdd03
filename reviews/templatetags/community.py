"""Filters of the community's templates.

`{{ review.rating|stars }}` is "★★★★☆", shown with aria-hidden beside the words that say the same ("4 of 5 stars")
for screen readers. `{{ review.author|person }}` is the name other people see, cleaned as typed text is
(core/text.py): display names are kept as they were typed at sign-up, and a right-to-left override in one must not
turn the words after it around.
"""

from typing import Any

from django import template

from core.text import clean_text

register = template.Library()


@register.filter
def stars(rating: Any) -> str:
    try:
        filled = max(0, min(int(rating), 5))
    except (TypeError, ValueError):
        return ""
    return "★" * filled + "☆" * (5 - filled)


@register.filter
def person(user: Any) -> str:
    return clean_text(user.public_name, multiline=False) if user is not None else ""
