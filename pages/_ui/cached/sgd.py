"""Cached computations of the SGD page (primitive arguments only; every size capped here).

Each panel derives its own generator from the page seed, ``np.random.default_rng([seed, panel])``,
so changing one panel's settings never changes another panel's random numbers.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._ui.cached import SMALL
from regopt_core import sgd
from regopt_core.figures import sgd as figs

MAX_BATCH_SIZES = 7  # one colour each
REG_MAX_STEPS = 10_000  # cheap 2-parameter updates
TRAJECTORY_START = (-1.0, 2.0)
NOISE_FLOOR_LRS = (0.01, 0.03, 0.1)
NOISE_FLOOR_BATCHES = (1, 4, 16, 64)
MAX_EQUAL_STEPS = 2000

_PANEL = {"digits": 1, "equal_steps": 2, "paths": 3, "noise": 4, "floor": 5, "critical": 6}


def _rng(seed: int, panel: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) % 2**32, _PANEL[panel]])


def clean_batches(batch_sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Sorted, unique, at most :data:`MAX_BATCH_SIZES` positive batch sizes (the smallest kept)."""
    sizes = sorted({int(b) for b in batch_sizes if int(b) >= 1})
    return tuple(sizes[:MAX_BATCH_SIZES])


def _epochs(n_epochs: float) -> float:
    return float(min(max(n_epochs, 0.0), sgd.MAX_EPOCHS))


@st.cache_data(**SMALL)
def digits_runs(batch_sizes: tuple[int, ...], lr: float, scale_lr: bool, n_epochs: float, replace: bool,
                seed: int) -> sgd.BatchComparison:
    """Softmax regression on digits, one SGD run per batch size (capped at 10,000 updates each)."""
    return sgd.digits_runs(clean_batches(batch_sizes), lr=lr, scale_lr=scale_lr, n_epochs=_epochs(n_epochs),
                           replace=replace, rng=_rng(seed, "digits"))


@st.cache_data(**SMALL)
def digits_equal_steps(batch_sizes: tuple[int, ...], lr: float, scale_lr: bool, n_steps: int, replace: bool,
                       seed: int) -> sgd.BatchComparison:
    """The same runs for an equal number of updates (capped at 2,000)."""
    n_steps = int(min(max(n_steps, 1), MAX_EQUAL_STEPS))
    return sgd.digits_runs(clean_batches(batch_sizes), lr=lr, scale_lr=scale_lr, n_steps=n_steps, replace=replace,
                           rng=_rng(seed, "equal_steps"))


@st.cache_resource(show_spinner=False)
def regression() -> sgd.LeastSquares:
    """The 2-parameter diabetes least-squares problem (read-only, shared)."""
    X, y, _ = sgd.diabetes_pair()
    return sgd.least_squares(X, y)


def regression_names() -> tuple[str, str]:
    return sgd.diabetes_pair()[2]


@st.cache_data(**SMALL)
def regression_paths(batch_sizes: tuple[int, ...], lr: float, scale_lr: bool, n_epochs: float, replace: bool,
                     seed: int) -> dict:
    """SGD paths of every batch size on the 2-parameter problem, and the loss contours behind them."""
    obj = regression()
    runs = sgd.compare_batch_sizes(obj, np.array(TRAJECTORY_START), clean_batches(batch_sizes), lr=lr,
                                   scale_lr=scale_lr, n_epochs=_epochs(n_epochs), replace=replace,
                                   max_steps=REG_MAX_STEPS, n_record=None, keep_path=True, rng=_rng(seed, "paths"))
    star = obj.minimizer()
    w1 = np.linspace(-1.6, 2.6, 121)
    w2 = np.linspace(-1.6, 2.6, 121)
    lmax = float(np.linalg.eigvalsh(obj.hessian()).max())
    return {"runs": runs, "w1": w1, "w2": w2, "grid": obj.loss_grid(w1, w2), "theta_star": star,
            "f_star": obj.loss(star), "lmax": lmax}


@st.cache_data(**SMALL)
def gradient_noise(point: str, cloud_batch_sizes: tuple[int, ...], replace: bool, seed: int) -> dict:
    """Per-example gradients at ``point`` ("start" or "minimum"), clouds and variance vs B (both samplings)."""
    obj = regression()
    theta = np.array(TRAJECTORY_START) if point == "start" else obj.minimizer()
    G = obj.per_example_grads(theta)
    a, b = _rng(seed, "noise").spawn(2)
    clouds = clean_batches(cloud_batch_sizes)
    main = sgd.measure_gradient_noise(G, cloud_batch_sizes=clouds, n_draws=4000, n_cloud=300, replace=replace,
                                      theta=theta, rng=a)
    other = sgd.measure_gradient_noise(G, n_draws=4000, replace=not replace, theta=theta, rng=b)
    without, with_ = (other, main) if replace else (main, other)
    return {"main": main, "without": without, "with": with_}


