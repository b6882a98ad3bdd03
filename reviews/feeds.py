"""The Atom feed of a product (RFC 4287, through Django's syndication framework): its reviews, with their labels,
ratings, lots and the supplier's replies, and every step of its suggestions' public histories, newest first.

A feed says what the product's pages say, no more: a held review's text and title are not in it (a note says it is
being checked), a removed review is the moderators' note with their written reason, a review the moderators asked
to be edited is shown with their reason. Entry ids are tag URIs on the site's host that name the row (never its
URL, which may move), and an entry's `updated` moves when its review is edited, replied to (or the reply edited) or
decided on. People's words are escaped once, into the entry's HTML (which the XML writer escapes again, as Atom's
`type="html"` asks); text that is not cleaned on the way in (display names, the supplier's own names) is cleaned
here, since XML 1.0 cannot carry control characters at all.

Four queries whatever the number of reviews: the product, the newest reviews with their parts, their decisions,
and the newest status changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.utils import dateformat, timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.text import clean_text
from products.models import Product
from reviews.models import Decision, Review, StatusChange
from reviews.selectors import last_decision, reply_of, reviews_of_product

FEED_SIZE = 50  # of each kind: the newest reviews and the newest status changes
TAG_YEAR = "2026"  # a tag URI's date: the year the site's host first named these rows
OPERATORS = "The network's operators"
# Our own words, with no one else's in them.
HELD_NOTE = SafeString(
    "<p><em>Hidden while the network's moderators check a report that it is harmful or illegal. Its rating still "
    "counts; its text comes back if they keep it.</em></p>"
)


def tag(kind: str, pk: int) -> str:
    """A stable id for a row: tag:<the site's host>,2026:<kind>:<id> (RFC 4151)."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"tag:{host},{TAG_YEAR}:{kind}:{pk}"


def line(text: str) -> str:
    """One line of text fit for XML and for a heading: no control or bidirectional characters, no line breaks."""
    return clean_text(text or "", multiline=False)


def person(user: Any) -> str:
    return line(user.public_name) or "Someone"


def _day(moment: datetime) -> str:
    return dateformat.format(timezone.localtime(moment), "j F Y")


def _paragraphs(text: str) -> SafeString:
    # linebreaksbr escapes its input (autoescape on) before adding <br>: people's words never become markup.
    return linebreaksbr(clean_text(text), autoescape=True)


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    link: str
    author: str
    published: datetime
    updated: datetime
    html: str
    categories: tuple[str, ...]


# Reviews ------------------------------------------------------------------------------------------------------------


def _stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating)


def _review_title(review: Review) -> str:
    if review.state == Review.State.HELD:
        return f"A review of lot {line(review.batch.lot)} is hidden while moderators check it"
    if review.state == Review.State.REMOVED:
        return f"A review of lot {line(review.batch.lot)} was removed by the moderators"
    return f"{_stars(review.rating)} {review.rating}/5: {line(review.title)}"


def _review_text(review: Review, decision: Decision | None) -> SafeString:
    if review.state == Review.State.HELD:
        return HELD_NOTE
    if review.state == Review.State.REMOVED:
        reason = decision.reason if decision else ""
        when = _day(decision.created_at) if decision else ""
        return format_html(
            "<p><em>Removed by the network's moderators on {}; its rating no longer counts.</em></p><p>Their reason: "
            '<span dir="auto">{}</span></p>',
            when,
            _paragraphs(reason),
        )
    text = format_html(
        '<p dir="auto"><strong>{}</strong></p><p dir="auto">{}</p>', line(review.title), _paragraphs(review.body)
    )
    parts = [text]
    if review.state == Review.State.EDIT_REQUESTED and decision is not None:
        parts.append(
            format_html(
                '<p><em>The network\'s moderators asked its author to edit it on {}:</em> <span dir="auto">{}</span>'
                "</p>",
                _day(decision.created_at),
                _paragraphs(decision.reason),
            )
        )
    return SafeString("".join(parts))


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _review_entry(review: Review) -> Entry:
    decision = last_decision(review)
    reply = reply_of(review)
    label = review.get_origin_display()
    facts = format_html(
        "<p><strong>{}</strong> · {} out of 5 stars · lot {} · {}{}</p>",
        label,
        review.rating,
        line(review.batch.lot),
        person(review.author),
        format_html(" · edited {}, last on {}", _times(review.revision_count - 1), _day(review.edited_at))
        if review.is_edited and review.edited_at
        else "",
    )
    parts = [facts, _review_text(review, decision)]
    moments = [review.created_at, review.edited_at]
    if decision is not None:
        moments.append(decision.created_at)
        if review.state == Review.State.PUBLISHED and decision.outcome == Decision.Outcome.KEEP:
            parts.append(
                format_html(
                    '<p><em>Reported and kept by the network\'s moderators on {}:</em> <span dir="auto">{}</span></p>',
                    _day(decision.created_at),
                    _paragraphs(decision.reason),
                )
            )
    if reply is not None and review.state != Review.State.HELD:
        moments += [reply.created_at, reply.edited_at]
        parts.append(
            format_html(
                '<p><strong>Reply from {}</strong>{}:</p><blockquote dir="auto">{}</blockquote>',
                line(reply.supplier.legal_name),
                " (edited)" if reply.is_edited else "",
                _paragraphs(reply.body),
            )
        )
    return Entry(
        id=tag("review", review.pk),
        title=_review_title(review),
        link=review.get_absolute_url(),
        author=person(review.author),
        published=review.created_at,
        updated=max(moment for moment in moments if moment is not None),
        html="".join(parts),
        categories=("review", review.origin, review.state),
    )


