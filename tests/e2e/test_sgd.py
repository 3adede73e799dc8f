"""The SGD page in a browser: it loads, a slider reruns the experiment, the URL follows, no exception.

Before the page is registered in ``pages/_ui/registry.py`` run with
``REGOPT_EXTRA_PAGES="pages/sgd.py:sgd" python -m pytest tests/e2e/test_sgd.py``.
"""

from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_idle


def _metric(page, label: str) -> str:
    tile = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return tile.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_epochs_slider_reruns_the_runs_and_the_url_follows(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "sgd")
    assert_no_exception(page)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 6
    assert _metric(page, "Best B at 5 epochs")
    screenshot(page, "sgd-default")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    before = chart.inner_html()
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Epochs").get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")  # 5 -> 6 epochs
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('epochs=6')", timeout=60_000)
    assert _metric(page, "Best B at 6 epochs")
    assert chart.inner_html() != before, "the loss chart did not change"
    assert_no_exception(page)


def test_fragment_slider_and_deep_link(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "sgd", "batches=1&batches=full&lr=2&epochs=1")
    assert page.get_by_text("diverged at step", exact=False).count() >= 1
    assert_no_exception(page)
    screenshot(page, "sgd-diverged")
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Updates for the equal-updates").get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")  # 200 -> 210 updates, a fragment rerun
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('steps=210')", timeout=60_000)
    assert _metric(page, "Best B at 210 updates")
    assert_no_exception(page)
    open_page(page, app_server, "sgd", "present=1")
    assert_no_exception(page)
    screenshot(page, "sgd-present", full_page=False)
