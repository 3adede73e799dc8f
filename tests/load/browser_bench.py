"""Browser cold-open bench (issue 12, item 7): how long until a page's first chart is on screen, in Chromium.

    python -m tests.load.browser_bench                       # starts a server, every registered page, 3 repeats
    python -m tests.load.browser_bench --url http://127.0.0.1:8765 --pages losses,ct --repeats 3

For every registered page:

- **cold open**: a fresh browser context (empty cache, new session), ``page.goto(<base>/<url_path>)``, time until
  the first ``.js-plotly-plot`` is visible; plus the JavaScript transferred during that open (Resource Timing
  ``transferSize`` of scripts, and their decoded size);
- **in-app switch**: from the previous page of the registry (cyclically), a click on the sidebar's link to the
  page, time until a chart of the new page is visible (a plot that was not on screen before the click, or whose
  data was replaced).

Medians over ``--repeats`` are printed as a table (``--out`` also writes it as Markdown, with JSON next to it).
A page without charts reports the time until its run finished instead (marked "no chart"). Chromium is
``/usr/bin/chromium`` with the project's launch flags (``tests/e2e/conftest.py``). Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.load import run_load  # noqa: E402
from tests.load.run_load import registry  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
VIEWPORT = {"width": 1440, "height": 1000}

_MARK_OLD = """() => { window.__benchOld = new Map(); for (const el of document.querySelectorAll('.js-plotly-plot'))
  window.__benchOld.set(el, el.data); }"""
_NEW_CHART = """(path) => {
  if (path !== null && !location.pathname.replace(/\\/$/, '').endsWith(path)) return false;
  const old = window.__benchOld || new Map();
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || !el.querySelector('.main-svg')) continue;
    if (!old.has(el) || old.get(el) !== el.data) return true;
  }
  return false; }"""
_RUN_DONE = """() => !!document.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']")"""
_JS_BYTES = """() => { let t = 0, d = 0;
  for (const e of performance.getEntriesByType('resource'))
    if (e.initiatorType === 'script' || /\\.m?js(\\?|$)/.test(e.name)) { t += e.transferSize; d += e.decodedBodySize; }
  return [t, d]; }"""


def _has_chart_soon(page, timeout_ms: float) -> bool:
    """Wait for a new chart, or for the run to finish with none (then False)."""
    deadline = time.perf_counter() + timeout_ms / 1000
    while time.perf_counter() < deadline:
        if page.evaluate(_NEW_CHART, None):
            return True
        if page.evaluate(_RUN_DONE) and not page.query_selector("[data-testid='stPlotlyChart']") \
                and not page.query_selector("[data-testid='stSkeleton']"):
            # finished with no chart element at all: a page without figures
            page.wait_for_timeout(300)
            if page.evaluate(_RUN_DONE) and not page.query_selector("[data-testid='stPlotlyChart']"):
                return False
        page.wait_for_timeout(25)
    raise TimeoutError(f"no chart within {timeout_ms / 1000:g} s")


def cold_open(browser, base: str, spec, timeout_ms: float) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        path = "" if spec.default else spec.url_path
        t0 = time.perf_counter()
        page.goto(f"{base}/{path}", wait_until="commit", timeout=timeout_ms)
        try:
            chart = _has_chart_soon(page, timeout_ms)
            s = time.perf_counter() - t0
            err = None
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            chart, s, err = False, None, f"{type(exc).__name__}: {exc}"[:200]
        page.wait_for_timeout(200)
        transfer, decoded = page.evaluate(_JS_BYTES)
        n_exc = page.locator("[data-testid='stException']").count()
        return {"s": s, "chart": chart, "js_transfer_mb": transfer / 1e6, "js_decoded_mb": decoded / 1e6,
                "exceptions": n_exc, "error": err}
    finally:
        context.close()


