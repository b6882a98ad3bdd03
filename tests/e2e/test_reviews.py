"""The community, tried as new users would on a phone: a shopper who bought and received a lot reviews it (and sees the
verified label), edits it (edited, with its history); the supplier replies; another shopper reports it, suggests an
improvement; the first shopper votes for it from the batch page; the supplier plans it and the history shows it.
Debian's chromium driven by Playwright at 390×844; screenshots to test-output/e2e/ (reviews-*.png) for a person to
look at, each page checked by axe-core (when installed) and for sideways scrolling."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from reviews.models import Flag, Review, StatusChange, Suggestion
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import CHROMIUM, OUTPUT, PHONE
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS, BROKEN_IDS, FAILING, SVG_TEXT_CONTRAST, describe
from tests.reviews.factories import buyer, delivered, review, shop

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def community(transactional_db, live_server, settings) -> dict:
    """A shop whose lot Ama bought and received, with two earlier reviews by others; Kwame, who did not buy."""
    settings.RESOLVER_ROOT = live_server.url
    # Each step looks at the page right after a change: no stale copy while its new render is on its way.
    settings.PAGE_STALE_SECONDS = 0
    s = shop()
    s.owner.email = "owner@kakao.example"
    s.owner.save()
    ama = buyer(email="ama@example.org", display_name="Ama")
    delivered(s, ama)
    kwame = UserFactory(email="kwame@example.org", display_name="Kwame")
    review(s, buyer(display_name="Efua"), rating=5, verified=True, title="Rich and dark", body="Lovely snap.")
    review(s, UserFactory(display_name="Yaw"), rating=3, title="Fine", body="Tasted one at a friend's house.")
    return {"shop": s, "ama": ama, "kwame": kwame}


def shot(page, name: str, *, element: str | None = None) -> None:
    """A screenshot for a person to look at, and the checks a phone page must pass."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"reviews-{name}.png"
    if element:
        page.locator(element).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{name} scrolls sideways"
    if AXE.exists():
        page.add_script_tag(path=AXE)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        failing = [violation for violation in results["violations"] if violation["impact"] in FAILING]
        assert not failing, f"axe-core on {page.url}:\n{describe(failing)}"
        assert page.evaluate(BROKEN_IDS) == []
        assert page.evaluate(SVG_TEXT_CONTRAST) == []


