r"""Random search versus gradient descent as the dimension grows (part of :mod:`regopt_core.landscapes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from regopt_core.gradients import numerical_gradient
from regopt_core.landscapes.configs import MAX_DIM, MAX_EVALS, SearchConfig
from regopt_core.optimizers import gd, run
from regopt_core.seeding import stream

__all__ = ["diagonal_quadratic", "random_search", "SearchComparison", "compare_search", "DimensionSweep",
           "search_vs_dimension", "SearchResult", "search_experiment", "search_comparison", "search_sweep",
           "warm_pairs"]


def diagonal_quadratic(d: int, *, kappa: float = 10.0) -> np.ndarray:
    r"""Curvatures :math:`h_i` of :math:`f(x) = \tfrac12\sum_i h_i x_i^2`, log-spaced in :math:`[1/\kappa, 1]`."""
    d = int(d)
    if d == 1:
        return np.ones(1)
    return np.geomspace(1.0 / float(kappa), 1.0, d)


def random_search(h: np.ndarray, n_evals: int, *, radius: float = 1.0, rng: np.random.Generator,
                  chunk: int = 256) -> np.ndarray:
    r"""Pure random search on :math:`f(x) = \tfrac12 \sum_i h_i x_i^2`: best loss after each evaluation.

    Candidates are drawn independently and uniformly from the box :math:`[-r, r]^d`; the result is
    the running minimum :math:`\min_{j \le k} f(x_j)`, :math:`k = 1 \ldots n`. Sampling happens in
    chunks so memory stays at ``chunk * d`` numbers.
    """
    h = np.asarray(h, dtype=float)
    if not (1 <= int(n_evals) <= MAX_EVALS):
        raise ValueError(f"n_evals must be in 1..{MAX_EVALS}, got {n_evals}")
    n_evals = int(n_evals)
    out = np.empty(n_evals)
    for start in range(0, n_evals, chunk):
        m = min(chunk, n_evals - start)
        cand = rng.uniform(-radius, radius, size=(m, h.size))
        out[start:start + m] = 0.5 * (cand * cand) @ h
    return np.minimum.accumulate(out)


@dataclass(frozen=True)
class SearchComparison:
    """Best loss (relative to the start, f/f(x0)) against the number of evaluations of f.

    ``random`` is pure random search (its first candidate is the common start ``x0``);
    ``gd`` is gradient descent with the analytic gradient (counted as 1 evaluation per step);
    ``gd_numeric`` uses forward differences (d + 1 evaluations per step).
    """

    d: int
    kappa: float
    evals: np.ndarray
    random: np.ndarray
    gd: np.ndarray
    gd_numeric: np.ndarray
    f0: float
    learning_rate: float


def _gd_curve(h: np.ndarray, x0: np.ndarray, n_steps: int, *, numeric: bool) -> np.ndarray:
    """f along gradient descent with eta = 1/L on f(x) = 1/2 sum h_i x_i^2 (analytic or forward-difference gradient)."""

    def f(x: np.ndarray) -> float:
        return 0.5 * float(x @ (h * x))

    def analytic(x: np.ndarray) -> tuple[float, np.ndarray]:
        g = h * x  # the gradient; f = x.g / 2 reuses it
        return 0.5 * float(x @ g), g

    def numeric_fd(x: np.ndarray) -> tuple[float, np.ndarray]:
        return f(x), numerical_gradient(f, x, h=1e-6, scheme="forward")

    tr = run(gd(1.0 / float(h.max())), numeric_fd if numeric else analytic, x0, n_steps=n_steps, keep_path=False)
    return tr.fs


def compare_search(d: int, *, n_evals: int = 1000, kappa: float = 100.0, rng: np.random.Generator) -> SearchComparison:
    r"""Random search vs gradient descent on :math:`f(x) = \tfrac12\sum_{i=1}^d h_i x_i^2` for a budget
    of ``n_evals`` evaluations (``1 <= d <= MAX_DIM``, ``2 <= n_evals <= MAX_EVALS``, else ValueError).

    Both start from the same random point :math:`x_0 \sim U[-1,1]^d`; random search keeps drawing
    from that box. Gradient descent uses :math:`\eta = 1/L`; with the analytic gradient each step
    costs one evaluation (a backward pass costs a small constant times a forward pass), with forward
    differences :math:`d+1`.
    """
    if not (1 <= int(d) <= MAX_DIM and 2 <= int(n_evals) <= MAX_EVALS):
        raise ValueError(f"need 1 <= d <= {MAX_DIM} and 2 <= n_evals <= {MAX_EVALS}, got d={d}, n_evals={n_evals}")
    d, n_evals = int(d), int(n_evals)
    h = diagonal_quadratic(d, kappa=kappa)
    x0 = rng.uniform(-1.0, 1.0, size=d)
    f0 = 0.5 * float(x0 @ (h * x0))
    rs = np.minimum(random_search(h, n_evals - 1, rng=rng), f0)
    random_curve = np.concatenate([[f0], rs]) / f0
    evals = np.arange(1, n_evals + 1)
    fs = _gd_curve(h, x0, n_evals - 1, numeric=False)  # evaluation k (1-based) is iterate k-1
    gd_curve = np.minimum.accumulate(fs) / f0
    n_num = max((n_evals - 1) // (d + 1), 0)
    fs_num = _gd_curve(h, x0, n_num, numeric=True) / f0
    # iterate j of numeric GD is known after 1 + j (d + 1) evaluations
    idx = np.minimum((evals - 1) // (d + 1), len(fs_num) - 1)
    gd_num_curve = np.minimum.accumulate(fs_num)[idx]
    return SearchComparison(d=d, kappa=float(kappa), evals=evals, random=random_curve, gd=gd_curve,
                            gd_numeric=gd_num_curve, f0=f0, learning_rate=1.0 / float(h.max()))


@dataclass(frozen=True)
class DimensionSweep:
    """Final relative loss after the same evaluation budget, for growing dimension d."""

    dims: np.ndarray
    n_evals: int
    random: np.ndarray
    gd: np.ndarray
    gd_numeric: np.ndarray


def _final_search(d: int, *, n_evals: int, kappa: float, rng: np.random.Generator) -> tuple[float, float, float]:
    r"""The last values of :func:`compare_search`'s three curves (the same draws from ``rng``), without the
    curves: random search's best after ``n_evals`` evaluations; gradient descent with the analytic gradient
    after its ``n_evals - 1`` steps in closed form, :math:`f(x_k) = \tfrac12\sum_i h_i (1 - h_i/L)^{2k}
    x_{0,i}^2` (the loop's values to rounding; each coordinate contracts by :math:`|1 - h_i/L| \le 1`,
    so the last iterate is the best); and the forward-difference run, which is short (``(n_evals - 1) //
    (d + 1)`` steps), as in :func:`compare_search`."""
    h = diagonal_quadratic(d, kappa=kappa)
    x0 = rng.uniform(-1.0, 1.0, size=d)
    f0 = 0.5 * float(x0 @ (h * x0))
    best_random = min(float(random_search(h, n_evals - 1, rng=rng)[-1]), f0) / f0
    k = n_evals - 1
    r = 1.0 - h / float(h.max())
    best_gd = min(0.5 * float(((r ** (2 * k)) * h) @ (x0 * x0)), f0) / f0
    n_num = max((n_evals - 1) // (d + 1), 0)
    best_num = float(np.min(_gd_curve(h, x0, n_num, numeric=True))) / f0
    return best_random, best_gd, best_num


def search_vs_dimension(dims: Sequence[int] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000), *,
                        n_evals: int = 1000, kappa: float = 100.0, rng: np.random.Generator) -> DimensionSweep:
    """The last values of :func:`compare_search` for each d (at most 16 distinct dimensions, each at most
    :data:`MAX_DIM`, ``2 <= n_evals <= MAX_EVALS``, else ValueError); each dimension gets its own independent
    stream (``rng.spawn``). Only the final values are computed (:func:`_final_search`)."""
    dims = np.array(sorted({int(v) for v in dims}))
    if len(dims) > 16 or dims.min() < 1 or dims.max() > MAX_DIM:
        raise ValueError(f"need at most 16 dimensions in 1..{MAX_DIM}, got {dims.tolist()}")
    if not 2 <= int(n_evals) <= MAX_EVALS:
        raise ValueError(f"need 2 <= n_evals <= {MAX_EVALS}, got {n_evals}")
    streams = rng.spawn(len(dims))
    rs, g, gn = [], [], []
    for d, r in zip(dims, streams, strict=True):
        c = _final_search(int(d), n_evals=int(n_evals), kappa=kappa, rng=r)
        rs.append(c[0])
        g.append(c[1])
        gn.append(c[2])
    return DimensionSweep(dims=dims, n_evals=int(n_evals), random=np.array(rs),
                          gd=np.array(g), gd_numeric=np.array(gn))


@dataclass(frozen=True)
class SearchResult:
    config: SearchConfig
    comparison: SearchComparison
    sweep: DimensionSweep


def _streams(cfg: SearchConfig) -> tuple[np.random.Generator, np.random.Generator]:
    """Stream 1 of the seed, split in two: the comparison at d, and the sweep over dimensions."""
    rng_compare, rng_sweep = stream(cfg.seed, 1).spawn(2)
    return rng_compare, rng_sweep


def search_comparison(cfg: SearchConfig) -> SearchComparison:
    """Random search vs gradient descent at ``cfg.d`` (clamped config) -- what the dimension slider changes."""
    if cfg != cfg.clamped():
        raise ValueError("search_comparison needs a clamped config (SearchConfig.clamped())")
    return compare_search(cfg.d, n_evals=cfg.n_evals, kappa=cfg.kappa, rng=_streams(cfg)[0])


def search_sweep(cfg: SearchConfig) -> DimensionSweep:
    """The final losses over ``cfg.dims`` (clamped config; pass ``cfg.sweep_key()``: d does not enter)."""
    if cfg != cfg.clamped():
        raise ValueError("search_sweep needs a clamped config (SearchConfig.clamped())")
    return search_vs_dimension(cfg.dims, n_evals=cfg.n_evals, kappa=cfg.kappa, rng=_streams(cfg)[1])


def search_experiment(cfg: SearchConfig) -> SearchResult:
    """The comparison at ``cfg.d`` and the sweep over ``cfg.dims`` plus ``d`` (clamped config; stream 1 of the
    seed). The page asks for the two parts separately (:func:`search_comparison`, :func:`search_sweep`)."""
    if cfg != cfg.clamped():
        raise ValueError("search_experiment needs a clamped config (SearchConfig.clamped())")
    rng_compare, rng_sweep = _streams(cfg)
    dims = tuple(sorted(set(cfg.dims) | {cfg.d}))[:16]
    return SearchResult(config=cfg, comparison=compare_search(cfg.d, n_evals=cfg.n_evals, kappa=cfg.kappa,
                                                              rng=rng_compare),
                        sweep=search_vs_dimension(dims, n_evals=cfg.n_evals, kappa=cfg.kappa, rng=rng_sweep))


def warm_pairs() -> list[tuple]:
    """The landscapes page's results worth computing once per server: every section's default, the sweep over
    dimensions at each evaluation budget the page offers (the default seed), and the live step-size family of
    every built-in landscape x optimizer the live section offers (default β and start)."""
    from regopt_core.landscapes.configs import (
        SEARCH_BUDGETS,
        GradientCheckConfig,
        RaceConfig,
        StepFamilyConfig,
        SurfaceConfig,
        build_surface,
    )
    from regopt_core.landscapes.gradient_check import gradient_experiment
    from regopt_core.landscapes.race import race_experiment, step_family

    from regopt_core.functions import SURFACE_NAMES

    d = SearchConfig.DEFAULT.clamped()
    families = [(step_family, StepFamilyConfig(surface=SurfaceConfig(key=key), optimizer=opt).clamped())
                for key in SURFACE_NAMES for opt in ("gd", "momentum", "nesterov")]  # ~1 s in all (logistic: most)
    return [(race_experiment, RaceConfig.DEFAULT.clamped()), (step_family, StepFamilyConfig.DEFAULT.clamped()),
            (gradient_experiment, GradientCheckConfig.DEFAULT.clamped()), (search_comparison, d),
            (build_surface, SurfaceConfig(key="custom").clamped()),
            *[(search_sweep, SearchConfig(n_evals=n).clamped().sweep_key()) for n in SEARCH_BUDGETS],
            *[pair for pair in families if pair[1] != StepFamilyConfig.DEFAULT.clamped()]]
