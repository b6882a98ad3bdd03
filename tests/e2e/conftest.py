"""Browser tests: Debian's chromium driven by Playwright (never a downloaded browser), at a phone-sized viewport."""

import shutil
from pathlib import Path

import pytest
from django.test.testcases import LiveServerThread

from socialbiz.management.commands.runserver import RawUriThreadedWSGIServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "e2e"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session", autouse=True)
def _live_server_keeps_the_raw_path():
    """The live server hands over the request path as sent (RAW_URI), as gunicorn and the project's runserver do:
    the resolver refuses to guess where a decoded path may have held a %2F."""
    original = LiveServerThread.server_class
    LiveServerThread.server_class = RawUriThreadedWSGIServer
    yield
    LiveServerThread.server_class = original


@pytest.fixture
def phone_page():
    """A page in a phone-sized headless chromium. Fixtures that write to the database must come before it in a
    test's arguments: Playwright runs an event loop, and the ORM refuses to run inside one."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        yield context.new_page()
        browser.close()
