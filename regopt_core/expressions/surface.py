r"""A typed formula as a :class:`~regopt_core.functions.Surface`: plot window, start point, the minimizers
found numerically in the window, and step sizes for a race (part of :mod:`regopt_core.expressions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from regopt_core.expressions.symbolic import CompiledExpression, RealAbs, compile_expression
from regopt_core.expressions.validate import DEFAULT_BOUNDS, MAX_BOUND, ExpressionError
from regopt_core.functions import Surface
from regopt_core.iteration import DIVERGENCE_LIMIT

__all__ = ["custom_surface", "suggested_steps"]


# ------------------------------------------------------------------------------------------ the Surface
def _window(bounds) -> tuple[tuple[float, float], tuple[float, float]]:
    if bounds is None:
        return DEFAULT_BOUNDS
    try:
        (x_lo, x_hi), (y_lo, y_hi) = bounds
        vals = [float(v) for v in (x_lo, x_hi, y_lo, y_hi)]
    except (TypeError, ValueError):
        raise ValueError("the window must be ((x_min, x_max), (y_min, y_max))") from None
    if not all(math.isfinite(v) and abs(v) <= MAX_BOUND for v in vals):
        raise ValueError(f"the window's limits must be finite numbers of size at most {MAX_BOUND:g}")
    if not (vals[0] < vals[1] and vals[2] < vals[3]):
        raise ValueError("the window needs x_min < x_max and y_min < y_max")
    return (vals[0], vals[1]), (vals[2], vals[3])


def _finite_at(c: CompiledExpression, x, y) -> np.ndarray:
    f = np.asarray(c.fun(x, y))
    gx, gy = c.grad(x, y)
    with np.errstate(all="ignore"):
        return np.isfinite(f) & np.isfinite(gx) & np.isfinite(gy) & (np.abs(f) <= DIVERGENCE_LIMIT)


def _grid(win, n: int = 81):
    (x_lo, x_hi), (y_lo, y_hi) = win
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    return gx, gy


def _start(c: CompiledExpression, win, start, text: str) -> tuple[float, float]:
    if start is not None:
        x0, y0 = start
        if not (math.isfinite(x0) and math.isfinite(y0) and max(abs(x0), abs(y0)) <= MAX_BOUND):
            raise ValueError(f"the start must have finite coordinates of size at most {MAX_BOUND:g}")
        if not bool(_finite_at(c, x0, y0)):
            raise ExpressionError(f"f or its gradient is not finite at the start ({x0:g}, {y0:g}) (or |f| > "
                                  f"{DIVERGENCE_LIMIT:.0e}): e.g. log or sqrt of a negative number, or a division "
                                  "by zero there; pick another start", None, text)
        return x0, y0
    (x_lo, x_hi), (y_lo, y_hi) = win
    want = np.array([x_lo + 0.25 * (x_hi - x_lo), y_lo + 0.75 * (y_hi - y_lo)])
    if bool(_finite_at(c, *want)):
        return float(want[0]), float(want[1])
    gx, gy = _grid(win, 41)
    ok = _finite_at(c, gx, gy)
    if not ok.any():
        raise ExpressionError(f"f or its gradient is not finite (or |f| > {DIVERGENCE_LIMIT:.0e}) anywhere in the "
                              "window: change the formula or the contour range", None, text)
    d = np.where(ok, np.hypot(gx - want[0], gy - want[1]), np.inf)
    i = np.unravel_index(int(np.argmin(d)), d.shape)
    return float(gx[i]), float(gy[i])


@dataclass(frozen=True)
class _Minima:
    points: tuple[tuple[float, float], ...]
    f_min: float
    interior: bool
    note: str


def _refine(c: CompiledExpression, p: np.ndarray, win, iters: int = 200) -> tuple[np.ndarray, np.ndarray]:
    r"""Local minimization of f from the rows of ``p`` (k, 2) at once, kept inside the window.

    Modified Newton: the step solves :math:`(H + \tau I)\,d = -g` with :math:`\tau \ge 0` just large
    enough to make the (2 x 2) matrix positive definite, shortened by halving until f decreases
    sufficiently (Armijo), and projected onto the window. Near a minimum with a positive definite Hessian
    this is Newton's method (quadratic convergence, so minimizers come out to rounding error).
    """
    lo = np.array([win[0][0], win[1][0]])
    hi = np.array([win[0][1], win[1][1]])
    p = np.clip(np.array(p, dtype=float), lo, hi)
    with np.errstate(all="ignore"):
        f = np.asarray(c.fun(p[:, 0], p[:, 1]), dtype=float)
        active = np.isfinite(f)
        for _ in range(iters):
            if not active.any():
                break
            gx, gy = c.grad(p[:, 0], p[:, 1])
            a, b, d = c.hess(p[:, 0], p[:, 1])
            g = np.stack([gx, gy], axis=-1)
            m, r = 0.5 * (a + d), np.hypot(0.5 * (a - d), b)
            lmin, lmax = m - r, m + r
            tau = np.where(lmin > 1e-12 * (1.0 + np.abs(lmax)), 0.0, -lmin + 1e-3 * (1.0 + np.abs(lmax)))
            a2, d2 = a + tau, d + tau
            det = a2 * d2 - b * b
            step = -np.stack([(d2 * gx - b * gy) / det, (a2 * gy - b * gx) / det], axis=-1)
            bad = ~np.all(np.isfinite(step), axis=-1)
            step[bad] = -g[bad] / (1.0 + np.linalg.norm(g[bad], axis=-1, keepdims=True))
            active &= np.all(np.isfinite(g), axis=-1) & np.all(np.isfinite(step), axis=-1)
            t = np.ones(len(p))
            accepted = np.zeros(len(p), dtype=bool)
            q_acc, f_acc = p.copy(), f.copy()
            for _ in range(50):
                q = np.clip(p + t[:, None] * step, lo, hi)
                fq = np.asarray(c.fun(q[:, 0], q[:, 1]), dtype=float)
                slope = np.minimum(np.sum(g * (q - p), axis=-1), 0.0)
                ok = active & ~accepted & np.isfinite(fq) & (fq <= f + 1e-4 * slope)
                q_acc[ok], f_acc[ok] = q[ok], fq[ok]
                accepted |= ok
                if np.all(accepted | ~active):
                    break
                t = np.where(accepted, t, 0.5 * t)
            moved = np.linalg.norm(q_acc - p, axis=-1)
            p, f = np.where(accepted[:, None], q_acc, p), np.where(accepted, f_acc, f)
            active &= accepted & (moved > 1e-15 * (1.0 + np.linalg.norm(p, axis=-1)))
    return p, f


def _find_minima(c: CompiledExpression, win, start: tuple[float, float]) -> _Minima:
    if not any(g.free_symbols for g in c.gradient_exprs) and all(g == 0 for g in c.gradient_exprs):
        v = float(c.fun(*start))
        return _Minima(((start[0], start[1]),), v, True, "f is constant: every point is a minimizer.")
    (x_lo, x_hi), (y_lo, y_hi) = win
    gx, gy = _grid(win)
    with np.errstate(all="ignore"):
        z = np.asarray(c.fun(gx, gy), dtype=float)
        z = np.where(np.isfinite(z), z, np.inf)
    if not np.isfinite(z).any():
        raise ExpressionError("f is not finite anywhere in the window: change the formula or the contour range",
                              None, c.text)
    pad = np.pad(z, 1, constant_values=np.inf)
    n0, n1 = z.shape
    local = np.isfinite(z)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                local &= z <= pad[1 + di:1 + di + n0, 1 + dj:1 + dj + n1]
    idx = np.flatnonzero(local.ravel())
    idx = idx[np.argsort(z.ravel()[idx], kind="stable")][:12]
    idx = np.union1d(idx, [int(np.argmin(z))])

    cand = np.stack([gx.ravel()[idx], gy.ravel()[idx]], axis=-1)
    pts_ref, f_ref = _refine(c, cand, win)
    z0 = z.ravel()[idx]
    found: list[tuple[float, np.ndarray]] = []
    for k in range(len(idx)):
        if np.isfinite(f_ref[k]) and f_ref[k] <= z0[k]:
            found.append((float(f_ref[k]), pts_ref[k]))
        else:
            found.append((float(z0[k]), cand[k]))
    f_min = min(f for f, _ in found)
    tol = 1e-9 * max(1.0, abs(f_min))
    span = max(x_hi - x_lo, y_hi - y_lo)

    def on_edge(p: np.ndarray) -> bool:
        return bool(min(p[0] - x_lo, x_hi - p[0], p[1] - y_lo, y_hi - p[1]) <= 1e-9 * span)

    pts: list[np.ndarray] = []
    ties = sorted((t for t in found if t[0] <= f_min + tol), key=lambda t: (on_edge(t[1]), t[0]))
    for _, p in ties:  # interior points first
        if all(np.hypot(*(p - q)) > 1e-6 * span for q in pts):
            pts.append(p)
    pts = pts[:8]
    p = pts[0]
    where = f"({p[0]:.4g}, {p[1]:.4g})"
    more = f" (and {len(pts) - 1} more with the same value)" if len(pts) > 1 else ""
    g = np.hypot(*c.grad(*p))
    hxx, hxy, hyy = c.hess(*p)
    lam = np.linalg.eigvalsh(np.array([[hxx, hxy], [hxy, hyy]])) if np.all(np.isfinite([hxx, hxy, hyy])) else None
    stationary = bool(np.isfinite(g) and g * span <= 1e-6 * (1.0 + abs(f_min)))
    if on_edge(p):
        note = (f"The lowest value found in the window, f = {f_min:.4g}, is on its edge at {where}{more}: f may keep "
                "decreasing outside the window (the race measures distances to that point).")
    elif not stationary:
        note = (f"No minimum found in the window: f decreases without bound near {where} (f = {f_min:.4g} there, "
                f"|∇f| = {g:.3g}); the race measures distances to that point.")
    else:
        note = (f"Lowest point found numerically in the window (grid search, then Newton's method): "
                f"f = {f_min:.4g} at {where}{more}; other local minima may exist outside the window.")
        if lam is not None and not c.expr.has(RealAbs, sympy.Abs) and lam[0] <= 1e-9 * max(1.0, abs(lam[1])):
            note += " The minimum is not isolated: f is flat along a direction there (a zero Hessian eigenvalue)."
    return _Minima(tuple((float(q[0]), float(q[1])) for q in pts), f_min, not on_edge(p), note)


def custom_surface(text: str, *, bounds=None, start=None) -> Surface:
    """The :class:`~regopt_core.functions.Surface` of a typed formula ``f(x, y)``.

    Parameters
    ----------
    text : str
        The formula, e.g. ``"(1-x)**2 + 100*(y-x**2)**2"`` (see the module docstring for what it may contain).
    bounds : ((x_min, x_max), (y_min, y_max)), optional
        Plot window (contour range) and the region where minimizers are searched; default :data:`DEFAULT_BOUNDS`.
        Limits must be finite, of size at most :data:`MAX_BOUND`, with min < max.
    start : (x, y), optional
        Start of the race; default: the point a quarter across and three quarters up the window, or the
        nearest grid point where f and its gradient are finite.

    Raises
    ------
    ExpressionError
        Bad formula; f or its gradient not finite at ``start`` or anywhere in the window.
    ValueError
        Malformed window or start.
    """
    if not isinstance(text, str):
        raise ExpressionError("the formula must be text", None, None)
    compile_expression(text)  # errors first, and no huge strings in the cache below
    win = _window(bounds)
    if start is not None:
        try:
            x0, y0 = (float(v) for v in start)
        except (TypeError, ValueError):
            raise ValueError("the start must be a point (x, y)") from None
        start = (x0, y0)
    return _surface_cached(text, win, start)


@lru_cache(maxsize=64)
def _surface_cached(text: str, win, start) -> Surface:
    c = compile_expression(text)
    x0, y0 = _start(c, win, start, text)
    minima = _find_minima(c, win, (x0, y0))
    lipschitz = mu = None
    if c.constant_hessian and not c.expr.has(RealAbs, sympy.Abs):  # a quadratic: global curvature known
        h = np.array([[float(c.hessian_exprs[0]), float(c.hessian_exprs[1])],
                      [float(c.hessian_exprs[1]), float(c.hessian_exprs[2])]])
        lam = np.linalg.eigvalsh(h)
        if np.max(np.abs(lam)) > 0:
            lipschitz = float(np.max(np.abs(lam)))
            mu = float(lam[0]) if lam[0] >= 0 else None
    short = text.strip() if len(text.strip()) <= 40 else text.strip()[:39] + "…"
    return Surface(
        key="custom",
        name=f"Custom: {short}",
        latex=f"f(x,y) = {c.latex}",
        fun=c.fun,
        grad=c.grad,
        hess=c.hess,
        minimizers=minima.points,
        f_min=float(minima.f_min),
        bounds=win,
        start=(x0, y0),
        lipschitz=lipschitz,
        mu=mu,
        note=minima.note,
        params=(("expr", text),),
    )


def _round1(v: float) -> float:
    """One significant digit (for step sizes shown on a page)."""
    if not (v > 0 and math.isfinite(v)):
        return 0.01
    e = math.floor(math.log10(v))
    return float(f"{round(v / 10 ** e) * 10 ** e:.1g}")


def suggested_steps(surface: Surface) -> dict[str, float]:
    r"""Step sizes for a race on any surface, in the format of ``landscapes.SUGGESTED_STEPS``.

    The curvature scale :math:`\lambda` is the largest Hessian eigenvalue over the start and the minimizers
    found (``surface.lipschitz`` when known); gradient descent gets :math:`1/\lambda` (half the local
    stability limit :math:`2/\lambda`), momentum and Nesterov :math:`0.5/\lambda`; the adaptive methods,
    whose steps are about :math:`\eta` per coordinate, get a fraction of the window's size ``s``
    (AdaGrad s/20, RMSProp s/400, Adam s/100), the ratios of the hand-picked built-in values. A
    heuristic, rounded to one significant digit; the race still reports any divergence.
    """
    if surface.lipschitz is not None and surface.lipschitz > 0:
        lam = float(surface.lipschitz)
    else:
        pts = np.array([surface.start, *surface.minimizers], dtype=float)
        with np.errstate(all="ignore"):
            h = surface.hessian(pts)
            ok = np.all(np.isfinite(h), axis=(-2, -1))
            ev = np.linalg.eigvalsh(h[ok])[..., -1] if ok.any() else np.array([])
        ev = ev[np.isfinite(ev) & (ev > 0)]
        lam = float(ev.max()) if ev.size else 1.0
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    s = max(x_hi - x_lo, y_hi - y_lo)
    return dict(gd=_round1(1.0 / lam), momentum=_round1(0.5 / lam), nesterov=_round1(0.5 / lam),
                adagrad=_round1(s / 20.0), rmsprop=_round1(s / 400.0), adam=_round1(s / 100.0))

