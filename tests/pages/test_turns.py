"""Script turns (pages/_ui/turns.py): at most N runs execute at once, and a run that waits gives its turn away."""

from __future__ import annotations

import threading
import time

import pytest

from pages._ui import cached, turns


@pytest.fixture
def one_slot():
    turns.uninstall()
    assert turns.install(1, anywhere=True)
    yield
    turns.uninstall()


def _in_thread(fn) -> threading.Thread:
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def test_off_outside_a_server_and_with_zero_slots():
    turns.uninstall()
    assert not turns.install()  # pytest is not `streamlit run`
    assert not turns.install(0, anywhere=True)
    with turns.turn(), turns.released():  # no-ops
        pass


def test_wraps_streamlit_once_and_unwraps(one_slot):
    from streamlit.runtime.scriptrunner import script_runner

    wrapped = script_runner.ScriptRunner._run_script
    assert wrapped._regopt_turns
    assert turns.install(3, anywhere=True)  # a second install keeps the first wrapper
    assert script_runner.ScriptRunner._run_script is wrapped
    turns.uninstall()
    assert not getattr(script_runner.ScriptRunner._run_script, "_regopt_turns", False)


def test_at_most_n_runs_execute_at_once(one_slot):
    inside, most, lock = [0], [0], threading.Lock()

    def run():
        with turns.turn():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)
            with lock:
                inside[0] -= 1

    threads = [_in_thread(run) for _ in range(6)]
    for t in threads:
        t.join(5)
    assert most[0] == 1


def test_a_waiting_run_lets_another_run_in(one_slot):
    go, other_ran = threading.Event(), threading.Event()

    def waiting():
        with turns.turn(), turns.released():
            go.wait(5)

    def other():
        with turns.turn():
            other_ran.set()

    a = _in_thread(waiting)
    time.sleep(0.05)
    _in_thread(other)
    assert other_ran.wait(2), "the run blocked on a worker kept its turn"
    go.set()
    a.join(5)
    assert not a.is_alive()


def test_two_runs_waiting_for_one_result_do_not_deadlock(one_slot):
    """A computes a heavy key (waiting for its worker without a turn); B asks for the same key. B must not hold
    the only turn while it waits for A, or A could never take a turn again to finish."""
    memo = cached.Memo(max_entries=4, max_bytes=10_000_000)
    worker_done = threading.Event()
    got: dict[str, object] = {}

    def heavy():
        with turns.released():  # what jobs.run does while the worker computes
            worker_done.wait(5)
        return 42

    def run(name):
        with turns.turn():
            got[name] = memo.compute("k", heavy)

    a = _in_thread(lambda: run("a"))
    time.sleep(0.05)
    b = _in_thread(lambda: run("b"))
    time.sleep(0.05)
    worker_done.set()
    a.join(5)
    b.join(5)
    assert got == {"a": 42, "b": 42}
    assert memo.misses == 1


def test_a_browser_with_many_runs_in_line_gets_one_turn_per_round():
    """Eight runs of one browser wait in line before a student's one run: the student's run is served after at
    most one of them (the browser served least recently goes first), not after all eight."""
    line = turns.Line(1)
    line.acquire("holder")
    order: list[str] = []
    threads = []
    for i in range(8):
        threads.append(_in_thread(lambda i=i: (line.acquire("tabs"), order.append(f"tab{i}"), line.release())))
        time.sleep(0.01)
    threads.append(_in_thread(lambda: (line.acquire("student"), order.append("student"), line.release())))
    time.sleep(0.05)
    line.release()
    for t in threads:
        t.join(5)
    assert len(order) == 9
    assert order.index("student") <= 1, order


def test_a_free_turn_is_taken_at_once_and_never_handed_out_twice():
    line = turns.Line(2)
    line.acquire("a")
    line.acquire("b")  # both turns out, no waiting
    got = threading.Event()
    t = _in_thread(lambda: (line.acquire("c"), got.set()))
    assert not got.wait(0.1)
    line.release()
    assert got.wait(2)
    t.join(2)
    line.release()
    line.release()
    assert line._free == 2 and not line._waiting  # noqa: SLF001
