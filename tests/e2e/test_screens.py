"""Issue 13: every page on the three screens the app is for — projector, laptop and phone.

* 1920×1080 with ``?present=1``: the first plotly chart starts above 1080 − 450 px and its plot area is at
  least 900 px wide; no axis title intersects a tick label and no figure title intersects a subplot title.
* 1400×900: the same text-overlap check at the normal font size.
* 390×844: every chart's plot area is ≥ 300 px wide, the page does not scroll sideways, and the first
  section's controls are in the page (not only in the closed sidebar).

Screenshots of every page on every screen go to ``tests/e2e/screenshots/`` (untracked) for review; the
projector shot of the losses page is also the README's picture (``docs/screenshot-present.png``).
Every test is parametrized by page (or tour step), so a failure names its page.
"""

from __future__ import annotations

import pytest

import shutil

from pages._ui import registry, tour
from tests.e2e.conftest import ROOT, SHOTS, assert_no_exception, open_page, screenshot, wait_idle

LECTURE_PAGES = [p for p in registry.PAGES if p.url_path != "tour"]
CHART_PAGES = [p for p in LECTURE_PAGES if not p.default]

# Bounding boxes of the SVG text of every plotly chart on the page, grouped by role.
_TEXT_BOXES = """
() => {
  const out = [];
  document.querySelectorAll('.js-plotly-plot').forEach((plot, i) => {
    const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const grab = (sel, role) => plot.querySelectorAll(sel).forEach(el => {
      const t = (el.textContent || '').trim(); if (!t) return;
      const b = box(el); if (b[2] - b[0] < 1 || b[3] - b[1] < 1) return;
      out.push({plot: i, role, text: t.slice(0, 40), box: b});
    });
    grab('.xtick text, .ytick text', 'tick');
    grab('.xtitle, .ytitle, [class^="xtitle"], [class^="ytitle"], [class*=" xtitle"], [class*=" ytitle"]', 'axis');
    grab('.gtitle', 'title');
    grab('.annotation-text', 'annotation');
  });
  return out;
}
"""

