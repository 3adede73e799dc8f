"""The splits page in a browser: it loads, a slider reruns a panel, the URL follows, no exception.

Before the page is registered in ``pages/_ui/registry.py`` run with
``REGOPT_EXTRA_PAGES="pages/splits.py:splits" python -m pytest tests/e2e/test_splits.py``.
"""

import math

from regopt_core.splits import expected_max_normal
from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_idle


def _metric(page, label: str) -> str:
    tile = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return tile.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_models_slider_reruns_best_of_k_and_the_url_follows(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "splits")
    assert_no_exception(page)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 10
    assert float(_metric(page, "Normal approx. p + s·E[max]")) == round(0.8 + math.sqrt(0.16 / 1000) * 2.5075936, 4)
    screenshot(page, "splits-default")
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="Pick the best of").first
    chart.scroll_into_view_if_needed()
    assert "best of 100 equally good" in chart.inner_text()
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Models K").get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")  # K = 100 -> 200 (1-2-5 steps)
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('bk=200')", timeout=60_000)
    expected = 0.8 + math.sqrt(0.16 / 1000) * expected_max_normal(200)
    page.wait_for_function(
        "(v) => [...document.querySelectorAll(\"[data-testid='stMetricValue']\")].some(e => e.innerText.trim() === v)",
        arg=f"{expected:.4f}", timeout=60_000)
    chart.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stPlotlyChart']\")]"
        ".some(e => e.innerText.includes('best of 200 equally good'))", timeout=60_000)
    screenshot(page, "splits-best-of-k-200", full_page=False)
    assert_no_exception(page)


def test_deep_link_cancer_and_presentation_mode(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "splits", "data=Cancer&n=30&K=10&folds=LOO")
    assert_no_exception(page)
    assert "data=Cancer" in page.url
    screenshot(page, "splits-cancer")
    open_page(page, app_server, "splits", "present=1")
    assert_no_exception(page)
    screenshot(page, "splits-present", full_page=False)
