"""Benchmarks of the bias–variance page (the core functions the page caches, plus its figures).

- ``bias_variance.spread_move`` / ``bias_variance.lam_move``: what a slider move costs on a cache miss —
  a spread move: the experiment (smoother, exact decomposition, K = 100 Monte-Carlo fits) and section 1's
  figures (the fits family is keyed without the spread, so it is a hit); a λ move: the experiment and the
  family of 19 spreads (frames of the fits figure and the U-curve over spread) and the figures. Budget:
  DESIGN §5, 250 ms per interaction. Reference: both old sweeps done the naive way, refitting K = 20
  training sets per sweep point in a Python loop with ``lstsq``.
- ``bias_variance.mc.k10000``: 10⁴ simulated training sets in one matrix product; reports the relative gap
  to the closed form.
- ``bias_variance.double_descent.n20``: the double-descent curve (median draw, λ scan for the peak).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench.harness import Case
from regopt_core import bias_variance as bv

MOVE_BUDGET_S = 0.250  # DESIGN §5: any interaction on a non-CT page
SPREADS = (5.0, 3.0, 2.0, 1.5, 1.0, 0.7, 0.5, 0.3, 0.2, 0.15, 0.1, 0.07)
LAMS = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


def _figures(res, family, cfg) -> None:
    from regopt_core.figures import bias_variance as figs

    figs.fig_fits(family, spread=cfg.spread).to_json()
    figs.fig_decomposition_bars(res).to_json()
    figs.fig_decomposition_x(res).to_json()
    figs.fig_mc_convergence(res).to_json()


def _naive_sweeps() -> dict:
    """Both U-curves the naive way: refit K = 20 training sets per sweep point, one lstsq each."""
    cfg = bv.DEFAULT
    x, x_eval, _, f_train, f_eval = bv.inputs(cfg)
    rng = np.random.default_rng(0)
    Y = f_train[:, None] + cfg.sigma * rng.standard_normal((x.size, 20))
    settings = [(s, cfg.lam) for s in np.geomspace(0.01, 10, 61)] + [(cfg.spread, lam) for lam in bv.LAM_GRID]
    for spread, lam in settings:
        phi = np.column_stack([np.ones_like(x), bv.rbf_features(x, x, spread=spread)])
        phi_e = np.column_stack([np.ones_like(x_eval), bv.rbf_features(x_eval, x, spread=spread)])
        pen = np.sqrt(lam) * np.eye(phi.shape[1])[1:]
        fits = []
        for k in range(Y.shape[1]):
            w, *_ = np.linalg.lstsq(np.vstack([phi, pen]), np.r_[Y[:, k], np.zeros(pen.shape[0])], rcond=None)
            fits.append(phi_e @ w)
    return {"n_refits": len(settings) * Y.shape[1]}


def _slider_moves() -> list[Case]:
    state = {"spread": 0, "lam": 0}
    family = {}

    def spread_move() -> dict:
        spread = SPREADS[state["spread"] % len(SPREADS)]
        state["spread"] += 1
        cfg = replace(bv.DEFAULT, spread=spread).clamped()
        if not family:
            family["f"] = bv.fits_family(cfg.family_key())  # a hit on the page: keyed without the spread
        res = bv.experiment(cfg)
        _figures(res, family["f"], cfg)
        return {"spread": spread, "mse_exact": round(res.exact.mse, 5)}

    def lam_move() -> dict:
        lam = LAMS[state["lam"] % len(LAMS)]
        state["lam"] += 1
        cfg = replace(bv.DEFAULT, lam=lam).clamped()
        res = bv.experiment(cfg)
        fam = bv.fits_family(cfg.family_key())
        _figures(res, fam, cfg)
        return {"lam": lam, "mse_exact": round(res.exact.mse, 5)}

    return [
        Case("bias_variance.spread_move", spread_move, repeats=12, warmup=1, budget_s=MOVE_BUDGET_S,
             reference="both sweeps by naive refits in Python loops (K=20 per point)", reference_run=_naive_sweeps),
        Case("bias_variance.lam_move", lam_move, repeats=12, warmup=1, budget_s=MOVE_BUDGET_S),
    ]


def _mc_10k() -> Case:
    cfg = replace(bv.DEFAULT, spread=0.1)
    x, x_eval, _, f_train, f_eval = bv.inputs(cfg)
    sm = bv.rbf_smoother(x, x_eval, spread=cfg.spread, lam=cfg.lam)
    exact = bv.decompose(sm, f_train, f_eval, sigma=cfg.sigma)

    def run() -> dict:
        mc = bv.simulate_bias_variance(sm, f_train, f_eval, sigma=cfg.sigma, n_draws=10_000, rng=np.random.default_rng(1))
        return {"var_rel_gap": round(abs(mc.var - exact.var) / exact.var, 5),
                "mse_rel_gap": round(abs(mc.mse - exact.mse) / exact.mse, 5)}

    return Case("bias_variance.mc.k10000", run, repeats=5)


def _double_descent() -> Case:
    def run() -> dict:
        dd = bv.double_descent_experiment(bv.DD_DEFAULT)
        return {"peak_p": dd.peak, "n": dd.n_samples, "lam_no_peak": dd.lam_no_peak}

    return Case("bias_variance.double_descent.n20", run, repeats=3)


def entries() -> list[Case]:
    return [*_slider_moves(), _mc_10k(), _double_descent()]
