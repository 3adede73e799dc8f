r"""The configs of the loss-landscape page: one frozen, hashable config per experiment, whose ``clamped()`` is
**the only place** the server's caps live (part of :mod:`regopt_core.landscapes`).

A landscape is a built-in test surface (:data:`regopt_core.functions.SURFACE_NAMES`) or ``"custom"``: a
formula typed by the student, checked by :mod:`regopt_core.expressions` (``clamped()`` stores its canonical
spelling, :func:`regopt_core.expressions.normalize`, so equal formulas share one cache key and a bad one
raises :class:`~regopt_core.expressions.ExpressionError` with the column of the problem).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from regopt_core.caps import clip, finite
from regopt_core.expressions.validate import DEFAULT_BOUNDS, DEFAULT_EXPRESSION, normalize
from regopt_core.functions import SURFACE_NAMES, Surface, make_surface
from regopt_core.optimizers import OPTIMIZER_NAMES, Optimizer, make_optimizer
from regopt_core.seeding import stream

__all__ = [
    "MAX_STEPS", "MAX_GRID", "MAX_RACERS", "MAX_DIM", "MAX_EVALS", "MAX_START", "MAX_FAMILY_STEPS", "MAX_FAMILY",
    "MAX_WINDOW", "LR_RANGE", "OPTIMIZER_LABELS", "SUGGESTED_STEPS", "FAMILY_FACTORS", "THRESHOLD_CHOICES",
    "SURFACE_KEYS", "SurfaceConfig", "build_surface", "suggested_steps", "RaceEntry", "DEFAULT_ENTRIES",
    "RaceConfig", "StepFamilyConfig", "GradientCheckConfig", "SEARCH_DIMS", "SearchConfig",
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
#: the contour range of a custom landscape: every limit within +-MAX_WINDOW
MAX_WINDOW = 1000.0

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
#: every landscape key a config accepts: the built-in surfaces and a typed formula
SURFACE_KEYS: tuple[str, ...] = (*SURFACE_NAMES, "custom")


def _window(window) -> tuple[tuple[float, float], tuple[float, float]]:
    """A custom landscape's contour range, each limit clipped to +-MAX_WINDOW; min < max or ValueError."""
    try:
        (x_lo, x_hi), (y_lo, y_hi) = window
        vals = [clip(finite("contour range", v), -MAX_WINDOW, MAX_WINDOW) for v in (x_lo, x_hi, y_lo, y_hi)]
    except (TypeError, ValueError) as err:
        raise ValueError(f"the contour range must be ((x min, x max), (y min, y max)) of finite numbers: {err}") from None
    for name, lo, hi in (("x", vals[0], vals[1]), ("y", vals[2], vals[3])):
        if not lo < hi:
            raise ValueError(f"the contour range needs {name} min < {name} max, got {lo:g} and {hi:g}")
    return (vals[0], vals[1]), (vals[2], vals[3])


@dataclass(frozen=True)
class SurfaceConfig:
    """Which landscape: a key of :data:`SURFACE_KEYS` and its parameters.

    ``kappa``/``theta`` shape the quadratic; ``lam``/``penalty``/``seed``/``n_samples`` the logistic
    loss (its data set is drawn from stream 0 of ``seed``); ``expr``/``window`` are the formula and the
    contour range of ``"custom"``. :meth:`clamped` puts the parameters a surface does not use at their
    defaults, so equal landscapes share one cache key.
    """

    key: str = "quadratic"
    kappa: float = 10.0
    theta: float = 30.0
    lam: float = 0.05
    penalty: str = "l2"
    seed: int = 0
    n_samples: int = 60
    expr: str = DEFAULT_EXPRESSION
    window: tuple[tuple[float, float], tuple[float, float]] = DEFAULT_BOUNDS

    def clamped(self) -> SurfaceConfig:
        """The landscape the server computes. Raises ``ValueError`` for an unknown key, a bad contour range,
        and :class:`~regopt_core.expressions.ExpressionError` (a ValueError) for a formula that is not allowed."""
        if self.key not in SURFACE_KEYS:
            raise ValueError(f"unknown surface {self.key!r}; expected one of {SURFACE_KEYS}")
        base = SurfaceConfig(key=self.key)
        if self.key == "custom":
            return replace(base, expr=normalize(self.expr), window=_window(self.window))
        if self.key == "quadratic":
            return replace(base, kappa=clip(finite("kappa", self.kappa), 1.0, 1e6),
                           theta=clip(finite("theta", self.theta), -360.0, 360.0))
        if self.key == "logistic":
            if self.penalty not in ("l1", "l2"):
                raise ValueError(f"penalty must be 'l1' or 'l2', got {self.penalty!r}")
            return replace(base, lam=clip(finite("lam", self.lam), 0.0, 10.0), penalty=self.penalty,
                           seed=int(min(max(int(self.seed), 0), 2**31 - 1)),
                           n_samples=int(min(max(int(self.n_samples), 10), 2000)))
        return base


