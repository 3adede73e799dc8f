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
- ``bias_variance.own.*`` ("Your points"): parsing 2,000 pasted points; a spread/λ move on the 442-point example
  (the fit and B = 200 bootstrap refits; the CV surface is keyed without spread and λ, so it is a hit) against the
  250 ms interaction budget, with the naive reference (one SVD refit per resample); the CV surface (19 spreads ×
  28 λ × 5 folds) and the fit at the 2,000-point cap, heavy jobs against the 5 s compute budget.
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


def _own_points() -> list[Case]:
    from regopt_core.bias_variance import own_data as od
    from regopt_core.figures import bias_variance as figs

    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 10, od.MAX_POINTS))
    big = "x,y\n" + "\n".join(f"{a!r},{b!r}" for a, b in zip(x.tolist(), (np.sin(x) + 0.3 * rng.standard_normal(x.size)).tolist()))
    example = od.example_csv()
    state = {"i": 0}

    def move() -> dict:
        spread = SPREADS[state["i"] % len(SPREADS)]
        state["i"] += 1
        cfg = bv.OwnData(bv.points_ref(example), spread=spread).clamped()
        fit = bv.own_fit(cfg)
        figs.fig_own_fit(fit).to_json()
        return {"n": 442, "n_boot": fit.n_boot, "boot_var": round(fit.boot_var, 3)}

    def naive_move() -> None:  # the same refits, one SVD per resample (the smoother's route)
        cfg = bv.OwnData(bv.points_ref(example), spread=SPREADS[state["i"] % len(SPREADS)]).clamped()
        pts = cfg.points()
        u, y = pts.rescale(pts.x), np.asarray(pts.y)
        phi = bv.rbf_features(u, od.centres_for(pts.n), spread=cfg.spread)
        for idx in od.bootstrap_indices(pts.n, cfg.n_boot, cfg.seed):
            od.ridge_predict(phi[idx], y[idx], phi, [cfg.lam])

    def cv_big() -> dict:
        cv = bv.own_cv(bv.OwnData(bv.points_ref(big)).clamped().cv_key())
        return {"n": cv.n_points, "cells": int(cv.mse.size), "best_spread": cv.best_spread, "best_lam": cv.best_lam}

    def fit_big() -> dict:
        fit = bv.own_fit(bv.OwnData(bv.points_ref(big)).clamped())
        return {"n": od.MAX_POINTS, "n_boot": fit.n_boot}

    return [
        Case("bias_variance.own.parse.n2000", lambda: {"n": bv.parse_points(big).n}, repeats=5, budget_s=0.1),
        Case("bias_variance.own.move.n442", move, repeats=8, warmup=1, budget_s=MOVE_BUDGET_S,
             reference="one SVD refit per bootstrap resample", reference_run=naive_move),
        Case("bias_variance.own.cv.n2000", cv_big, repeats=2, warmup=0, budget_s=5.0),
        Case("bias_variance.own.fit.n2000", fit_big, repeats=3, warmup=0, budget_s=5.0),
    ]


def entries() -> list[Case]:
    return [*_slider_moves(), _mc_10k(), _double_descent(), *_own_points()]
