"""Hostile text posted through every write of reviews — script, markup that breaks out of an attribute, template
syntax, right-to-left overrides and isolates, control characters, very long words — in a review's title and body, a
reply, a flag's note, a suggestion's title and body, a status response, a moderator's reason and a display name;
then every output that shows them is checked: HTML escapes it, plain text carries the words as written, XML parses,
JSON is JSON, and none carries a control character or a bidirectional override.

The outputs are one list, OUTPUTS, each saying how to fetch its documents and whether it must show the hostile
words. An output whose route is not in this tree is skipped with the reason, so adding a line (or merging the
branch that adds its route) is all it takes to check one more.

Checked here: the Atom feed, every e-mail (plain text and HTML) and the stored copy of voters' e-mails, the product
and batch pages. Skipped until their routes exist (the other branches of issue 12): the review and suggestion pages,
the API (/api/v1/reviews/, /api/v1/suggestions/), the dashboard's changelists and change pages. The batch page is
fetched and checked for safety, but it must show the words only once its reviews section exists (`shows` below).
"""

from __future__ import annotations

import json
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - our own output
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from accounts.services import user_sign_up
from core import outbox
from core.text import BIDI_CONTROLS
from reviews import services
from reviews.models import Review, Suggestion, VoterNotice
from tests.accounts.factories import UserFactory
from tests.core.conftest import celery_eager
from tests.reviews.factories import Shop, shop
from tests.reviews.review_urls import (
    review_urls,  # noqa: F401 - a fixture
    routed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("review_urls")]

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ 7*7 }}"
TRICKS = "\u202eevil\u202c \u2066isolated\u2069 nul\x00 esc\x1b[2J bell\x07"
LONG_WORD = "Pneumonoultramicroscopic" * 40  # 960 letters, no space


def hostile(where: str, *, long: bool = False) -> str:
    """The hostile text for one field, marked with the field's name so that a failure says which is missing."""
    return f"[{where}] {SCRIPT} {BREAKOUT} {TEMPLATE} {TRICKS}" + (f"\n{LONG_WORD}" if long else "")


NAME = f"Eve {SCRIPT}\u202e\x07"  # a display name: cleaned on the way in, and by every output besides


def as_written(where: str) -> str:
    """What a reader must see of hostile(where): the words, without the controls and overrides."""
    return f"[{where}] {SCRIPT} {BREAKOUT} {TEMPLATE}"


@dataclass
class Scene:
    s: Shop
    eve: Any
    owner: Any
    operator: Any
    review: Review
    suggestion: Suggestion
    mails: list = field(default_factory=list)


@pytest.fixture
def scene(django_capture_on_commit_callbacks, operator, settings) -> Scene:
    settings.SITE_URL = "https://shop.example.org"
    outbox.broker.reset()
    s = shop()
    eve = user_sign_up(email="eve@example.org", password="a long demo password 2026", display_name=NAME)
    voter = UserFactory(email="voter@example.org")
    before = len(mail.outbox)
    with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
        made = services.review_create(
            author=eve,
            batch_id=s.batch.pk,
            rating=1,
            title=hostile("review title"),
            body=hostile("review body", long=True),
        )
    with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
        services.reply_save(author=s.owner, review_id=made.pk, body=hostile("reply", long=True))
        services.flag_create(flagger=voter, review_id=made.pk, reason="advertising", note=hostile("flag note"))
    with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
        services.review_decide(
            moderator=operator.user, review_id=made.pk, outcome="edit", reason=hostile("moderator reason")
        )
    with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
        idea = services.suggestion_create(
            author=eve,
            product_id=s.batch.product_id,
            title=hostile("suggestion title"),
            body=hostile("suggestion body", long=True),
            notify=True,
        )
    services.suggestion_vote(voter=voter, suggestion_id=idea.pk, notify=True)
    with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
        services.suggestion_status_set(
            actor=s.owner, suggestion_id=idea.pk, status="planned", response=hostile("status response", long=True)
        )
    made.refresh_from_db()
    return Scene(
        s=s, eve=eve, owner=s.owner, operator=operator.user, review=made, suggestion=idea, mails=mail.outbox[before:]
    )


