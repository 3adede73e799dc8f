r"""Numerical gradients and gradient checking: the lecture's "approximate and slow, but easy".

A finite difference replaces the limit in the definition of the derivative by a small step
:math:`h`. Per coordinate :math:`i` (unit vector :math:`e_i`):

.. math::
    \text{forward:}\quad \frac{f(x + h e_i) - f(x)}{h} = \partial_i f + \tfrac{h}{2}\partial_i^2 f + O(h^2),
    \qquad
    \text{central:}\quad \frac{f(x + h e_i) - f(x - h e_i)}{2h} = \partial_i f + \tfrac{h^2}{6}\partial_i^3 f + O(h^4).

Rounding adds an error of about :math:`\epsilon_{\text{mach}}|f(x)|/h` (each value of f is only
known to relative precision :math:`\epsilon_{\text{mach}} \approx 2.2\cdot 10^{-16}`), which *grows*
as :math:`h` shrinks. The total error is smallest near :math:`h \approx \sqrt{\epsilon}` (forward)
and :math:`h \approx \epsilon^{1/3}` (central). Reference: Nocedal & Wright, *Numerical
Optimization*, 2nd ed. (2006), Sec. 8.1.

Cost: a gradient in :math:`d` dimensions needs :math:`d + 1` (forward) or :math:`2d` (central)
evaluations of :math:`f` -- the reason deep learning uses the analytic gradient and keeps the
numerical one for checking it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EPS",
    "numerical_gradient",
    "GradientCheck",
    "check_gradient",
    "StepSweep",
    "finite_difference_sweep",
    "power_law_window",
]

EPS = float(np.finfo(float).eps)


def numerical_gradient(fun: Callable[[np.ndarray], float], x: np.ndarray, *, h: float = 1e-5,
                       scheme: str = "central") -> np.ndarray:
    r"""Finite-difference gradient of ``fun`` at ``x``, one coordinate at a time.

    .. math:: g_i = \frac{f(x + h e_i) - f(x)}{h} \ \text{(forward)}
              \quad\text{or}\quad \frac{f(x + h e_i) - f(x - h e_i)}{2h} \ \text{(central)}

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    x : array_like, shape (d,)
        Where to differentiate.
    h : float, default 1e-5
        Step (absolute).
    scheme : {"central", "forward"}
        Difference formula; costs 2d or d + 1 calls of ``fun``.
    """
    if scheme not in ("central", "forward"):
        raise ValueError(f"scheme must be 'central' or 'forward', got {scheme!r}")
    h = float(h)
    if not h > 0:
        raise ValueError("h must be > 0")
    x = np.array(x, dtype=float).ravel()
    g = np.empty_like(x)
    f0 = float(fun(x)) if scheme == "forward" else 0.0
    for i in range(x.size):  # the loop is the point: one evaluation (or two) per dimension
        old = x[i]
        x[i] = old + h
        f_plus = float(fun(x))
        if scheme == "forward":
            g[i] = (f_plus - f0) / h
        else:
            x[i] = old - h
            g[i] = (f_plus - float(fun(x))) / (2.0 * h)
        x[i] = old
    return g


@dataclass(frozen=True)
class GradientCheck:
    """Analytic vs numerical gradient at one point.

    ``rel_error`` is :math:`\\|g_{num} - g\\| / \\max(\\|g\\|, \\|g_{num}\\|, 10^{-12})`;
    ``passed`` means ``rel_error <= rtol``; ``n_evals`` counts calls of f for the numerical one.
    """

    x: np.ndarray
    analytic: np.ndarray
    numerical: np.ndarray
    abs_error: float
    rel_error: float
    h: float
    scheme: str
    n_evals: int
    passed: bool
    message: str


def check_gradient(fun: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                   *, h: float = 1e-5, scheme: str = "central", rtol: float = 1e-6) -> GradientCheck:
    r"""Compare an analytic gradient with a finite difference (a "gradient check").

    .. math:: \text{rel. error} = \frac{\|g_{\text{num}} - g\|}{\max(\|g\|, \|g_{\text{num}}\|)}

    A correct gradient gives a relative error near the finite-difference error (:math:`\sim 10^{-8}`
    or below for central differences with :math:`h = 10^{-5}` on smooth functions of moderate size);
    a bug typically gives :math:`10^{-2}` or more.
    """
    x = np.array(x, dtype=float).ravel()
    g = np.asarray(grad(x), dtype=float).ravel()
    g_num = numerical_gradient(fun, x, h=h, scheme=scheme)
    abs_err = float(np.linalg.norm(g_num - g))
    rel_err = abs_err / max(float(np.linalg.norm(g)), float(np.linalg.norm(g_num)), 1e-12)
    passed = bool(rel_err <= rtol)
    n_evals = 2 * x.size if scheme == "central" else x.size + 1
    verdict = "passes" if passed else "FAILS"
    message = f"gradient check {verdict}: relative error {rel_err:.2e} (tolerance {rtol:.0e}, {n_evals} evaluations of f)"
    return GradientCheck(x=x, analytic=g, numerical=g_num, abs_error=abs_err, rel_error=rel_err, h=float(h),
                         scheme=scheme, n_evals=n_evals, passed=passed, message=message)


@dataclass(frozen=True)
class StepSweep:
    """Relative error of forward and central differences over a range of steps h.

    ``roundoff`` is the rounding model :math:`\\epsilon |f(x)| / (h \\|g\\|)`; ``slope_forward`` and
    ``slope_central`` are least-squares log-log slopes (about 1 and 2) over a window chosen from the
    data, ``window_forward`` / ``window_central`` = ``(h_lo, h_hi)`` (see
    :func:`power_law_window`; ``None`` and a nan slope when no h is free of round-off);
    ``h_best_*`` is the step with the smallest error.
    """

    x: np.ndarray
    hs: np.ndarray
    err_forward: np.ndarray
    err_central: np.ndarray
    roundoff: np.ndarray
    f_abs: float
    g_norm: float
    slope_forward: float
    slope_central: float
    h_best_forward: float
    h_best_central: float
    min_err_forward: float
    min_err_central: float
    window_forward: tuple[float, float] | None = None
    window_central: tuple[float, float] | None = None


#: a step h counts as truncation-dominated when its error exceeds the round-off model this many times
ROUNDOFF_MARGIN = 30.0
#: the slope is fitted over at most this many decades of h, starting at the smallest clean h
WINDOW_DECADES = 2.0


def power_law_window(hs: np.ndarray, err: np.ndarray, roundoff: np.ndarray, *, margin: float = ROUNDOFF_MARGIN,
                     decades: float = WINDOW_DECADES) -> np.ndarray:
    r"""Where the error follows its truncation power law: a boolean mask over ``hs``.

    A step is *clean* when its error exceeds ``margin`` times the round-off model
    :math:`\epsilon|f|/(h\|g\|)` (so rounding moves its log10 by less than ~0.015). The window is the
    longest run of consecutive clean steps, cut to its lowest ``decades`` decades of h (large h bring
    the next Taylor term in). Empty when fewer than 3 steps are clean (no power law to fit).
    """
    clean = (err > margin * roundoff) & np.isfinite(err) & (err > 0)
    best, run_start, best_len = None, None, 0
    for i, c in enumerate(np.append(clean, False)):
        if c and run_start is None:
            run_start = i
        elif not c and run_start is not None:
            if i - run_start > best_len:
                best, best_len = (run_start, i), i - run_start
            run_start = None
    mask = np.zeros(hs.shape, dtype=bool)
    if best is None or best_len < 3:
        return mask
    lo, hi = best
    mask[lo:hi] = True
    mask &= hs <= hs[lo] * 10.0**decades
    return mask


def finite_difference_sweep(fun: Callable[[np.ndarray], np.ndarray], grad: Callable[[np.ndarray], np.ndarray],
                            x: np.ndarray, *, h_min: float = 1e-15, h_max: float = 1e-1,
                            n_h: int = 57) -> StepSweep:
    r"""Error of forward and central differences as a function of the step :math:`h` (log-spaced).

    .. math:: e(h) = \frac{\|g_h - \nabla f(x)\|}{\|\nabla f(x)\|}

    falls like :math:`h` (forward) or :math:`h^2` (central) while truncation dominates, then rises
    like :math:`\epsilon|f|/h` once rounding dominates (Nocedal & Wright 2006, Sec. 8.1).

    ``fun`` must be vectorized over leading axes: ``fun(points)`` with ``points`` of shape (..., d)
    returns shape (...) -- all :math:`2 d\, n_h + d\, n_h` evaluations happen in one call.
    The number of steps is capped at 200.
    """
    x = np.array(x, dtype=float).ravel()
    d = x.size
    n_h = int(min(max(int(n_h), 3), 200))
    hs = np.geomspace(float(h_min), float(h_max), n_h)
    g = np.asarray(grad(x), dtype=float).ravel()
    g_norm = float(np.linalg.norm(g))
    scale = g_norm if g_norm > 0 else 1.0
    eye = np.eye(d)
    steps = hs[:, None, None] * eye  # (n_h, d, d): row i of [k] is h_k e_i
    # Perturbations are applied exactly as a program would: (x + h e_i) is rounded before f sees it,
    # and the difference divides by the nominal h.
    f0 = float(np.asarray(fun(x)))
    f_plus = np.asarray(fun(x + steps), dtype=float)  # (n_h, d)
    f_minus = np.asarray(fun(x - steps), dtype=float)
    g_fwd = (f_plus - f0) / hs[:, None]
    g_ctr = (f_plus - f_minus) / (2.0 * hs[:, None])
    err_f = np.linalg.norm(g_fwd - g, axis=1) / scale
    err_c = np.linalg.norm(g_ctr - g, axis=1) / scale
    roundoff = EPS * abs(f0) / (hs * scale)

    def slope(err: np.ndarray) -> tuple[float, tuple[float, float] | None]:
        ok = power_law_window(hs, err, roundoff)
        if ok.sum() < 3:
            return float("nan"), None
        fit = float(np.polyfit(np.log10(hs[ok]), np.log10(err[ok]), 1)[0])
        return fit, (float(hs[ok][0]), float(hs[ok][-1]))

    (s_f, w_f), (s_c, w_c) = slope(err_f), slope(err_c)
    i_f, i_c = int(np.argmin(err_f)), int(np.argmin(err_c))
    return StepSweep(x=x, hs=hs, err_forward=err_f, err_central=err_c, roundoff=roundoff, f_abs=abs(f0),
                     g_norm=g_norm, slope_forward=s_f, slope_central=s_c,
                     h_best_forward=float(hs[i_f]), h_best_central=float(hs[i_c]),
                     min_err_forward=float(err_f[i_f]), min_err_central=float(err_c[i_c]),
                     window_forward=w_f, window_central=w_c)
