"""The classroom deployment in a browser: Debian's nginx on loopback, serving the app under a sub-path, in front
of TWO real `streamlit run` replicas with sticky sessions (deploy/nginx/, rendered by deploy/render_nginx.py
exactly as deploy/run_replicas.sh does).

Checks: a registered page opens through the proxy, a slider moves, the chart and the URL follow, the one
websocket (through nginx's upgrade) stays connected; every websocket and request of one browser reaches the same
replica (nginx's access log and each replica's /_stcore/metrics), while different browsers are spread over both.

Needs /usr/sbin/nginx (apt-get install -y nginx): without it the test is skipped, or fails with REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pages._ui import registry
from tests.e2e.conftest import REQUIRED, ROOT, _free_port, assert_no_exception, screenshot, start_server, wait_idle

BASE = "regopt-class"  # the sub-path
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _http(url: str, cookie: str | None = None, timeout: float = 10) -> bytes:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _connects(port: int) -> int:
    """Sessions a replica has accepted (its own /_stcore/metrics, asked directly, not through nginx)."""
    text = _http(f"http://127.0.0.1:{port}/{BASE}/_stcore/metrics").decode()
    m = re.search(r'session_events_total\{type="connect"\} (\d+)', text)
    return int(m.group(1)) if m else 0


def _log_lines(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        m = re.search(r'"(\w+) (\S+) [^"]*" (\d+) .*upstream=(\S+) route=(\S+)', line)
        if m:
            rows.append({"method": m.group(1), "path": m.group(2), "status": int(m.group(3)),
                         "upstream": m.group(4), "route": m.group(5)})
    return rows


@pytest.fixture(scope="module")
def proxy():
    if NGINX is None:
        msg = "nginx is not installed (apt-get install -y nginx); the reverse-proxy test needs Debian's nginx"
        (pytest.fail if REQUIRED else pytest.skip)(msg)
    ports = [_free_port(), _free_port()]
    while ports[1] == ports[0]:
        ports[1] = _free_port()
    procs: list[subprocess.Popen] = []
    nginx = None
    tmp = tempfile.TemporaryDirectory(prefix="regopt-nginx-")
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(start_server, extra_args=(f"--server.baseUrlPath={BASE}",), port=p) for p in ports]
            for f in futures:
                try:
                    procs.append(f.result()[0])
                except Exception:
                    for g in futures:  # do not leak the other replica
                        if g.done() and g.exception() is None:
                            procs.append(g.result()[0])
                    raise
        listen = _free_port()
        prefix = Path(tmp.name)
        subprocess.run([sys.executable, str(ROOT / "deploy" / "render_nginx.py"), "--listen", f"127.0.0.1:{listen}",
                        "--base", BASE, "--prefix", str(prefix),
                        *[a for p in ports for a in ("--replica", f"127.0.0.1:{p}")]], check=True, capture_output=True)
        nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c",
                                  str(prefix / "nginx.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{listen}/{BASE}"
        deadline = time.time() + 30
        while True:
            if nginx.poll() is not None:
                raise RuntimeError(f"nginx exited: {nginx.stdout.read().decode()} {(prefix / 'error.log').read_text()}")
            try:
                if _http(url + "/_stcore/health").strip() == b"ok":
                    break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        yield {"url": url, "ports": ports, "log": prefix / "access.log", "prefix": prefix}
    finally:
        if nginx is not None:
            _stop(nginx)
        for p in procs:
            _stop(p)
        tmp.cleanup()


def _first_page_with_a_slider(page, url: str):
    """The first registered (non-home) page that has a slider: no hard-coded page name.

    The home page is opened first, as a student following the course link does (on a fresh process, Streamlit
    1.67 runs a deep-linked file of ``pages/`` without app.py until some session has run app.py's
    ``st.navigation``; see deploy/CLASSROOM.md, and deploy/warm.py which does this at start-up).
    """
    page.goto(f"{url}/")
    wait_idle(page, timeout=180_000)
    assert_no_exception(page)
    for spec in registry.PAGES:
        if spec.default or spec.url_path == "tour":  # the tour redirects to a prepared page
            continue
        page.goto(f"{url}/{spec.url_path}")
        wait_idle(page, timeout=180_000)
        assert_no_exception(page)
        if page.locator("[data-testid='stSlider']").count():
            nav = page.locator("[data-testid='stSidebarNav']").inner_text()
            assert spec.title in nav, f"the sidebar is not the app's navigation: {nav!r}"
            return spec
    pytest.fail("no registered page has a slider")


def _charts(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                         ".map(e => JSON.stringify(e.data || []))")


def test_page_through_nginx_subpath_with_two_sticky_replicas(proxy, browser_page):
    page = browser_page
    url, log = proxy["url"], proxy["log"]
    sockets: list[dict] = []
    opened = []  # every websocket this browser opened

    def on_ws(ws):
        entry = {"url": ws.url, "closed": False}
        ws.on("close", lambda *_: entry.update(closed=True))
        sockets.append(entry)
        opened.append(entry)

    page.on("websocket", on_ws)

    # 1 · a page through the proxy, under the sub-path
    spec = _first_page_with_a_slider(page, url)
    assert page.url.startswith(f"{url}/{spec.url_path}")
    assert page.locator("h1").first.inner_text().strip()
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert "regopt_route" in cookies, f"nginx did not set the sticky cookie: {sorted(cookies)}"
    sockets[:-1] = []  # keep the websocket of the page now open (earlier pages' sockets went with them)
    assert len(sockets) == 1 and sockets[0]["url"] == url.replace("http://", "ws://") + "/_stcore/stream", sockets
    assert not sockets[0]["closed"]

    # 2 · move a slider: the chart and the URL follow, over the same websocket
    before_charts, before_url = _charts(page), page.url
    slider = page.locator("[data-testid='stSlider']").first.get_by_role("slider")
    at_max = slider.get_attribute("aria-valuenow") == slider.get_attribute("aria-valuemax")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowLeft" if at_max else "ArrowRight")
    wait_idle(page)
    page.wait_for_function("(u) => window.location.href !== u", arg=before_url, timeout=30_000)
    assert page.url.startswith(f"{url}/{spec.url_path}?"), page.url
    assert _charts(page) != before_charts, "no chart changed after the slider moved"
    assert_no_exception(page)
    page.wait_for_timeout(2000)
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=5_000)
    assert len(sockets) == 1 and not sockets[0]["closed"], f"the websocket reconnected or closed: {sockets}"
    screenshot(page, f"proxy-{spec.url_path}")

    # 3 · sticky: reloading (new websockets, new sessions) keeps this browser on one replica
    for _ in range(2):
        page.reload()
        wait_idle(page)
        assert_no_exception(page)
    assert len(sockets) == 3
    rows = [r for r in _log_lines(log) if r["route"] == cookies["regopt_route"]]
    streams = [r for r in rows if r["path"].endswith("/_stcore/stream")]
    assert len(streams) >= 2 and all(r["status"] == 101 for r in streams), streams  # the last may still be open
    assert len({r["upstream"] for r in rows}) == 1, f"one browser reached several replicas: {rows}"
    served = int(rows[0]["upstream"].rsplit(":", 1)[1])
    other = next(p for p in proxy["ports"] if p != served)
    assert _connects(served) == len(opened), "every session of this browser is on its replica"
    assert _connects(other) == 0, "no session of this browser reached the other replica"

    # the replicas' metrics are not served to the outside
    with pytest.raises(urllib.error.HTTPError) as err:
        _http(f"{url}/_stcore/metrics")
    assert err.value.code == 404

    # 4 · different browsers are spread over both replicas; each stays on its own
    for i in range(24):
        for _ in range(2):
            _http(f"{url}/_stcore/health", cookie=f"regopt_route=student{i:02d}")
    by_route: dict[str, set] = {}
    for r in _log_lines(log):
        if r["route"].startswith("student"):
            by_route.setdefault(r["route"], set()).add(r["upstream"])
    assert len(by_route) == 24 and all(len(v) == 1 for v in by_route.values()), by_route
    assert len(set().union(*by_route.values())) == 2, "24 different browsers all landed on one replica"
