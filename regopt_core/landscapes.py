r"""Experiment drivers for the loss-landscape page: optimizer races, stability thresholds,
divergence diagnosis, gradient checks on a surface, and random search versus gradient descent.

Everything returns small frozen dataclasses (picklable, for ``st.cache_data``); every size-driving
argument is capped here, whatever a URL asks for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from regopt_core.functions import Surface
from regopt_core.gradients import StepSweep, finite_difference_sweep, numerical_gradient
from regopt_core.optimizers import OPTIMIZER_NAMES, Trace, _divergence_message, gd, make_optimizer, run

__all__ = [
    "MAX_STEPS",
    "MAX_GRID",
    "MAX_RACERS",
    "MAX_DIM",
    "MAX_EVALS",
    "OPTIMIZER_LABELS",
    "SUGGESTED_STEPS",
    "RaceEntry",
    "Racer",
    "Race",
    "Grid",
    "stability_threshold",
    "threshold_formula",
    "explain_divergence",
    "race",
    "surface_grid",
    "gradient_sweep",
    "planted_bug_gradient",
    "reference_curvature",
    "SearchComparison",
    "DimensionSweep",
    "diagonal_quadratic",
    "random_search",
    "compare_search",
    "search_vs_dimension",
]

MAX_STEPS = 10_000
MAX_GRID = 301
MAX_RACERS = 6
MAX_DIM = 5_000
MAX_EVALS = 5_000

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


# --------------------------------------------------------------------------------------- thresholds
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


# --------------------------------------------------------------------------------------- race
@dataclass(frozen=True)
class RaceEntry:
    """One optimizer in a race: its name (see :data:`OPTIMIZER_NAMES`), step size and beta."""

    name: str
    learning_rate: float
    beta: float = 0.9


@dataclass(frozen=True)
class Racer:
    """One optimizer's run: its settings, its trace, its threshold and a verdict in words."""

    name: str
    label: str
    learning_rate: float
    beta: float
    trace: Trace
    threshold: float | None
    distance: np.ndarray  # distance of each iterate to the nearest global minimizer
    verdict: str


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
    h = surface.hessian(points)
    lam = np.linalg.eigvalsh(h)[..., -1]
    lam = lam[np.isfinite(lam)]
    return float(lam.max()) if lam.size else float("nan")


def explain_divergence(surface: Surface, entry: RaceEntry, trace: Trace) -> str:
    """Why a run diverged (or "" if it did not), naming the threshold when there is one."""
    if not trace.diverged:
        return ""
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


def race(surface: Surface, entries: Sequence[RaceEntry], x0: Sequence[float], *, n_steps: int = 300,
         bound: float = 1e12) -> Race:
    r"""Run several optimizers from the same start on the same surface.

    Each optimizer minimizes :math:`f` on its own, exactly as :func:`regopt_core.optimizers.run`
    would (same updates, same stopping rules, same :class:`~regopt_core.optimizers.Trace`), but all
    racers advance in lockstep so that the surface is evaluated once per step for all of them
    (vectorized), which is what keeps a 6 x 1000-step race interactive. A racer that diverges
    (non-finite values, or an iterate or loss beyond ``bound``) stops at that step while the others
    go on; its :class:`Racer` says why.

    Parameters
    ----------
    surface : Surface
    entries : sequence of RaceEntry
        At most :data:`MAX_RACERS` (extra ones are dropped).
    x0 : (float, float)
        Common start.
    n_steps : int, default 300
        Steps per optimizer, capped at :data:`MAX_STEPS`.
    bound : float, default 1e12
        Bound on iterates and losses (as in :func:`~regopt_core.optimizers.run`).
    """
    n_steps = int(min(max(int(n_steps), 1), MAX_STEPS))
    x0 = np.asarray(x0, dtype=float).reshape(2)
    entries = list(entries)[:MAX_RACERS]
    for entry in entries:
        if entry.name not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer {entry.name!r}")
    opts = [make_optimizer(e.name, e.learning_rate, beta=e.beta) for e in entries]
    traces = _lockstep(surface, opts, x0, n_steps, float(bound))
    racers = []
    for entry, tr in zip(entries, traces, strict=True):
        dist = surface.distance_to_minimizer(tr.xs)
        thr = stability_threshold(entry.name, surface.lipschitz, beta=entry.beta)
        verdict = explain_divergence(surface, entry, tr) if tr.diverged else _converged_verdict(surface, tr, dist)
        racers.append(Racer(name=entry.name, label=OPTIMIZER_LABELS[entry.name], learning_rate=entry.learning_rate,
                            beta=entry.beta, trace=tr, threshold=thr, distance=dist, verdict=verdict))
    return Race(surface_key=surface.key, surface_name=surface.name, x0=x0, n_steps=n_steps,
                lipschitz=surface.lipschitz, racers=tuple(racers))


