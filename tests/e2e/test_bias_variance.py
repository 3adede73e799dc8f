"""The bias–variance page in a browser: moving the spread slider changes the curves, the numbers and the URL."""

from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_idle


def _assert_no_page_not_found(page) -> None:
    """A url_path that differs from its file stem made Streamlit show a spurious "Page not found" dialog on the
    first visit of a fresh server; page files are named after their url_path (checked in the page tests)."""
    assert page.get_by_role("dialog").filter(has_text="Page not found").count() == 0


def _metric(page, label: str) -> float:
    tile = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return float(tile.locator("[data-testid='stMetricValue']").inner_text().strip())


def test_spread_slider_moves_the_curves_and_the_url(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "bias-variance")
    _assert_no_page_not_found(page)
    bias, var = _metric(page, "Bias² (exact)"), _metric(page, "Variance (exact)")
    assert bias > var  # default spread 5: the lecture's high-bias picture
    screenshot(page, "bias-variance-spread5")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    before_chart = chart.inner_html()
    slider = page.locator("[data-testid='stSlider']").filter(has_text="RBF spread").get_by_role("slider")
    slider.focus()
    for _ in range(10):  # 5 -> 3 -> 2 -> 1.5 -> 1 -> 0.7 -> 0.5 -> 0.3 -> 0.2 -> 0.15 -> 0.1
        slider.press("ArrowLeft")
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('spread=0.1')", timeout=30_000)
    assert "spread=0.1" in page.url
    page.wait_for_function("(b) => { const t = [...document.querySelectorAll(\"[data-testid='stMetric']\")]"
                           ".find(e => e.innerText.includes('Bias² (exact)'));"
                           " return t && !t.innerText.includes(b); }", arg=f"{bias:.4f}", timeout=30_000)
    assert _metric(page, "Variance (exact)") > _metric(page, "Bias² (exact)")  # the high-variance picture
    assert chart.inner_html() != before_chart, "the fitted curves did not change"
    assert_no_exception(page)
    screenshot(page, "bias-variance-spread0.1")


def test_deep_link_and_presentation_mode(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "bias-variance", "spread=0.1&lam=0&centres=Grid&p=60&present=1")
    _assert_no_page_not_found(page)
    assert page.get_by_text("Ill-conditioned system").count() >= 1
    assert _metric(page, "Variance (exact)") > 0
    assert_no_exception(page)
    screenshot(page, "bias-variance-illcond-present")
