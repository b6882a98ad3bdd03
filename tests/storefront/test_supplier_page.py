"""A supplier's public page: who they are, their standing said plainly, their public products with their ratings, and
their accountability figures with the formula next to each; its queries, its cache, and the links to it. And the
"How reviews work" page, read from the rules themselves."""

import contextlib
import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from products import services as catalog
from products.models import Supplier
from reviews import services
from reviews.accountability import FORMULAS
from reviews.models import Flag, Reply, Review
from tests.core.conftest import celery_eager
from tests.products.factories import BatchFactory, ProductFactory, SupplierFactory, public_product
from tests.reviews.factories import buyer, review, shop, suggestion

pytestmark = pytest.mark.django_db


def url(supplier: Supplier) -> str:
    return reverse("storefront:supplier", kwargs={"supplier_slug": supplier.slug})


def visit(client, supplier: Supplier) -> tuple[str, str]:
    response = client.get(url(supplier))
    assert response.status_code == 200
    return response.get("X-Cache", ""), response.content.decode()


def section(body: str, anchor: str) -> str:
    start = body.index(f'<section id="{anchor}"')
    return body[start : body.index("</section>", start)]


def figure(body: str, key: str) -> str:
    start = body.index(f'id="figure-{key}"')
    return re.sub(r"\s+", " ", body[start : body.index("</li>", start)])


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Writes in the block commit and their page-cache work runs (tests/storefront/test_page_cache.py)."""
    from core import pages

    @contextlib.contextmanager
    def block():
        pages._pending.__dict__.clear()
        with celery_eager(True), django_capture_on_commit_callbacks(execute=True):
            yield

    return block


# What it shows ------------------------------------------------------------------------------------------------------


def test_it_says_who_the_supplier_is_and_how_to_reach_them(client):
    supplier = SupplierFactory(
        legal_name="Kakao Kollektiv Ghana Ltd.",
        country="GH",
        gln="4012345000009",
        open_supply_hub_id="GH2026ABC",
        public_email="hello@kakao.example",
        website="https://kakao.example",
        description="<script>alert(1)</script> Farmers' cooperative.",
    )
    _, body = visit(client, supplier)
    who = section(body, "who")
    assert "Kakao Kollektiv Ghana Ltd." in who
    assert "Ghana" in who
    assert "4012345000009" in who
    assert "GH2026ABC" in who
    assert 'href="mailto:hello@kakao.example"' in who
    assert "<script>alert(1)</script>" not in body
    assert escape("<script>alert(1)</script>") in body
    assert "Status: Active" in body


@pytest.mark.parametrize("status", ["restricted", "suspended"])
def test_a_restricted_or_suspended_supplier_says_so_with_the_reason(client, status):
    supplier = SupplierFactory(
        status=status, status_reason="Left 9 reviews unanswered.", status_changed_at=timezone.now()
    )
    _, body = visit(client, supplier)
    assert f"Status: {status.capitalize()}" in body
    assert f"standing-{status}" in body
    assert "Left 9 reviews unanswered." in body


def test_it_lists_only_public_products_each_with_its_rating(client):
    s = shop()
    review(s, buyer(), rating=5, verified=True)
    review(s, rating=2)
    draft = ProductFactory(supplier=s.supplier, name="Secret recipe")
    _, body = visit(client, s.supplier)
    products = section(body, "products")
    product = s.batch.product
    assert f'href="{product.get_absolute_url()}"' in products
    assert product.name in products
    assert "<b>3.5</b> out of 5" in products
    assert "2 reviews, 1 verified purchase" in products
    assert draft.name not in products


def test_the_figures_show_values_and_their_formulas(client):
    s = shop()
    answered = review(s)
    services.reply_save(author=s.owner, review_id=answered.pk, body="Thank you for telling us.")
    late = review(s)
    Review.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(days=10))
    flagged = review(s)
    services.flag_create(flagger=s.owner, review_id=flagged.pk, reason=Flag.Reason.NOT_GENUINE)
    _, body = visit(client, s.supplier)
    in_time = figure(body, "answered_in_time")
    assert '<p class="value">50.0%</p>' in in_time  # the young unanswered one is still in time: left out
    assert (
        "Of 2 reviews and suggestions received in the last 90 days: 1 answered in time; 1 newer one still has time."
        in in_time
    )
    assert escape(FORMULAS["answered_in_time"]) in in_time
    assert '<p class="value">less than a minute</p>' in figure(body, "median_reply")
    own = figure(body, "flagged_by_supplier")
    assert '<p class="value">1</p>' in own
    assert "None decided yet." in own
    assert escape(FORMULAS["flagged_by_supplier"]) in own
    assert 'href="/how-reviews-work/"' in section(body, "accountability")


def test_a_supplier_with_nothing_to_count_shows_not_enough_data(client):
    supplier = SupplierFactory()
    _, body = visit(client, supplier)
    for key in ("answered_in_time", "median_reply", "removed_after_flags"):
        assert "Not enough data" in figure(body, key), key
    assert "It reported none in the last 90 days." in figure(body, "flagged_by_supplier")


def test_an_unknown_supplier_is_404(client):
    assert client.get(reverse("storefront:supplier", kwargs={"supplier_slug": "nobody"})).status_code == 404


def test_logged_in_people_get_the_page_rendered_for_them(shopper, own_supplier):
    response = shopper.client.get(url(own_supplier))
    assert response.status_code == 200
    assert "X-Cache" not in response
    assert "private" in response["Cache-Control"]
    assert "Log out" in response.content.decode()


# Queries ------------------------------------------------------------------------------------------------------------

# The supplier, its public products, their ratings (one query), and the accountability figures (four).
SUPPLIER_PAGE_QUERIES = 1 + 1 + 1 + 4


@pytest.mark.parametrize("products", [1, 5])
def test_the_page_takes_the_same_queries_however_many_products_and_reviews(
    client, settings, products, django_assert_num_queries
):
    settings.PAGE_CACHE_SECONDS = 0
    s = shop()
    for _ in range(products - 1):
        BatchFactory(product=public_product(supplier=s.supplier))
    for _ in range(products):
        answered = review(s)
        services.reply_save(author=s.owner, review_id=answered.pk, body="Thanks!")
        suggestion(s)
    with django_assert_num_queries(SUPPLIER_PAGE_QUERIES):
        _, body = visit(client, s.supplier)
    assert body.count('class="card"') == products


# The cache ----------------------------------------------------------------------------------------------------------


def test_the_page_is_cached_and_a_new_review_or_reply_renders_it_again(client, committed, settings):
    settings.PAGE_STALE_SECONDS = 0
    settings.PAGE_RENDER_AHEAD = False
    s = shop()
    assert [visit(client, s.supplier)[0], visit(client, s.supplier)[0]] == ["miss", "hit"]
    with committed():
        made = review(s, rating=1)
    cached, body = visit(client, s.supplier)
    assert cached == "miss"
    assert "<b>1.0</b> out of 5" in body
    with committed():
        services.reply_save(author=s.owner, review_id=made.pk, body="We are sorry; a new one is on its way.")
    cached, body = visit(client, s.supplier)
    assert cached == "miss"
    assert '<p class="value">100.0%</p>' in figure(body, "answered_in_time")
    assert Reply.objects.filter(review=made).exists()


def test_a_change_of_status_is_never_served_from_before(client, committed, settings):
    settings.PAGE_RENDER_AHEAD = False  # a stale copy would be allowed for ordinary news
    supplier = SupplierFactory()
    visit(client, supplier)
    with committed():
        supplier.status, supplier.status_reason = Supplier.Status.SUSPENDED, "Undelivered orders."
        supplier.save()
    cached, body = visit(client, supplier)
    assert cached == "miss"
    assert "Status: Suspended" in body


def test_a_renamed_or_published_product_reaches_its_suppliers_page(client, committed, settings):
    settings.PAGE_STALE_SECONDS = 0
    settings.PAGE_RENDER_AHEAD = False
    s = shop()
    visit(client, s.supplier)
    product = s.batch.product
    with committed():
        catalog.product_update(product=product, name="Dark bar 85%")
    cached, body = visit(client, s.supplier)
    assert (cached, "Dark bar 85%" in body) == ("miss", True)


# Links to it --------------------------------------------------------------------------------------------------------


def test_the_batch_and_product_pages_link_the_suppliers_name_to_its_page(client):
    s = shop()
    link = f'<a href="{url(s.supplier)}"><strong>{s.supplier.legal_name}</strong></a>'
    batch = client.get(reverse("storefront:batch", kwargs={"batch_id": s.batch.pk})).content.decode()
    product = client.get(s.batch.product.get_absolute_url()).content.decode()
    assert link in batch
    assert link in product


# How reviews work ---------------------------------------------------------------------------------------------------

HOW = reverse("storefront:how-reviews-work")


def test_how_reviews_work_reads_its_limits_from_the_settings(client, settings):
    limits = {**settings.REVIEWS_RATE_LIMITS, "review": {"user": "3/hour,7/day", "address": "11/hour"}}
    with override_settings(REVIEWS_RATE_LIMITS=limits):
        body = client.get(HOW).content.decode()
    row = re.sub(r"\s+", " ", body[body.index("Reviews (each edit counts as one)") :].split("</tr>")[0])
    assert "<td>3 an hour and 7 a day</td><td>11 an hour</td>" in row
    assert "at least 90% the same as one of your own 20 latest ones" in body


def test_how_reviews_work_says_what_the_law_asks_and_every_rule_it_discloses(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(HOW)
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    body = response.content.decode()
    for _, label in Flag.Reason.choices:
        assert escape(label) in body
    for text in FORMULAS.values():
        assert escape(text) in body
    for anchor in ("collected", "labels", "moderation", "never", "ratings", "limits", "edits", "suggestions", "law"):
        assert f'<section id="{anchor}"' in body
    assert "Directive (EU) 2019/2161" in body
    assert "Article 7(6)" in body
    assert "16 CFR Part 465" in body
    assert "never removed, hidden or pushed down for being negative" in body
    assert "Verified purchase" in body
    assert "Newest first" in body.replace("newest first", "Newest first")


def test_every_page_links_to_how_reviews_work_from_its_footer(client):
    body = client.get(reverse("storefront:home")).content.decode()
    footer = body[body.index('<footer class="site-footer">') :]
    assert f'href="{HOW}"' in footer
