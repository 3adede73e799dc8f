"""The bias–variance page's experiments: frozen, hashable configs (the only place of the server's caps) and
the module-level functions the page caches, ``fn(config) -> result``.

Seeding (:func:`regopt_core.seeding.stream`): stream 0 draws a random design, stream 1 the noise of the
simulated training sets (the figure's curves are the first :data:`N_SHOWN` Monte-Carlo sets), stream 2 the
random features of the double-descent experiment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from regopt_core.bias_variance.double_descent import (
    DoubleDescent,
    DoubleDescentCore,
    double_descent_at,
    double_descent_core,
)
from regopt_core.bias_variance.smoother import (
    TRUE_FUNCTIONS,
    Decomposition,
    MonteCarlo,
    Smoother,
    decompose,
    rbf_smoother,
    sample_design,
    simulate_bias_variance,
    true_function,
)
from regopt_core.bias_variance.sweeps import SpreadFamily, Sweep, spread_family, sweep_lam
from regopt_core.seeding import stream

DESIGN_STREAM, NOISE_STREAM, FEATURE_STREAM = 0, 1, 2
N_SHOWN = 30  # fitted curves drawn in the lecture's picture


def _log_values(lo_exp: int, hi_exp: int, mantissas: tuple[float, ...]) -> tuple[float, ...]:
    out = {float(f"{m * 10.0**e:.12g}") for e in range(lo_exp, hi_exp + 1) for m in mantissas}
    return tuple(sorted(out))


#: the spreads of the page's control and of the fits figure's frames (1–1.5–2–3–5–7 per decade, 0.01 … 10)
SPREADS: tuple[float, ...] = tuple(v for v in _log_values(-2, 1, (1, 1.5, 2, 3, 5, 7)) if v <= 10.0)
#: λ of the U-curve over λ
LAM_GRID = np.geomspace(1e-8, 1e3, 56)

# the server's caps (the numerics allow more: see smoother.MAX_*)
CAPS = dict(n_samples=(5, 200), sigma=(0.0, 10.0), spread=(1e-3, 100.0), lam=(0.0, 1e6), n_centres=(1, 200),
            n_grid=(10, 400), n_draws=(10, 5000))


#: sizes computed in the page's own process rather than a worker (see :meth:`Experiment.family_is_light`)
LIGHT_SIZE, LIGHT_DRAWS = 100, 1000


def _clip(name: str, value, integer: bool = False):
    lo, hi = CAPS[name]
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value}")
    v = min(max(v, lo), hi)
    return int(round(v)) if integer else v


@dataclass(frozen=True)
class Experiment:
    """One demo state of the page: true curve, design, noise, the RBF ridge fit and the Monte Carlo.

    The defaults are the lecture's setting: 25 equally spaced samples on [0, 1] of a wave with a central
    dip, noise σ = 0.3, one bump per sample of spread 5 (the lecture's first picture), a tiny ridge
    λ = 1e-3 (objective: *sum* of squared errors + λ‖w‖², see the package docstring), K = 100 simulated
    training sets.
    """

    function: str = "dip"
    n_samples: int = 25
    sigma: float = 0.3
    spread: float = 5.0
    lam: float = 1e-3
    centres: str = "inputs"  # "inputs" or "grid"
    n_centres: int = 24
    design: str = "grid"  # "grid" or "uniform"
    n_grid: int = 200
    n_draws: int = 100
    seed: int = 0

    def clamped(self) -> Experiment:
        """The config the server computes: sizes and values within :data:`CAPS` (the only caps).

        Raises ``ValueError`` for an unknown function, design or centre placement, a non-finite number
        or a negative seed."""
        if self.function not in TRUE_FUNCTIONS:
            raise ValueError(f"unknown true function {self.function!r}; choose one of {sorted(TRUE_FUNCTIONS)}")
        if self.design not in ("grid", "uniform"):
            raise ValueError(f"unknown design {self.design!r}")
        if self.centres not in ("inputs", "grid"):
            raise ValueError(f"unknown centre placement {self.centres!r}")
        if int(self.seed) < 0:
            raise ValueError("seed must be >= 0")
        return replace(
            self,
            n_samples=_clip("n_samples", self.n_samples, True),
            sigma=_clip("sigma", self.sigma),
            spread=_clip("spread", self.spread),
            lam=_clip("lam", self.lam),
            n_centres=_clip("n_centres", self.n_centres, True),
            n_grid=_clip("n_grid", self.n_grid, True),
            n_draws=_clip("n_draws", self.n_draws, True),
            seed=int(self.seed),
        )

    def family_key(self) -> Experiment:
        """The config of :func:`fits_family`: spread and K do not change the family, so they are normalized
        (a spread or K move reuses the cached family)."""
        return replace(self, spread=DEFAULT.spread, n_draws=DEFAULT.n_draws)

    def lam_sweep_key(self) -> Experiment:
        """The config of :func:`lam_sweep`: λ and K do not change it."""
        return replace(self, lam=DEFAULT.lam, n_draws=DEFAULT.n_draws)

    def family_is_light(self) -> bool:
        """Is :func:`fits_family` of this config quick enough to compute in the page's own process
        (≲ 25 ms: one SVD or Cholesky per spread of an n × p system with n, p ≤ :data:`LIGHT_SIZE`)? Larger
        systems go to a worker."""
        p = self.n_samples if self.centres == "inputs" else self.n_centres
        return max(self.n_samples, p) <= LIGHT_SIZE

    def experiment_is_light(self) -> bool:
        """Is :func:`experiment` quick enough for the page's own process (≲ 20 ms: one smoother and at most
        :data:`LIGHT_DRAWS` simulated training sets, at any n and p within :data:`CAPS`)?"""
        return self.n_draws <= LIGHT_DRAWS


DEFAULT = Experiment()
Experiment.DEFAULT = DEFAULT  # type: ignore[attr-defined]
LECTURE = DEFAULT


def inputs(cfg: Experiment):
    """``(x_train, x_eval, centres, f_train, f_eval)``; centres ``None`` means one bump per input."""
    x = sample_design(cfg.n_samples, kind=cfg.design, rng=stream(cfg.seed, DESIGN_STREAM))
    x_eval = np.linspace(0.0, 1.0, int(cfg.n_grid))
    centres = None if cfg.centres == "inputs" else np.linspace(0.0, 1.0, int(cfg.n_centres))
    f = true_function(cfg.function)
    return x, x_eval, centres, f(x), f(x_eval)


def shown_training_sets(cfg: Experiment, f_train: np.ndarray) -> np.ndarray:
    """The first :data:`N_SHOWN` simulated training sets ``(N_SHOWN, n)`` — the same as the Monte Carlo's."""
    return f_train[None, :] + cfg.sigma * stream(cfg.seed, NOISE_STREAM).standard_normal((N_SHOWN, f_train.size))


