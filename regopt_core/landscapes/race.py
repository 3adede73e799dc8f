r"""Optimizer races on a landscape, the contour grid, and one optimizer at a family of step sizes across
its threshold (part of :mod:`regopt_core.landscapes`). Every optimization loop here is
:func:`regopt_core.optimizers.run` (one loop, one divergence rule).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from regopt_core.functions import Surface
from regopt_core.landscapes.configs import (
    MAX_GRID,
    MAX_RACERS,
    MAX_STEPS,
    OPTIMIZER_LABELS,
    RaceConfig,
    RaceEntry,
    StepFamilyConfig,
    build_surface,
)
from regopt_core.landscapes.thresholds import local_curvature, reference_curvature, stability_threshold, threshold_formula
from regopt_core.optimizers import Trace, run

__all__ = ["Racer", "Race", "explain_divergence", "race", "Grid", "surface_grid", "RaceResult", "race_experiment",
           "StepFamily", "step_family"]


@dataclass(frozen=True)
class Racer:
    """One optimizer's run: its settings, its trace, its threshold and a verdict in words."""

    entry: RaceEntry
    label: str
    trace: Trace
    threshold: float | None
    distance: np.ndarray  # distance of each iterate to the nearest global minimizer
    verdict: str

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def learning_rate(self) -> float:
        return self.entry.learning_rate


@dataclass(frozen=True)
class Race:
    """Several optimizers from the same start on the same surface."""

    surface_key: str
    surface_name: str
    x0: np.ndarray
    n_steps: int
    lipschitz: float | None
    racers: tuple[Racer, ...]

    @property
    def diverged(self) -> tuple[Racer, ...]:
        return tuple(r for r in self.racers if r.trace.diverged)


def explain_divergence(surface: Surface, entry: RaceEntry, trace: Trace) -> str:
    """Why a run diverged (or "" if it did not), naming the threshold when there is one."""
    if not trace.diverged:
        return ""
    if trace.diverged_at == 0:
        return (f"{trace.message}: f or its gradient is not finite (or beyond 1e12) at the start "
                f"({trace.x[0]:.3g}, {trace.x[1]:.3g}); pick another start point.")
    eta = entry.learning_rate
    head = f"diverged at step {trace.diverged_at}"
    thr = stability_threshold(entry.name, surface.lipschitz, beta=entry.beta)
    if thr is not None:
        formula = threshold_formula(entry.name)
        if eta > thr:
            return (f"{head}: η = {eta:g} > {formula} = {thr:.4g} (L = {surface.lipschitz:.4g}), so each step "
                    f"overshoots along the steepest direction and the error grows geometrically.")
    if entry.name in ("gd", "momentum", "nesterov"):
        tail = trace.xs[-min(len(trace.xs), 5):] if trace.xs is not None else np.atleast_2d(trace.x)
        curv = local_curvature(surface, tail)
        if math.isfinite(curv) and curv > 0:
            local = stability_threshold(entry.name, curv, beta=entry.beta)
            formula = threshold_formula(entry.name).replace("L", "λ")
            if local is not None and eta > local:
                return (f"{head}: where it went, the surface curves with λ_max(∇²f) ≈ {curv:.3g}, so the local "
                        f"limit {formula} ≈ {local:.3g} is below η = {eta:g}; the steps overshoot and grow.")
        return f"{head}: the steps grew without bound (η = {eta:g} is too large for this surface)."
    return (f"{head}: this adaptive method moves about η = {eta:g} per coordinate and step; steps that large "
            f"threw the iterate onto walls so steep that the loss overflowed.")


def _converged_verdict(surface: Surface, tr: Trace, dist: np.ndarray) -> str:
    gap = tr.fun - surface.f_min
    near = surface.nearest_minimizer(tr.x)
    if dist[-1] < 1e-3:
        text = f"reached the minimizer ({near[0]:.3g}, {near[1]:.3g}) to within {dist[-1]:.1e} after {tr.nit} steps"
    else:
        text = (f"after {tr.nit} steps: f − f* = {gap:.3g}, {dist[-1]:.3g} from the nearest global minimizer "
                f"({near[0]:.3g}, {near[1]:.3g})")
    if tr.convergence is not None and tr.convergence.converged:
        text += f" (stopped: ‖∇f‖ = {tr.convergence.value:.1e} ≤ {tr.convergence.tol:.0e})"
    return text


