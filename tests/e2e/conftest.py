"""Browser tests (DESIGN §4.4): Playwright drives Debian's /usr/bin/chromium against a real `streamlit run`.

Without a browser the tests skip with a loud reason; with ``REQUIRE_BROWSER=1`` (as in CI) a missing
browser is a failure instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
CHROMIUM = os.environ.get("REGOPT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
REQUIRED = os.environ.get("REQUIRE_BROWSER", "") == "1"


def _missing_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (pip install -r requirements-dev.txt)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing_reason()
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if reason:
                if REQUIRED:
                    item.add_marker(pytest.mark.usefixtures("_fail_missing_browser"))
                else:
                    item.add_marker(pytest.mark.skip(reason=f"BROWSER TESTS SKIPPED: {reason}"))


@pytest.fixture
def _fail_missing_browser():
    pytest.fail(f"REQUIRE_BROWSER=1 but {_missing_reason()}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*, extra_args: tuple[str, ...] = (), env: dict | None = None, port: int | None = None,
                 timeout: float = 90.0) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run app.py` on a free loopback port; return (process, base URL)."""
    port = port or _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           *extra_args]
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = open(SHOTS / f"server-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    health = base + "/_stcore/health"
    for arg in extra_args:
        if arg.startswith("--server.baseUrlPath="):
            health = f"{base}/{arg.split('=', 1)[1].strip('/')}/_stcore/health"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(health, timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not become healthy in {timeout} s")


@pytest.fixture(scope="session")
def app_server():
    if _missing_reason():
        (pytest.fail if REQUIRED else pytest.skip)(_missing_reason())
    SHOTS.mkdir(parents=True, exist_ok=True)
    proc, base = start_server()
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def _browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_browser):
    context = _browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait until the app is connected, the script finished, and no skeleton is left."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_timeout(300)  # let a rerun triggered by the last interaction start
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stSkeleton']\").length === 0",
                           timeout=timeout)


def open_page(page, base_url: str, url_path: str, query: str = "") -> None:
    url = f"{base_url}/{url_path}" + (f"?{query}" if query else "")
    page.goto(url)
    wait_idle(page)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG for review. Streamlit scrolls inside its main container, so for a full-page shot the
    viewport is temporarily made as tall as the content."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    size = page.viewport_size
    if full_page and size:
        height = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                               "\"[data-testid='stMain'], [data-testid='stAppViewContainer'], section.main\")]"
                               ".map(e => e.scrollHeight), document.body.scrollHeight)")
        page.set_viewport_size({"width": size["width"], "height": int(min(max(height, size["height"]), 12000))})
        page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    if full_page and size:
        page.set_viewport_size(size)
    return path


def assert_no_exception(page) -> None:
    n = page.locator("[data-testid='stException']").count()
    assert n == 0, f"{n} exception box(es) on {page.url}: " + page.locator("[data-testid='stException']").first.inner_text()
