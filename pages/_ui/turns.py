"""Script turns: at most a few reruns execute Python in the server process at once, one browser at a time.

Streamlit runs every rerun of every session in its own thread, and all of them share one interpreter lock. Under a
class (60 students, ~20 reruns a second) a dozen runs were in flight at any time; each got the lock for a few
milliseconds in turn, so a 20 ms rerun took a second or more, and the event loop — which sends every element
and the "finished" message — waited for the lock behind all of them. With at most ``REGOPT_SCRIPT_SLOTS`` runs
(default 2) executing at once, the others wait in line without taking the lock, each run finishes in about its
own CPU time, and the event loop competes with two threads, not twelve. Measured on the 2-core machine
(``python -m tests.load.run_load --students 60 --duration 90 --think 2 --settle 120``, same hour, quiet machine):
without turns p50 0.59 s, p95 2.70 s; one slot p50 0.23 s, p95 1.13 s; **two slots p50 0.14 s, p95 0.79 s**.

The line is per browser: a freed turn goes to the waiting run whose browser was served least recently (Streamlit's
XSRF cookie names the browser, as for the worker pool), so one person's eight tabs get one turn per round.

A run gives its turn away while it blocks on something that does not need the interpreter — a worker's result
(:func:`pages._ui.jobs.run`), the politeness pause of an over-budget session, or another run computing the same
result (:meth:`pages._ui.cached.Memo.compute`) — and takes a new turn when it goes on.
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


class Line:
    """``n`` turns handed out one browser at a time: when a turn frees up it goes to the waiting run whose browser
    was served least recently (arrival order among equals), so one person's eight tabs in line get one turn per
    round, like the worker pool's jobs (``jobs.Scheduler``), and cannot push a class to the back."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._lock = threading.Lock()
        self._waiting: list[tuple[str, int, threading.Event]] = []
        self._served: dict[str, int] = {}  # browser -> the hand-out count when it last got a turn
        self._count = 0
        self._seq = 0  # arrival order

    def _serve(self, who: str) -> None:
        self._count += 1
        self._served[who] = self._count
        if len(self._served) > 10_000:  # forget browsers long gone (order of service is all that matters)
            for k in sorted(self._served, key=self._served.get)[:5_000]:
                del self._served[k]

    def acquire(self, who: str) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                self._serve(who)
                return
            self._seq += 1
            ticket = (who, self._seq, threading.Event())
            self._waiting.append(ticket)
        ticket[2].wait()  # handed a turn by release()

    def release(self) -> None:
        with self._lock:
            if not self._waiting:
                self._free += 1
                return
            nxt = min(self._waiting, key=lambda t: (self._served.get(t[0], -1), t[1]))
            self._waiting.remove(nxt)
            self._serve(nxt[0])
        nxt[2].set()


_state: dict = {"slots": None}  # the Line once installed
_local = threading.local()  # .held: this thread holds a turn; .who: the browser of this thread's run
_clients: dict[str, str] = {}  # session -> its browser (Streamlit's XSRF token; jobs._client_id)


def _who(session_id: str) -> str:
    got = _clients.get(session_id)
    if got is None:
        from pages._ui import jobs

        try:
            got = jobs._client_id(session_id)  # noqa: SLF001
        except Exception:  # noqa: BLE001 — no readable cookie: the session is its own browser
            got = session_id
        if len(_clients) > 10_000:
            _clients.clear()
        _clients[session_id] = got
    return got


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
    _state["slots"] = Line(n)

    def _run_script(self, rerun_data):  # noqa: ANN001, ANN202 — Streamlit's own signature
        with turn(_who(getattr(self, "_session_id", "") or "")):
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
def turn(who: str | None = None) -> Iterator[None]:
    """Hold a turn for the block, for browser ``who`` (default: this thread's run's browser): what every script
    run does. A no-op when turns are off or this thread already holds one."""
    line = _state["slots"]
    if line is None or getattr(_local, "held", False):
        yield
        return
    if who is not None:
        _local.who = who
    line.acquire(getattr(_local, "who", ""))
    _local.held = True
    try:
        yield
    finally:
        _local.held = False
        line.release()


@contextlib.contextmanager
def released() -> Iterator[None]:
    """Give this run's turn away while the block waits (for a worker, a pause, another run's result); take a new
    turn after it. A no-op outside a run that holds a turn."""
    line = _state["slots"]
    if line is None or not getattr(_local, "held", False):
        yield
        return
    _local.held = False
    line.release()
    try:
        yield
    finally:
        line.acquire(getattr(_local, "who", ""))
        _local.held = True