def switches(browser, base: str, specs: list, timeout_ms: float) -> dict[str, dict]:
    """One context: open the last page, then click through every page in registry order."""
    out: dict[str, dict] = {}
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        prev = specs[-1]
        page.goto(f"{base}/{'' if prev.default else prev.url_path}", timeout=timeout_ms)
        page.wait_for_selector("[data-testid='stSidebarNav']", timeout=timeout_ms)
        try:
            _has_chart_soon(page, timeout_ms)
        except TimeoutError:
            pass
        for spec in specs:
            try:
                page.evaluate(_MARK_OLD)
                link = page.locator(f"[data-testid='stSidebarNav'] a[href$='/{'' if spec.default else spec.url_path}']")
                if link.count() == 0 and spec.default:
                    link = page.locator("[data-testid='stSidebarNav'] a").first
                t0 = time.perf_counter()
                link.first.click(timeout=timeout_ms)
                chart = _has_chart_soon_after_nav(page, spec, timeout_ms)
                out[spec.url_path] = {"s": time.perf_counter() - t0, "chart": chart, "error": None}
            except Exception as exc:  # noqa: BLE001
                out[spec.url_path] = {"s": None, "chart": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    finally:
        context.close()
    return out


def _has_chart_soon_after_nav(page, spec, timeout_ms: float) -> bool:
    path = None if spec.default else "/" + spec.url_path
    deadline = time.perf_counter() + timeout_ms / 1000
    while time.perf_counter() < deadline:
        if page.evaluate(_NEW_CHART, path):
            return True
        if (path is None or page.evaluate("(p) => location.pathname.replace(/\\/$/, '').endsWith(p)", path)) \
                and page.evaluate(_RUN_DONE) and page.locator("[data-testid='stPlotlyChart']").count() == 0:
            page.wait_for_timeout(300)
            if page.evaluate(_RUN_DONE) and page.locator("[data-testid='stPlotlyChart']").count() == 0:
                return False
        page.wait_for_timeout(25)
    raise TimeoutError(f"no chart within {timeout_ms / 1000:g} s")


def _med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.load.browser_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running server (default: start one)")
    ap.add_argument("--pages", help="comma-separated url_paths (default: every registered page)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per measurement")
    ap.add_argument("--out", type=Path, help="also write the table as Markdown here (JSON next to it)")
    args = ap.parse_args(argv)
    # the tour page opens another page in a prepared state (it has no chart of its own, and the in-app switch
    # that follows it would start from the page it moved to): it is not benched
    specs = [p for p in registry.PAGES if p.url_path != "tour"]
    if args.pages:
        specs = [p for p in specs if p.url_path in set(args.pages.split(","))]
    from playwright.sync_api import sync_playwright

    proc = None
    base = args.url.rstrip("/") if args.url else None
    if not base:
        port = run_load.free_port()
        proc = run_load.start_server(port, [], run_load.RESULTS / f"browser-bench-{port}.log")
        base = f"http://127.0.0.1:{port}"
    timeout_ms = args.timeout * 1000
    cold: dict[str, list[dict]] = {s.url_path: [] for s in specs}
    nav: dict[str, list[dict]] = {s.url_path: [] for s in specs}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                # the first session of a server runs its warm-up: not a student's cold open
                warm = cold_open(browser, base, specs[0], timeout_ms * 2)
                print(f"browser_bench: {base}; warm-up open of {specs[0].url_path}: {warm['s']} s", flush=True)
                for i in range(args.repeats):
                    for spec in specs:
                        cold[spec.url_path].append(cold_open(browser, base, spec, timeout_ms))
                    if len(specs) > 1:
                        for k, v in switches(browser, base, specs, timeout_ms).items():
                            nav[k].append(v)
                    print(f"  repeat {i + 1}/{args.repeats} done", flush=True)
            finally:
                browser.close()
    finally:
        if proc is not None:
            run_load.stop_server(proc)
    rows = []
    for spec in specs:
        c, n = cold[spec.url_path], nav[spec.url_path]
        rows.append({
            "page": spec.url_path,
            "cold_open_s": _med(x["s"] for x in c),
            "cold_open_max_s": max((x["s"] for x in c if x["s"] is not None), default=None),
            "switch_s": _med(x["s"] for x in n),
            "chart": any(x["chart"] for x in c),
            "js_transfer_mb": _med(x["js_transfer_mb"] for x in c),
            "js_decoded_mb": _med(x["js_decoded_mb"] for x in c),
            "exceptions": sum(x.get("exceptions", 0) for x in c),
            "errors": [x["error"] for x in c + n if x.get("error")],
        })
    f = lambda v, d=2: "–" if v is None else f"{v:.{d}f}"  # noqa: E731
    lines = [f"| page | cold open → first chart, s (median of {args.repeats}) | max | in-app switch → first chart, "
             "s | JS per cold open, MB transferred / decoded | exceptions | errors |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        note = "" if r["chart"] else " (no chart: run finished)"
        lines.append(f"| {r['page']} | {f(r['cold_open_s'])}{note} | {f(r['cold_open_max_s'])} | {f(r['switch_s'])} | "
                     f"{f(r['js_transfer_mb'], 1)} / {f(r['js_decoded_mb'], 1)} | {r['exceptions']} | "
                     f"{'; '.join(r['errors'])[:120] or '0'} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"Command: `python -m tests.load.browser_bench {' '.join(argv or sys.argv[1:])}`\n\n"
                            + table + "\n")
        args.out.with_suffix(".json").write_text(json.dumps({"rows": rows, "cold": cold, "switch": nav}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
