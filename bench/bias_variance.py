"""Benchmarks of the bias–variance page.

- ``bias_variance.spread_move`` / ``bias_variance.lam_move``: what a slider move costs on a cache
  miss — smoother, exact decomposition, K = 100 Monte-Carlo fits, the one U-curve sweep that depends
  on the moved knob (56 λ, or 61 spreads in one batched SVD) and the page's figures; budget DESIGN §5
  "slider move on a light page" (100 ms). Reference: both sweeps done the naive way, refitting
  K = 20 training sets per sweep point in a Python loop with ``lstsq``.
- ``bias_variance.mc.k10000``: 10⁴ simulated training sets in one matrix product; reports the
  relative gap to the closed form.
- ``bias_variance.double_descent.n20``: the double-descent curve (cached on the page).
- ``page.bias-variance.rerun`` comes from ``regopt_core/benchmarks/pages.py`` (every registered page).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from regopt_core import bias_variance as bv
from bench.harness import Case

ROOT = Path(__file__).resolve().parents[1]
SLIDER_BUDGET_S = 0.100  # DESIGN §5: a slider move on a light page
SPREADS = (5.0, 3.0, 2.0, 1.5, 1.0, 0.7, 0.5, 0.3, 0.2, 0.15, 0.1, 0.07)


def _figures(res, by_spread, by_lam, exp) -> None:
    from regopt_core.figures import bias_variance as figs

    figs.fig_fits(res, spread=exp.spread, lam=exp.lam)
    figs.fig_decomposition_bars(res)
    figs.fig_decomposition_x(res)
    figs.fig_mc_convergence(res)
    figs.fig_u_curve(by_spread, exp.spread)
    figs.fig_u_curve(by_lam, exp.lam)
    figs.fig_train_test_df(by_lam, 0, n_samples=exp.n_samples)


def _naive_sweeps() -> dict:
    """Both U-curves the naive way: refit K = 20 training sets per sweep point, one lstsq each."""
    exp = bv.LECTURE
    x, x_eval, _ = exp.inputs()
    f = bv.true_function(exp.function)
    rng = np.random.default_rng(0)
    Y = f(x)[:, None] + exp.sigma * rng.standard_normal((x.size, 20))
    settings = [(s, exp.lam) for s in bv.SPREAD_GRID] + [(exp.spread, lam) for lam in bv.LAM_GRID]
    mse = []
    for spread, lam in settings:
        phi = np.column_stack([np.ones_like(x), bv.rbf_features(x, x, spread=spread)])
        phi_e = np.column_stack([np.ones_like(x_eval), bv.rbf_features(x_eval, x, spread=spread)])
        pen = np.sqrt(lam) * np.eye(phi.shape[1])[1:]
        fits = []
        for k in range(Y.shape[1]):
            w, *_ = np.linalg.lstsq(np.vstack([phi, pen]), np.r_[Y[:, k], np.zeros(pen.shape[0])], rcond=None)
            fits.append(phi_e @ w)
        fits = np.array(fits)
        mse.append(np.mean((fits.mean(0) - f(x_eval)) ** 2) + fits.var(0, ddof=1).mean() + exp.sigma**2)
    return {"n_refits": len(settings) * Y.shape[1]}


def _slider_moves() -> list[Case]:
    """A cache miss on the page: a spread move recomputes the experiment and the λ sweep (the spread
    sweep does not depend on the spread); a λ move recomputes the experiment and the spread sweep."""
    state = {"spread": 0, "lam": 0}
    lams = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
    cached = {}

    def baseline():
        if not cached:
            by_spread, by_lam = bv.run_sweeps(bv.LECTURE, rng=np.random.default_rng(0))
            cached.update(by_spread=by_spread, by_lam=by_lam)
        return cached

    def spread_move() -> dict:
        spread = SPREADS[state["spread"] % len(SPREADS)]
        state["spread"] += 1
        exp = replace(bv.LECTURE, spread=spread)
        res = bv.run_experiment(exp, n_draws=100, n_keep=30, rng=np.random.default_rng(0))
        _, by_lam = bv.run_sweeps(exp, spreads=None, rng=np.random.default_rng(0))
        _figures(res, baseline()["by_spread"], by_lam, exp)
        return {"spread": spread, "mse_exact": round(res.exact.mse, 5)}

    def lam_move() -> dict:
        lam = lams[state["lam"] % len(lams)]
        state["lam"] += 1
        exp = replace(bv.LECTURE, lam=lam)
        res = bv.run_experiment(exp, n_draws=100, n_keep=30, rng=np.random.default_rng(0))
        by_spread, _ = bv.run_sweeps(exp, lams=None, rng=np.random.default_rng(0))
        _figures(res, by_spread, baseline()["by_lam"], exp)
        return {"lam": lam, "mse_exact": round(res.exact.mse, 5)}

    return [
        Case("bias_variance.spread_move", spread_move, repeats=12, warmup=1, budget_s=SLIDER_BUDGET_S,
             reference="both sweeps by naive refits in Python loops (K=20 per point)", reference_run=_naive_sweeps),
        Case("bias_variance.lam_move", lam_move, repeats=12, warmup=1, budget_s=SLIDER_BUDGET_S),
    ]


def _mc_10k() -> Case:
    exp = replace(bv.LECTURE, spread=0.1)
    x, x_eval, _ = exp.inputs()
    f = bv.true_function(exp.function)
    sm = bv.rbf_smoother(x, x_eval, spread=exp.spread, lam=exp.lam)
    exact = bv.decompose(sm, f(x), f(x_eval), sigma=exp.sigma)

    def run() -> dict:
        mc = bv.simulate_bias_variance(sm, f(x), f(x_eval), sigma=exp.sigma, n_draws=10_000,
                                       rng=np.random.default_rng(1))
        return {"var_rel_gap": round(abs(mc.var - exact.var) / exact.var, 5),
                "noise_gap": round(mc.mse - mc.bias2 - mc.var - exp.sigma**2, 6)}

    return Case("bias_variance.mc.k10000", run, repeats=5)


def _double_descent() -> Case:
    x = bv.sample_design(20)
    x_eval = np.linspace(0, 1, 200)
    f = bv.true_function("dip")
    p = np.unique(np.r_[np.round(np.geomspace(1, 200, 28)).astype(int), np.arange(17, 24)])

    def run() -> dict:
        dd = bv.double_descent(x, x_eval, f(x), f(x_eval), n_features=p, sigma=0.3, rng=np.random.default_rng(0))
        return {"peak_p": dd.peak, "n": 20}

    return Case("bias_variance.double_descent.n20", run, repeats=3)


def entries() -> list[Case]:
    return [*_slider_moves(), _mc_10k(), _double_descent()]