# The checks, by kind of document --------------------------------------------------------------------------------------


def no_controls(document: str) -> None:
    bad = sorted(
        {
            f"U+{ord(c):04X}"
            for c in document
            if ord(c) in BIDI_CONTROLS or (unicodedata.category(c) == "Cc" and c not in "\n\t\r")
        }
    )
    assert not bad, f"control or bidirectional characters: {bad}"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.handlers: list[tuple[str, str]] = []
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]
        if tag == "img":
            self.images.append(dict(attrs))


def check_html(document: str, *, shows: bool, fields: list[str]) -> None:
    no_controls(document)
    assert SCRIPT not in document, "a raw <script> element"
    assert "<img src=x" not in document, "raw markup broke out"
    parsed = _Elements()
    parsed.feed(document)
    assert not parsed.handlers, f"event handler attributes: {parsed.handlers}"
    assert not [img for img in parsed.images if img.get("src") == "x"]
    if shows:
        escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
        for where in fields:
            assert f"[{where}] {escaped}" in document, f"{where} is not shown, escaped"
        assert TEMPLATE in document, "template syntax is shown as written, not run"


def check_text(document: str, *, shows: bool, fields: list[str]) -> None:
    no_controls(document)
    assert "&lt;" not in document, "plain text is never HTML-escaped"
    assert "&amp;" not in document, "plain text is never HTML-escaped"
    if shows:
        for where in fields:
            assert as_written(where) in document, f"{where} is not quoted as written"


def check_atom(document: str, *, shows: bool, fields: list[str]) -> None:
    no_controls(document)
    root = ET.fromstring(document)  # noqa: S314 - our own output; it must parse at all
    tags = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
    assert not tags & {"script", "img", "iframe", "object"}, tags
    assert not [a for element in root.iter() for a in element.attrib if a.startswith("on")]
    html = "".join(element.text or "" for element in root.iter() if element.tag.endswith("summary"))
    check_html(html, shows=shows, fields=fields)
    texts = "".join(element.text or "" for element in root.iter() if element.tag.endswith(("title", "name")))
    assert SCRIPT not in html
    if shows:
        # titles and names are text constructs: the words as written, which the XML escapes
        assert as_written("suggestion title") in texts
        assert "Eve <script>alert(1)</script>" in texts


def check_json(document: str, *, shows: bool, fields: list[str]) -> None:
    no_controls(document)
    data = json.loads(document)
    flat = json.dumps(data, ensure_ascii=False)
    if shows:
        for where in fields:
            assert as_written(where).replace('"', '\\"') in flat, f"{where} is not in the JSON as written"


CHECKS: dict[str, Callable[..., None]] = {
    "html": check_html,
    "text": check_text,
    "atom": check_atom,
    "json": check_json,
}


# The outputs ------------------------------------------------------------------------------------------------------


def client_for(scene: Scene, who: str) -> Client:
    client = Client()
    person = {"operator": scene.operator, "owner": scene.owner, "author": scene.eve}.get(who)
    if person is not None:
        client.force_login(person)
    return client


def page(path: Callable[[Scene], str], who: str = "visitor") -> Callable[[Scene], list[str]]:
    def fetch(scene: Scene) -> list[str]:
        response = client_for(scene, who).get(path(scene))
        assert response.status_code == 200, (path(scene), response.status_code)
        return [response.content.decode()]

    return fetch


def named(name: str, **kwargs: Callable[[Scene], Any]) -> Callable[[Scene], str]:
    return lambda scene: reverse(name, kwargs={key: value(scene) for key, value in kwargs.items()})


def unrouted(name: str) -> Callable[[], str]:
    """The reason to skip an output whose URL name is not routed in this tree ("" when it is)."""

    def missing() -> str:
        try:
            reverse(name, args=[1]) if name.endswith("_change") else reverse(name)
        except NoReverseMatch:
            return f"{name} is not routed in this tree (another branch of issue 12 adds it)"
        return ""

    return missing


