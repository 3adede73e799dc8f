r"""Experiment drivers for the loss-landscape page: optimizer races, stability thresholds, a family of
step sizes across a threshold, divergence diagnosis, gradient checks on a surface, and random search
versus gradient descent.

Every experiment takes one frozen, hashable config (:class:`RaceConfig`, :class:`StepFamilyConfig`,
:class:`GradientCheckConfig`, :class:`SearchConfig`); its ``clamped()`` is **the only place** the
server's caps live (steps, racers, grid size, dimension, budget ...), and the experiment functions
raise ``ValueError`` on a config outside them instead of clipping silently. Every optimization loop
here is :func:`regopt_core.optimizers.run` (one loop, one divergence rule).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from regopt_core.functions import SURFACE_NAMES, Surface, make_surface
from regopt_core.gradients import GradientCheck, StepSweep, check_gradient, finite_difference_sweep, numerical_gradient
from regopt_core.optimizers import OPTIMIZER_NAMES, Optimizer, Trace, gd, make_optimizer, run
from regopt_core.seeding import stream

__all__ = [
    "MAX_STEPS", "MAX_GRID", "MAX_RACERS", "MAX_DIM", "MAX_EVALS", "MAX_START", "MAX_FAMILY_STEPS",
    "OPTIMIZER_LABELS", "SUGGESTED_STEPS", "FAMILY_FACTORS", "THRESHOLD_CHOICES",
    "SurfaceConfig", "RaceEntry", "RaceConfig", "Racer", "Race", "RaceResult", "Grid",
    "StepFamilyConfig", "StepFamily", "GradientCheckConfig", "GradientResult", "SearchConfig", "SearchResult",
    "build_surface", "stability_threshold", "threshold_formula", "threshold_choices", "explain_divergence",
    "race", "race_experiment", "step_family", "surface_grid", "gradient_sweep", "gradient_experiment",
    "planted_bug_gradient", "reference_curvature", "SearchComparison", "DimensionSweep", "diagonal_quadratic",
    "random_search", "compare_search", "search_vs_dimension", "search_experiment",
]

# ------------------------------------------------------------------------------- the server's caps
# (read only by the configs' clamped(); the experiment functions raise beyond them)
MAX_STEPS = 10_000
MAX_GRID = 301
MAX_RACERS = 6
MAX_DIM = 5_000
MAX_EVALS = 5_000
MAX_START = 50.0
MAX_FAMILY_STEPS = 2_000
MAX_FAMILY = 30
LR_RANGE = (1e-6, 100.0)

OPTIMIZER_LABELS = {
    "gd": "Gradient descent",
    "momentum": "Momentum (heavy ball)",
    "nesterov": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
}

#: Step sizes that make a sensible race on each surface (hand-picked: stable, visibly different).
SUGGESTED_STEPS: dict[str, dict[str, float]] = {
    "quadratic": dict(gd=1.0, momentum=0.1, nesterov=0.1, adagrad=0.5, rmsprop=0.05, adam=0.1),
    "rosenbrock": dict(gd=0.001, momentum=0.001, nesterov=0.001, adagrad=0.5, rmsprop=0.01, adam=0.05),
    "himmelblau": dict(gd=0.01, momentum=0.005, nesterov=0.005, adagrad=0.5, rmsprop=0.02, adam=0.1),
    "beale": dict(gd=0.01, momentum=0.005, nesterov=0.005, adagrad=0.5, rmsprop=0.01, adam=0.1),
    "saddle": dict(gd=0.05, momentum=0.02, nesterov=0.02, adagrad=0.5, rmsprop=0.01, adam=0.05),
    "camel": dict(gd=0.01, momentum=0.005, nesterov=0.005, adagrad=0.5, rmsprop=0.02, adam=0.05),
    "logistic": dict(gd=1.0, momentum=0.2, nesterov=0.2, adagrad=0.5, rmsprop=0.02, adam=0.1),
}

#: Named step sizes on both sides of a threshold (multiples of it), for the page's choices.
THRESHOLD_CHOICES: tuple[float, ...] = (0.5, 0.9, 1.1, 1.5)
#: The family of step sizes of the live figure: 21 multiples of the threshold, 0.5x ... 1.5x.
FAMILY_FACTORS: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(21))


# ------------------------------------------------------------------------------- configs
def _finite(name: str, v: float) -> float:
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def _clip(v: float, lo: float, hi: float) -> float:
    return float(min(max(float(v), lo), hi))


@dataclass(frozen=True)
class SurfaceConfig:
    """Which landscape: a key of :data:`regopt_core.functions.SURFACE_NAMES` and its parameters.

    ``kappa``/``theta`` shape the quadratic; ``lam``/``penalty``/``seed``/``n_samples`` the logistic
    loss (its data set is drawn from stream 0 of ``seed``). :meth:`clamped` puts the parameters a
    surface does not use at their defaults, so equal landscapes share one cache key.
    """

    key: str = "quadratic"
    kappa: float = 10.0
    theta: float = 30.0
    lam: float = 0.05
    penalty: str = "l2"
    seed: int = 0
    n_samples: int = 60

    def clamped(self) -> SurfaceConfig:
        if self.key not in SURFACE_NAMES:
            raise ValueError(f"unknown surface {self.key!r}; expected one of {tuple(SURFACE_NAMES)}")
        base = SurfaceConfig(key=self.key)
        if self.key == "quadratic":
            return replace(base, kappa=_clip(_finite("kappa", self.kappa), 1.0, 1e6),
                           theta=_clip(_finite("theta", self.theta), -360.0, 360.0))
        if self.key == "logistic":
            if self.penalty not in ("l1", "l2"):
                raise ValueError(f"penalty must be 'l1' or 'l2', got {self.penalty!r}")
            return replace(base, lam=_clip(_finite("lam", self.lam), 0.0, 10.0), penalty=self.penalty,
                           seed=int(min(max(int(self.seed), 0), 2**31 - 1)),
                           n_samples=int(min(max(int(self.n_samples), 10), 2000)))
        return base


def build_surface(cfg: SurfaceConfig) -> Surface:
    """The :class:`~regopt_core.functions.Surface` of a (clamped) surface config."""
    if cfg.key == "logistic":
        return make_surface("logistic", lam=cfg.lam, penalty=cfg.penalty, n_samples=cfg.n_samples,
                            rng=stream(cfg.seed, 0))
    return make_surface(cfg.key, kappa=cfg.kappa, theta_deg=cfg.theta)


@dataclass(frozen=True)
class RaceEntry:
    """One optimizer in a race: its name (see :data:`OPTIMIZER_NAMES`), step size and hyper-parameters.

    Each hyper-parameter means one thing: ``beta`` is the momentum β of heavy ball and Nesterov,
    ``rho`` RMSProp's averaging factor ρ, ``beta1``/``beta2`` Adam's β₁/β₂.
    """

    name: str
    learning_rate: float
    beta: float = 0.9
    rho: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999

    def optimizer(self) -> Optimizer:
        return make_optimizer(self.name, self.learning_rate, beta=self.beta, rho=self.rho, beta1=self.beta1,
                              beta2=self.beta2)

    def hyper(self) -> tuple[tuple[str, float], ...]:
        """The hyper-parameters this method uses, as (symbol, value)."""
        return {"momentum": (("β", self.beta),), "nesterov": (("β", self.beta),), "rmsprop": (("ρ", self.rho),),
                "adam": (("β₁", self.beta1), ("β₂", self.beta2))}.get(self.name, ())

    def clamped(self) -> RaceEntry:
        if self.name not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer {self.name!r}; expected one of {OPTIMIZER_NAMES}")
        return RaceEntry(self.name, _clip(_finite("learning rate", self.learning_rate), *LR_RANGE),
                         beta=_clip(_finite("beta", self.beta), 0.0, 0.999), rho=_clip(_finite("rho", self.rho), 0.0, 0.9999),
                         beta1=_clip(_finite("beta1", self.beta1), 0.0, 0.999),
                         beta2=_clip(_finite("beta2", self.beta2), 0.0, 0.99999))


DEFAULT_ENTRIES = (RaceEntry("gd", 1.0), RaceEntry("momentum", 0.1), RaceEntry("adam", 0.1))


def _clamp_start(start: tuple[float, float] | None) -> tuple[float, float] | None:
    if start is None:
        return None
    x, y = (float(v) for v in start)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return (_clip(x, -MAX_START, MAX_START), _clip(y, -MAX_START, MAX_START))


@dataclass(frozen=True)
class RaceConfig:
    """Everything that defines a race on the page: landscape, racers, start, steps, contour grid.

    ``start=None`` is the landscape's default start. ``tol`` stops a racer once its gradient norm is
    at most ``tol`` (reported in each trace's ``convergence``).
    """

    surface: SurfaceConfig = field(default_factory=SurfaceConfig)
    entries: tuple[RaceEntry, ...] = DEFAULT_ENTRIES
    start: tuple[float, float] | None = None
    n_steps: int = 300
    tol: float = 1e-10
    grid_n: int = 101

    def clamped(self) -> RaceConfig:
        """The race the server will really run: the only place its caps live."""
        return RaceConfig(surface=self.surface.clamped(),
                          entries=tuple(e.clamped() for e in self.entries)[:MAX_RACERS],
                          start=_clamp_start(self.start), n_steps=int(min(max(int(self.n_steps), 1), MAX_STEPS)),
                          tol=_clip(_finite("tol", self.tol), 0.0, 1.0), grid_n=int(min(max(int(self.grid_n), 5), MAX_GRID)))


RaceConfig.DEFAULT = RaceConfig()


# ------------------------------------------------------------------------------- thresholds
def stability_threshold(name: str, lipschitz: float | None, *, beta: float = 0.9) -> float | None:
    r"""Largest stable constant step size on a quadratic whose largest Hessian eigenvalue is L.

    * gradient descent: :math:`\eta < 2/L` (the steepest mode is multiplied by :math:`1 - \eta L`);
    * heavy ball :math:`v \leftarrow \beta v - \eta\nabla f,\ x \leftarrow x + v`:
      :math:`\eta < 2(1+\beta)/L` (Polyak 1964);
    * Nesterov (constant :math:`\beta`): :math:`\eta < 2(1+\beta)/((1+2\beta)L)`.

    Returns ``None`` for the adaptive methods (their effective step changes as they run) or when
    ``lipschitz`` is unknown.
    """
    if lipschitz is None or not lipschitz > 0:
        return None
    if name == "gd":
        return 2.0 / lipschitz
    if name == "momentum":
        return 2.0 * (1.0 + beta) / lipschitz
    if name == "nesterov":
        return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lipschitz)
    return None


def threshold_formula(name: str) -> str | None:
    """The threshold's formula as plain text, for labels (``"2/L"`` ...)."""
    return {"gd": "2/L", "momentum": "2(1+β)/L", "nesterov": "2(1+β)/((1+2β)L)"}.get(name)


def threshold_choices(threshold: float | None, factors: Sequence[float] = THRESHOLD_CHOICES) -> tuple[float, ...]:
    """Step sizes at ``factors`` times the threshold, rounded to 3 significant digits (so that they
    print exactly in a link); empty without a threshold."""
    if threshold is None or not (threshold > 0 and math.isfinite(threshold)):
        return ()
    return tuple(float(f"{fac * threshold:.3g}") for fac in factors)


def reference_curvature(surface: Surface) -> tuple[float, str]:
    r"""The curvature that sets the step-size limit, and its kind.

    ``(L, "global")`` when the surface has a global Lipschitz constant of its gradient (quadratic,
    logistic); otherwise ``(lambda_star, "at the minimum")``, the largest Hessian eigenvalue at the
    global minimizers: gradient descent converges *locally* to a minimizer iff
    :math:`\eta < 2/\lambda_{\max}(\nabla^2 f(x^*))`.
    """
    if surface.lipschitz is not None:
        return float(surface.lipschitz), "global"
    lam = np.linalg.eigvalsh(surface.hessian(np.asarray(surface.minimizers, dtype=float)))[..., -1]
    return float(np.max(lam)), "at the minimum"


# ------------------------------------------------------------------------------- race
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


def _local_curvature(surface: Surface, points: np.ndarray) -> float:
    """Largest Hessian eigenvalue over ``points`` (n, 2)."""
    with np.errstate(over="ignore", invalid="ignore"):
        h = surface.hessian(points)
        if not np.all(np.isfinite(h)):
            return float("nan")
        lam = np.linalg.eigvalsh(h)[..., -1]
    lam = lam[np.isfinite(lam)]
    return float(lam.max()) if lam.size else float("nan")


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
        curv = _local_curvature(surface, tail)
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
    curv, kind = reference_curvature(surface)
    w0 = None
    if cfg.surface.key == "logistic" and cfg.surface.lam > 0:
        w0 = build_surface(replace(cfg.surface, lam=0.0)).minimizers[0]
    return RaceResult(config=cfg, surface=surface, race=res, grid=surface_grid(surface, n=cfg.grid_n),
                      curvature=curv, curvature_kind=kind, unregularized_minimizer=w0)


# ------------------------------------------------------------------------------- a family of step sizes
@dataclass(frozen=True)
class StepFamilyConfig:
    """One optimizer with a constant-momentum threshold (GD, heavy ball, Nesterov) run at the step sizes
    ``factors x threshold`` on one landscape, for the live figure (one plotly frame per step size)."""

    surface: SurfaceConfig = field(default_factory=SurfaceConfig)
    optimizer: str = "gd"
    beta: float = 0.9
    start: tuple[float, float] | None = None
    n_steps: int = 200
    factors: tuple[float, ...] = FAMILY_FACTORS
    grid_n: int = 101

    def clamped(self) -> StepFamilyConfig:
        if self.optimizer not in ("gd", "momentum", "nesterov"):
            raise ValueError(f"the step-size family needs gd, momentum or nesterov, got {self.optimizer!r}")
        facs = tuple(sorted({round(_clip(_finite("factor", f), 0.01, 10.0), 4) for f in self.factors}))[:MAX_FAMILY]
        if not facs:
            facs = FAMILY_FACTORS
        return StepFamilyConfig(surface=self.surface.clamped(), optimizer=self.optimizer,
                                beta=_clip(_finite("beta", self.beta), 0.0, 0.999), start=_clamp_start(self.start),
                                n_steps=int(min(max(int(self.n_steps), 1), MAX_FAMILY_STEPS)), factors=facs,
                                grid_n=int(min(max(int(self.grid_n), 5), MAX_GRID)))


StepFamilyConfig.DEFAULT = StepFamilyConfig()


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
    curv, kind = reference_curvature(surface)
    thr = stability_threshold(cfg.optimizer, curv, beta=cfg.beta)
    if thr is None:
        raise ValueError("this landscape has no positive curvature to set a threshold")
    start = surface.start if cfg.start is None else cfg.start
    etas = np.array([float(f"{f * thr:.4g}") for f in cfg.factors])
    entries = [RaceEntry(cfg.optimizer, float(eta), beta=cfg.beta) for eta in etas]
    racers: list[Racer] = []
    for i in range(0, len(entries), MAX_RACERS):
        racers += race(surface, entries[i:i + MAX_RACERS], start, n_steps=cfg.n_steps).racers
    symbol = "L" if kind == "global" else "λ*"
    return StepFamily(config=cfg, surface=surface, grid=surface_grid(surface, n=cfg.grid_n), threshold=float(thr),
                      formula=threshold_formula(cfg.optimizer).replace("L", symbol), curvature_kind=kind, etas=etas,
                      racers=tuple(racers))


# ------------------------------------------------------------------------------- gradient check
def planted_bug_gradient(surface: Surface):
    """The surface's gradient with a typical hand-derivation bug: df/dx off by a factor 2."""

    def grad(p: np.ndarray) -> np.ndarray:
        g = np.array(surface.gradient(p), dtype=float)
        g[..., 0] *= 0.5
        return g

    return grad


def gradient_sweep(surface: Surface, point: Sequence[float], *, n_h: int = 57, bug: bool = False) -> StepSweep:
    r"""Forward/central finite-difference errors against the surface's analytic gradient at ``point``.

    With ``bug`` the reference is :func:`planted_bug_gradient` (:math:`\partial f/\partial x` halved):
    for small h the relative error then stops falling and plateaus at
    :math:`\tfrac12|\partial_x f| / \|g_{\text{bug}}\|` (the sweep divides by the gradient it checks),
    i.e. 77.5 % at Rosenbrock's start (-1.2, 1), where :math:`\nabla f = (-215.6, -88)`.
    """
    grad = planted_bug_gradient(surface) if bug else surface.gradient
    return finite_difference_sweep(surface.value, grad, np.asarray(point, dtype=float), n_h=n_h)


@dataclass(frozen=True)
class GradientCheckConfig:
    """The gradient-check section: landscape, point (None: the landscape's start), planted bug, step h."""

    surface: SurfaceConfig = field(default_factory=lambda: SurfaceConfig(key="rosenbrock"))
    point: tuple[float, float] | None = None
    bug: bool = False
    h: float = 1e-5
    n_h: int = 57

    def clamped(self) -> GradientCheckConfig:
        return GradientCheckConfig(surface=self.surface.clamped(), point=_clamp_start(self.point), bug=bool(self.bug),
                                   h=_clip(_finite("h", self.h), 1e-12, 1e-1), n_h=int(min(max(int(self.n_h), 3), 200)))


GradientCheckConfig.DEFAULT = GradientCheckConfig()


@dataclass(frozen=True)
class GradientResult:
    config: GradientCheckConfig
    point: np.ndarray
    check: GradientCheck
    sweep: StepSweep


def gradient_experiment(cfg: GradientCheckConfig) -> GradientResult:
    """Central-difference check at ``cfg.h`` and the error-vs-h sweep at one point (clamped config)."""
    if cfg != cfg.clamped():
        raise ValueError("gradient_experiment needs a clamped config (GradientCheckConfig.clamped())")
    surface = build_surface(cfg.surface)
    p = np.asarray(surface.start if cfg.point is None else cfg.point, dtype=float)
    grad = planted_bug_gradient(surface) if cfg.bug else surface.gradient
    check = check_gradient(lambda q: float(surface.value(q)), grad, p, h=cfg.h)
    return GradientResult(config=cfg, point=p, check=check,
                          sweep=gradient_sweep(surface, p, n_h=cfg.n_h, bug=cfg.bug))


# --------------------------------------------------------------------------------------- random search
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
        return f(x), h * x

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


def search_vs_dimension(dims: Sequence[int] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000), *,
                        n_evals: int = 1000, kappa: float = 100.0, rng: np.random.Generator) -> DimensionSweep:
    """:func:`compare_search` for each d (at most 16 distinct dimensions, each at most :data:`MAX_DIM`,
    else ValueError); each dimension gets its own independent stream (``rng.spawn``)."""
    dims = np.array(sorted({int(v) for v in dims}))
    if len(dims) > 16 or dims.min() < 1 or dims.max() > MAX_DIM:
        raise ValueError(f"need at most 16 dimensions in 1..{MAX_DIM}, got {dims.tolist()}")
    streams = rng.spawn(len(dims))
    rs, g, gn = [], [], []
    for d, r in zip(dims, streams, strict=True):
        c = compare_search(int(d), n_evals=n_evals, kappa=kappa, rng=r)
        rs.append(c.random[-1])
        g.append(c.gd[-1])
        gn.append(c.gd_numeric[-1])
    return DimensionSweep(dims=dims, n_evals=int(n_evals), random=np.array(rs),
                          gd=np.array(g), gd_numeric=np.array(gn))


