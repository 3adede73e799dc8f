"""A worker process killed in the middle of a CT reconstruction (issue 16, item 5), on a real server.

Student A opens the CT page at settings nobody asked for before (256², many iterations: seconds of work in the
server's one worker process). While A's reconstruction runs, the worker is killed with ``os.kill(SIGKILL)``.
A must see a clear message with a Retry button (never a traceback); the pool replaces the worker, and Retry
computes the result. Student B, on another page in another browser context, keeps moving a control throughout and
every one of B's reruns succeeds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import _missing_reason, REQUIRED, assert_no_exception, start_server, wait_idle

HEAVY = "ct?n=256&iters=500&lam=0.0002&seed=3"


def _workers(server_pid: int) -> list[int]:
    """The server's worker processes (multiprocessing spawn children), from /proc."""
    out = subprocess.run(["pgrep", "-P", str(server_pid)], capture_output=True, text=True).stdout.split()
    pids = []
    for pid in map(int, out):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "spawn_main" in cmd:
            pids.append(pid)
    return pids


@pytest.fixture
def crash_server():
    if _missing_reason():
        (pytest.fail if REQUIRED else pytest.skip)(_missing_reason())
    proc, base = start_server(env={"REGOPT_WORKERS": "1"})
    yield proc, base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_killed_worker_fails_one_request_with_retry_and_nobody_else_notices(crash_server, _browser):
    proc, base = crash_server
    ctx_a = _browser.new_context(viewport={"width": 1440, "height": 1000})
    ctx_b = _browser.new_context(viewport={"width": 1440, "height": 1000})
    a, b = ctx_a.new_page(), ctx_b.new_page()
    for p in (a, b):
        p.set_default_timeout(120_000)
    try:
        b.goto(f"{base}/losses")
        wait_idle(b)
        deadline = time.time() + 60
        while not _workers(proc.pid) and time.time() < deadline:  # the pool starts its worker on first use
            time.sleep(0.2)
        a.goto(f"{base}/{HEAVY}")
        a.get_by_role("button", name="Compute at 256×256").first.click()  # above 128² work starts on request
        # A's heavy job is running when its progress note names the running time
        a.wait_for_selector("[data-testid='stProgress']", timeout=120_000)
        time.sleep(1.0)
        victims = _workers(proc.pid)
        assert victims, "the server runs heavy work in a worker process"
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        a.get_by_text("worker process stopped", exact=False).first.wait_for(timeout=60_000)
        assert_no_exception(a)
        retry = a.get_by_role("button", name="Retry")
        retry.first.wait_for(timeout=30_000)  # the failed request offers a Retry button
        a.screenshot(path=str(Path(__file__).parent / "screenshots" / "worker-crash.png"))

        # B moves a control on another page while A's worker is replaced: every rerun succeeds
        for _ in range(3):
            b.get_by_role("slider").first.focus()
            b.keyboard.press("ArrowRight")
            wait_idle(b)
            assert_no_exception(b)

        retry.first.click()
        # Retry computes the strip: its title names the iterations run (a slow machine may take a while to start)
        a.get_by_text(re.compile(r"iterations\) vs")).first.wait_for(timeout=240_000)
        wait_idle(a, timeout=240_000)
        assert_no_exception(a)
        assert a.get_by_text("worker process stopped", exact=False).count() == 0, "Retry computed the result"
        deadline = time.time() + 30
        while not _workers(proc.pid) and time.time() < deadline:
            time.sleep(0.2)
        assert _workers(proc.pid), "the pool replaced the killed worker"
    finally:
        ctx_a.close()
        ctx_b.close()