def in_thread(function, *args):
    """Run ORM code away from Playwright's event loop."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(function, *args).result()


def log_in(page, email: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()


def test_review_edit_reply_flag_suggest_vote_and_answer_as_new_users_would(live_server, community, phone_page):
    page = phone_page
    s = community["shop"]
    batch_url = f"{live_server.url}/batches/{s.batch.pk}/"

    # The batch page: the rating drawn, the reviews with their labels, the rule they are ordered by.
    page.goto(batch_url)
    section = page.locator("#reviews")
    assert "4.0 out of 5" in section.inner_text()
    assert page.get_by_role("img", name="How many reviews gave each number of stars").is_visible()
    assert "Verified purchase" in section.inner_text()
    assert "Not verified" in section.inner_text()
    assert "Newest first, every review with the same weight" in section.inner_text()
    shot(page, "1-batch-section", element="#reviews")

    # Ama reviews what she received: the form says it will be verified.
    page.get_by_role("link", name=f"Review lot {s.batch.lot}").click()
    page.wait_for_url("**/accounts/login/**")
    log_in(page, "ama@example.org")
    page.wait_for_url("**/review/")
    assert "your review is labelled “Verified purchase”" in page.locator(".label-notice").inner_text()
    page.get_by_label("2 stars: poor").check()
    page.get_by_label("Title").fill("Arrived soft")
    page.get_by_label("Your review").fill("The bar had melted on the way; the taste was still good.")
    shot(page, "2-write")
    page.get_by_role("button", name="Publish the review").click()
    page.wait_for_url("**/reviews/*/")
    assert "labelled “Verified purchase”" in page.locator(".messages").inner_text()
    assert page.locator(".review-page .origin").inner_text() == "Verified purchase"
    review_url = page.url

    # She edits it: the page says edited, and both versions are in its history.
    page.locator("#edit").get_by_label("3 stars: fair").check()
    page.locator("#edit").get_by_label("Your review").fill(
        "The bar had melted on the way; the second one came cold and was very good."
    )
    page.get_by_role("button", name="Save the new version").click()
    page.wait_for_url(review_url)
    assert page.get_by_role("link", name="edited").first.is_visible()
    history = page.locator("#history")
    assert history.locator(".revision").count() == 2
    assert "the taste was still good" in history.inner_text()
    assert "the second one came cold" in history.inner_text()
    shot(page, "3-edited")
    log_out(page)

    # The supplier replies in public.
    page.goto(review_url)
    page.get_by_role("link", name="Log in").first.click()
    log_in(page, "owner@kakao.example")
    page.goto(review_url)
    assert page.locator("#edit").count() == 0
    page.locator("#reply").get_by_label("Your public reply").fill(
        "Sorry about the heat: we now ship in insulated boxes."
    )
    page.get_by_role("button", name="Publish the reply").click()
    page.wait_for_url(review_url)
    assert "insulated boxes" in page.locator("#the-reply").inner_text()
    shot(page, "4-replied")
    log_out(page)

    # Kwame, who did not buy it, reports it; it stays on the page. (The shared page may be kept by the browser for
    # a minute, Cache-Control: public, max-age=60: this browser saw it before the review, so it asks again.)
    page.goto(batch_url)
    page.reload()
    page.locator("#reviews .review", has_text="Arrived soft").get_by_role("link", name="Report it").click()
    page.wait_for_url("**/accounts/login/**")
    log_in(page, "kwame@example.org")
    page.wait_for_url("**/reviews/*/#flag")
    page.get_by_label("Not based on a genuine experience").check()
    page.get_by_label("A note for the moderators (optional)").fill("Reads like a competitor's.")
    shot(page, "5-flag-form", element="#flag")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(review_url)
    assert "stays on the page while" in page.locator(".messages").inner_text()
    assert "Arrived soft" in page.get_by_role("heading", level=1).inner_text()

    # Kwame suggests an improvement.
    page.goto(batch_url)
    page.get_by_role("link", name="Suggest an improvement").click()
    page.get_by_label("Your suggestion in a line").fill("A paper wrapper")
    page.get_by_label("What should change, and why").fill("The plastic foil cannot be recycled here.")
    page.get_by_label("E-mail me when its status changes").check()
    page.get_by_role("button", name="Publish the suggestion").click()
    page.wait_for_url("**/suggestions/*/")
    suggestion_url = page.url
    assert "1 vote" in page.locator(".suggestion-status").inner_text()
    shot(page, "6-suggested")
    log_out(page)

    # Ama votes for it from the batch page, signed in: an inline button.
    page.goto(f"{live_server.url}/accounts/login/?next=/batches/{s.batch.pk}/")
    log_in(page, "ama@example.org")
    page.wait_for_url(batch_url)
    page.locator("#reviews .suggestion", has_text="A paper wrapper").get_by_role("button", name="Vote").click()
    page.wait_for_url(batch_url)
    assert "Your vote for “A paper wrapper” is counted." in page.locator(".messages").inner_text()
    assert " ".join(page.locator("#reviews .suggestion .votes").first.inner_text().split()) == "2 votes"
    shot(page, "7-voted", element="#reviews")
    log_out(page)

    # The supplier plans it; its history shows who, when and the response.
    page.goto(f"{live_server.url}/accounts/login/?next={suggestion_url.removeprefix(live_server.url)}")
    log_in(page, "owner@kakao.example")
    page.wait_for_url(suggestion_url)
    page.get_by_label("Status", exact=True).select_option("planned")
    page.get_by_label("Public response").fill("Paper wrappers from the May batches.")
    page.get_by_role("button", name="Publish the change").click()
    page.wait_for_url(suggestion_url)
    history = page.locator("#history")
    assert "Open → Planned" in history.inner_text()
    assert s.supplier.legal_name in history.inner_text()
    assert "Paper wrappers from the May batches." in history.inner_text()
    shot(page, "8-answered")
    log_out(page)

    # What everyone sees now.
    page.goto(batch_url)
    page.reload()
    section = page.locator("#reviews")
    assert "Reply from" in section.inner_text()
    assert "Planned" in section.inner_text()
    shot(page, "9-batch-after", element="#reviews")
    page.goto(review_url)
    shot(page, "10-review-page")

    def recorded() -> tuple:
        made = Review.objects.get(title="Arrived soft")
        return (
            made.origin,
            made.revision_count,
            made.reply.body,
            Flag.objects.get(review=made).reason,
            Suggestion.objects.get().vote_count,
            StatusChange.objects.filter(status="planned").count(),
        )

    assert in_thread(recorded) == (
        "verified_purchase",
        2,
        "Sorry about the heat: we now ship in insulated boxes.",
        "not_genuine",
        2,
        1,
    )
