"""Reviews' own pages (`reviews:review`, `reviews:suggestion`) for tests of what links to them — the feed, the
e-mails — in a tree that does not route them yet: the `review_urls` fixture uses the project's routes when they are
there and these stand-ins only when they are not, so the same tests check the real links once they exist."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, include, path, reverse


def _page(request: HttpRequest, **kwargs: int) -> HttpResponse:
    return HttpResponse("")


stand_ins = (
    [
        path("reviews/<int:review_id>/", _page, name="review"),
        path("suggestions/<int:suggestion_id>/", _page, name="suggestion"),
    ],
    "reviews",
)

urlpatterns = [path("", include(stand_ins)), path("", include("socialbiz.urls"))]


def routed() -> bool:
    try:
        reverse("reviews:review", kwargs={"review_id": 1})
        reverse("reviews:suggestion", kwargs={"suggestion_id": 1})
    except NoReverseMatch:
        return False
    return True


@pytest.fixture
def review_urls(settings) -> bool:
    """True when the project routes reviews' pages itself; otherwise the stand-ins above are routed for the test."""
    if routed():
        return True
    settings.ROOT_URLCONF = "tests.reviews.review_urls"
    return False
