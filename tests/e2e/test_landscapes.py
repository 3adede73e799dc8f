"""The landscapes page in a browser: a step size just past 2/L diverges and the URL follows; the race animates
client-side; a click on the contour sets the start; switching the landscape loads stable steps; a typed f(x, y)
reruns the race (and a bad one gets a message); and the in-figure step-size slider redraws the path with no
rerun sent to the server."""

from __future__ import annotations

from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_idle


COLD = 240_000  # ms: the first visit of a just-started server also pins every page's defaults (a busy machine)


def _open(page, base_url: str, query: str = "") -> None:
    """open_page with room for a cold server on a loaded machine."""
    page.goto(f"{base_url}/landscapes" + (f"?{query}" if query else ""))
    wait_idle(page, COLD)


def _metric(page, label: str) -> str:
    tile = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return tile.locator("[data-testid='stMetricValue']").inner_text(timeout=COLD).strip()


def _alerts(page, text: str):
    """Streamlit alert boxes (warning/error) containing ``text`` (the figures' own labels are not counted)."""
    return page.locator("[data-testid='stAlert']").filter(has_text=text)


def _chart(page, key: str):
    """The plotly chart drawn with ``layout.show_figure(..., key=key)`` (Streamlit marks keyed elements)."""
    chart = page.locator(f".st-key-{key} [data-testid='stPlotlyChart']").first
    chart.scroll_into_view_if_needed()
    chart.locator(".main-svg").first.wait_for()
    return chart