def unresolved(path: str) -> Callable[[], str]:
    """The reason to skip an API output whose path is not routed in this tree: it resolves to nothing, or to the
    API's catch-all "no such endpoint" answer."""

    def missing() -> str:
        reason = f"{path} is not routed in this tree (another branch of issue 12 adds it)"
        try:
            view = resolve(path).func
        except Resolver404:
            return reason
        try:
            catch_all = resolve("/api/v1/no-such-endpoint/").func
        except Resolver404:
            catch_all = None
        return reason if view is catch_all else ""

    return missing


_NO_PAGES = "the review and suggestion pages are not routed in this tree (another branch of issue 12 adds them)"


def own_pages() -> str:
    """Checked once the project routes reviews' pages itself (not the review_urls stand-ins, which render nothing)."""
    return "" if routed() and settings.ROOT_URLCONF != "tests.reviews.review_urls" else _NO_PAGES


@dataclass(frozen=True)
class Output:
    name: str
    kind: str  # html, text, atom, json
    fetch: Callable[[Scene], list[str]]
    fields: tuple[str, ...] = ()  # the hostile fields it must show (as written or escaped, by kind)
    shows: bool = True
    missing: Callable[[], str] = lambda: ""  # why it cannot be checked in this tree ("" when it can)


REVIEW_FIELDS = ("review title", "review body", "reply", "moderator reason")
SUGGESTION_FIELDS = ("suggestion title", "suggestion body", "status response")
ALL_FIELDS = REVIEW_FIELDS + SUGGESTION_FIELDS
BATCH_PAGE_FIELDS = (*REVIEW_FIELDS, "suggestion title", "status response")


def _mail(subject_starts: str, part: str) -> Callable[[Scene], list[str]]:
    def fetch(scene: Scene) -> list[str]:
        letters = [m for m in scene.mails if m.subject.startswith(subject_starts)]
        assert letters, f"no e-mail whose subject starts {subject_starts!r}"
        for letter in letters:
            no_controls(letter.subject)
            assert "\n" not in letter.subject
        if part == "text":
            return [m.body for m in letters]
        return [body for m in letters for body, kind in m.alternatives if kind == "text/html"]

    return fetch


def _feed(scene: Scene) -> list[str]:
    product = scene.s.batch.product
    url = reverse("product_feed", kwargs={"supplier_slug": product.supplier.slug, "product_slug": product.slug})
    response = Client().get(url)
    assert response.status_code == 200
    return [response.content.decode()]


def _admin(name: str, who: str, pk: Callable[[Scene], int] | None = None) -> Output:
    path = (lambda scene: reverse(name, args=[pk(scene)])) if pk else (lambda scene: reverse(name))
    return Output(f"dashboard {name} as {who}", "html", page(path, who), shows=False, missing=unrouted(name))