SEARCH_DIMS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)


@dataclass(frozen=True)
class SearchConfig:
    """Random search vs gradient descent: dimension ``d``, budget ``n_evals``, condition number, seed
    (the comparison draws from stream 1 of ``seed``), and the dimensions of the sweep (``d`` is added)."""

    d: int = 10
    n_evals: int = 1000
    kappa: float = 100.0
    seed: int = 0
    dims: tuple[int, ...] = SEARCH_DIMS

    def clamped(self) -> SearchConfig:
        d = int(min(max(int(self.d), 1), MAX_DIM))
        dims = tuple(sorted({int(min(max(int(v), 1), MAX_DIM)) for v in self.dims} | {d}))[:16]
        return SearchConfig(d=d, n_evals=int(min(max(int(self.n_evals), 2), MAX_EVALS)),
                            kappa=_clip(_finite("kappa", self.kappa), 1.0, 1e6),
                            seed=int(min(max(int(self.seed), 0), 2**31 - 1)), dims=dims)


SearchConfig.DEFAULT = SearchConfig()


@dataclass(frozen=True)
class SearchResult:
    config: SearchConfig
    comparison: SearchComparison
    sweep: DimensionSweep


def search_experiment(cfg: SearchConfig) -> SearchResult:
    """The comparison at ``cfg.d`` and the sweep over ``cfg.dims`` (clamped config; stream 1 of the seed)."""
    if cfg != cfg.clamped():
        raise ValueError("search_experiment needs a clamped config (SearchConfig.clamped())")
    rng_compare, rng_sweep = stream(cfg.seed, 1).spawn(2)
    return SearchResult(config=cfg, comparison=compare_search(cfg.d, n_evals=cfg.n_evals, kappa=cfg.kappa,
                                                              rng=rng_compare),
                        sweep=search_vs_dimension(cfg.dims, n_evals=cfg.n_evals, kappa=cfg.kappa, rng=rng_sweep))


DEFAULT = RaceConfig.DEFAULT