def _count_reruns(page) -> list[int]:
    """Attach to the page's websockets; the returned list holds one entry per ``rerun_script`` BackMsg sent."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    sent: list[int] = []

    def on_frame(payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            msg = BackMsg()
            try:
                msg.ParseFromString(bytes(payload))
            except Exception:  # noqa: BLE001 - not a BackMsg: not a rerun
                return
            if msg.WhichOneof("type") == "rerun_script":
                sent.append(1)

    page.on("websocket", lambda ws: ws.on("framesent", on_frame))
    return sent


def test_step_size_just_past_two_over_L_diverges_and_the_url_follows(app_server, browser_page):
    page = browser_page
    _open(page, app_server)
    assert _metric(page, "GD limit 2/L") == "2"
    assert _alerts(page, "diverged at step").count() == 0
    screenshot(page, "landscapes-before")
    page.get_by_role("button", name="2.2 = 1.1 × 2/L").first.click()  # just above the limit
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('lr_gd=2.2')", timeout=30_000)
    warning = _alerts(page, "diverged at step").first
    warning.wait_for(timeout=30_000)
    assert "η = 2.2 > 2/L = 2" in warning.inner_text()
    screenshot(page, "landscapes-diverged")
    page.get_by_role("button", name="1.8 = 0.9 × 2/L").first.click()  # just below: converges again
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('lr_gd=1.8')", timeout=30_000)
    assert _alerts(page, "diverged at step").count() == 0
    assert_no_exception(page)


def test_race_animation_plays_in_the_browser(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "landscapes", "surface=Rosenbrock&opts=GD&opts=Adam")
    chart = _chart(page, "race_click")
    reruns = _count_reruns(page)
    play = chart.get_by_text("▶ Play")
    assert play.count() == 1
    label = chart.locator(".slider-group > text").first
    assert label.text_content().strip() == "step 300"
    n_lines = chart.locator(".scatterlayer .trace").count()
    play.click()
    # the animation runs client-side: the step label moves without a rerun, and no trace disappears
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-race_click .slider-group > text')]"
        ".some(t => /^step \\d+$/.test(t.textContent.trim()) && t.textContent.trim() !== 'step 300')", timeout=10_000)
    assert chart.locator(".scatterlayer .trace").count() == n_lines
    screenshot(page, "landscapes-playing", full_page=False)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-race_click .slider-group > text')]"
        ".some(t => t.textContent.trim() === 'step 300')", timeout=20_000)  # it ends on the last step
    assert reruns == []
    assert_no_exception(page)


def test_click_on_the_contour_sets_the_start_point(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "landscapes", "surface=Rosenbrock&opts=GD&opts=Adam")
    chart = _chart(page, "race_click")
    # click in the plot area: the invisible start-picker grid turns the click into a new start point
    box = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + 0.75 * box["width"], box["y"] + 0.3 * box["height"])
    page.wait_for_timeout(300)  # hover first, as a user does: plotly selects the hovered point on click
    page.mouse.down()
    page.mouse.up()
    page.wait_for_function("() => window.location.search.includes('sx=')", timeout=30_000)
    wait_idle(page)
    sx = float(page.url.split("sx=")[1].split("&")[0])
    assert 0.0 < sx < 2.0  # 3/4 of the way across the Rosenbrock window [-2, 2]
    assert_no_exception(page)
    screenshot(page, "landscapes-clicked")


def test_switching_the_landscape_loads_stable_step_sizes(app_server, browser_page):
    page = browser_page
    open_page(page, app_server, "landscapes")
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="Landscape").first
    box.click()
    page.get_by_role("option", name="Rosenbrock").click()
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('surface=Rosenbrock')", timeout=30_000)
    assert _metric(page, "GD limit 2/λ*") == "0.001997"
    assert _alerts(page, "diverged at step").count() == 0
    slider = page.locator("[data-testid='stSlider']").filter(has_text="η for Gradient descent").first
    assert "0.001" in slider.inner_text()
    assert_no_exception(page)
    screenshot(page, "landscapes-rosenbrock")


def test_typing_a_function_reruns_the_race(app_server, browser_page):
    page = browser_page
    _open(page, app_server, "surface=Custom")
    chart = _chart(page, "race_click")
    before = chart.locator(".scatterlayer .trace path.js-line").first.get_attribute("d")
    box = page.locator("[data-testid='stTextInput']").filter(has_text="f(x, y) =").first.locator("input")
    box.fill("x**2 + 10*y**2")
    box.press("Enter")
    page.wait_for_function("() => decodeURIComponent(window.location.search.replace(/\\+/g, ' '))"
                           ".includes('expr=x**2 + 10*y**2')", timeout=30_000)
    wait_idle(page)
    assert _metric(page, "L (largest curvature)") == "20"  # a typed quadratic: its global L, exactly
    assert _metric(page, "GD limit 2/L") == "0.1"
    chart = _chart(page, "race_click")
    assert chart.locator(".scatterlayer .trace path.js-line").first.get_attribute("d") != before
    assert _alerts(page, "diverged at step").count() == 0
    screenshot(page, "landscapes-custom")
    # a bad formula: a message that points at the problem, the rest of the page keeps working
    box = page.locator("[data-testid='stTextInput']").filter(has_text="f(x, y) =").first.locator("input")
    box.fill("x + z")
    box.press("Enter")
    wait_idle(page)
    alert = _alerts(page, "This formula cannot be used").first
    alert.wait_for(timeout=30_000)
    assert "unknown name `z` at column 5" in alert.inner_text().replace("\n", " ") or \
        "unknown name z at column 5" in alert.inner_text().replace("\n", " ")
    assert page.locator("[data-testid='stCode']").filter(has_text="x + z").count() >= 1
    assert_no_exception(page)
    screenshot(page, "landscapes-custom-bad")


def test_in_figure_step_size_slider_redraws_without_a_rerun(app_server, browser_page):
    page = browser_page
    reruns = _count_reruns(page)
    open_page(page, app_server, "landscapes")
    assert reruns, "the websocket counter sees the page's own first run"
    chart = _chart(page, "fig_family")
    label = chart.locator(".slider-group > text").first
    path = chart.locator(".scatterlayer .trace path.js-line")
    first_label, first_path = label.text_content(), path.last.get_attribute("d")
    assert first_label.startswith("η = ") and "1.1 × 2/L" in first_label and "diverged" in first_label
    n_before = len(reruns)
    grip = chart.locator(".slider-grip-rect").first
    rail = chart.locator(".slider-rail-rect").first.bounding_box()
    g = grip.bounding_box()
    page.mouse.move(g["x"] + g["width"] / 2, g["y"] + g["height"] / 2)
    page.mouse.down()
    page.mouse.move(rail["x"] + 0.1 * rail["width"], g["y"] + g["height"] / 2, steps=12)  # drag to ~0.6 x limit
    page.mouse.up()
    page.wait_for_function(
        "(old) => { const t = document.querySelector('.st-key-fig_family .slider-group > text');"
        " return t && t.textContent !== old; }", arg=first_label, timeout=10_000)
    page.wait_for_timeout(1500)  # a rerun, if one were sent, would have started by now
    new_label = label.text_content()
    assert "× 2/L" in new_label and "diverged" not in new_label  # below the limit: converges
    assert path.last.get_attribute("d") != first_path  # the drawn path changed
    assert len(reruns) == n_before, "dragging the in-figure slider must not rerun the script"
    assert page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").count() == 1
    assert_no_exception(page)
    screenshot(page, "landscapes-live-dragged", full_page=False)
