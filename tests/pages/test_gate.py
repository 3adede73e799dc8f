"""The one compute gate (``pages/_ui/gate.py``) under AppTest, with a tiny page of two sections.

The page's work functions live here (module level: the cache keys them by module and name) and count their calls,
so every test can say what was computed, and how often. AppTest reruns the whole script on every interaction (it
cannot drive a fragment-only rerun), so these are whole-page runs; a section's own live rerun is exercised by the
pages' browser tests.
"""

from __future__ import annotations

from collections import Counter

import pytest
from streamlit.testing.v1 import AppTest

from pages._ui import cached, gate
from regopt_core.errors import NumericalError

CALLS: Counter = Counter()
FAIL_ONCE: set = set()  # configs whose next computation fails (a worker that died under the job)


class WorkerDied(NumericalError):
    retry = True


def square(x: int) -> int:
    if x in FAIL_ONCE:
        FAIL_ONCE.discard(x)
        raise WorkerDied("the worker stopped")
    CALLS[("square", x)] += 1
    return x * x


def cube(x: int) -> int:
    CALLS[("cube", x)] += 1
    return x ** 3


# The tiny page: a page-wide input x; section A shows x² (page-wide button, the gate computes with a progress bar),
# section B shows x³ (page-wide button, the caller computes); with scope "section" (session_state["scope"]) one
# section needs x², (x+1)², (x+2)² behind a section-only button.
SCRIPT = """
import streamlit as st
from pages._ui import cached, gate, layout
from tests.pages import test_gate as g

RUN = gate.page("tiny")
x = int(st.number_input("x", key="x", value=2, step=1))
if st.session_state.get("scope", "page") == "page":
    if gate.ready([(g.square, x)], page=RUN, key="compute_a", message="A is not computed yet.", progress="the squares"):
        st.metric("x squared", str(cached.result(g.square, x)))
    if gate.ready([(g.cube, x)], page=RUN, key="compute_b", message=lambda n: f"B misses {n} result(s)."):
        st.metric("x cubed", str(cached.result(g.cube, x, heavy=True, label="cubing")))
else:
    pairs = [(g.square, x + i) for i in range(3)]
    with layout.numerical_guard("The squares"):
        if gate.ready(pairs, key="compute_s", scope="section", button="Compute the squares",
                      message=lambda n: f"{n} squares are missing.", progress="the squares",
                      live=st.session_state.get("live", False)):
            st.metric("sum of squares", str(sum(cached.result(g.square, c) for _, c in pairs)))
layout.finish_page()
RUN.close()
"""


@pytest.fixture(autouse=True)
def _fresh():
    CALLS.clear()
    FAIL_ONCE.clear()
    with cached.isolated():
        yield


def page(scope: str = "page", **state) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.session_state["scope"] = scope
    for k, v in state.items():
        at.session_state[k] = v
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key and b.key.startswith("compute_")}


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_cached_results_show_without_a_button_or_work():
    cached.result(square, 5)
    cached.result(cube, 5)
    CALLS.clear()
    at = ok(page().run())
    at.number_input(key="x").set_value(5)
    ok(at.run())  # a later run (not the first) of settings someone computed before
    assert metrics(at) == {"x squared": "25", "x cubed": "125"}
    assert not buttons(at) and not at.info
    assert CALLS[("square", 5)] == CALLS[("cube", 5)] == 0


def test_first_run_computes_what_it_shows():
    at = ok(page().run())
    assert metrics(at) == {"x squared": "4", "x cubed": "8"}
    assert not buttons(at)
    assert CALLS == Counter({("square", 2): 1, ("cube", 2): 1})
    assert at.session_state["_tiny_opened"] is True and at.session_state["_tiny_compute"] is False


def test_a_later_uncached_move_shows_the_button_and_a_press_computes_every_section_once():
    at = ok(page().run())
    at.number_input(key="x").set_value(7)
    ok(at.run())
    assert buttons(at) == {"compute_a", "compute_b"}
    assert [i.value for i in at.info] == ["A is not computed yet.", "B misses 1 result(s)."]
    assert [b.label for b in at.button if b.key == "compute_a"] == [gate.PAGE_BUTTON]
    assert not metrics(at) and CALLS[("square", 7)] == CALLS[("cube", 7)] == 0
    at.button(key="compute_b").click()  # the button of section B computes section A too
    ok(at.run())
    assert metrics(at) == {"x squared": "49", "x cubed": "343"}
    assert not buttons(at)
    assert CALLS[("square", 7)] == CALLS[("cube", 7)] == 1
    assert at.session_state["_tiny_compute"] is False  # the press is spent at the end of the run it caused
    at.number_input(key="x").set_value(8)  # the next uncached move waits for a new press
    ok(at.run())
    assert buttons(at) == {"compute_a", "compute_b"} and CALLS[("square", 8)] == 0
    at.number_input(key="x").set_value(7)  # and computed settings show at once
    ok(at.run())
    assert metrics(at) == {"x squared": "49", "x cubed": "343"} and CALLS[("square", 7)] == 1


def test_live_work_computes_without_a_press():
    at = ok(page("section", live=True).run())  # first run: nothing to request
    at.number_input(key="x").set_value(20)
    ok(at.run())
    assert metrics(at) == {"sum of squares": str(400 + 441 + 484)} and not buttons(at)


def test_a_section_button_asks_for_this_section_only_and_remembers_a_request_cut_short():
    """A worker crash after one of three results: the gate remembers each requested result, so the section's next
    run computes the two left without a second press (the CT page's bug: it remembered the whole request, whose
    to-do list had shrunk, and asked again)."""
    at = ok(page("section").run())
    assert buttons(at) == {"compute_s"}  # page=None: the first run computes nothing; cache, live and button count
    assert not metrics(at) and not CALLS
    at.number_input(key="x").set_value(10)
    ok(at.run())
    assert buttons(at) == {"compute_s"}
    assert [i.value for i in at.info] == ["3 squares are missing."]
    assert [b.label for b in at.button if b.key == "compute_s"] == ["Compute the squares"]
    FAIL_ONCE.add(11)  # the second of the three dies with its worker
    at.button(key="compute_s").click()
    ok(at.run())
    assert any("The squares failed" in e.value for e in at.error)
    assert CALLS[("square", 10)] == 1 and CALLS[("square", 11)] == 0
    assert at.session_state["_tiny_compute"] is False  # a section's button does not touch the page's flag
    ok(at.run())  # the next run (Retry, or any rerun): no button, the rest is computed
    assert not buttons(at) and not at.error
    assert metrics(at) == {"sum of squares": str(100 + 121 + 144)}
    assert CALLS[("square", 10)] == CALLS[("square", 11)] == CALLS[("square", 12)] == 1
    at.number_input(key="x").set_value(11)  # 11 and 12 are cached, 13 was never asked for
    ok(at.run())
    assert [i.value for i in at.info] == ["1 squares are missing."] and CALLS[("square", 13)] == 0


def test_page_scope_needs_the_page_state_and_scope_is_checked():
    with pytest.raises(ValueError, match="PageRun"):
        gate.ready([(square, 1)], key="k", message="m")
    with pytest.raises(ValueError, match="scope"):
        gate.ready([(square, 1)], key="k", message="m", scope="everything")
