"""What the reviews admins share: another supplier's row is a 404, and texts people wrote shown as they wrote them
(escaped, line breaks kept, in their own direction)."""

from typing import Any

from django.http import Http404, HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.dashboard import ScopedAdmin


class ReviewsScoped(ScopedAdmin):
    """A ScopedAdmin whose pages answer 404 for a row the person may not see, where the admin would redirect to its
    home: a URL edited by hand learns nothing."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404(f"No {self.opts.verbose_name} {object_id} here.")
        return found


def written(text: str) -> SafeString:
    """Someone's text for a dashboard page: escaped, its line breaks kept, in the direction it was written."""
    return format_html('<div dir="auto" class="written">{}</div>', linebreaksbr(text, autoescape=True))


def stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating) + f" ({rating} of 5)"
