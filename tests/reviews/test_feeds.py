"""A product's Atom feed: its reviews (label, rating, lot, text or the moderators' note, the reply) and every step of
its suggestions' histories, newest first; valid RFC 4287, stable ids, `updated` moving on edits, a pinned number of
queries, and no feed for a product shoppers cannot see."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET  # noqa: S405 - our own output; defusedxml is used when installed
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews import services
from reviews.models import Decision, Review
from tests.accounts.factories import UserFactory
from tests.reviews.factories import buyer, fresh_text, review, shop, suggestion
from tests.reviews.review_urls import review_urls  # noqa: F401 - a fixture

try:  # parse what we serve as a feed reader would, without trusting it
    from defusedxml.ElementTree import fromstring
except ImportError:  # pragma: no cover - defusedxml is optional
    fromstring = ET.fromstring

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("review_urls")]

ATOM = "http://www.w3.org/2005/Atom"
NS = {"a": ATOM}
TAG_URI = re.compile(r"^tag:[a-z0-9.-]+,\d{4}:[a-z-]+:\d+$")


def feed_url(product) -> str:
    return reverse("product_feed", kwargs={"supplier_slug": product.supplier.slug, "product_slug": product.slug})


@dataclass
class Feed:
    root: ET.Element

    @property
    def entries(self) -> list[ET.Element]:
        return self.root.findall("a:entry", NS)

    def entry(self, entry_id: str) -> ET.Element:
        [found] = [e for e in self.entries if e.findtext("a:id", namespaces=NS) == entry_id]
        return found

    def summary(self, entry_id: str) -> str:
        return self.entry(entry_id).findtext("a:summary", namespaces=NS)


def fetch(client, product) -> Feed:
    response = client.get(feed_url(product))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return Feed(fromstring(response.content))


def at(monkeypatch, moment: datetime.datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


def rfc3339(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def review_id(made: Review) -> str:
    return f"tag:id.example.org,2026:review:{made.pk}"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://id.example.org"


# The document ------------------------------------------------------------------------------------------------------


def test_feed_is_atom_with_every_element_rfc_4287_requires(client, operator):
    s = shop()
    kept = review(s, buyer(), rating=2, verified=True)
    services.reply_save(author=s.owner, review_id=kept.pk, body="Thank you; we are checking the lot.")
    idea = suggestion(s)
    services.suggestion_status_set(
        actor=s.owner, suggestion_id=idea.pk, status="planned", response="Next season, in a paper wrapper."
    )
    feed = fetch(client, s.batch.product)

    root = feed.root
    assert root.tag == f"{{{ATOM}}}feed"
    assert root.findtext("a:id", namespaces=NS) == f"tag:id.example.org,2026:product:{s.batch.product_id}"
    assert s.batch.product.name in root.findtext("a:title", namespaces=NS)
    rfc3339(root.findtext("a:updated", namespaces=NS))
    assert root.findtext("a:author/a:name", namespaces=NS) == "socialbiz"
    links = {link.get("rel"): link.get("href") for link in root.findall("a:link", NS)}
    assert links["alternate"].endswith(s.batch.product.get_absolute_url())
    assert links["self"].endswith(feed_url(s.batch.product))

    assert len(feed.entries) == 3  # the review, the suggestion's opening, its planning
    ids = [entry.findtext("a:id", namespaces=NS) for entry in feed.entries]
    assert len(set(ids)) == 3
    assert all(TAG_URI.match(entry_id) for entry_id in ids), ids
    for entry in feed.entries:
        assert entry.findtext("a:title", namespaces=NS)
        rfc3339(entry.findtext("a:updated", namespaces=NS))
        rfc3339(entry.findtext("a:published", namespaces=NS))
        assert entry.findtext("a:author/a:name", namespaces=NS)
        [link] = entry.findall("a:link", NS)
        assert link.get("rel") == "alternate"
        assert link.get("href").startswith("http")
        assert entry.find("a:summary", NS).get("type") == "html"
    assert feed.entry(review_id(kept)).find("a:link", NS).get("href").endswith(kept.get_absolute_url())


def test_entries_come_newest_first(client, monkeypatch):
    s = shop()
    start = timezone.now()
    made = []
    for minutes in (0, 10, 20):
        at(monkeypatch, start + datetime.timedelta(minutes=minutes))
        made.append(review(s))
    at(monkeypatch, start + datetime.timedelta(minutes=15))
    idea = suggestion(s)
    monkeypatch.undo()
    feed = fetch(client, s.batch.product)
    ids = [entry.findtext("a:id", namespaces=NS) for entry in feed.entries]
    assert ids == [
        review_id(made[2]),
        f"tag:id.example.org,2026:suggestion-status:{idea.history.get().pk}",
        review_id(made[1]),
        review_id(made[0]),
    ]
    published = [rfc3339(entry.findtext("a:published", namespaces=NS)) for entry in feed.entries]
    assert published == sorted(published, reverse=True)


# Reviews -----------------------------------------------------------------------------------------------------------


def test_review_entry_gives_its_label_rating_lot_text_and_the_reply(client):
    s = shop()
    made = review(
        s, buyer(), rating=2, verified=True, title="Bloom on the bar", body="Grey streaks on both bars.\nStill ok."
    )
    services.reply_save(author=s.owner, review_id=made.pk, body="Our cooler failed; we replace the bars.")
    feed = fetch(client, s.batch.product)
    entry = feed.entry(review_id(made))
    assert entry.findtext("a:title", namespaces=NS) == "★★☆☆☆ 2/5: Bloom on the bar"
    assert entry.findtext("a:author/a:name", namespaces=NS) == made.author.public_name
    summary = feed.summary(review_id(made))
    assert "<strong>Verified purchase</strong> · 2 out of 5 stars · lot " + s.batch.lot in summary
    assert "Grey streaks on both bars.<br>Still ok." in summary
    assert f"<strong>Reply from {s.supplier.legal_name}</strong>" in summary
    assert "Our cooler failed; we replace the bars." in summary
    assert {c.get("term") for c in entry.findall("a:category", NS)} == {"review", "verified_purchase", "published"}


def test_unverified_review_says_so(client):
    s = shop()
    made = review(s, rating=5)
    assert "<strong>Not verified</strong> · 5 out of 5 stars" in fetch(client, s.batch.product).summary(review_id(made))


def test_held_review_is_a_note_without_its_title_or_text(client):
    s = shop()
    made = review(s, title="Secret title", body="Words that someone reported as harmful.")
    services.flag_create(flagger=UserFactory(), review_id=made.pk, reason="harmful", note="Threatens the farmer.")
    feed = fetch(client, s.batch.product)
    entry = feed.entry(review_id(made))
    text = ET.tostring(entry, encoding="unicode")
    assert "Secret title" not in text
    assert "reported as harmful" not in text
    assert "Threatens" not in text
    assert "is hidden while moderators check it" in entry.findtext("a:title", namespaces=NS)
    assert "Hidden while the network's moderators check a report" in feed.summary(review_id(made))


def test_removed_review_is_the_moderators_note_with_their_reason(client, operator):
    s = shop()
    made = review(s, title="Call 0244 123 456", body="Ring Kofi at 0244 123 456 for cheaper bars.")
    services.review_decide(
        moderator=operator.user, review_id=made.pk, outcome="remove", reason="It gives a private phone number."
    )
    feed = fetch(client, s.batch.product)
    text = ET.tostring(feed.entry(review_id(made)), encoding="unicode")
    assert "0244" not in text
    assert "was removed by the moderators" in feed.entry(review_id(made)).findtext("a:title", namespaces=NS)
    summary = feed.summary(review_id(made))
    assert "its rating no longer counts" in summary
    assert "It gives a private phone number." in summary


def test_review_sent_back_for_edit_keeps_its_text_with_the_reason(client, operator):
    s = shop()
    made = review(s, body="The wrapper is plastic, not paper as the page says.")
    services.review_decide(
        moderator=operator.user, review_id=made.pk, outcome="edit", reason="Please remove the shop assistant's name."
    )
    summary = fetch(client, s.batch.product).summary(review_id(made))
    assert "The wrapper is plastic" in summary
    assert "asked its author to edit it" in summary
    assert "Please remove the shop assistant&#x27;s name." in summary


def test_kept_review_says_it_was_reported_and_kept(client, operator):
    s = shop()
    made = review(s, rating=1, body="Bitter and chalky; nothing like the photo.")
    services.flag_create(flagger=s.owner, review_id=made.pk, reason="not_genuine")
    services.review_decide(
        moderator=operator.user, review_id=made.pk, outcome=Decision.Outcome.KEEP, reason="An honest opinion."
    )
    summary = fetch(client, s.batch.product).summary(review_id(made))
    assert "Bitter and chalky" in summary
    assert "Reported and kept by the network's moderators" in summary
    assert "An honest opinion." in summary


def test_entry_id_stays_and_updated_moves_with_edits_replies_and_decisions(client, monkeypatch, operator):
    s = shop()
    start = timezone.now().replace(microsecond=0)
    at(monkeypatch, start)
    made = review(s, rating=3)

    def times() -> tuple[datetime.datetime, datetime.datetime]:
        entry = fetch(client, s.batch.product).entry(review_id(made))
        return (
            rfc3339(entry.findtext("a:published", namespaces=NS)),
            rfc3339(entry.findtext("a:updated", namespaces=NS)),
        )

    assert times() == (start, start)
    for minutes, write in [
        (5, lambda: services.review_edit(author=made.author, review_id=made.pk, rating=2, body=fresh_text())),
        (9, lambda: services.reply_save(author=s.owner, review_id=made.pk, body="We are sorry.")),
        (12, lambda: services.reply_save(author=s.owner, review_id=made.pk, body="We are sorry; refund sent.")),
        (20, lambda: services.review_decide(moderator=operator.user, review_id=made.pk, outcome="keep", reason="Ok")),
    ]:
        at(monkeypatch, start + datetime.timedelta(minutes=minutes))
        write()
        assert times() == (start, start + datetime.timedelta(minutes=minutes))
    summary = fetch(client, s.batch.product).summary(review_id(made))
    assert "2 out of 5 stars" in summary
    assert "· edited once, last on" in summary
    assert "<strong>Reply from" in summary
    assert "(edited)" in summary
    assert "refund sent" in summary


# Suggestions -------------------------------------------------------------------------------------------------------


def test_status_changes_give_the_status_the_previous_one_the_response_and_who_answered(client, operator):
    s = shop()
    s.owner.display_name = "Abena"
    s.owner.save()
    idea = suggestion(s, title="Sell a 1 kg bag of nibs", body="For bakers: the small bags cost too much.")
    services.suggestion_status_set(
        actor=s.owner, suggestion_id=idea.pk, status="under_review", response="We are pricing the bags."
    )
    services.suggestion_status_set(
        actor=operator.user, suggestion_id=idea.pk, status="declined", response="The supplier stopped the line."
    )
    feed = fetch(client, s.batch.product)
    opening, reviewed, declined = idea.history.order_by("id")

    first = feed.entry(f"tag:id.example.org,2026:suggestion-status:{opening.pk}")
    assert first.findtext("a:title", namespaces=NS) == "New suggestion: Sell a 1 kg bag of nibs"
    assert "For bakers: the small bags cost too much." in feed.summary(first.findtext("a:id", namespaces=NS))

    entry_id = f"tag:id.example.org,2026:suggestion-status:{reviewed.pk}"
    entry = feed.entry(entry_id)
    assert entry.findtext("a:title", namespaces=NS) == "“Sell a 1 kg bag of nibs” is now under review (was open)"
    assert entry.findtext("a:author/a:name", namespaces=NS) == s.supplier.legal_name
    assert f"Answered by Abena for {s.supplier.legal_name}" in feed.summary(entry_id)
    assert "We are pricing the bags." in feed.summary(entry_id)

    entry_id = f"tag:id.example.org,2026:suggestion-status:{declined.pk}"
    assert "is now declined (was under review)" in feed.entry(entry_id).findtext("a:title", namespaces=NS)
    assert feed.entry(entry_id).findtext("a:author/a:name", namespaces=NS) == "The network's operators"
    assert "for the network&#x27;s operators" in feed.summary(entry_id)


def test_merged_duplicate_says_where_its_votes_went(client):
    s = shop()
    kept, duplicate = suggestion(s, title="Paper wrappers"), suggestion(s, title="No plastic wrapper")
    for _ in range(2):
        services.suggestion_vote(voter=UserFactory(), suggestion_id=duplicate.pk)
    change = services.suggestion_status_set(
        actor=s.owner, suggestion_id=duplicate.pk, status="duplicate", response="Same idea.", duplicate_of_id=kept.pk
    )
    summary = fetch(client, s.batch.product).summary(f"tag:id.example.org,2026:suggestion-status:{change.pk}")
    assert "It duplicates" in summary
    assert "Paper wrappers" in summary
    assert "3 votes moved there" in summary
    assert kept.get_absolute_url() in summary


# Who sees it, and what it costs ------------------------------------------------------------------------------------


def test_unknown_product_has_no_feed(client):
    s = shop()
    product = s.batch.product
    url = reverse("product_feed", kwargs={"supplier_slug": product.supplier.slug, "product_slug": "no-such-thing"})
    assert client.get(url).status_code == 404


def test_unpublished_product_has_no_feed_even_for_its_owner(client):
    s = shop()
    product = s.batch.product
    review(s)
    product.published_at = None
    product.save()
    assert client.get(feed_url(product)).status_code == 404
    client.force_login(s.owner)
    assert client.get(feed_url(product)).status_code == 404


def test_another_products_reviews_are_not_in_the_feed(client):
    s, other = shop(), shop()
    mine, theirs = review(s), review(other)
    ids = {e.findtext("a:id", namespaces=NS) for e in fetch(client, s.batch.product).entries}
    assert review_id(mine) in ids
    assert review_id(theirs) not in ids


def _busy_product(reviews: int):
    s = shop()
    for n in range(reviews):
        made = review(s, buyer() if n % 3 == 0 else None, rating=n % 5 + 1, verified=n % 3 == 0)
        if n % 2:
            services.reply_save(author=s.owner, review_id=made.pk, body=f"Thank you for review {n}.")
    for _ in range(3):
        idea = suggestion(s)
        services.suggestion_status_set(actor=s.owner, suggestion_id=idea.pk, status="planned", response="Yes.")
    return s


@pytest.mark.parametrize("reviews", [3, 30])
def test_feed_costs_four_queries_however_many_reviews(client, django_assert_num_queries, reviews, operator):
    s = _busy_product(reviews)
    first = Review.objects.filter(product=s.batch.product).order_by("id").first()
    services.review_decide(moderator=operator.user, review_id=first.pk, outcome="edit", reason="Name a person.")
    # the product; the reviews with their authors, batches and replies; their decisions; the status changes
    with django_assert_num_queries(4):
        response = client.get(feed_url(s.batch.product))
    assert response.status_code == 200
    assert len(fromstring(response.content).findall("a:entry", NS)) == reviews + 6


def test_feed_holds_the_newest_fifty_of_each(client):
    s = shop()
    for _ in range(52):
        review(s)
    entries = fetch(client, s.batch.product).entries
    assert len(entries) == 50
    newest = Review.objects.filter(product=s.batch.product).order_by("-created_at", "-id")[:50]
    assert [e.findtext("a:id", namespaces=NS) for e in entries] == [review_id(r) for r in newest]


def test_product_page_links_to_its_feed(client):
    s = shop()
    product = s.batch.product
    html = client.get(product.get_absolute_url()).content.decode()
    link = re.search(r'<link rel="alternate" type="application/atom\+xml" title="([^"]+)" href="([^"]+)">', html)
    assert link, "no feed link in the product page's head"
    assert link.group(2) == feed_url(product)
    assert client.get(link.group(2)).status_code == 200
    assert html.index(link.group(0)) < html.index("</head>")


def test_suggestions_of_other_products_stay_out(client):
    s = shop()
    other = shop()
    theirs = suggestion(other)
    ids = {e.findtext("a:id", namespaces=NS) for e in fetch(client, s.batch.product).entries}
    assert f"tag:id.example.org,2026:suggestion-status:{theirs.history.get().pk}" not in ids