@st.cache_data(**SMALL)
def noise_floor(seed: int) -> sgd.NoiseFloor:
    """Stationary excess loss for η in (0.01, 0.03, 0.1) and B in (1, 4, 16, 64), with replacement."""
    return sgd.measure_noise_floor(regression(), lrs=NOISE_FLOOR_LRS, batch_sizes=NOISE_FLOOR_BATCHES,
                                   n_steps=800, n_replicas=32, rng=_rng(seed, "floor"))


@st.cache_data(**SMALL)
def critical(seed: int) -> sgd.CriticalBatch:
    """Best one-step learning rate vs B at the trajectory's start point."""
    return sgd.critical_batch(regression(), np.array(TRAJECTORY_START), n_draws=2000, rng=_rng(seed, "critical"))


def warm_defaults() -> None:
    """Compute the page's default view once per server process."""
    b = sgd.DEFAULT_BATCH_SIZES
    digits_runs(b, sgd.DEFAULT_LR, False, sgd.DEFAULT_EPOCHS, False, 0)
    regression_paths(b, sgd.DEFAULT_LR, False, sgd.DEFAULT_EPOCHS, False, 0)
    gradient_noise("start", b, False, 0)
    digits_equal_steps(b, sgd.DEFAULT_LR, False, sgd.DEFAULT_EQUAL_STEPS, False, 0)
    noise_floor(0)
    critical(0)
    loss_figure(b, sgd.DEFAULT_LR, False, sgd.DEFAULT_EPOCHS, False, 0, False)
    paths_figure(b, sgd.DEFAULT_LR, False, sgd.DEFAULT_EPOCHS, False, 0)
    noise_figures("start", b, False, 0)
    floor_figure(0)
    accuracy_figure(b, sgd.DEFAULT_LR, False, sgd.DEFAULT_EPOCHS, sgd.DEFAULT_EQUAL_STEPS, False, 0)
    critical_figure(0)


# ------------------------------------------------------------------------------------------------ figures
# Figures are cached as plain dicts and reopened without plotly's validation (building them costs more
# than the rest of a warm rerun); the builders themselves are pure and tested in tests/figures.
@st.cache_data(**SMALL)
def loss_figure(batch_sizes: tuple[int, ...], lr: float, scale_lr: bool, n_epochs: float, replace: bool, seed: int,
                log_y: bool) -> dict:
    runs = digits_runs(batch_sizes, lr, scale_lr, n_epochs, replace, seed)
    return figs.fig_loss_curves(runs, y_title="training loss (cross-entropy + L2)", log_y=log_y).to_dict()


@st.cache_data(**SMALL)
def paths_figure(batch_sizes: tuple[int, ...], lr: float, scale_lr: bool, n_epochs: float, replace: bool,
                 seed: int) -> dict:
    res = regression_paths(batch_sizes, lr, scale_lr, n_epochs, replace, seed)
    names = regression_names()
    return figs.fig_trajectories(res["runs"], res["w1"], res["w2"], res["grid"], res["theta_star"],
                                 names=(f"θ₁, weight of {names[0]}", f"θ₂, weight of {names[1]}")).to_dict()


@st.cache_data(**SMALL)
def noise_figures(point: str, cloud_batch_sizes: tuple[int, ...], replace: bool, seed: int) -> dict:
    res = gradient_noise(point, cloud_batch_sizes, replace, seed)
    return {"cloud": figs.fig_gradient_cloud(res["main"]).to_dict(),
            "variance": figs.fig_gradient_variance(res["without"], res["with"]).to_dict()}


@st.cache_data(**SMALL)
def floor_figure(seed: int) -> dict:
    return figs.fig_noise_floor(noise_floor(seed)).to_dict()


@st.cache_data(**SMALL)
def accuracy_figure(batch_sizes: tuple[int, ...], lr: float, scale_lr: bool, n_epochs: float, n_steps: int,
                    replace: bool, seed: int) -> dict:
    by_epochs = digits_runs(batch_sizes, lr, scale_lr, n_epochs, replace, seed)
    by_steps = digits_equal_steps(batch_sizes, lr, scale_lr, n_steps, replace, seed)
    return figs.fig_accuracy_vs_batch(np.array(by_epochs.batch_sizes), np.array(by_epochs.test_accuracy),
                                      np.array(by_steps.test_accuracy), n_samples=by_epochs.traces[0].n_samples,
                                      n_epochs=n_epochs, n_steps=int(min(max(n_steps, 1), MAX_EQUAL_STEPS))).to_dict()


@st.cache_data(**SMALL)
def critical_figure(seed: int) -> dict:
    return figs.fig_critical_batch(critical(seed), n_samples=regression().n_samples).to_dict()
