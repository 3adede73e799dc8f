"""Cached computations of the loss-landscape page (primitive arguments only; sizes capped here)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._ui.cached import LARGE, SMALL, pinned
from regopt_core import landscapes
from regopt_core.figures import landscapes as figs
from regopt_core.functions import Surface, make_surface

GRID_N = 101
N_LOGISTIC = 60

RACE_DEFAULTS = dict(surface_key="quadratic", kappa=10.0, theta=30.0, lam=0.05, penalty="l2", seed=0,
                     x0=None, y0=None, entries=(("gd", 1.0, 0.9), ("momentum", 0.1, 0.9), ("adam", 0.1, 0.9)),
                     n_steps=300)


def surface(surface_key: str, kappa: float, theta: float, lam: float, penalty: str, seed: int) -> Surface:
    """The surface for these settings (cheap; the logistic one is cached because it solves for w*)."""
    if surface_key == "logistic":
        return _logistic(float(lam), penalty, int(seed))
    return make_surface(surface_key, kappa=float(kappa), theta_deg=float(theta))


@st.cache_data(**SMALL)
def _logistic(lam: float, penalty: str, seed: int) -> Surface:
    return make_surface("logistic", lam=lam, penalty=penalty, n_samples=N_LOGISTIC, rng=np.random.default_rng(seed))


@pinned
@st.cache_data(**SMALL)
def grid(surface_key: str, kappa: float, theta: float, lam: float, penalty: str, seed: int) -> landscapes.Grid:
    return landscapes.surface_grid(surface(surface_key, kappa, theta, lam, penalty, seed), n=GRID_N)


@pinned
@st.cache_data(**LARGE)
def race(surface_key: str, kappa: float, theta: float, lam: float, penalty: str, seed: int,
         x0: float | None, y0: float | None, entries: tuple[tuple[str, float, float], ...],
         n_steps: int) -> landscapes.Race:
    """Race ``entries`` = ((name, learning_rate, beta), ...) from (x0, y0) (None: the surface's start)."""
    s = surface(surface_key, kappa, theta, lam, penalty, seed)
    start = (s.start[0] if x0 is None else float(x0), s.start[1] if y0 is None else float(y0))
    specs = [landscapes.RaceEntry(n, float(lr), float(b)) for n, lr, b in entries[: landscapes.MAX_RACERS]]
    return landscapes.race(s, specs, start, n_steps=min(int(n_steps), landscapes.MAX_STEPS))


@st.cache_data(**SMALL)
def gradient_sweep(surface_key: str, kappa: float, theta: float, lam: float, penalty: str, seed: int,
                   px: float, py: float, bug: bool = False):
    s = surface(surface_key, kappa, theta, lam, penalty, seed)
    return landscapes.gradient_sweep(s, (float(px), float(py)), bug=bool(bug))


@pinned
@st.cache_data(**SMALL)
def compare_search(d: int, n_evals: int, seed: int) -> landscapes.SearchComparison:
    return landscapes.compare_search(min(int(d), landscapes.MAX_DIM), n_evals=min(int(n_evals), landscapes.MAX_EVALS),
                                     rng=np.random.default_rng(seed))


@st.cache_data(**SMALL)
def search_vs_dimension(n_evals: int, seed: int, d_extra: int) -> landscapes.DimensionSweep:
    dims = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, min(int(d_extra), landscapes.MAX_DIM))
    return landscapes.search_vs_dimension(dims, n_evals=min(int(n_evals), landscapes.MAX_EVALS),
                                          rng=np.random.default_rng(seed))




# ------------------------------------------------------------------------------------------------ figures
# Figures are cached as plain dicts and re-opened without plotly's validation (which costs more than
# everything else on this page); the builders themselves are pure and tested in tests/figures.
@pinned
@st.cache_data(**LARGE)
def race_figures(surface_key: str, kappa: float, theta: float, lam: float, penalty: str, seed: int,
                 x0: float | None, y0: float | None, entries: tuple[tuple[str, float, float], ...],
                 n_steps: int) -> dict[str, dict]:
    """Contour (animated, clickable) and convergence figures of a race, as dicts."""
    s = surface(surface_key, kappa, theta, lam, penalty, seed)
    r = race(surface_key, kappa, theta, lam, penalty, seed, x0, y0, entries, n_steps)
    g = grid(surface_key, kappa, theta, lam, penalty, seed)
    extra = []
    if surface_key == "logistic" and lam > 0:
        w0 = surface("logistic", kappa, theta, 0.0, penalty, seed).minimizers[0]
        extra = [(w0[0], w0[1], "minimum without regularization (λ = 0)", "diamond")]
    return {"contour": figs.fig_race_contour(r, g, s, extra_points=extra).to_dict(),
            "convergence": figs.fig_convergence(r, s).to_dict()}


@st.cache_data(max_entries=16, show_spinner=False)
def surface3d_figure(surface_key: str, kappa: float, theta: float, lam: float, penalty: str, seed: int,
                     x0: float | None, y0: float | None, entries: tuple[tuple[str, float, float], ...],
                     n_steps: int) -> dict:
    s = surface(surface_key, kappa, theta, lam, penalty, seed)
    r = race(surface_key, kappa, theta, lam, penalty, seed, x0, y0, entries, n_steps)
    return figs.fig_surface_3d(grid(surface_key, kappa, theta, lam, penalty, seed), r, s).to_dict()


@st.cache_data(**SMALL)
def ruler_figure(rows: tuple[tuple[str, str, float, float | None, str | None], ...], lo: float, hi: float,
                 lipschitz: float | None) -> dict:
    return figs.fig_step_ruler(rows, lo, hi, lipschitz=lipschitz).to_dict()


@pinned
@st.cache_data(**SMALL)
def gradient_figure(surface_key: str, kappa: float, theta: float, lam: float, penalty: str, seed: int,
                    px: float, py: float, bug: bool = False) -> dict:
    return figs.fig_gradient_check(gradient_sweep(surface_key, kappa, theta, lam, penalty, seed, px, py, bug)).to_dict()


@pinned
@st.cache_data(**SMALL)
def search_figures(d: int, n_evals: int, seed: int) -> dict[str, dict]:
    return {"evals": figs.fig_search_vs_evals(compare_search(d, n_evals, seed)).to_dict(),
            "dims": figs.fig_search_vs_dimension(search_vs_dimension(n_evals, seed, d), d_now=d).to_dict()}


def warm_defaults() -> None:
    """The page's default view, pinned: the default race and its figures, gradient check and search."""
    d = RACE_DEFAULTS
    args = (d["surface_key"], d["kappa"], d["theta"], d["lam"], d["penalty"], d["seed"])
    grid.pin(*args)
    race.pin(*args, d["x0"], d["y0"], d["entries"], d["n_steps"])
    race_figures.pin(*args, d["x0"], d["y0"], d["entries"], d["n_steps"])
    gradient_figure.pin("rosenbrock", 10.0, 30.0, 0.05, "l2", 0, -1.2, 1.0, False)
    compare_search.pin(10, 1000, 0)
    search_figures.pin(10, 1000, 0)
