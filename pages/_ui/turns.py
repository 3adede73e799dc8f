"""Script turns: at most a few reruns execute Python in the server process at once, first come first served.

Streamlit runs every rerun of every session in its own thread, and all of them share one interpreter lock. Under a
class (60 students, ~20 reruns a second) a dozen runs were in flight at any time; each got the lock for a few
milliseconds in turn, so a 20 ms rerun took a second or more, and the event loop — which sends every element
and the "finished" message — waited for the lock behind all of them. With at most ``REGOPT_SCRIPT_SLOTS`` runs
(default 2) executing at once, the others wait in line without taking the lock, each run finishes in about its
own CPU time, and the event loop competes with two threads, not twelve. Measured on the 2-core machine
(``python -m tests.load.run_load --students 60 --duration 90 --think 2 --settle 120``, same hour, quiet machine):
without turns p50 0.59 s, p95 2.70 s; one slot p50 0.23 s, p95 1.13 s; **two slots p50 0.14 s, p95 0.79 s**.

A run gives its turn away while it blocks on something that does not need the interpreter — a worker's result
(:func:`pages._ui.jobs.run`), the politeness pause of an over-budget session, or another run computing the same
result (:meth:`pages._ui.cached.Memo.compute`) — and takes a new turn, at the back of the line, when it goes on.
Nothing that holds a turn ever waits for something that needs one, so the line cannot deadlock.

Only under ``streamlit run`` (AppTest and bare scripts run one script at a time anyway). ``REGOPT_SCRIPT_SLOTS=0``
turns it off.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

DEFAULT_SLOTS = 2


def _slots_from_env() -> int:
    try:
        return max(0, int(os.environ.get("REGOPT_SCRIPT_SLOTS", DEFAULT_SLOTS)))
    except ValueError:
        return DEFAULT_SLOTS


_state: dict = {"slots": None}  # the semaphore once installed
_local = threading.local()  # .held: this thread holds a turn


def _in_server() -> bool:
    """True under ``streamlit run`` (not AppTest's mock runtime, not a bare script)."""
    try:
        from streamlit.runtime import Runtime

        return type(Runtime._instance) is Runtime  # noqa: SLF001
    except Exception:  # noqa: BLE001
        return False


def install(slots: int | None = None, *, anywhere: bool = False) -> bool:
    """Wrap Streamlit's ``ScriptRunner._run_script`` so that each run takes a turn first: once per process, and
    only in a real server unless ``anywhere`` (tests). Returns whether turns are on."""
    from streamlit.runtime.scriptrunner import script_runner

    if not (anywhere or _in_server()):
        return False
    n = _slots_from_env() if slots is None else slots
    original = script_runner.ScriptRunner._run_script  # noqa: SLF001
    if getattr(original, "_regopt_turns", False):
        return True
    if n <= 0:
        return False
    _state["slots"] = threading.Semaphore(n)

    def _run_script(self, rerun_data):  # noqa: ANN001, ANN202 — Streamlit's own signature
        with turn():
            return original(self, rerun_data)

    _run_script._regopt_turns = True  # type: ignore[attr-defined]
    _run_script._regopt_original = original  # type: ignore[attr-defined]
    script_runner.ScriptRunner._run_script = _run_script  # type: ignore[method-assign]  # noqa: SLF001
    return True


def uninstall() -> None:
    """Back to Streamlit's own ``_run_script`` (tests)."""
    from streamlit.runtime.scriptrunner import script_runner

    current = script_runner.ScriptRunner._run_script  # noqa: SLF001
    original = getattr(current, "_regopt_original", None)
    if original is not None:
        script_runner.ScriptRunner._run_script = original  # type: ignore[method-assign]  # noqa: SLF001
    _state["slots"] = None


@contextlib.contextmanager
def turn() -> Iterator[None]:
    """Hold a turn for the block (what every script run does); a no-op when turns are off or already held."""
    sem = _state["slots"]
    if sem is None or getattr(_local, "held", False):
        yield
        return
    sem.acquire()
    _local.held = True
    try:
        yield
    finally:
        _local.held = False
        sem.release()


@contextlib.contextmanager
def released() -> Iterator[None]:
    """Give this run's turn away while the block waits (for a worker, a pause, another run's result); take a new
    turn after it. A no-op outside a run that holds a turn."""
    sem = _state["slots"]
    if sem is None or not getattr(_local, "held", False):
        yield
        return
    _local.held = False
    sem.release()
    try:
        yield
    finally:
        sem.acquire()
        _local.held = True