def _evaluate(surface: Surface, X: np.ndarray, F: np.ndarray, G: np.ndarray) -> None:
    """f and its gradient at the rows of X (m, 2), written into F (m,) and G (m, 2)."""
    x, y = X[:, 0], X[:, 1]
    F[:] = surface.fun(x, y)
    G[:, 0], G[:, 1] = surface.grad(x, y)


def _lockstep(surface: Surface, opts: list, x0: np.ndarray, n_steps: int, bound: float) -> list[Trace]:
    """The loop of :func:`regopt_core.optimizers.run` for m optimizers at once (one row each)."""
    m = len(opts)
    if m == 0:
        return []
    xs = np.empty((n_steps + 1, m, 2))
    fs = np.empty((n_steps + 1, m))
    gs = np.empty((n_steps + 1, m, 2))
    X = np.tile(x0, (m, 1))
    F, G = np.empty(m), np.empty((m, 2))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        _evaluate(surface, X, F, G)
        if not (np.all(np.isfinite(G)) and np.all(np.abs(F) <= bound) and np.all(np.abs(x0) <= bound)):
            raise ValueError("the starting point gives a non-finite or out-of-bound loss or gradient")
        xs[0], fs[0], gs[0] = X, F, G
        states = [opt.init(x0) for opt in opts]
        alive = list(range(m))
        nit = [n_steps] * m
        diverged_at: list[int | None] = [None] * m
        messages = [f"reached the step limit ({n_steps})"] * m
        U = np.zeros((m, 2))
        F_new, G_new = np.empty(m), np.empty((m, 2))
        for k in range(1, n_steps + 1):
            for i in alive:
                U[i], states[i] = opts[i].update(G[i], states[i], X[i])
            X_new = X + U
            _evaluate(surface, X_new, F_new, G_new)
            # fast test on three scalars (a sum is finite iff every term is, barring overflow of the sum,
            # which only sends us to the exact per-row test)
            if not (float(np.abs(X_new).max()) <= bound and float(np.abs(F_new).max()) <= bound
                    and math.isfinite(float(G_new.sum()))):
                ok = (np.abs(F_new) <= bound) & np.isfinite(G_new).all(axis=1) & (np.abs(X_new).max(axis=1) <= bound)
                for i in np.flatnonzero(~ok):
                    if diverged_at[i] is None:
                        diverged_at[i], nit[i] = k, k - 1
                        messages[i] = _divergence_message(k, X_new[i], float(F_new[i]),
                                                          float(np.hypot(*G_new[i])), bound)
                        alive.remove(int(i))
                    U[i] = 0.0  # frozen at its last accepted iterate
                    X_new[i], F_new[i], G_new[i] = X[i], F[i], G[i]
                if not alive:
                    xs[k:], fs[k:], gs[k:] = X, F, G
                    break
            X, F_new, F = X_new, F, F_new.copy()
            G_new, G = G, G_new.copy()
            xs[k], fs[k], gs[k] = X, F, G
    traces = []
    for i in range(m):
        n = nit[i]
        g_norm = np.hypot(gs[: n + 1, i, 0], gs[: n + 1, i, 1])
        traces.append(Trace(x=xs[n, i].copy(), fun=float(fs[n, i]), nit=n, message=messages[i],
                            xs=xs[: n + 1, i].copy(), fs=fs[: n + 1, i].copy(), grad_norms=g_norm,
                            diverged=diverged_at[i] is not None, diverged_at=diverged_at[i]))
    return traces


