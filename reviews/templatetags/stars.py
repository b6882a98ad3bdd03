"""Stars drawn as text: `{{ review.rating|stars }}` is "★★★★☆" (shown with aria-hidden beside the words that say the
same, "4 of 5 stars", for screen readers)."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def stars(rating: Any) -> str:
    try:
        filled = max(0, min(int(rating), 5))
    except (TypeError, ValueError):
        return ""
    return "★" * filled + "☆" * (5 - filled)
