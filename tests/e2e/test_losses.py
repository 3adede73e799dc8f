"""The losses page in a browser: the lecture's numbers, a slider that moves the chart, and the URL that follows."""

from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_idle


def _metric(page, label: str) -> str:
    tile = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return tile.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_margin_slider_changes_the_loss_and_the_url(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "losses")
    assert _metric(page, "Mean hinge loss") == "5.27"
    screenshot(page, "losses-before")
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Margin").get_by_role("slider")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    before_chart = chart.inner_html()
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")  # +0.5 in steps of 0.1
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('margin=')", timeout=30_000)
    assert "margin=1.5" in page.url
    assert _metric(page, "Mean hinge loss") != "5.27"
    assert chart.inner_html() != before_chart, "the hinge-terms chart did not change"
    assert_no_exception(page)
    screenshot(page, "losses-after")


def test_deep_link_reproduces_the_state(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "losses", "table=Zero+loss&margin=1")
    assert _metric(page, "Mean hinge loss") == "0.00"
    open_page(page, app_server, "losses", "margin=banana")
    assert page.get_by_text("Some settings in the link were not used").count() == 1
    assert_no_exception(page)