_PLOT_AREAS = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => {
  const areas = Array.from(plot.querySelectorAll('.nsewdrag')).map(d => d.getBoundingClientRect().width);
  const r = plot.getBoundingClientRect();
  return {top: r.top + window.scrollY, width: r.width, areas};
})
"""


# Labels of log axes that are not powers of ten ("2 5 2 5" minor labels) on axes spanning a decade or more.
_MINOR_LOG_LABELS = """
() => {
  const out = [];
  document.querySelectorAll('.js-plotly-plot').forEach((plot, i) => {
    const fl = plot._fullLayout || {};
    Object.keys(fl).filter(k => /^[xy]axis\\d*$/.test(k)).forEach(k => {
      const ax = fl[k];
      if (!ax || ax.type !== 'log' || ax.tickmode === 'array' || !ax.range) return;
      if (Math.abs(ax.range[1] - ax.range[0]) < 1) return;
      (ax._vals || []).forEach(v => {
        const t = String(v.text || '').replace(/<[^>]*>/g, '').trim();
        if (t && Math.abs(v.x - Math.round(v.x)) > 1e-6) out.push(`chart ${i} ${k}: ${t}`);
      });
    });
  });
  return out;
}
"""


def _overlaps(a, b, pad: float = 1.0) -> bool:
    return not (a[2] - pad <= b[0] or b[2] - pad <= a[0] or a[3] - pad <= b[1] or b[3] - pad <= a[1])


def _collisions(boxes: list[dict]) -> list[str]:
    bad = []
    by_plot: dict[int, list[dict]] = {}
    for b in boxes:
        by_plot.setdefault(b["plot"], []).append(b)
    for items in by_plot.values():
        axes = [b for b in items if b["role"] == "axis"]
        ticks = [b for b in items if b["role"] == "tick"]
        titles = [b for b in items if b["role"] == "title"]
        subtitles = [b for b in items if b["role"] == "annotation"]
        bad += [f"axis title {a['text']!r} over tick {t['text']!r}" for a in axes for t in ticks
                if _overlaps(a["box"], t["box"])]
        bad += [f"title {a['text']!r} over {t['text']!r}" for a in titles for t in subtitles
                if _overlaps(a["box"], t["box"])]
    return bad


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


# Criteria of issue 13 that this tree does not meet yet ("<test id>": what fails, as measured). They are reported as
# expected failures with what fails, so the rest of the suite guards what is met; each must become a passing test
# (the issue is not resolved while one is listed). Empty since 2026-12-06 08:12 UTC: the ten entries of the
# 05:56-06:10 run (bias-variance, landscapes and CT tour steps when presenting; landscapes and CT on a phone) pass.
UNMET: dict[str, str] = {}


def _params(ids: list[str], values: list, prefix: str = "") -> list:
    return [pytest.param(v, id=i, marks=pytest.mark.xfail(reason=f"issue 13 not met: {UNMET[prefix + i]}", strict=False))
            if prefix + i in UNMET else pytest.param(v, id=i) for i, v in zip(ids, values, strict=True)]


def _context(browser, width: int, height: int):
    return browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)


def _assert_projector_screen(page, name: str) -> None:
    """The first chart starts on the first screen with a ≥ 900 px plot area (or a ≥ 900 px row of panels),
    and no text collides."""
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_timeout(800)
    assert_no_exception(page)
    _shot(page, name)
    plots = page.evaluate(_PLOT_AREAS)
    first = min(plots, key=lambda p: p["top"])
    assert first["top"] <= 1080 - 450, f"first chart starts at y = {first['top']:.0f} px"
    assert max(first["areas"] or [0]) >= 900 or first["width"] >= 900, f"first chart {first}"
    bad = _collisions(page.evaluate(_TEXT_BOXES))
    assert not bad, bad[:8]


@pytest.mark.parametrize("spec", CHART_PAGES, ids=[p.url_path for p in CHART_PAGES])
def test_projector_first_figure_on_the_first_screen(app_server, _browser, spec):
    ctx = _context(_browser, 1920, 1080)
    page = ctx.new_page()
    try:
        open_page(page, app_server, spec.url_path, "present=1")
        _assert_projector_screen(page, f"present-{spec.url_path}")
        if spec.url_path == "losses":  # the README's picture: presentation mode
            shutil.copyfile(SHOTS / "present-losses.png", ROOT / "docs" / "screenshot-present.png")
    finally:
        ctx.close()


@pytest.mark.parametrize("k", _params([f"step{k}" for k in range(1, len(tour.STEPS) + 1)],
                                      list(range(1, len(tour.STEPS) + 1))))
def test_projector_every_tour_step_shows_its_figure_on_the_first_screen(app_server, _browser, k):
    ctx = _context(_browser, 1920, 1080)
    page = ctx.new_page()
    try:
        open_page(page, app_server, "tour", f"step={k}")
        page.get_by_text(f"step {k} of {len(tour.STEPS)}").first.wait_for(timeout=60_000)
        _assert_projector_screen(page, f"tour-{k:02d}-{tour.step(k).page}")
    finally:
        ctx.close()


@pytest.mark.parametrize("spec", LECTURE_PAGES, ids=[p.url_path for p in LECTURE_PAGES])
def test_laptop_screenshot_and_no_text_collisions(app_server, _browser, spec):
    ctx = _context(_browser, 1400, 900)
    page = ctx.new_page()
    try:
        open_page(page, app_server, "" if spec.default else spec.url_path)
        page.wait_for_timeout(800)
        assert_no_exception(page)
        screenshot(page, f"laptop-{spec.url_path}")
        bad = _collisions(page.evaluate(_TEXT_BOXES))
        assert not bad, bad[:8]
        minor = page.evaluate(_MINOR_LOG_LABELS)
        assert not minor, f"minor-tick labels on log axes: {minor[:8]}"
    finally:
        ctx.close()


@pytest.mark.parametrize("spec", _params([p.url_path for p in LECTURE_PAGES], list(LECTURE_PAGES), "phone-"))
def test_phone_charts_are_wide_enough_and_nothing_scrolls_sideways(app_server, _browser, spec):
    ctx = _context(_browser, 390, 844)
    page = ctx.new_page()
    try:
        open_page(page, app_server, "" if spec.default else spec.url_path)
        page.wait_for_timeout(800)
        assert_no_exception(page)
        sideways = page.evaluate("() => Math.max(document.scrollingElement.scrollWidth - window.innerWidth, "
                                 "...[...document.querySelectorAll(\"[data-testid='stMain']\")]"
                                 ".map(e => e.scrollWidth - e.clientWidth))")
        assert sideways <= 2, f"the page scrolls {sideways} px sideways"
        narrow = [p for p in page.evaluate(_PLOT_AREAS) for a in p["areas"] if a < 300]
        assert not narrow, f"plot areas under 300 px: {narrow[:4]}"
        if not spec.default:
            main = page.locator("[data-testid='stMain']")
            n = main.locator("[data-testid='stSlider'], [data-testid='stSelectbox'], [data-testid='stRadio'], "
                             "[data-testid='stCheckbox'], [data-testid='stToggle'], "
                             "[data-testid='stSelectSlider']").count()
            assert n > 0, "the first section's controls are in the page, not only in the sidebar"
        screenshot(page, f"phone-{spec.url_path}")
    finally:
        ctx.close()


def test_tour_walks_forward_and_back_and_each_url_reopens_its_step(app_server, _browser):
    ctx = _context(_browser, 1920, 1080)
    page = ctx.new_page()
    try:
        open_page(page, app_server, "tour", "step=1")
        for k in range(1, len(tour.STEPS) + 1):
            page.get_by_text(f"step {k} of {len(tour.STEPS)}").first.wait_for(timeout=60_000)
            assert_no_exception(page)
            if k < len(tour.STEPS):
                page.get_by_role("button", name="Next").click()
                wait_idle(page)
        page.get_by_role("button", name="Previous").click()
        wait_idle(page)
        page.get_by_text(f"step {len(tour.STEPS) - 1} of").first.wait_for(timeout=60_000)
    finally:
        ctx.close()
    for k in (1, 7, len(tour.STEPS)):
        fresh = _context(_browser, 1920, 1080)
        p = fresh.new_page()
        try:
            open_page(p, app_server, "tour", f"step={k}")
            p.get_by_text(f"step {k} of {len(tour.STEPS)}").first.wait_for(timeout=60_000)
            assert_no_exception(p)
        finally:
            fresh.close()
