"""The figure memo (pages/_ui/figures.py): same inputs -> the same figure object, any changed input -> a new
figure, shared figures never restyled in place, and what Streamlit receives is exactly plotly's own JSON."""

from __future__ import annotations

import base64
import json
import types
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from pages._ui import cached, figures
from regopt_core.figures.theme import legend_clear_of_title, scale_text, tidy_log_axes

CALLS: list = []


def fig_line(y: np.ndarray, *, title: str = "t", scale: float = 1.0) -> go.Figure:
    CALLS.append(1)
    return go.Figure(go.Scatter(y=np.asarray(y) * scale), layout=dict(title_text=title))


def fig_pair(y: np.ndarray) -> tuple[go.Figure, go.Figure]:
    CALLS.append(1)
    return go.Figure(go.Scatter(y=y)), go.Figure(go.Bar(y=y))


def label(x: float) -> str:
    return f"x = {x}"


@dataclass(frozen=True)
class Result:
    y: np.ndarray
    note: str


MODULE = types.ModuleType("tests_fake_figures")
MODULE.fig_line, MODULE.fig_pair, MODULE.label = fig_line, fig_pair, label


@pytest.fixture()
def figs():
    figures.clear()
    CALLS.clear()
    return figures.builders(MODULE)


def _frozen(a) -> np.ndarray:
    return cached._freeze(np.array(a, dtype=float))


def test_same_inputs_give_the_same_figure_object_and_build_once(figs):
    y = _frozen([1, 2, 3])
    a = figs.fig_line(y, title="a")
    assert figs.fig_line(y, title="a") is a
    assert len(CALLS) == 1
    assert figs.label(2) == "x = 2"  # not a builder: passed through


@pytest.mark.parametrize("change", ["title", "scale", "values", "int-vs-float"])
def test_any_changed_input_gives_a_new_figure(figs, change):
    y = _frozen([1, 2, 3])
    base = figs.fig_line(y, title="a", scale=1.0)
    other = {
        "title": lambda: figs.fig_line(y, title="b", scale=1.0),
        "scale": lambda: figs.fig_line(y, title="a", scale=1.0000001),
        "values": lambda: figs.fig_line(_frozen([1, 2, 4]), title="a", scale=1.0),
        "int-vs-float": lambda: figs.fig_line(y, title="a", scale=1),
    }[change]()
    assert other is not base
    assert len(CALLS) == 2


def test_slices_of_a_shared_array_key_by_memory_and_page_made_arrays_by_content(figs):
    y = _frozen(np.arange(10.0))
    assert figs.fig_line(y[2:5]) is figs.fig_line(y[2:5])  # a new view object each time, same memory
    assert figs.fig_line(y[2:5]) is not figs.fig_line(y[3:6])
    w = np.arange(4.0)  # writeable: keyed by its bytes
    f = figs.fig_line(w)
    assert figs.fig_line(np.arange(4.0)) is f
    w[0] = 9.0  # the page changed its array: a new figure, not the stale one
    assert figs.fig_line(w) is not f
    assert len(CALLS) == 4


def test_frozen_results_key_field_by_field(figs):
    y = _frozen([1, 2, 3])
    r1, r2 = Result(y, "n"), Result(y, "n")  # a new result object around the same shared arrays
    assert figs.fig_line(r1.y) is figs.fig_line(r2.y)
    assert figures._key(r1, []) == figures._key(r2, [])
    assert figures._key(Result(y, "m"), []) != figures._key(r1, [])
    assert figures._key(Result(_frozen([1, 2, 3]), "n"), []) != figures._key(r1, [])  # other memory


