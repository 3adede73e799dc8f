"""The bias–variance page under AppTest: key numbers appear and agree with the closed form, the
lecture's two deep links (``?spread=5`` and ``?spread=0.1``), extremes, ill-conditioning notice."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from regopt_core import bias_variance as bv
from tests.pages.helpers import metric_value, run_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "bias-variance.py")


def run(query: dict | None = None) -> AppTest:
    return run_page(PAGE, query)


def metric(at: AppTest, label_start: str) -> float:
    return float(metric_value(at, label_start))


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def exact(spread: float, **kw) -> bv.Decomposition:
    """Bias² and variance from scikit-learn's Ridge hat matrix (independent of the page's smoother code)."""
    from sklearn.linear_model import Ridge

    exp = replace(bv.LECTURE, spread=spread, **kw)
    x, x_eval, _, f_tr, f_ev = bv.inputs(exp)
    phi, phi_ev = bv.rbf_features(x, x, spread=spread), bv.rbf_features(x_eval, x, spread=spread)
    S = Ridge(alpha=exp.lam, solver="svd").fit(phi, np.eye(x.size)).predict(phi_ev)  # (m, n): column j = fit of e_j
    mean = S @ f_tr
    b, v = float(np.mean((mean - f_ev) ** 2)), float(exp.sigma**2 * np.mean(np.sum(S * S, axis=1)))
    df = float(np.trace(Ridge(alpha=exp.lam, solver="svd").fit(phi, np.eye(x.size)).predict(phi)))
    return bv.Decomposition(mean, None, None, b, v, exp.sigma**2, b + v + exp.sigma**2, df, 2 * exp.sigma**2 * df / x.size)


def test_defaults_show_the_decomposition_and_it_adds_up():
    at = run()
    assert at.title[0].value == "Bias–variance trade-off"
    assert not at.error
    b, v, s2, mse = (metric(at, k) for k in ("Bias² (exact)", "Variance (exact)", "Noise σ²", "Expected test MSE"))
    assert s2 == pytest.approx(0.09)
    assert mse == pytest.approx(b + v + s2, abs=2e-4)  # 4-decimal rounding
    d = exact(5.0)  # the page's default is the lecture's first picture
    assert b == pytest.approx(d.bias2, abs=1e-4) and v == pytest.approx(d.var, abs=1e-4)
    assert metric(at, "Optimism 2σ²·df/n") == pytest.approx(2 * 0.09 * d.df / 25, abs=1e-4)
    # the page states the Monte-Carlo/exact agreement in numbers
    assert "away from the exact" in text(at)
    # eight charts: fits, bars, bands, convergence, two U-curves, df, double descent
    assert len(at.get("plotly_chart")) == 8


@pytest.mark.parametrize("spread, dominant", [("5", "bias dominates"), ("0.1", "variance dominates")])
def test_lecture_deep_links_reproduce_the_two_pictures(spread, dominant):
    at = run({"spread": spread})
    assert at.session_state["spread"] == pytest.approx(float(spread))
    assert f"At spread **{spread}**" in text(at) and dominant in text(at)
    assert not any("not used" in w.value for w in at.warning)
    b, v = metric(at, "Bias² (exact)"), metric(at, "Variance (exact)")
    assert (b > v) == (spread == "5")


PREPARED_LINKS = [  # the deep links proposed for the registry
    {"spread": "5"},
    {"spread": "0.1"},
    {"spread": "0.1", "K": "1000"},
    {"spread": "0.3", "lam": "0", "centres": "Grid", "p": "60"},
]


@pytest.mark.parametrize("link", PREPARED_LINKS, ids=lambda d: "&".join(f"{k}={v}" for k, v in d.items()))
def test_prepared_links_are_accepted_as_given(link):
    at = run(link)
    assert not any("not used" in w.value for w in at.warning), [w.value for w in at.warning]
    for key, value in link.items():
        got = at.session_state[key]
        assert (got == pytest.approx(float(value))) if isinstance(got, (int, float)) else (str(got) == value), key


def test_lecture_buttons_jump_between_the_pictures():
    at = run()
    at.button(key="go01").click().run()
    assert at.session_state["spread"] == pytest.approx(0.1)
    assert metric(at, "Variance (exact)") > metric(at, "Bias² (exact)")
    at.button(key="go5").click().run()
    assert at.session_state["spread"] == pytest.approx(5.0)


def test_lambda_slider_trades_variance_for_bias():
    at = run({"spread": "0.1"})
    v_small = metric(at, "Variance (exact)")
    b_small = metric(at, "Bias² (exact)")
    at.select_slider(key="lam").set_value(10.0).run()
    assert not at.exception
    assert metric(at, "Variance (exact)") < v_small and metric(at, "Bias² (exact)") > b_small
    assert metric(at, "Effective df = tr S") < 13


def test_ill_conditioned_setting_is_explained_not_crashed():
    at = run({"spread": "0.3", "lam": "0", "centres": "Grid", "p": "60"})
    warns = [w.value for w in at.warning]
    assert any("Ill-conditioned" in w and "singular value decomposition" in w for w in warns), warns
    assert not at.error


def test_monte_carlo_k_and_double_descent_peak():
    at = run({"K": "5000"})
    assert any("K = 5000" in m.label for m in at.metric)
    assert metric(at, "Peak of the min-norm curve at p") == pytest.approx(20, abs=2)  # n = 20 by default


@pytest.mark.parametrize("query", [
    {"spread": "0.01", "lam": "0", "n": "200", "sigma": "1"},
    {"spread": "10", "lam": "0", "n": "5", "sigma": "0"},
    {"spread": "10", "lam": "100", "centres": "Grid", "p": "1", "design": "Random"},
    {"f": "Step", "dd_n": "60", "dd_lam": "1"},
    {"f": "Bump", "dd_n": "5", "dd_lam": "1e-06", "sigma": "0"},
])
def test_extremes_run_without_traceback(query):
    at = run(query)
    assert not at.error, [e.value for e in at.error]
    vals = [metric(at, k) for k in ("Bias² (exact)", "Variance (exact)", "Expected test MSE")]
    assert all(np.isfinite(vals))


def test_out_of_range_link_falls_back_with_notice():
    at = run({"spread": "1000"})
    assert at.session_state["spread"] == pytest.approx(5.0)
    assert any("not used" in w.value for w in at.warning)


def test_double_descent_sentence_follows_the_slider():
    at = run({"dd_lam": "0.001"})
    assert "smaller but not gone" in text(at)
    at = run()
    assert "no peak" in text(at)


def test_a_sigma_move_reuses_the_double_descent_fits():
    """Issue 12: σ does not change the random-feature fits, only their variance; a σ move computes no new core,
    and the numbers shown are those of a computation with that σ from the start."""
    from pages._ui import cached

    at = run()
    cores = lambda: [k for k in list(cached.RESULTS._data) if k[1] == "dd_core"]  # noqa: E731
    before = cores()
    assert len(before) >= 1
    at.slider(key="sigma").set_value(0.8).run()
    assert not at.exception and cores() == before
    full = bv.double_descent_experiment(replace(bv.DD_DEFAULT, sigma=0.8).clamped())
    at_n = int(np.argmin(np.abs(full.n_features - full.n_samples)))
    assert metric(at, "Test MSE at p = n (λ → 0)") == pytest.approx(float(f"{full.mse_min_norm[at_n]:.3g}"))


def test_page_wide_moves_send_only_the_work_that_needs_a_worker(monkeypatch):
    """Issue 12: under 60 students a σ or seed move waited tens of seconds for the worker pool (three heavy jobs per
    move). Now a σ move at the defaults sends none (small fits and Monte Carlo compute in the page's process, the
    double-descent fits are cached without σ), a seed move only the new double-descent fits, and an n move to a
    large system only its fits family."""
    from pages._ui import jobs

    sent: list[str] = []
    real = jobs.run

    def spy(fn, config, key, label, on_result=None):
        sent.append(fn.__name__)
        return real(fn, config, key, label, on_result=on_result)

    monkeypatch.setattr(jobs, "run", spy)
    at = run()
    sent.clear()
    at.slider(key="sigma").set_value(0.55).run()
    assert not at.exception and sent == []
    at.number_input(key="seed").set_value(11).run()
    assert not at.exception and sent == ["dd_core"]
    sent.clear()
    at.slider(key="n").set_value(150).run()
    assert not at.exception and sent == ["fits_family"]  # one family, shared by the picture and the U-curve


def test_double_descent_above_the_light_size_is_computed_on_request():
    """Issue 12: double descent at n = 60 costs ~250 ms of SVDs, more than a move may take: a dd_n move above
    DD_LIGHT_N shows a Compute button (and computes nothing); pressing it shows the curve; a deep link computes."""
    from pages._ui import cached

    n = bv.DD_CAPS["n_samples"][1]
    assert n > bv.DD_LIGHT_N
    at = run()
    key = cached.key_of(bv.dd_core, replace(bv.DD_DEFAULT, n_samples=n).clamped().core_key())
    cores = lambda: [k for k in list(cached.RESULTS._data) if k == key]  # noqa: E731
    cached.RESULTS._data.pop(key, None)  # another test may have computed it
    at.slider(key="dd_n").set_value(n).run()
    assert not at.exception
    assert any(f"Double descent at n = {n}" in i.value for i in at.info) and cores() == []
    assert not [m for m in at.metric if m.label.startswith("Peak of the min-norm")]
    at.button(key="compute_dd").click().run()
    assert not at.exception and len(cores()) == 1
    full = bv.double_descent_experiment(replace(bv.DD_DEFAULT, n_samples=n).clamped())
    assert metric(at, "Peak of the min-norm curve at p") == full.peak
    # a light size computes on the move itself; a deep link computes whatever n it names
    at.slider(key="dd_n").set_value(bv.DD_LIGHT_N).run()
    assert not at.exception and metric(at, "Peak of the min-norm curve at p") > 0
    linked = run({"dd_n": str(n - 1)})
    assert metric(linked, "Peak of the min-norm curve at p") > 0
