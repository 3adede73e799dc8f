"""Every registered page loads in a real browser without an exception; screenshots for review."""

import pytest

from pages._ui import registry
from tests.e2e.conftest import assert_no_exception, open_page, screenshot


@pytest.mark.parametrize("spec", registry.PAGES, ids=[p.url_path for p in registry.PAGES])
def test_page_loads_in_chromium(app_server, browser_page, spec):
    path = "" if spec.default else spec.url_path
    open_page(browser_page, app_server, path)
    assert_no_exception(browser_page)
    assert browser_page.locator("h1").first.inner_text().strip(), "the page has a title"
    screenshot(browser_page, f"page-{spec.url_path}")


def test_presentation_mode_enlarges_text(app_server, browser_page):
    open_page(browser_page, app_server, "losses")
    normal = browser_page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    open_page(browser_page, app_server, "losses", "present=1")
    big = browser_page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert big > normal * 1.2, (normal, big)
    assert_no_exception(browser_page)
    screenshot(browser_page, "present-losses", full_page=False)


def test_no_request_leaves_the_server_while_every_page_loads(app_server, browser_page):
    """Offline classrooms: the app fetches nothing from any host but its own (fonts, scripts, data, telemetry)."""
    from urllib.parse import urlparse

    own = urlparse(app_server).netloc
    foreign: list[str] = []

    def guard(route):
        url = route.request.url
        netloc = urlparse(url).netloc
        if url.startswith(("data:", "blob:")) or netloc == own:
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    browser_page.route("**/*", guard)
    for spec in registry.PAGES:
        open_page(browser_page, app_server, "" if spec.default else spec.url_path)
        assert_no_exception(browser_page)
    browser_page.wait_for_timeout(1000)
    assert not foreign, f"requests to other hosts: {sorted(set(foreign))[:10]}"
