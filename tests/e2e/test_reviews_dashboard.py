"""Reviews in the dashboard, in a browser on a phone: the supplier's owner finds a review and a suggestion in the
home's inbox and answers both; an operator decides a reported review from the moderation queue; the supplier's
public page then shows its figures with their formulas.

Screenshots go to test-output/e2e/reviews-dashboard-*.png for a person to look at.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from products.models import SupplierMember
from reviews import services
from reviews.models import Reply, Review, StatusChange
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import CHROMIUM, OUTPUT, PHONE
from tests.products.factories import SupplierFactory, SupplierMemberFactory
from tests.reviews.factories import shop

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]

OWNER = "ama@kakao.example"
OPERATOR = "ops@network.example"


@pytest.fixture
def community(transactional_db) -> dict[str, int]:
    supplier = SupplierFactory(legal_name="Kakao Kollektiv Ghana Ltd.", slug="kakao", country="GH")
    owner = UserFactory(email=OWNER, display_name="Ama")
    SupplierMemberFactory(supplier=supplier, user=owner, role=SupplierMember.Role.OWNER)
    UserFactory(email=OPERATOR, is_staff=True, is_superuser=True)
    kakao = shop(supplier=supplier, owner=owner, quantity=40)
    low = services.review_create(
        author=UserFactory(display_name="Kofi"),
        batch_id=kakao.batch.pk,
        rating=2,
        title="Melted on arrival",
        body="The bar arrived soft and grey. <script>alert(1)</script> Tasty once cooled.",
    )
    idea = services.suggestion_create(
        author=UserFactory(display_name="Efua"),
        product_id=kakao.batch.product_id,
        title="Paper wrapper instead of foil",
        body="Foil cannot be recycled here; paper can.",
    )
    spam = services.review_create(
        author=UserFactory(display_name="Promo"),
        batch_id=kakao.batch.pk,
        rating=5,
        title="Buy cheap watches",
        body="Visit my shop for watches, best prices, call 0244 000 000.",
    )
    services.flag_create(flagger=UserFactory(), review_id=spam.pk, reason="advertising", note="An advert.")
    return {"review": low.pk, "suggestion": idea.pk, "spam": spam.pk}


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    page.screenshot(path=OUTPUT / f"reviews-dashboard-{name}.png", full_page=True)


def log_in(page, base: str, email: str) -> None:
    page.goto(base + "/dashboard/login/?next=/dashboard/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")


def in_the_database(read):
    with ThreadPoolExecutor(1) as thread:  # the ORM refuses to run in Playwright's event loop
        return thread.submit(read).result()


def test_the_supplier_answers_its_inbox_and_an_operator_decides_a_report(live_server, community, browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url, OWNER)

    inbox = page.locator("section.attention")
    assert "A 2-star review of" in inbox.inner_text()
    assert "A suggestion for" in inbox.inner_text()
    shot(page, "home-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    inbox.get_by_role("link", name="Reply: A 2-star review of").click()
    page.wait_for_url(f"**/reviews/review/{community['review']}/change/")
    assert "<script>" in page.locator(".field-text").inner_text()  # shown as text, never run
    panel = page.locator("section.reply-panel")
    panel.get_by_role("button", name="Publish the reply").click()  # empty: refused on the form
    page.wait_for_load_state()
    assert "The reply cannot be empty." in page.locator("section.reply-panel").inner_text()
    shot(page, "reply-refused-phone")
    page.get_by_label("Your public reply").fill("We are sorry. We now ship in cool boxes from March to October.")
    page.get_by_role("button", name="Publish the reply").click()
    page.wait_for_url(f"**/reviews/review/{community['review']}/change/")
    assert "is published under the review" in page.locator(".messagelist").inner_text()
    shot(page, "review-answered-phone")

    page.goto(live_server.url + "/dashboard/")
    page.locator("section.attention").get_by_role("link", name="Answer: A suggestion for").click()
    page.wait_for_url(f"**/reviews/suggestion/{community['suggestion']}/change/")
    page.get_by_label("New status").select_option("planned")
    page.get_by_label("Public response").fill("Paper wrappers from the next harvest.")
    shot(page, "suggestion-form-phone")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    assert "is now planned" in page.locator(".messagelist").inner_text()
    assert "Open → Planned" in page.locator(".field-history").inner_text()
    shot(page, "suggestion-answered-phone")
    page.goto(live_server.url + "/dashboard/")
    inbox = page.locator("section.attention").inner_text()
    assert "Melted on arrival" not in inbox  # answered: off the inbox
    assert "Paper wrapper instead of foil" not in inbox
    shot(page, "home-answered-phone")
    context.close()

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url, OPERATOR)
    page.locator("section.attention").get_by_role("link", name="Decide: Decide on a review reported").click()
    page.wait_for_url("**/reviews/flag/*/change/")
    assert "Buy cheap watches" in page.locator(".field-review_title").inner_text()
    page.get_by_label("Removed").check()
    page.get_by_label("Written reason").fill("Advertising: it promotes another shop and gives a phone number.")
    shot(page, "decision-form-phone")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/reviews/flag/")
    assert "Every open report of it is closed" in page.locator(".messagelist").inner_text()
    shot(page, "queue-empty-phone")

    page.goto(live_server.url + "/suppliers/kakao/")
    figures = page.locator("#accountability").inner_text()
    assert "How it is worked out" in figures
    shot(page, "supplier-page-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto(live_server.url + "/how-reviews-work/")
    shot(page, "how-reviews-work-phone")
    context.close()

    def stored():
        return (
            Reply.objects.filter(review_id=community["review"]).count(),
            StatusChange.objects.filter(suggestion_id=community["suggestion"], status="planned").count(),
            Review.objects.get(pk=community["spam"]).state,
            Review.objects.get(pk=community["review"]).rating,
        )

    assert in_the_database(stored) == (1, 1, Review.State.REMOVED, 2)