OUTPUTS: list[Output] = [
    Output("Atom feed", "atom", _feed, fields=ALL_FIELDS),
    Output("e-mail to the supplier: new review (text)", "text", _mail("New review", "text"), REVIEW_FIELDS[:2]),
    Output("e-mail to the supplier: new review (HTML)", "html", _mail("New review", "html"), REVIEW_FIELDS[:2]),
    Output("e-mail to the author: decision (text)", "text", _mail("The moderators ask", "text"), ("moderator reason",)),
    Output("e-mail to the author: decision (HTML)", "html", _mail("The moderators ask", "html"), ("moderator reason",)),
    Output("e-mail to the supplier: new suggestion (text)", "text", _mail("New suggestion", "text"),
           SUGGESTION_FIELDS[:2]),
    Output("e-mail to the supplier: new suggestion (HTML)", "html", _mail("New suggestion", "html"),
           SUGGESTION_FIELDS[:2]),
    Output("e-mail to voters: status change (text)", "text", _mail("“[suggestion title]", "text"),
           ("suggestion title", "status response")),
    Output("e-mail to voters: status change (HTML)", "html", _mail("“[suggestion title]", "html"),
           ("suggestion title", "status response")),
    Output("voters' e-mails as recorded", "text", lambda scene: [n.body for n in VoterNotice.objects.all()],
           ("suggestion title", "status response")),
    # The product page shows the rating, not the reviews; the batch page shows the reviews, their replies and
    # notes, and the suggestions with their latest response.
    Output("product page", "html", page(lambda scene: scene.s.batch.product.get_absolute_url()), shows=False),
    Output("batch page", "html", page(named("storefront:batch", batch_id=lambda scene: scene.s.batch.pk)),
           BATCH_PAGE_FIELDS),
    Output("batch page, signed in as its supplier", "html",
           page(named("storefront:batch", batch_id=lambda scene: scene.s.batch.pk), "owner"), BATCH_PAGE_FIELDS),
    Output("review page", "html", page(lambda scene: scene.review.get_absolute_url()), REVIEW_FIELDS,
           missing=own_pages),
    Output("suggestion page", "html", page(lambda scene: scene.suggestion.get_absolute_url()), SUGGESTION_FIELDS,
           missing=own_pages),
    Output("API: reviews", "json", page(lambda scene: "/api/v1/reviews/"), REVIEW_FIELDS[:3],
           missing=unresolved("/api/v1/reviews/")),
    Output("API: one review", "json", page(lambda scene: f"/api/v1/reviews/{scene.review.pk}/"), REVIEW_FIELDS[:3],
           missing=unresolved("/api/v1/reviews/1/")),
    Output("API: suggestions", "json", page(lambda scene: "/api/v1/suggestions/"), SUGGESTION_FIELDS,
           missing=unresolved("/api/v1/suggestions/")),
    # The dashboard: (URL, who) pairs; each must at least be safe; set shows=True for those that show the text.
    _admin("admin:reviews_review_changelist", "operator"),
    _admin("admin:reviews_review_changelist", "owner"),
    _admin("admin:reviews_review_change", "operator", lambda scene: scene.review.pk),
    _admin("admin:reviews_review_change", "owner", lambda scene: scene.review.pk),
    _admin("admin:reviews_flag_changelist", "operator"),
    _admin("admin:reviews_suggestion_changelist", "owner"),
    _admin("admin:reviews_suggestion_change", "owner", lambda scene: scene.suggestion.pk),
    _admin("admin:index", "owner"),
    _admin("admin:index", "operator"),
]  # fmt: skip


@pytest.mark.parametrize("output", OUTPUTS, ids=lambda output: output.name)
def test_hostile_text_is_harmless_in_every_output(scene, output):
    reason = output.missing()
    if reason:
        pytest.skip(reason)
    documents = output.fetch(scene)
    assert documents, f"{output.name}: nothing to check"
    for document in documents:
        CHECKS[output.kind](document, shows=output.shows, fields=list(output.fields))


# What the writes kept ----------------------------------------------------------------------------------------------


def test_the_services_kept_the_words_and_dropped_the_controls(scene):
    review = scene.review
    assert review.title == as_written("review title") + " evil isolated nul esc[2J bell"
    assert LONG_WORD in review.body
    no_controls(review.title + review.body + review.reply.body + scene.suggestion.title + scene.suggestion.body)
    assert review.flags.get().note.startswith(as_written("flag note"))
    assert review.decisions.get().reason.startswith(as_written("moderator reason"))


def test_the_display_name_is_cleaned_on_the_way_in_and_escaped_on_the_way_out(scene):
    assert scene.eve.display_name == f"Eve {SCRIPT}"
    letter = next(m for m in scene.mails if m.subject.startswith("New review"))
    assert "Eve <script>alert(1)</script> reviewed" in letter.body
    feed = _feed(scene)[0]
    assert "\u202e" not in feed
    assert "<name>Eve &lt;script&gt;alert(1)&lt;/script&gt;</name>" in feed


def test_every_output_of_this_tree_was_checked_or_says_why_not():
    missing = {output.name: output.missing() for output in OUTPUTS}
    checked = [name for name, reason in missing.items() if not reason]
    assert {"Atom feed", "batch page", "voters' e-mails as recorded"} <= set(checked)
    assert all(reason.endswith("adds it)") or reason == _NO_PAGES for reason in missing.values() if reason)