@dataclass(frozen=True)
class ExperimentResult:
    """Everything section 1 draws for one :class:`Experiment`."""

    config: Experiment
    x_train: np.ndarray
    x_eval: np.ndarray
    f_train: np.ndarray
    f_eval: np.ndarray
    y_first: np.ndarray  # the first simulated training set
    smoother: Smoother
    exact: Decomposition
    mc: MonteCarlo


def experiment(cfg: Experiment) -> ExperimentResult:
    """Smoother, exact decomposition and a Monte Carlo with ``cfg.n_draws`` training sets."""
    x, x_eval, centres, f_train, f_eval = inputs(cfg)
    sm = rbf_smoother(x, x_eval, spread=cfg.spread, lam=cfg.lam, centres=centres)
    exact = decompose(sm, f_train, f_eval, sigma=cfg.sigma)
    mc = simulate_bias_variance(sm, f_train, f_eval, sigma=cfg.sigma, n_draws=cfg.n_draws, n_keep=N_SHOWN,
                                rng=stream(cfg.seed, NOISE_STREAM))
    return ExperimentResult(cfg, x, x_eval, f_train, f_eval, mc.samples[0], sm, exact, mc)


def fits_family(cfg: Experiment) -> SpreadFamily:
    """The fits figure at every spread of :data:`SPREADS` (its plotly frames) and the U-curve over spread,
    at ``cfg.lam`` (``cfg.spread`` and ``cfg.n_draws`` are not used; call with ``cfg.family_key()``)."""
    x, x_eval, centres, f_train, f_eval = inputs(cfg)
    return spread_family(x, x_eval, f_train, f_eval, shown_training_sets(cfg, f_train), spreads=SPREADS,
                         lam=cfg.lam, sigma=cfg.sigma, centres=centres)


