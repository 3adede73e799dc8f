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


# ------------------------------------------------------------------------------------------ your own points
def _own_points(n: int, seed: int, header: str = "time,signal") -> str:
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 1, n))
    y = np.sin(2 * np.pi * x) + 0.3 * rng.standard_normal(n)
    return header + "\n" + "\n".join(f"{20 * a:.4f},{b:.4f}" for a, b in zip(x, y, strict=True))


def _wait_metric(page, label: str, value: str) -> None:
    page.wait_for_function("([l, v]) => [...document.querySelectorAll(\"[data-testid='stMetric']\")]"
                           ".some(e => e.innerText.includes(l) && e.innerText.includes(v))", arg=[label, value],
                           timeout=90_000)


def test_pasted_points_show_the_fit_and_the_cv_minimum(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "bias-variance", "source=Your+points")
    _assert_no_page_not_found(page)
    assert page.get_by_text("exact bias²/variance split is impossible").count() >= 1
    area = page.locator("[data-testid='stTextArea'] textarea").first
    area.fill(_own_points(40, 0))
    area.press("Control+Enter")
    wait_idle(page)
    _wait_metric(page, "Points n", "40")
    assert page.get_by_text("the lowest error").count() >= 1
    charts = page.locator("[data-testid='stPlotlyChart']")
    assert charts.count() == 4  # fit with bootstrap band, CV surface, two CV curves
    assert page.locator("[data-testid='stPlotlyChart']").filter(has_text="CV error over spread and λ").count() == 1
    assert "own_text" not in page.url and "signal" not in page.url  # the data never go into the link
    screenshot(page, "bias-variance-your-points")
    page.get_by_role("button", name="Use the CV minimum").click()
    wait_idle(page)
    page.get_by_text("Your setting is that minimum").first.wait_for(timeout=60_000)
    assert "own_s=" in page.url or "own_lam=" in page.url  # the knobs (not the data) follow the URL
    assert_no_exception(page)
    screenshot(page, "bias-variance-your-points-cv-minimum")


def test_uploaded_csv_and_a_bad_one(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "bias-variance", "source=Your+points")
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="upload a CSV")
    data = _own_points(30, 1, header="a;b").replace(",", ";").encode()
    uploader.locator("input[type='file']").set_input_files({"name": "mine.csv", "mimeType": "text/csv", "buffer": data})
    page.wait_for_timeout(500)
    wait_idle(page)
    _wait_metric(page, "Points n", "30")
    assert page.get_by_text("separated by semicolons").count() >= 1
    screenshot(page, "bias-variance-your-points-upload")
    uploader.locator("input[type='file']").set_input_files(
        {"name": "notes.csv", "mimeType": "text/csv", "buffer": b"time,signal\n1,2\n2,3\n3,oops\n4,5\n5,6\n"})
    page.wait_for_timeout(500)
    wait_idle(page)
    page.get_by_text("is not a number").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stMetric']").count() == 0
    assert_no_exception(page)


def test_your_points_on_a_phone(app_server, _browser):
    """390 × 844: the own-points charts keep a plot area of >= 300 px and nothing scrolls sideways (issue 13)."""
    from tests.e2e.test_screens import _PLOT_AREAS

    ctx = _browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        open_page(page, app_server, "bias-variance", "source=Your+points")
        area = page.locator("[data-testid='stTextArea'] textarea").first
        area.fill(_own_points(25, 3))
        area.press("Control+Enter")
        wait_idle(page)
        _wait_metric(page, "Points n", "25")
        page.wait_for_timeout(800)
        areas = page.evaluate(_PLOT_AREAS)
        assert len(areas) == 4
        narrow = [p for p in areas for a in p["areas"] if a < 300]
        assert not narrow, f"plot areas under 300 px: {narrow}"
        sideways = page.evaluate("() => Math.max(document.scrollingElement.scrollWidth - window.innerWidth, "
                                 "...[...document.querySelectorAll(\"[data-testid='stMain']\")]"
                                 ".map(e => e.scrollWidth - e.clientWidth))")
        assert sideways <= 2
        assert_no_exception(page)
        screenshot(page, "bias-variance-your-points-phone")
    finally:
        ctx.close()
