"""Cached computations of the dataset-splits page (primitive arguments only; every size capped here).

Each panel derives its own generator from the page seed, ``np.random.default_rng([seed, panel])``,
so changing one panel's settings never changes another panel's random numbers.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages._ui.cached import LARGE, SMALL, pinned
from regopt_core import splits
from regopt_core.figures import splits as figs

N_REPEATS = 100  # random studies per repeated-split experiment (the numerics cap further if needed)
N_REPEATS_BEST_OF_K = 2000
N_REPEATS_ESL = 20
N_REPEATS_LEAK = 100

DEFAULTS = {
    "problem": "sine",
    "n_samples": 40,
    "n_models": 30,
    "n_folds": 5,
    "bk_models": 100,
    "bk_test": 1000,
    "bk_acc": 0.8,
}

_PANEL = {"curves": 1, "compare": 2, "best_of_k": 3, "early": 4, "esl": 5, "prep": 6, "patients": 7}


def _rng(seed: int, panel: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) % 2**32, _PANEL[panel]])


def _clip_int(v, lo: int, hi: int) -> int:
    return int(min(max(int(v), lo), hi))


@pinned
@st.cache_data(**SMALL)
def curves(problem: str, n_samples: int, n_models: int, n_folds: int, seed: int) -> splits.ErrorCurves:
    """One study's error curves against lambda."""
    return splits.error_curves(problem, n_samples=_clip_int(n_samples, 8, splits.MAX_SAMPLES),
                               n_models=_clip_int(n_models, 1, splits.MAX_MODELS), n_folds=int(n_folds),
                               rng=_rng(seed, "curves"))


@pinned
@st.cache_data(**LARGE)
def comparison(problem: str, n_samples: int, n_models: int, n_folds: int, seed: int) -> splits.ApproachComparison:
    """All five protocols on the same random studies (the heavy one: cached and pinned at defaults)."""
    return splits.compare_approaches(problem, n_samples=_clip_int(n_samples, 8, splits.MAX_SAMPLES),
                                     n_models=_clip_int(n_models, 1, splits.MAX_MODELS), n_folds=int(n_folds),
                                     n_repeats=N_REPEATS, rng=_rng(seed, "compare"))


@pinned
@st.cache_data(**SMALL)
def best_of_k(n_test: int, accuracy: float, n_models: int, seed: int) -> splits.BestOfK:
    return splits.simulate_best_of_k(_clip_int(n_test, 1, 100_000), float(accuracy),
                                     _clip_int(n_models, 1, splits.MAX_MODELS), n_repeats=N_REPEATS_BEST_OF_K,
                                     rng=_rng(seed, "best_of_k"))


@pinned
@st.cache_data(**SMALL)
def early(n_features: int, sigma: float, n_epochs: int, seed: int) -> splits.EarlyStopping:
    return splits.early_stopping(n_features=_clip_int(n_features, 1, 200), sigma=float(sigma),
                                 n_epochs=_clip_int(n_epochs, 1, splits.MAX_EPOCHS), rng=_rng(seed, "early"))


@pinned
@st.cache_data(**SMALL)
def esl(n_samples: int, n_features: int, n_keep: int, n_folds: int, seed: int) -> splits.LeakResult:
    return splits.selection_leak(_clip_int(n_samples, 4, 500), _clip_int(n_features, 1, splits.MAX_FEATURES),
                                 _clip_int(n_keep, 1, splits.MAX_FEATURES), n_folds=int(n_folds),
                                 n_repeats=N_REPEATS_ESL, rng=_rng(seed, "esl"))


@pinned
@st.cache_data(**SMALL)
def preprocessing(n_samples: int, n_folds: int, seed: int) -> splits.LeakResult:
    return splits.preprocessing_leak(_clip_int(n_samples, 10, 400), n_folds=int(n_folds),
                                     n_repeats=N_REPEATS_LEAK, rng=_rng(seed, "prep"))


@pinned
@st.cache_data(**SMALL)
def patients(n_patients: int, n_per_patient: int, n_folds: int, seed: int) -> splits.LeakResult:
    return splits.patient_leak(_clip_int(n_patients, 4, splits.MAX_PATIENTS),
                               _clip_int(n_per_patient, 1, splits.MAX_PER_PATIENT), n_folds=int(n_folds),
                               n_repeats=N_REPEATS_LEAK, rng=_rng(seed, "patients"))


def warm_defaults() -> None:
    """The page's default view, computed once per server process and pinned."""
    d = DEFAULTS
    curves.pin(d["problem"], d["n_samples"], d["n_models"], d["n_folds"], 0)
    comparison.pin(d["problem"], d["n_samples"], d["n_models"], d["n_folds"], 0)
    best_of_k.pin(d["bk_test"], d["bk_acc"], d["bk_models"], 0)
    early.pin(40, 0.3, 3000, 0)
    esl.pin(50, 5000, 100, 5, 0)
    preprocessing.pin(100, 5, 0)
    patients.pin(40, 5, 5, 0)


# ---------------------------------------------------------------------------------------------------
# Figures, cached as plain dicts (building a plotly figure costs ~20 ms; thawing a dict ~2 ms)
# ---------------------------------------------------------------------------------------------------
def thaw(fig_dict: dict) -> go.Figure:
    """A figure from a cached ``to_dict()``, without re-validating it."""
    return go.Figure(fig_dict, _validate=False)


def picks(c: splits.ErrorCurves) -> dict[str, int]:
    """Index of the lambda each protocol picks in one study."""
    return {
        "approach 1 (training)": int(np.argmin(c.train + 1e-12 * np.arange(c.lams.size))),
        "approach 3 (validation)": int(np.argmin(c.validation)),
        "CV": int(np.argmin(c.cv)),
    }


@st.cache_data(**SMALL)
def curves_figures(problem: str, n_samples: int, n_models: int, n_folds: int, seed: int) -> tuple[dict, dict | None]:
    c = curves(problem, n_samples, n_models, n_folds, seed)
    p = picks(c)
    fig = figs.fig_error_curves(c, chosen={k: c.lams[j] for k, j in p.items()}).to_dict()
    return fig, (figs.fig_fits(c, p).to_dict() if c.x_plot is not None else None)


@st.cache_data(**SMALL)
def comparison_figures(problem: str, n_samples: int, n_models: int, n_folds: int, seed: int) -> tuple[dict, ...]:
    cmp = comparison(problem, n_samples, n_models, n_folds, seed)
    return (figs.fig_reported_vs_true(cmp).to_dict(), figs.fig_optimism_boxes(cmp).to_dict(),
            figs.fig_test_tuning_histogram(cmp).to_dict())


@st.cache_data(**SMALL)
def best_of_k_figures(n_test: int, accuracy: float, n_models: int, seed: int) -> tuple[dict, dict]:
    res = best_of_k(n_test, accuracy, n_models, seed)
    return (figs.fig_best_of_k(res).to_dict(),
            figs.fig_optimism_vs_k(n_test=res.n_test, accuracy=res.accuracy, mark=res).to_dict())


@st.cache_data(**SMALL)
def early_figure(n_features: int, sigma: float, n_epochs: int, show_ridge: bool, seed: int) -> dict:
    return figs.fig_early_stopping(early(n_features, sigma, n_epochs, seed), show_ridge=show_ridge).to_dict()


@st.cache_data(**SMALL)
def leak_figure(which: str, args: tuple, title: str) -> dict:
    fn = {"esl": esl, "prep": preprocessing, "patients": patients}[which]
    return figs.fig_leak(fn(*args), title=title).to_dict()