def lam_sweep(cfg: Experiment) -> Sweep:
    """Exact bias², variance, test error, training error and df over :data:`LAM_GRID` at ``cfg.spread``
    (``cfg.lam`` is not used; call with ``cfg.lam_sweep_key()``)."""
    x, x_eval, centres, f_train, f_eval = inputs(cfg)
    return sweep_lam(x, x_eval, f_train, f_eval, lams=LAM_GRID, spread=cfg.spread, sigma=cfg.sigma, centres=centres)


def is_u_shaped(sweep: Sweep, *, rise: float = 1.1) -> bool:
    """Does the test error fall to an interior minimum and rise again at both ends of the sweep
    (each end at least ``rise`` times the minimum)?"""
    b = sweep.best
    return 0 < b < sweep.values.size - 1 and sweep.mse[0] >= rise * sweep.mse[b] and sweep.mse[-1] >= rise * sweep.mse[b]


# ------------------------------------------------------------------------------------------ double descent
DD_CAPS = dict(n_samples=(5, 60), sigma=(0.0, 10.0), lam=(0.0, 1e6), n_repeats=(1, 25))
#: the largest n whose double-descent fits are computed on a move (see :meth:`DoubleDescentConfig.core_is_light`)
DD_LIGHT_N = 40


@dataclass(frozen=True)
class DoubleDescentConfig:
    """The double-descent experiment: n evenly spaced samples, p from 1 to 10·n random cosine features
    (:func:`dd_features`), the minimum-norm fit and ridge with ``lam`` (sum of squares + λ‖w‖²).

    Default λ = 0.1: at the default setting the ridge curve has no peak at p = n (the page computes the
    smallest such λ and says so; a test checks the default stays past it)."""

    function: str = "dip"
    n_samples: int = 20
    sigma: float = 0.3
    lam: float = 0.1
    n_repeats: int = 9
    seed: int = 0
    n_grid: int = 200

    def clamped(self) -> DoubleDescentConfig:
        """Within :data:`DD_CAPS` (an odd number of draws, so that the median draw is one draw)."""
        if self.function not in TRUE_FUNCTIONS:
            raise ValueError(f"unknown true function {self.function!r}")
        vals = {}
        for name in ("n_samples", "sigma", "lam", "n_repeats"):
            lo, hi = DD_CAPS[name]
            v = float(getattr(self, name))
            if not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number")
            vals[name] = min(max(v, lo), hi)
        reps = int(round(vals["n_repeats"]))
        reps = reps if reps % 2 else reps + 1
        return replace(self, n_samples=int(round(vals["n_samples"])), sigma=vals["sigma"], lam=vals["lam"],
                       n_repeats=min(reps, 25), seed=int(self.seed))

    def core_is_light(self) -> bool:
        """Does :func:`dd_core` fit a control move's budget (n ≤ :data:`DD_LIGHT_N`: ≲ 140 ms of SVDs on one
        core)? Larger n (up to ~250 ms at n = 60) is computed on request."""
        return self.n_samples <= DD_LIGHT_N

    def core_key(self) -> DoubleDescentConfig:
        """The config of :func:`dd_core`: σ does not change the fits (σ at its default), so a σ move
        reuses them and only rescales the variance (:func:`double_descent_at`)."""
        return replace(self, sigma=DD_DEFAULT.sigma)


