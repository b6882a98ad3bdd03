"""Every public page passes axe-core with no serious or critical violation, on a phone.

axe-core is the npm package in package.json (`make test` installs it with `npm ci`); it is injected into Debian's
chromium driven by Playwright against the live server, with the demo network behind the shop's pages. Each page is
checked as a person meets it: signed in where it needs it, forms with their errors shown. A screenshot of each page
and axe's findings of every impact are saved under test-output/e2e/ as a11y-<page>.png and a11y-<page>.json.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page

from products import demo as catalog_demo
from products.models import Batch, Product, Supplier
from provenance import demo as chains_demo
from provenance.lineage import batch_lineage
from tests.e2e.conftest import CHROMIUM, OUTPUT
from tests.products.factories import SupplierMemberFactory

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")
# axe's defaults, plus WCAG 2.2's minimum target size (AA), which axe leaves off by default but which a phone is
# where it matters. "incomplete" is what axe could not decide (saved for a person to look at, never failing).
AXE_OPTIONS = {"resultTypes": ["violations", "incomplete"], "rules": {"target-size": {"enabled": True}}}
EMAIL = "owner@a11y.example"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(
        not AXE.exists(),
        reason="axe-core is not installed: `make test` installs it with npm ci (needs npm: apt-get install npm)",
    ),
]


@dataclass(frozen=True)
class Site:
    """What the page under test needs, made before the browser starts (the ORM may not run in its event loop)."""

    session_key: str
    reset_link: str
    product: str = ""
    suspended_product: str = ""
    batch: str = ""


def seed_demo() -> dict[str, str]:
    """The demo network; the paths of the product with the most declarations, the batch with the longest chain (it
    has a map too), and a product whose supplier is suspended (its page carries the banner)."""
    catalog_demo.seed()
    chains_demo.seed()
    public = Product.objects.public().select_related("supplier")
    product = max(public, key=lambda product: product.declarations.count())
    batches = Batch.objects.filter(product__in=public, product__gtin__isnull=False).select_related("product")
    batch = max(batches, key=lambda batch: len(batch_lineage(batch).hops))
    suspended = public.exclude(supplier__in=[product.supplier, batch.product.supplier]).first()
    Supplier.objects.filter(pk=suspended.supplier_id).update(
        status=Supplier.Status.SUSPENDED, status_reason="An audit found unpaid wages.", status_changed_at=timezone.now()
    )
    return {
        "product": product.get_absolute_url(),
        "suspended_product": suspended.get_absolute_url(),
        "batch": reverse("storefront:batch", args=[batch.pk]),
    }


@pytest.fixture
def site(visit, transactional_db, live_server, settings) -> Site:
    settings.RESOLVER_ROOT = live_server.url
    paths = seed_demo() if visit.demo else {}
    # A supplier's owner, so that the header shows every link it has.
    user = SupplierMemberFactory(user__email=EMAIL).user
    client = Client()
    client.force_login(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return Site(
        session_key=client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        reset_link=reverse("accounts:password_reset_confirm", args=[uid, default_token_generator.make_token(user)]),
        **paths,
    )


def has_declarations(page: Page, url: str) -> None:
    assert page.locator(".risks .declaration").count() > 1
    assert page.locator(".benefits .declaration").count() > 1


def has_banner(page: Page, url: str) -> None:
    assert "suspended" in page.locator(".banner.suspended").inner_text()


def has_chain_and_map(page: Page, url: str) -> None:
    assert page.locator("svg.chain g.hop").count() > 10
    assert page.locator("svg.origin-map").count() == 1
    assert page.locator(".certificate").count() > 0


def fail_log_in(page: Page, url: str) -> None:
    page.goto(url + reverse("accounts:login"))
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()


def locked_out(page: Page, url: str) -> None:
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        fail_log_in(page, url)
    assert "Too many failed log-ins" in page.title()


def sign_up_empty(page: Page, url: str) -> None:
    page.goto(url + reverse("accounts:sign_up"))
    page.get_by_role("button", name="Create account").click()
    assert page.locator(".error").count() > 0


def reset_bad_address(page: Page, url: str) -> None:
    page.goto(url + reverse("accounts:password_reset"))
    page.get_by_label("Email").fill("not an address")
    page.get_by_role("button", name="Send the link").click()
    assert page.locator(".error").count() > 0


def reset_sent(page: Page, url: str) -> None:
    page.goto(url + reverse("accounts:password_reset"))
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_url("**" + reverse("accounts:password_reset_done"))


def new_passwords_differ(page: Page, url: str) -> None:
    page.get_by_label("New password", exact=True).fill("a-long-enough-passphrase-26")
    page.get_by_label("New password confirmation").fill("a-different-passphrase-26")
    page.get_by_role("button", name="Set new password").click()
    assert page.locator(".error").count() > 0


def wrong_old_password(page: Page, url: str) -> None:
    page.get_by_label("Old password").fill("not-the-password")
    page.get_by_role("button", name="Change password").click()
    assert page.locator(".error").count() > 0


def new_token(page: Page, url: str) -> None:
    page.get_by_role("button", name="Create a new token").click()
    assert page.locator("#api-token-key").count() == 1


@dataclass(frozen=True)
class Visit:
    name: str
    path: Callable[[Site], str | None]  # None: the steps in `then` open the page themselves
    then: Callable[[Page, str], None] | None = None
    signed_in: bool = False
    demo: bool = False  # needs the demo network (slower to make)


VISITS = [
    Visit("home", lambda site: "/", demo=True),
    Visit("product", lambda site: site.product, has_declarations, demo=True),
    Visit("product-supplier-suspended", lambda site: site.suspended_product, has_banner, demo=True),
    Visit("batch", lambda site: site.batch, has_chain_and_map, demo=True),
    Visit("batch-signed-in", lambda site: site.batch, has_chain_and_map, signed_in=True, demo=True),
    Visit("log-in", lambda site: reverse("accounts:login")),
    Visit("log-in-failed", lambda site: None, fail_log_in),
    Visit("locked-out", lambda site: None, locked_out),
    Visit("sign-up", lambda site: reverse("accounts:sign_up")),
    Visit("sign-up-errors", lambda site: None, sign_up_empty),
    Visit("password-reset", lambda site: reverse("accounts:password_reset")),
    Visit("password-reset-errors", lambda site: None, reset_bad_address),
    Visit("password-reset-sent", lambda site: None, reset_sent),
    Visit("password-reset-confirm", lambda site: site.reset_link),
    Visit("password-reset-confirm-errors", lambda site: site.reset_link, new_passwords_differ),
    Visit("password-reset-confirm-link-used", lambda site: reverse("accounts:password_reset_confirm", args=["x", "y"])),
    Visit("password-reset-done", lambda site: reverse("accounts:password_reset_complete")),
    Visit("password-change", lambda site: reverse("accounts:password_change"), signed_in=True),
    Visit(
        "password-change-errors", lambda site: reverse("accounts:password_change"), wrong_old_password, signed_in=True
    ),
    Visit("password-change-done", lambda site: reverse("accounts:password_change_done"), signed_in=True),
    Visit("api-token", lambda site: reverse("accounts:api_token"), signed_in=True),
    Visit("api-token-new", lambda site: reverse("accounts:api_token"), new_token, signed_in=True),
]


# What axe no longer checks or leaves undecided ("incomplete"): ids used twice, and ARIA references to an id that is
# not on the page (a field's help or error text that a screen reader would never read).
BROKEN_IDS = """() => {
    const ids = [...document.querySelectorAll("[id]")].map((element) => element.id);
    const twice = [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))].map((id) => `#${id} used twice`);
    const missing = [];
    for (const name of ["aria-describedby", "aria-labelledby", "aria-controls", "aria-errormessage", "for"]) {
        for (const element of document.querySelectorAll(`[${name}]`)) {
            for (const id of element.getAttribute(name).split(/\\s+/).filter(Boolean)) {
                if (!document.getElementById(id)) missing.push(`${element.tagName} ${name}="${id}": no such id`);
            }
        }
    }
    return twice.concat(missing);
}"""


# axe leaves the contrast of text inside an SVG undecided ("incomplete": it cannot tell what is behind it), so the
# diagrams' text is checked here: its fill against its halo (a stroke painted under it) or the first shape beneath its
# middle, else the page behind the drawing; 4.5:1 for all of it, as for small text.
SVG_TEXT_CONTRAST = """() => {
    const rgb = (colour) => {
        const match = colour && colour.match(/rgba?\\(([\\d.]+), ([\\d.]+), ([\\d.]+)(?:, ([\\d.]+))?\\)/);
        return match && (match[4] === undefined || Number(match[4]) > 0) ? match.slice(1, 4).map(Number) : null;
    };
    const luminance = (colour) => {
        const [r, g, b] = colour.map((c) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => {
        const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
        return (hi + 0.05) / (lo + 0.05);
    };
    const pageBehind = (element) => {
        for (let node = element; node; node = node.parentElement) {
            const colour = rgb(getComputedStyle(node).backgroundColor);
            if (colour) return colour;
        }
        return [255, 255, 255];
    };
    const failures = [];
    for (const text of document.querySelectorAll("svg text")) {
        if (!text.textContent.trim()) continue;
        const style = getComputedStyle(text);
        const fill = rgb(style.fill);
        let behind = null;
        if (style.paintOrder.startsWith("stroke") && parseFloat(style.strokeWidth) >= 2) behind = rgb(style.stroke);
        if (!behind) {
            text.scrollIntoView({block: "center"});
            const middle = text.getBoundingClientRect();
            const under = document.elementsFromPoint(middle.x + middle.width / 2, middle.y + middle.height / 2);
            const shapes = ["rect", "circle", "path", "polygon", "ellipse"];
            const shape = under.find((element) => element !== text && !text.contains(element)
                && shapes.includes(element.tagName) && rgb(getComputedStyle(element).fill));
            behind = shape ? rgb(getComputedStyle(shape).fill) : pageBehind(text.ownerSVGElement);
        }
        const contrast = ratio(fill, behind);
        const said = `"${text.textContent.trim()}": ${contrast.toFixed(2)}:1 (${fill} on ${behind})`;
        if (contrast < 4.5) failures.push(said);
    }
    return failures;
}"""


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        lines += [f"    {' '.join(node['target'])}: {node['failureSummary']!r}" for node in violation["nodes"]]
    return "\n".join(lines)


@pytest.fixture(params=VISITS, ids=[visit.name for visit in VISITS])
def visit(request) -> Visit:
    return request.param


def test_page_has_no_serious_accessibility_violation_on_a_phone(live_server, site, phone_page, visit):
    page = phone_page
    if visit.signed_in:
        cookie = {"name": django_settings.SESSION_COOKIE_NAME, "value": site.session_key, "url": live_server.url}
        page.context.add_cookies([cookie])
    path = visit.path(site)
    if path is not None:
        response = page.goto(live_server.url + path)
        assert response.ok, f"{path} answered {response.status}"
    if visit.then is not None:
        visit.then(page, live_server.url)

    page.add_script_tag(path=AXE)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    assert len(results["passes"]) > 10  # axe ran its rules on the page

    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUTPUT / f"a11y-{visit.name}.png", full_page=True)
    keys = ("id", "impact", "help", "helpUrl", "nodes")
    findings = {
        kind: [{key: rule[key] for key in keys} for rule in results[kind]] for kind in ("violations", "incomplete")
    }
    (OUTPUT / f"a11y-{visit.name}.json").write_text(json.dumps(findings, indent=2))
    failing = [violation for violation in findings["violations"] if violation["impact"] in FAILING]
    assert not failing, f"axe-core on {page.url}:\n{describe(failing)}"
    low = page.evaluate(SVG_TEXT_CONTRAST)
    assert not low, f"text in a drawing on {page.url} below 4.5:1:\n" + "\n".join(low)
    broken = page.evaluate(BROKEN_IDS)
    assert not broken, f"{page.url}:\n" + "\n".join(broken)
