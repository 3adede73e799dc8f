"""The SGD page under AppTest: key numbers appear and agree with theory, extremes, deep links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.helpers import metric_value, run_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "sgd.py")


def run(query: dict | None = None) -> AppTest:
    return run_page(PAGE, query)


metric = metric_value


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_defaults_show_the_key_numbers():
    at = run()
    assert at.title[0].value == "SGD and batch size"
    assert not at.error
    # the run table: six batch sizes, from B = 1 to the full training set of 1,438 digits
    table = at.table[0].value
    assert list(table.index) == ["1", "4", "16", "64", "256", "1438 (full)"]
    assert list(table["updates"]) == [5 * 1438, 5 * 360, 5 * 90, 5 * 23, 5 * 6, 5]  # ceil(N/B) per epoch
    assert not table["status"].str.contains("diverged|capped").any()
    # the start of every run is log(10) (zero weights), all runs decrease the loss
    assert (table["final training loss"] < 2.302585).all()
    # at equal epochs the smallest batches reach the lowest loss
    assert table["final training loss"].iloc[0] < table["final training loss"].iloc[-1]
    # gradient noise: B = 1 measured/theory close to 1; at B ~ N/2 with/without ~ (N-1)/(N-B)
    assert 0.8 < float(metric(at, "Measured ÷ theory")) < 1.2
    caption = [c.value for c in at.caption if c.value.startswith("At B = ")][0]
    B = int(caption.split()[3])
    expected = 441 / (442 - B)
    assert f"{expected:.2f}" in caption
    assert float(metric(at, "With ÷ without")) == pytest.approx(expected, rel=0.15)
    # noise floor within 15 % of the exact theory everywhere
    assert float(metric(at, "Largest measured/theory gap").rstrip(" %")) < 20
    # best batch at equal epochs is a small one
    assert metric(at, "Best B at 5 epochs") in {"1", "4", "16"}
    # critical batch: B_noise of order 10 for this problem, the best step at B = 1 well below eps_max
    assert 3 < float(metric(at, "B_noise")) < 50
    assert float(metric(at, "Best step at B = 1")) < float(metric(at, "ε_max"))


def test_the_loss_charts_are_three_clocks_with_every_batch_size():
    at = run({"batches": ["1", "full"]})
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")[:3]]
    assert [s["layout"]["title"]["text"] for s in specs] == ["per update", "per epoch", "per example processed"]
    for s in specs:
        assert [t["name"] for t in s["data"] if t.get("mode") == "lines"] == ["B = 1", "B = 1438 (full)"]


def test_divergence_is_reported_not_raised():
    at = run({"batches": ["1", "full"], "lr": "2", "epochs": "1"})
    assert any("diverged at step" in w.lower() and "2/L" in w for w in warnings(at))
    # linear scaling with a large base rate: the full batch gets η = 0.5 · 442 on the regression
    at = run({"scale_lr": "true", "lr": "0.5", "batches": ["1", "16", "full"]})
    assert any("B = 442 (full), η = 221" in w and "iverged at step" in w for w in warnings(at))


def test_linear_scaling_lines_up_epochs():
    at = run({"scale_lr": "true", "lr": "0.005", "batches": ["1", "16", "256"]})
    table = at.table[0].value
    assert list(table["η"]) == ["0.005", "0.08", "1.28"]
    losses = table["final training loss"]
    assert losses.max() - losses.min() < 0.1  # same progress per epoch while η·B stays stable


def test_extremes_one_and_hundred_epochs():
    at = run({"epochs": "100", "batches": ["1", "4"]})
    assert any("capped runs" in c.value.lower() for c in at.caption)
    table = at.table[0].value
    assert list(table["updates"]) == [10_000, 10_000]
    at = run({"epochs": "1", "batches": ["full"]})
    assert list(at.table[0].value["updates"]) == [1]


def test_empty_selection_and_other_sampling_and_point():
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    at.multiselect(key="batches").set_value([]).run()
    assert not at.exception
    assert any("at least one batch size" in i.value for i in at.info)
    at = run({"sampling": "With replacement", "at": "Minimum"})
    assert float(metric(at, "|∇L| here")) < 1e-10
    assert float(metric(at, "σ² per example")) > 0.1  # noise remains at the minimum


def test_deep_link_reproduces_state_and_bad_values_fall_back():
    at = run({"batches": ["4", "64"], "lr": "0.05", "epochs": "3", "seed": "7", "steps": "500"})
    assert at.session_state["batches"] == ["4", "64"]
    assert at.session_state["lr"] == pytest.approx(0.05)
    assert at.session_state["steps"] == 500
    assert metric(at, "Best B at 500 updates") in {"4", "64"}
    table = at.table[0].value
    assert list(table["epochs"]) == [3.0, 3.0]
    at = run({"lr": "banana", "batches": ["3"]})
    assert any("not used" in w for w in warnings(at))


def test_page_formula_and_sentences_match_the_core():
    at = run()
    formula = at.latex[0].value
    assert r"\frac{\lambda}{2}\|W\|_F^2" in formula and r"\frac{1}{2N}\|X\theta - y\|^2" in formula
    from regopt_core import sgd

    assert r"\frac\lambda2\|W\|_F^2" in sgd.__doc__ and r"\frac1{2N}\|X\theta - y\|^2" in sgd.__doc__
    text = " ".join(m.value for m in at.markdown)
    assert "reaches the lowest training loss" in text or "about the same training loss" in text
    assert "At B = N = 442 without replacement the measured variance is" in text
    assert any("had not levelled off" in i.value for i in at.info)


def test_a_move_that_needs_new_runs_waits_for_the_compute_button():
    """Issue 12, item 3: after the page's first run, a move whose results are not cached (here a new seed: digits
    runs, paths, gradient samples, noise floor, best step sizes -- over a second of work) shows a Compute button
    instead of computing; one press computes every section of the page for the new settings. (A section's own
    light control, e.g. the gradient-noise point, computes at once in its fragment rerun, which AppTest cannot
    drive: it reruns the whole script.)"""
    at = run({"batches": ["2", "full"]})
    assert list(at.table[0].value.index) == ["2", "1438 (full)"]  # the first run (a deep link) computes
    at.number_input(key="seed").set_value(918_273).run()
    assert not at.exception
    buttons = {b.key for b in at.button if b.key and b.key.startswith("compute_")}
    assert buttons == {f"compute_{k}" for k in ("clocks", "paths", "noise", "floor", "accuracy", "critical")}
    assert sum("not computed yet" in i.value for i in at.info) == 6
    assert not any(m.label.startswith(("B_noise", "Best B at", "Slope", "Measured")) for m in at.metric)
    at.button(key="compute_floor").click().run()
    assert not at.exception
    assert not [b for b in at.button if b.key and b.key.startswith("compute_")]
    assert list(at.table[0].value.index) == ["2", "1438 (full)"]
    assert 3 < float(metric(at, "B_noise")) < 50
    assert metric(at, "Best B at 5 epochs") in {"2", "1438 (full)"}
    assert at.session_state["_sgd_compute"] is False