DD_DEFAULT = DoubleDescentConfig()


def dd_features(n_samples: int) -> np.ndarray:
    """Feature counts of the double-descent curve: log-spaced up to 10·n, dense around p = n."""
    n = int(n_samples)
    return np.unique(np.r_[np.round(np.geomspace(1, 10 * n, 28)).astype(int), np.arange(max(1, n - 3), n + 4)])


def dd_core(cfg: DoubleDescentConfig) -> DoubleDescentCore:
    """The σ-free part of the double-descent experiment (:func:`double_descent_core`; evenly spaced inputs,
    ``cfg.n_grid`` test points). ``cfg.sigma`` is not used: call with ``cfg.core_key()``."""
    x = sample_design(cfg.n_samples)
    x_eval = np.linspace(0.0, 1.0, int(cfg.n_grid))
    f = true_function(cfg.function)
    return double_descent_core(x, x_eval, f(x), f(x_eval), n_features=dd_features(cfg.n_samples), lam=cfg.lam,
                               n_repeats=cfg.n_repeats, rng=stream(cfg.seed, FEATURE_STREAM))


def double_descent_experiment(cfg: DoubleDescentConfig) -> DoubleDescent:
    """:func:`double_descent` for the page's config: :func:`dd_core` at ``cfg.core_key()``, then
    :func:`double_descent_at` ``cfg.sigma`` (the page caches the core and does the second step itself)."""
    return double_descent_at(dd_core(cfg.core_key()), cfg.sigma)


# ------------------------------------------------------------------------------------------ sentences
#: the U-curves section's defaults: at spread 0.1 (the lecture's second picture) the curve over λ is a U
U_SPREAD, U_LAM = 0.1, 1e-3


def verdict(ex: Decomposition, *, spread: float, lam: float) -> str:
    """Which term dominates, worded from the numbers (markdown)."""
    if ex.bias2 == ex.var:
        word = "bias² and variance are equal"
    else:
        word = "bias dominates" if ex.bias2 > ex.var else "variance dominates"
    ratio = ex.bias2 / ex.var if ex.var > 0 else float("inf")
    return f"At spread **{spread:g}** and λ = **{lam:g}**: **{word}** (bias² / variance = {ratio:.2g})."


def agreement(res: ExperimentResult) -> str:
    """How far the Monte Carlo is from the exact split, and its expected sampling error (markdown)."""
    ex, mc = res.exact, res.mc
    if ex.var > 0:
        rel = abs(mc.var - ex.var) / ex.var
        head = f"The Monte-Carlo variance {mc.var:.4f} is **{100 * rel:.1f} %** away from the exact {ex.var:.4f}"
    else:
        head = "With σ = 0 every training set is the same: the variance is exactly 0"
    return (f"{head}; bias² {mc.bias2:.4f} vs {ex.bias2:.4f}; the simulated test MSE (against fresh noisy targets) is "
            f"{mc.mse:.4f} vs {ex.mse:.4f} exact. A variance estimated from K samples is off by about "
            f"√(2/(K−1)) ≈ {100 * np.sqrt(2 / (mc.n_draws - 1)):.0f} % at each x; raise K and the two columns meet.")


def describe_sweep(sweep: Sweep, *, at: str) -> str:
    """Where the U-curve has its minimum and whether it is a U (markdown)."""
    knob = "spread" if sweep.knob == "spread" else "λ"
    b = sweep.best
    shape = ("a U: the error rises on both sides of the minimum" if is_u_shaped(sweep) else
             f"no U on this range: the minimum sits at the {'left' if b == 0 else 'right'} end" if b in (0, sweep.values.size - 1)
             else "a shallow dip (less than 10 % above the minimum at one end)")
    return (f"Over {knob} (at {at}): lowest expected test error **{sweep.mse[b]:.4f}** at {knob} ≈ {sweep.values[b]:.3g} — "
            f"{shape}.")