def build_surface(cfg: SurfaceConfig) -> Surface:
    """The :class:`~regopt_core.functions.Surface` of a (clamped) surface config.

    A custom landscape is :func:`regopt_core.expressions.custom_surface` of the formula on the contour range
    (it raises :class:`~regopt_core.expressions.ExpressionError` when f is not finite anywhere there)."""
    if cfg.key == "custom":
        from regopt_core.expressions.surface import custom_surface  # sympy: imported when first needed

        return custom_surface(cfg.expr, bounds=cfg.window)
    if cfg.key == "logistic":
        return make_surface("logistic", lam=cfg.lam, penalty=cfg.penalty, n_samples=cfg.n_samples,
                            rng=stream(cfg.seed, 0))
    return make_surface(cfg.key, kappa=cfg.kappa, theta_deg=cfg.theta)


def suggested_steps(cfg: SurfaceConfig, surface: Surface) -> dict[str, float]:
    """Step sizes that make a sensible race: :data:`SUGGESTED_STEPS` for a built-in landscape, the curvature
    heuristic :func:`regopt_core.expressions.suggested_steps` for a typed one."""
    if cfg.key == "custom":
        from regopt_core.expressions.surface import suggested_steps as custom_steps

        return custom_steps(surface)
    return dict(SUGGESTED_STEPS[cfg.key])


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
        return RaceEntry(self.name, clip(finite("learning rate", self.learning_rate), *LR_RANGE),
                         beta=clip(finite("beta", self.beta), 0.0, 0.999), rho=clip(finite("rho", self.rho), 0.0, 0.9999),
                         beta1=clip(finite("beta1", self.beta1), 0.0, 0.999),
                         beta2=clip(finite("beta2", self.beta2), 0.0, 0.99999))


DEFAULT_ENTRIES = (RaceEntry("gd", 1.0), RaceEntry("momentum", 0.1), RaceEntry("adam", 0.1))


def _clamp_start(start: tuple[float, float] | None) -> tuple[float, float] | None:
    if start is None:
        return None
    x, y = (float(v) for v in start)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return (clip(x, -MAX_START, MAX_START), clip(y, -MAX_START, MAX_START))


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
                          tol=clip(finite("tol", self.tol), 0.0, 1.0), grid_n=int(min(max(int(self.grid_n), 5), MAX_GRID)))


RaceConfig.DEFAULT = RaceConfig()


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
        facs = tuple(sorted({round(clip(finite("factor", f), 0.01, 10.0), 4) for f in self.factors}))[:MAX_FAMILY]
        if not facs:
            facs = FAMILY_FACTORS
        return StepFamilyConfig(surface=self.surface.clamped(), optimizer=self.optimizer,
                                beta=clip(finite("beta", self.beta), 0.0, 0.999), start=_clamp_start(self.start),
                                n_steps=int(min(max(int(self.n_steps), 1), MAX_FAMILY_STEPS)), factors=facs,
                                grid_n=int(min(max(int(self.grid_n), 5), MAX_GRID)))


StepFamilyConfig.DEFAULT = StepFamilyConfig()


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
                                   h=clip(finite("h", self.h), 1e-12, 1e-1), n_h=int(min(max(int(self.n_h), 3), 200)))


GradientCheckConfig.DEFAULT = GradientCheckConfig()


SEARCH_DIMS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)


@dataclass(frozen=True)
class SearchConfig:
    """Random search vs gradient descent: dimension ``d``, budget ``n_evals``, condition number, seed
    (the comparison draws from stream 1 of ``seed``), and the dimensions of the sweep over d.

    The sweep does not depend on ``d``: :meth:`sweep_key` is the config with ``d`` at its default, so moving
    the dimension reuses the sweep and computes only the comparison at the new d."""

    d: int = 10
    n_evals: int = 1000
    kappa: float = 100.0
    seed: int = 0
    dims: tuple[int, ...] = SEARCH_DIMS

    def clamped(self) -> SearchConfig:
        d = int(min(max(int(self.d), 1), MAX_DIM))
        dims = tuple(sorted({int(min(max(int(v), 1), MAX_DIM)) for v in self.dims}))[:16] or SEARCH_DIMS
        return SearchConfig(d=d, n_evals=int(min(max(int(self.n_evals), 2), MAX_EVALS)),
                            kappa=clip(finite("kappa", self.kappa), 1.0, 1e6),
                            seed=int(min(max(int(self.seed), 0), 2**31 - 1)), dims=dims)

    def sweep_key(self) -> SearchConfig:
        """The config of the sweep over dimensions: ``d`` does not matter there (one result for every d)."""
        return replace(self, d=SearchConfig.d)


SearchConfig.DEFAULT = SearchConfig()
#: the evaluation budgets the page's slider offers (1-2-5 steps): the sweep of each is precomputed at the default seed
SEARCH_BUDGETS: tuple[int, ...] = (100, 200, 500, 1000, 2000, 5000)