def _converged_verdict(surface: Surface, tr: Trace, dist: np.ndarray) -> str:
    gap = tr.fun - surface.f_min
    near = surface.nearest_minimizer(tr.x)
    if dist[-1] < 1e-3:
        return f"reached the minimizer ({near[0]:.3g}, {near[1]:.3g}) to within {dist[-1]:.1e} after {tr.nit} steps"
    return (f"after {tr.nit} steps: f − f* = {gap:.3g}, {dist[-1]:.3g} from the nearest global minimizer "
            f"({near[0]:.3g}, {near[1]:.3g})")


# --------------------------------------------------------------------------------------- grid
@dataclass(frozen=True)
class Grid:
    """f sampled on a regular grid: ``z[i, j] = f(x[j], y[i])`` (plotly's contour convention)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray


def surface_grid(surface: Surface, *, n: int = 121) -> Grid:
    """Sample the surface on an ``n`` x ``n`` grid over its plotting window (n capped at 301)."""
    n = int(min(max(int(n), 5), MAX_GRID))
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    x = np.linspace(x_lo, x_hi, n)
    y = np.linspace(y_lo, y_hi, n)
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.asarray(surface.fun(x[None, :], y[:, None]), dtype=float)
    return Grid(x=x, y=y, z=np.broadcast_to(z, (n, n)).copy())


# --------------------------------------------------------------------------------------- gradient check
def planted_bug_gradient(surface: Surface):
    """The surface's gradient with a typical hand-derivation bug: df/dx off by a factor 2."""

    def grad(p: np.ndarray) -> np.ndarray:
        g = np.array(surface.gradient(p), dtype=float)
        g[..., 0] *= 0.5
        return g

    return grad


def gradient_sweep(surface: Surface, point: Sequence[float], *, n_h: int = 57, bug: bool = False) -> StepSweep:
    """Forward/central finite-difference errors against the surface's analytic gradient at ``point``
    (with ``bug``, against :func:`planted_bug_gradient`: the error then stalls near 30 %)."""
    grad = planted_bug_gradient(surface) if bug else surface.gradient
    return finite_difference_sweep(surface.value, grad, np.asarray(point, dtype=float), n_h=n_h)


def reference_curvature(surface: Surface) -> tuple[float, str]:
    r"""The curvature that sets the step-size limit, and its kind.

    ``(L, "global")`` when the surface has a global Lipschitz constant of its gradient (quadratic,
    logistic); otherwise ``(lambda_star, "at the minimum")``, the largest Hessian eigenvalue at the
    global minimizers: gradient descent converges *locally* to a minimizer iff
    :math:`\eta < 2/\lambda_{\max}(
abla^2 f(x^*))`.
    """
    if surface.lipschitz is not None:
        return float(surface.lipschitz), "global"
    lam = np.linalg.eigvalsh(surface.hessian(np.asarray(surface.minimizers, dtype=float)))[..., -1]
    return float(np.max(lam)), "at the minimum"


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
    n_evals = int(min(max(int(n_evals), 1), MAX_EVALS))
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
    of ``n_evals`` evaluations (d capped at :data:`MAX_DIM`, budget at :data:`MAX_EVALS`).

    Both start from the same random point :math:`x_0 \sim U[-1,1]^d`; random search keeps drawing
    from that box. Gradient descent uses :math:`\eta = 1/L`; with the analytic gradient each step
    costs one evaluation (a backward pass costs a small constant times a forward pass), with forward
    differences :math:`d+1`.
    """
    d = int(min(max(int(d), 1), MAX_DIM))
    n_evals = int(min(max(int(n_evals), 2), MAX_EVALS))
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
    """:func:`compare_search` for each d (at most 16 dimensions, each capped at :data:`MAX_DIM`);
    each dimension gets its own independent stream (``rng.spawn``)."""
    dims = np.array(sorted({int(min(max(int(v), 1), MAX_DIM)) for v in dims}))[:16]
    streams = rng.spawn(len(dims))
    rs, g, gn = [], [], []
    for d, r in zip(dims, streams, strict=True):
        c = compare_search(int(d), n_evals=n_evals, kappa=kappa, rng=r)
        rs.append(c.random[-1])
        g.append(c.gd[-1])
        gn.append(c.gd_numeric[-1])
    return DimensionSweep(dims=dims, n_evals=int(min(max(int(n_evals), 2), MAX_EVALS)), random=np.array(rs),
                          gd=np.array(g), gd_numeric=np.array(gn))