# Suggestions' histories ----------------------------------------------------------------------------------------------


def _answered_by(change: StatusChange) -> str:
    if change.by_supplier is not None:
        return f"{person(change.by)} for {line(change.by_supplier.legal_name)}"
    return f"{person(change.by)}, for the network's operators"


def _change_entry(change: StatusChange) -> Entry:
    suggestion = change.suggestion
    title = line(suggestion.title)
    if not change.previous:
        return Entry(
            id=tag("suggestion-status", change.pk),
            title=f"New suggestion: {title}",
            link=suggestion.get_absolute_url(),
            author=person(suggestion.author),
            published=change.created_at,
            updated=change.created_at,
            html=format_html(
                '<p><strong>Suggested by {}</strong> · open</p><p dir="auto"><strong>{}</strong></p>'
                '<p dir="auto">{}</p>',
                person(suggestion.author),
                title,
                _paragraphs(suggestion.body),
            ),
            categories=("suggestion", change.status),
        )
    status, previous = change.get_status_display(), change.get_previous_display()
    parts = [
        format_html(
            "<p>Now <strong>{}</strong> (it was {}). Answered by {}.</p>",
            status.lower(),
            previous.lower(),
            _answered_by(change),
        )
    ]
    if change.duplicate_of is not None:
        into = change.duplicate_of
        parts.append(
            format_html(
                '<p>It duplicates <a href="{}">“<span dir="auto">{}</span>”</a>: {} moved there.</p>',
                into.get_absolute_url(),
                line(into.title),
                "its vote" if change.votes_moved == 1 else f"{change.votes_moved} votes",
            )
        )
    if change.response:
        parts.append(format_html('<blockquote dir="auto">{}</blockquote>', _paragraphs(change.response)))
    return Entry(
        id=tag("suggestion-status", change.pk),
        title=f"“{title}” is now {status.lower()} (was {previous.lower()})",
        link=suggestion.get_absolute_url(),
        author=line(change.by_supplier.legal_name) if change.by_supplier else OPERATORS,
        published=change.created_at,
        updated=change.created_at,
        html="".join(parts),
        categories=("suggestion", change.status),
    )


def product_entries(product: Product) -> list[Entry]:
    """The newest of a product's reviews and of its suggestions' steps, newest first: three queries."""
    reviews = list(reviews_of_product(product.pk)[:FEED_SIZE])
    changes = list(
        StatusChange.objects.filter(suggestion__product=product)
        .select_related("suggestion__author", "by", "by_supplier", "duplicate_of")
        .order_by("-created_at", "-id")[:FEED_SIZE]
    )
    entries = [_review_entry(review) for review in reviews] + [_change_entry(change) for change in changes]
    entries.sort(key=lambda entry: entry.published, reverse=True)
    return entries[:FEED_SIZE]


@dataclass(frozen=True)
class ProductEntries:
    product: Product
    entries: list[Entry]


class ProductFeed(Feed):
    """/products/<supplier>/<product>/feed.atom"""

    feed_type = Atom1Feed
    author_name = "socialbiz"

    def get_object(self, request: HttpRequest, supplier_slug: str, product_slug: str) -> ProductEntries:
        # Only a published product has a feed: a feed reader has no session, so members see no drafts here.
        product = (
            Product.objects.public()
            .select_related("supplier")
            .filter(supplier__slug=supplier_slug, slug=product_slug)
            .first()
        )
        if product is None:
            raise Http404("No such product.")
        return ProductEntries(product, product_entries(product))

    def title(self, feed: ProductEntries) -> str:
        product = feed.product
        return f"Reviews and suggestions: {line(product.name)} by {line(product.supplier.legal_name)}"

    def subtitle(self, feed: ProductEntries) -> str:
        return (
            "Every review of every batch, with how it was collected, the supplier's reply and the moderators' "
            "decisions, and every step of the product's suggestions, newest first."
        )

    def link(self, feed: ProductEntries) -> str:
        return feed.product.get_absolute_url()

    def feed_guid(self, feed: ProductEntries) -> str:
        return tag("product", feed.product.pk)

    def author_link(self) -> str:
        return settings.SITE_URL.rstrip("/") + "/"

    def items(self, feed: ProductEntries) -> list[Entry]:
        return feed.entries

    def item_title(self, entry: Entry) -> str:
        return entry.title

    def item_description(self, entry: Entry) -> str:
        return entry.html

    def item_link(self, entry: Entry) -> str:
        return entry.link

    def item_guid(self, entry: Entry) -> str:
        return entry.id

    item_guid_is_permalink = False

    def item_author_name(self, entry: Entry) -> str:
        return entry.author

    def item_pubdate(self, entry: Entry) -> datetime:
        return entry.published

    def item_updateddate(self, entry: Entry) -> datetime:
        return entry.updated

    def item_categories(self, entry: Entry) -> tuple[str, ...]:
        return entry.categories