def test_unkeyable_arguments_are_built_every_time_and_never_shared(figs):
    class Mutable:  # not a frozen dataclass: its contents could change under the same identity
        pass

    def fig_obj(o):
        CALLS.append(1)
        return go.Figure()

    m = figures.memoized(fig_obj)
    o = Mutable()
    assert m(o) is not m(o)
    big = np.zeros(figures._SMALL_ARRAY // 8 + 1)  # large and writeable
    assert figs.fig_line(big) is not figs.fig_line(big)


def test_lists_of_figures_are_memoized_and_each_figure_is_marked(figs):
    y = _frozen([1, 2])
    p = figs.fig_pair(y)
    assert figs.fig_pair(y) is p and len(CALLS) == 1
    keys = [getattr(f, figures._KEY_ATTR) for f in p]
    assert keys[0] != keys[1]


def test_spec_styles_a_copy_once_and_equals_plotlys_own_json(figs):
    y = _frozen([1, 10, 100])
    fig = figs.fig_line(y, title="shared")
    before = fig.to_json()
    calls = []

    def style(f):
        calls.append(1)
        scale_text(f, 1.45)

    s1 = figures.spec(fig, style, ("present",))
    s2 = figures.spec(fig, style, ("present",))
    assert s1 is s2 and len(calls) == 1
    assert fig.to_json() == before  # the shared figure was not restyled in place
    got = json.loads(pio.to_json(figures.drawable(s1).to_dict(), validate=False))
    want = json.loads(pio.to_json(scale_text(fig.to_dict(), 1.45), validate=False))
    assert _decoded(got) == pytest.approx(_decoded(want), rel=1e-7)  # float32 on the wire (compact)
    assert got["layout"] == want["layout"]
    assert figures.spec(fig, style, ("normal",)) is not s1  # another variant: its own spec


def _decoded(spec: dict) -> list:
    out = []
    for tr in spec["data"]:
        y = tr["y"]
        out += np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).astype(float).tolist() \
            if isinstance(y, dict) else list(y)
    return out


def test_compact_sends_float32_only_where_it_keeps_the_numbers():
    def typed(a):
        return {"dtype": "f8", "bdata": base64.b64encode(np.asarray(a, dtype="<f8").tobytes()).decode()}

    spec = {"data": [{"x": typed([0.0, 1.5, -2.25, np.nan]), "y": typed([1e-40, 1.0]),  # a log axis' gap: keep
                      "z": [[typed([3.0, 1e29])]]}]}
    out = figures.compact(spec)
    x, y, z = out["data"][0]["x"], out["data"][0]["y"], out["data"][0]["z"][0][0]
    assert x["dtype"] == "f4" and z["dtype"] == "f4" and y["dtype"] == "f8"
    back = np.frombuffer(base64.b64decode(x["bdata"]), dtype="f4")
    assert back[:3].tolist() == [0.0, 1.5, -2.25] and np.isnan(back[3])
    assert np.frombuffer(base64.b64decode(y["bdata"]), dtype="f8")[0] == 1e-40


def _script():
    import numpy as np
    import plotly.graph_objects as go

    from pages._ui import figures, layout

    def fig_demo(y):
        return go.Figure(go.Scatter(y=y), layout=dict(title_text="demo", yaxis_type="log"))

    f = figures.memoized(fig_demo)(np.array([1.0, 10.0, 1000.0]))
    layout.show_figure(f, key="demo")


def test_streamlit_receives_the_styled_figure():
    at = AppTest.from_function(_script, default_timeout=30).run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["title"]["text"] == "demo"
    y = spec["data"][0]["y"]  # plotly sends numpy arrays as typed arrays (base64)
    assert np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist() == [1.0, 10.0, 1000.0]
    # the app's styling ran (log axes labelled at decades only: tidy_log_axes sets explicit ticks)
    assert spec["layout"]["yaxis"]["dtick"] == 1 and spec["layout"]["yaxis"]["exponentformat"] == "power"