def race(surface: Surface, entries: Sequence[RaceEntry], x0: Sequence[float], *, n_steps: int = 300,
         tol: float = 0.0, bound: float = 1e12) -> Race:
    r"""Run several optimizers from the same start on the same surface.

    Each racer is one call of :func:`regopt_core.optimizers.run` -- the loop the page shows --
    with ``surface.value_and_grad``; a racer that diverges stops at that step while the others go on,
    and its :class:`Racer` says why.

    Raises ``ValueError`` for more than :data:`MAX_RACERS` entries, ``n_steps`` outside
    ``1 .. MAX_STEPS`` or an unknown optimizer (the caps are applied by :meth:`RaceConfig.clamped`).
    """
    entries = list(entries)
    if len(entries) > MAX_RACERS:
        raise ValueError(f"at most {MAX_RACERS} racers, got {len(entries)}")
    if not (1 <= int(n_steps) <= MAX_STEPS):
        raise ValueError(f"n_steps must be in 1..{MAX_STEPS}, got {n_steps}")
    n_steps = int(n_steps)
    x0 = np.asarray(x0, dtype=float).reshape(2)
    racers = []
    for entry in entries:
        tr = run(entry.optimizer(), surface.value_and_grad, x0, n_steps=n_steps, tol=tol, bound=bound)
        dist = surface.distance_to_minimizer(tr.xs)
        thr = stability_threshold(entry.name, surface.lipschitz, beta=entry.beta)
        verdict = explain_divergence(surface, entry, tr) if tr.diverged else _converged_verdict(surface, tr, dist)
        racers.append(Racer(entry=entry, label=OPTIMIZER_LABELS[entry.name], trace=tr, threshold=thr, distance=dist,
                            verdict=verdict))
    return Race(surface_key=surface.key, surface_name=surface.name, x0=x0, n_steps=n_steps,
                lipschitz=surface.lipschitz, racers=tuple(racers))


# ------------------------------------------------------------------------------- grid
@dataclass(frozen=True)
class Grid:
    """f sampled on a regular grid: ``z[i, j] = f(x[j], y[i])`` (plotly's contour convention)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray


def surface_grid(surface: Surface, *, n: int = 121) -> Grid:
    """Sample the surface on an ``n`` x ``n`` grid over its plotting window (5 <= n <= MAX_GRID, else ValueError)."""
    if not (5 <= int(n) <= MAX_GRID):
        raise ValueError(f"grid size must be in 5..{MAX_GRID}, got {n}")
    n = int(n)
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    x = np.linspace(x_lo, x_hi, n)
    y = np.linspace(y_lo, y_hi, n)
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.asarray(surface.fun(x[None, :], y[:, None]), dtype=float)
    return Grid(x=x, y=y, z=np.broadcast_to(z, (n, n)).copy())


@dataclass(frozen=True)
class RaceResult:
    """What the race section shows: the (clamped) config, the surface, the race, the contour grid, the
    curvature that sets the limits, and (logistic, λ > 0) the unregularized minimizer."""

    config: RaceConfig
    surface: Surface
    race: Race
    grid: Grid
    curvature: float
    curvature_kind: str
    unregularized_minimizer: tuple[float, float] | None = None


def race_experiment(cfg: RaceConfig) -> RaceResult:
    """The page's race: ``cfg`` must be clamped (ValueError otherwise)."""
    if cfg != cfg.clamped():
        raise ValueError("race_experiment needs a clamped config (RaceConfig.clamped())")
    surface = build_surface(cfg.surface)
    start = surface.start if cfg.start is None else cfg.start
    res = race(surface, cfg.entries, start, n_steps=cfg.n_steps, tol=cfg.tol)
    curv, kind = reference_curvature(surface, start)
    w0 = None
    if cfg.surface.key == "logistic" and cfg.surface.lam > 0:
        w0 = build_surface(replace(cfg.surface, lam=0.0)).minimizers[0]
    return RaceResult(config=cfg, surface=surface, race=res, grid=surface_grid(surface, n=cfg.grid_n),
                      curvature=curv, curvature_kind=kind, unregularized_minimizer=w0)


@dataclass(frozen=True)
class StepFamily:
    """Runs of one optimizer at ``etas = factors * threshold`` (one :class:`Racer` each)."""

    config: StepFamilyConfig
    surface: Surface
    grid: Grid
    threshold: float
    formula: str
    curvature_kind: str
    etas: np.ndarray
    racers: tuple[Racer, ...]


def step_family(cfg: StepFamilyConfig) -> StepFamily:
    """Run ``cfg.optimizer`` at each step size of the family (each run is :func:`~regopt_core.optimizers.run`)."""
    if cfg != cfg.clamped():
        raise ValueError("step_family needs a clamped config (StepFamilyConfig.clamped())")
    surface = build_surface(cfg.surface)
    start = surface.start if cfg.start is None else cfg.start
    curv, kind = reference_curvature(surface, start)
    thr = stability_threshold(cfg.optimizer, curv, beta=cfg.beta)
    if thr is None:
        raise ValueError("this landscape has no positive curvature to set a threshold")
    etas = np.array([float(f"{f * thr:.4g}") for f in cfg.factors])
    entries = [RaceEntry(cfg.optimizer, float(eta), beta=cfg.beta) for eta in etas]
    racers: list[Racer] = []
    for i in range(0, len(entries), MAX_RACERS):
        racers += race(surface, entries[i:i + MAX_RACERS], start, n_steps=cfg.n_steps).racers
    symbol = {"global": "L", "at the start": "λ₀"}.get(kind, "λ*")
    return StepFamily(config=cfg, surface=surface, grid=surface_grid(surface, n=cfg.grid_n), threshold=float(thr),
                      formula=threshold_formula(cfg.optimizer).replace("L", symbol), curvature_kind=kind, etas=etas,
                      racers=tuple(racers))


