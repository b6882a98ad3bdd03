"""The community on the batch page (and the product page): the drawn rating, the newest reviews with their labels,
replies and moderation notes, suggestions by votes, the forms' links; its JSON-LD; its query count with few and many
reviews; the page cache showing each change at once. And every page that shows people's text escapes it."""

import html
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from reviews import services
from reviews.models import Flag
from storefront.rating import rating_drawing
from tests.accounts.factories import UserFactory
from tests.reviews.factories import buyer, fresh_text, review, shop, suggestion
from tests.storefront.test_buy_box import PAGE_WITHOUT_EVENTS_QUERIES
from tests.storefront.test_page_cache import committed  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def page_url(s) -> str:
    return reverse("storefront:batch", kwargs={"batch_id": s.batch.pk})


def section(body: str) -> str:
    start = body.index('<section id="reviews"')
    return body[start : body.index("</section>", start)]


def community(client, s) -> str:
    response = client.get(page_url(s))
    assert response.status_code == 200
    return section(response.content.decode())


def json_ld(client, s) -> dict:
    body = client.get(page_url(s)).content.decode()
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1))


def words(part: str) -> str:
    """Text as a reader sees it: tags taken out, entities read back."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", part)).split())


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_section_shows_the_rating_drawn_the_newest_reviews_with_labels_and_the_suggestions(client):
    s = shop()
    kofi = buyer(display_name="Kofi")
    low = review(s, kofi, rating=2, verified=True, title="Arrived melted", body="Soft and grey.")
    review(s, rating=5, title="Lovely", body="Dark and fruity.")
    services.reply_save(author=s.owner, review_id=low.pk, body="A warm truck; we changed carriers.")
    services.review_edit(author=kofi, review_id=low.pk, body="Soft and grey; the second bar was fine.")
    idea = suggestion(s, title="A paper wrapper")
    services.suggestion_status_set(actor=s.owner, suggestion_id=idea.pk, status="planned", response="From May.")

    part = community(client, s)

    assert '<span class="figure">3.5</span> <span class="out-of">out of 5</span>' in part
    assert "From 2 ratings of every batch" in part
    assert "50 % by verified buyers" in part
    assert f"Of this lot ({s.batch.lot}): 2." in part
    assert 'role="img"' in part
    assert '<desc id="rating-desc">Of 2 ratings, averaging 3.5 out of 5 — 5 stars: 1 (50 %); 4 stars: 0 (0 %)' in part
    # Newest first: the 5-star review was written after the 2-star one.
    assert part.index("Lovely") < part.index("Arrived melted")
    assert '<span class="origin origin-verified_purchase">Verified purchase</span>' in part
    assert '<span class="origin origin-unverified">Not verified</span>' in part
    assert f"lot {s.batch.lot}" in part
    assert "2 of 5 stars" in part
    assert f'<a href="{low.get_absolute_url()}#history">edited' in part
    assert f"Reply from {s.supplier.legal_name}" in part
    assert "we changed carriers." in part
    assert "Newest first, every review with the same weight whatever its rating" in part
    assert 'href="/how-reviews-work/">How reviews work</a>' in part
    assert "A paper wrapper" in part
    assert '<span class="status-pill">Planned</span>' in part
    assert "From May." in part
    assert f'href="{idea.get_absolute_url()}#history"' in part
    assert f'href="{reverse("reviews:write", kwargs={"batch_id": s.batch.pk})}"' in part
    assert f'href="{reverse("reviews:flag", args=[low.pk])}"' in part
    assert f'href="{reverse("reviews:vote", args=[idea.pk])}"' in part


def test_the_shared_page_has_no_token_and_its_buttons_are_links_a_signed_in_visitor_votes_inline():
    s = shop()
    idea = suggestion(s)

    shared = community(Client(), s)
    own = community(logged_in(UserFactory()), s)

    assert "csrfmiddlewaretoken" not in shared
    assert "<form" not in shared
    assert f'<form method="post" action="{reverse("reviews:vote", args=[idea.pk])}"' in own
    assert "csrfmiddlewaretoken" in own
    assert f'name="next" value="{page_url(s)}"' in own


def test_a_visitor_who_voted_can_take_the_vote_back_from_the_page():
    s = shop()
    idea = suggestion(s)
    voter = UserFactory()
    services.suggestion_vote(voter=voter, suggestion_id=idea.pk)

    assert f'action="{reverse("reviews:unvote", args=[idea.pk])}"' in community(logged_in(voter), s)


def test_the_page_says_there_is_nothing_yet_and_claims_no_rating(client):
    s = shop()

    part = community(client, s)

    assert f"Nobody has rated {s.batch.product.name} yet." in html.unescape(part)
    assert "No reviews yet." in part
    assert "No suggestions yet." in part
    assert "aggregateRating" not in json_ld(client, s)


def test_held_and_removed_reviews_leave_notes_and_keep_their_text_off_the_page(client, operator):
    s = shop()
    held = review(s, title="Held title", body="Held text.")
    removed = review(s, title="Removed title", body="Removed text.")
    services.flag_create(flagger=UserFactory(), review_id=held.pk, reason=Flag.Reason.HARMFUL)
    services.review_decide(moderator=operator.user, review_id=removed.pk, outcome="remove", reason="Spam links.")
    asked = review(s, title="Asked title", body="Asked text.")
    services.review_decide(moderator=operator.user, review_id=asked.pk, outcome="edit", reason="Remove the name.")

    part = words(community(client, s))
    data = json_ld(client, s)

    for hidden in ("Held title", "Held text.", "Removed title", "Removed text."):
        assert hidden not in part
        assert hidden not in json.dumps(data)
    assert "it is hidden while the network's moderators check it" in part
    assert "Removed by the network's moderators" in part
    assert "for this reason: Spam links." in part
    assert "Asked text." in part
    assert "asked its author to edit it" in part
    assert "Remove the name." in part
    # The held one's rating still counts, the removed one's no longer.
    assert data["aggregateRating"]["reviewCount"] == 2
    assert [r["name"] for r in data["review"]] == ["Asked title"]


def test_the_json_ld_has_the_aggregate_rating_and_the_reviews_shown(client):
    s = shop()
    first = review(s, UserFactory(display_name="Ama"), rating=4, title="Good", body="Good body.")
    review(s, rating=1, title="Bad", body="Bad body.")

    data = json_ld(client, s)

    assert data["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": "2.5",
        "reviewCount": 2,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert data["review"][1] == {
        "@type": "Review",
        "author": {"@type": "Person", "name": "Ama"},
        "datePublished": first.created_at.date().isoformat(),
        "name": "Good",
        "reviewBody": "Good body.",
        "reviewRating": {"@type": "Rating", "ratingValue": 4, "bestRating": 5, "worstRating": 1},
    }
    assert data["review"][0]["name"] == "Bad"


def test_the_page_shows_the_20_newest_and_links_to_all_in_order(client):
    s = shop()
    for n in range(22):
        review(s, title=f"Number {n}.")

    part = community(client, s)

    assert part.count('<article class="review ') == 20
    assert "Number 21." in part
    assert "Number 1." not in part
    assert "All 22 reviews of" in part
    slugs = {"supplier_slug": s.supplier.slug, "product_slug": s.batch.product.slug}
    assert f'href="{reverse("reviews:product_reviews", kwargs=slugs)}"' in part


def test_the_drawing_scales_every_bar_to_the_same_whole():
    s = shop()
    for rating in (1, 1, 1, 5):
        review(s, rating=rating)
    from reviews.selectors import rating_summary

    drawing = rating_drawing(rating_summary(product_id=s.batch.product_id))

    bars = {bar.stars: bar for bar in drawing.bars}
    assert [bar.stars for bar in drawing.bars] == [5, 4, 3, 2, 1]
    assert bars[1].width == 3 * bars[5].width
    assert (bars[1].count, bars[1].percent, bars[4].width) == (3, 75, 0)


# Queries: the same with 3 reviews and 3 suggestions as with 50 and 30 (the shop's batch has no trace events; its
# supplier has a calendar: tests/storefront/test_buy_box.py counts that page, the community section included)


@pytest.mark.parametrize(("reviews", "suggestions"), [(3, 3), (50, 30)])
def test_the_page_query_count_does_not_depend_on_reviews_or_suggestions(
    client, operator, settings, django_assert_num_queries, reviews, suggestions
):
    settings.PAGE_CACHE_SECONDS = settings.PAGE_PART_CACHE_SECONDS = 0
    settings.REVIEWS_RATE_LIMITS = {}
    s = shop(quantity=100)
    made = [review(s, buyer(), rating=n % 5 + 1, verified=n % 2 == 0) for n in range(reviews)]
    for each in made[:3]:
        services.reply_save(author=s.owner, review_id=each.pk, body=fresh_text())
        services.review_decide(moderator=operator.user, review_id=each.pk, outcome="edit", reason="A reason.")
    for _ in range(suggestions):
        idea = suggestion(s)
        services.suggestion_status_set(actor=s.owner, suggestion_id=idea.pk, status="planned", response="Soon.")

    with django_assert_num_queries(PAGE_WITHOUT_EVENTS_QUERIES):
        part = community(client, s)

    assert part.count('<article class="review ') == min(reviews, 20)
    assert part.count('<li class="suggestion ') == min(suggestions, 10)


# The page cache: a change shows at once to the next anonymous visitor


def test_an_anonymous_visitor_sees_a_new_review_an_edit_a_reply_and_a_removal_at_once(client, committed, operator):  # noqa: F811
    s = shop()
    author = UserFactory()
    assert "No reviews yet." in community(client, s)  # cached now

    with committed():
        made = review(s, author, title="First words")
    assert "First words" in community(client, s)

    with committed():
        services.review_edit(author=author, review_id=made.pk, title="Second words")
    part = community(client, s)
    assert "Second words" in part
    assert "First words" not in part

    with committed():
        services.reply_save(author=s.owner, review_id=made.pk, body="Our answer.")
    assert "Our answer." in community(client, s)

    with committed():
        services.review_decide(moderator=operator.user, review_id=made.pk, outcome="remove", reason="Off topic.")
    part = community(client, s)
    assert "Second words" not in part
    assert "Off topic." in part


def test_a_vote_and_a_status_change_show_at_once(client, committed):  # noqa: F811
    s = shop()
    idea = suggestion(s)
    assert "<strong>1</strong> vote" in community(client, s)

    with committed():
        services.suggestion_vote(voter=UserFactory(), suggestion_id=idea.pk)
    assert "<strong>2</strong> votes" in community(client, s)

    with committed():
        services.suggestion_status_set(actor=s.owner, suggestion_id=idea.pk, status="started", response="Begun.")
    part = community(client, s)
    assert '<span class="status-pill">Started</span>' in part
    assert "Begun." in part


# The product page


def test_the_product_page_shows_the_rating_in_one_more_query(client, django_assert_num_queries):
    s = shop()
    review(s, rating=5)
    review(s, rating=4)
    url = s.batch.product.get_absolute_url()

    with django_assert_num_queries(5):  # product with supplier, declarations, batches, history; the rating
        body = client.get(url).content.decode()

    part = body[body.index('<section id="reviews"') :]
    assert '<span class="figure">4.5</span>' in part
    assert "From 2 ratings" in part
    assert 'role="img"' in part


# Escaping: what people type is cleaned on the way in and escaped on the way out, on every page

SCRIPT = "<script>alert('x')</script>"
HOSTILE_TITLE = f"{SCRIPT} \u202eevil\u0007 <b>bold</b>"
HOSTILE_BODY = f'<img src=x onerror="alert(1)">\n\u202eреверс\u001b[31m red\u0000 & {SCRIPT}'


def _clean_on(page: str) -> None:
    """The page's content (the header's account name is the accounts app's, and typed at sign-up)."""
    body = page[page.index('<main id="main">') :]
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "<b>bold</b>" not in body
    for char in ("\u202e", "\u0007", "\u001b", "\u0000"):
        assert char not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_hostile_text_is_cleaned_and_escaped_on_every_page(operator):
    s = shop()
    author, voter = UserFactory(display_name="<i>Eve</i>\u202e"), UserFactory()
    made = review(s, author, title=HOSTILE_TITLE, body=HOSTILE_BODY)
    services.reply_save(author=s.owner, review_id=made.pk, body=f"Reply {HOSTILE_BODY}")
    flag = services.flag_create(flagger=voter, review_id=made.pk, reason="advertising", note=f"Note {HOSTILE_BODY}")
    idea = suggestion(s, author, title=HOSTILE_TITLE, body=HOSTILE_BODY)
    services.suggestion_status_set(actor=s.owner, suggestion_id=idea.pk, status="planned", response=HOSTILE_BODY)
    slugs = {"supplier_slug": s.supplier.slug, "product_slug": s.batch.product.slug}
    pages = [
        page_url(s),
        made.get_absolute_url(),
        idea.get_absolute_url(),
        reverse("reviews:product_reviews", kwargs=slugs),
        reverse("reviews:product_suggestions", kwargs=slugs),
        reverse("reviews:write", kwargs={"batch_id": s.batch.pk}),
    ]

    for client in (Client(), logged_in(author), logged_in(s.owner)):
        for url in pages[:5]:
            body = client.get(url).content.decode()
            _clean_on(body)
            assert "&lt;i&gt;Eve&lt;/i&gt;" in body or url == pages[4]
            assert "Note &lt;img" not in body  # the flag's note is for the moderators only
    data = json_ld(Client(), s)
    for said in (data["review"][0]["name"], data["review"][0]["reviewBody"], data["review"][0]["author"]["name"]):
        for char in ("\u202e", "\u0007", "\u001b", "\u0000"):
            assert char not in said
    assert data["review"][0]["name"] == "<script>alert('x')</script> evil <b>bold</b>"  # JSON, escaped in the page
    for char in ("\u202e", "\u001b", "\u0000"):
        assert char not in flag.note
    assert flag.note.startswith('Note <img src=x onerror="alert(1)">\nреверс[31m red &')
    own = logged_in(author).get(pages[5]).content.decode()
    assert "<i>Eve</i>" not in own