def test_a_shared_figure_is_serialized_once_for_every_rerun(monkeypatch):
    # st.plotly_chart serializes the figure on every rerun; a finished (shared) figure hands it its JSON text
    calls = []
    original = figures._plotly_to_json
    monkeypatch.setattr(figures, "_plotly_to_json", lambda f, *a, **k: calls.append(1) or original(f, *a, **k))
    figures.clear()
    at = AppTest.from_function(_script, default_timeout=30).run()
    first = at.get("plotly_chart")[0].proto.spec
    made = len(calls)
    at.run()
    at.run()
    assert made == 1 and len(calls) == 1, calls
    assert at.get("plotly_chart")[0].proto.spec == first
    # the text is plotly's own serialization of the styled dict; anything else still goes to plotly
    assert pio.to_json({"data": [], "layout": {}}, validate=False) == original({"data": [], "layout": {}},
                                                                              validate=False)
    figures.clear()


def test_functions_key_by_identity(figs):
    def fig_of(f):
        CALLS.append(1)
        return go.Figure(go.Scatter(y=[f(1.0)]))

    m = figures.memoized(fig_of)
    sq, cube = (lambda x: x * x), (lambda x: x ** 3)
    assert m(sq) is m(sq)
    assert m(cube) is not m(sq)
    assert len(CALLS) == 2


PAGES = ["losses", "bias-variance", "landscapes", "sgd", "splits", "ct"]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("present", [False, True])
def test_every_figure_of_a_page_is_the_same_built_without_plotlys_validation(page, present, monkeypatch):
    # the server builds figures unvalidated (figures.unvalidated): each figure a page draws must come out as it
    # does validated — re-validating the unvalidated one's dict must neither fail (an invalid property) nor
    # change anything
    calls = []

    def recording(fn):
        def call(*args, **kwargs):
            calls.append((fn, args, kwargs))
            with figures.unvalidated():
                return fn(*args, **kwargs)
        return call

    monkeypatch.setattr(figures, "memoized", recording)
    figures.builders.cache_clear()
    try:
        at = AppTest.from_file(f"../../pages/{page}.py", default_timeout=300)
        if present:
            at.query_params["present"] = "1"
        at.run()
        assert not at.exception, at.exception
    finally:
        figures.builders.cache_clear()
    assert calls, "the page drew figures"

    def as_drawn(f):
        return json.dumps(go.Figure(f.to_dict()).to_dict(), sort_keys=True, default=str)

    for fn, args, kwargs in calls:
        with figures.unvalidated():
            fast = fn(*args, **kwargs)
        slow = fn(*args, **kwargs)
        fast, slow = (list(x) if isinstance(x, (list, tuple)) else [x] for x in (fast, slow))
        for f, s in zip(fast, slow, strict=True):
            if isinstance(s, go.Figure):
                assert f._validate is False  # noqa: SLF001 — (some builders skip validation themselves)
                assert as_drawn(f) == as_drawn(s), fn.__name__
                # what the page layer sends: the figure's dict made without to_dict's copies equals to_dict's
                before = f.to_json()
                mine = figures.plain(f)
                assert json.dumps(mine, sort_keys=True, default=str) == json.dumps(
                    figures.compact(f.to_dict()), sort_keys=True, default=str), fn.__name__
                # and styling that dict (as layout.show_figure does) never reaches the shared figure
                scale_text(legend_clear_of_title(tidy_log_axes(mine)), 1.45)
                assert f.to_json() == before, fn.__name__


def test_the_figure_memo_is_bounded_by_the_figures_own_bytes(figs, monkeypatch):
    # a figure's size is its arrays (it was 64 bytes to the memo, so only the entry count bounded it); the
    # shared result arrays an entry keeps alive are the results memo's, not counted twice
    y = np.arange(100_000, dtype=float)  # 800 kB
    assert cached.nbytes(go.Figure(go.Scatter(y=y), _validate=False)) >= y.nbytes
    monkeypatch.setattr(figures.FIGURES, "max_bytes", 3 * y.nbytes)
    figures.FIGURES.clear()
    for scale in range(10):
        figs.fig_line(_frozen(y), scale=float(scale))
    assert 1 <= len(figures.FIGURES.items()) <= 3
    figures.FIGURES.clear()
