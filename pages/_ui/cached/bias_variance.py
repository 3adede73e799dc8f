"""Cached computations of the bias–variance page (primitive arguments only; sizes capped here)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._ui.cached import SMALL
from regopt_core import bias_variance as bv

MAX_SAMPLES = 200  # n on the page (the numerics allow 400)
MAX_SETS = 5000  # K training sets simulated
MAX_CENTRES = 200
N_SHOWN = 30  # fitted curves drawn
DD_REPEATS = 9

DEFAULTS = dict(function=bv.LECTURE.function, n_samples=bv.LECTURE.n_samples, sigma=bv.LECTURE.sigma,
                spread=bv.LECTURE.spread, lam=bv.LECTURE.lam, centres="inputs", n_centres=bv.LECTURE.n_centres,
                design="grid", seed=0)
DEFAULT_SETS = 100


def _experiment(function: str, n_samples: int, sigma: float, spread: float, lam: float, centres: str,
                n_centres: int, design: str) -> bv.Experiment:
    return bv.Experiment(
        function=function,
        n_samples=int(np.clip(n_samples, 5, MAX_SAMPLES)),
        sigma=float(np.clip(sigma, 0.0, 10.0)),
        spread=float(np.clip(spread, 1e-3, 100.0)),
        lam=float(np.clip(lam, 0.0, 1e6)),
        centres=centres,
        n_centres=int(np.clip(n_centres, 1, MAX_CENTRES)),
        design=design,
    )


@st.cache_data(**SMALL)
def experiment(function: str, n_samples: int, sigma: float, spread: float, lam: float, centres: str,
               n_centres: int, design: str, n_sets: int, seed: int) -> bv.ExperimentResult:
    """Smoother, exact decomposition and a K-set Monte Carlo (K capped at ``MAX_SETS``)."""
    exp = _experiment(function, n_samples, sigma, spread, lam, centres, n_centres, design)
    k = int(np.clip(n_sets, 2, MAX_SETS))
    return bv.run_experiment(exp, n_draws=k, n_keep=N_SHOWN, rng=np.random.default_rng(seed))


@st.cache_data(**SMALL)
def sweep_over_spread(function: str, n_samples: int, sigma: float, lam: float, centres: str, n_centres: int,
                      design: str, seed: int) -> bv.Sweep:
    """U-curve over spread at λ (closed form; one batched SVD). Independent of the current spread."""
    exp = _experiment(function, n_samples, sigma, 1.0, lam, centres, n_centres, design)
    return bv.run_sweeps(exp, lams=None, rng=np.random.default_rng(seed))[0]


@st.cache_data(**SMALL)
def sweep_over_lam(function: str, n_samples: int, sigma: float, spread: float, centres: str, n_centres: int,
                   design: str, seed: int) -> bv.Sweep:
    """U-curve over λ at the spread (closed form; one SVD). Independent of the current λ."""
    exp = _experiment(function, n_samples, sigma, spread, 0.0, centres, n_centres, design)
    return bv.run_sweeps(exp, spreads=None, rng=np.random.default_rng(seed))[1]


def sweeps(function: str, n_samples: int, sigma: float, spread: float, lam: float, centres: str,
           n_centres: int, design: str, seed: int) -> tuple[bv.Sweep, bv.Sweep]:
    """Both U-curves; a λ move recomputes only the spread sweep and a spread move only the λ sweep."""
    return (sweep_over_spread(function, n_samples, sigma, lam, centres, n_centres, design, seed),
            sweep_over_lam(function, n_samples, sigma, spread, centres, n_centres, design, seed))


def dd_features(n_samples: int) -> np.ndarray:
    """Feature counts for the double-descent curve: log-spaced up to 10 n, dense around p = n."""
    n = int(n_samples)
    return np.unique(np.r_[np.round(np.geomspace(1, 10 * n, 28)).astype(int), np.arange(max(1, n - 3), n + 4)])


@st.cache_data(**SMALL)
def double_descent(function: str, n_samples: int, sigma: float, lam: float, seed: int) -> bv.DoubleDescent:
    """Min-norm and ridge random-feature fits for p from 1 to 10 n (n capped at 60 here: p ≤ 600)."""
    n = int(np.clip(n_samples, 5, 60))
    x = bv.sample_design(n)
    x_eval = np.linspace(0.0, 1.0, 200)
    f = bv.true_function(function)
    return bv.double_descent(x, x_eval, f(x), f(x_eval), n_features=dd_features(n), sigma=float(np.clip(sigma, 0.0, 10.0)),
                             lam=float(np.clip(lam, 0.0, 1e6)), n_repeats=DD_REPEATS, rng=np.random.default_rng(seed))


def warm_defaults() -> None:
    d = DEFAULTS
    experiment(d["function"], d["n_samples"], d["sigma"], d["spread"], d["lam"], d["centres"], d["n_centres"],
               d["design"], DEFAULT_SETS, d["seed"])
    sweeps(d["function"], d["n_samples"], d["sigma"], d["spread"], d["lam"], d["centres"], d["n_centres"],
           d["design"], d["seed"])
    double_descent(d["function"], 20, d["sigma"], 1e-3, d["seed"])
