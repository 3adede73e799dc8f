r"""Test surfaces :math:`f:\mathbb R^2\to\mathbb R` with analytic gradients and Hessians.

Each :class:`Surface` carries its formula three times by hand (value, gradient, Hessian), written
element-wise so that the same code evaluates one point (Python floats, fast enough for a
1000-step loop) or a whole grid (numpy arrays, for contour plots).

The classic surfaces and their minima follow Jamil & Yang (2013), *A literature survey of benchmark
functions for global optimization problems*, Int. J. Math. Model. Numer. Optim. 4(2):150-194
(Rosenbrock No. 105, Himmelblau No. 65, Beale No. 10, six-hump camel No. 27).

The "real model" surface is the training loss of a two-weight logistic regression on a small data
set, with an L2 or L1 penalty (the lecture's :math:`L(W) = \frac1N\sum_i L_i + \lambda R(W)`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from scipy.special import expit

from regopt_core.iteration import Convergence

__all__ = [
    "Surface",
    "SURFACE_NAMES",
    "quadratic",
    "rosenbrock",
    "himmelblau",
    "beale",
    "saddle",
    "six_hump_camel",
    "logistic",
    "make_logistic_data",
    "make_surface",
]


@dataclass(frozen=True)
class Surface:
    r"""A two-variable objective with its hand-derived derivatives.

    Attributes
    ----------
    key, name, latex : str
        Identifier, display name and the formula in LaTeX.
    fun : callable
        ``fun(x, y)`` -> value, element-wise (floats or broadcastable arrays).
    grad : callable
        ``grad(x, y)`` -> ``(df/dx, df/dy)``, element-wise.
    hess : callable
        ``hess(x, y)`` -> ``(f_xx, f_xy, f_yy)``, element-wise (for the L1-penalized logistic loss,
        the Hessian of the smooth part).
    minimizers : tuple of (x, y)
        Known global minimizers (computed numerically for the logistic loss).
    f_min : float
        The global minimum value.
    bounds : ((x_lo, x_hi), (y_lo, y_hi))
        The plotting window.
    start : (x, y)
        A default starting point that makes a good demonstration.
    lipschitz : float or None
        A global bound :math:`L` on the gradient's Lipschitz constant (largest Hessian eigenvalue),
        where one exists (quadratic, logistic); ``None`` otherwise.
    mu : float or None
        Global strong-convexity constant where known (smallest Hessian eigenvalue bound).
    note : str
        One sentence on what the surface teaches.
    """

    key: str
    name: str
    latex: str
    fun: Callable
    grad: Callable
    hess: Callable
    minimizers: tuple[tuple[float, float], ...]
    f_min: float
    bounds: tuple[tuple[float, float], tuple[float, float]]
    start: tuple[float, float]
    lipschitz: float | None = None
    mu: float | None = None
    note: str = ""
    params: tuple[tuple[str, float | str], ...] = field(default_factory=tuple)
    convergence: Convergence | None = None

    # ------------------------------------------------------------------ evaluation
    def value(self, xy: np.ndarray) -> np.ndarray:
        """f at points ``xy`` of shape (..., 2)."""
        xy = np.asarray(xy, dtype=float)
        return np.asarray(self.fun(xy[..., 0], xy[..., 1]), dtype=float)

    def gradient(self, xy: np.ndarray) -> np.ndarray:
        """Gradient at points ``xy`` of shape (..., 2), returned with shape (..., 2)."""
        xy = np.asarray(xy, dtype=float)
        gx, gy = self.grad(xy[..., 0], xy[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1).astype(float)

    def hessian(self, xy: np.ndarray) -> np.ndarray:
        """Hessian at points ``xy`` of shape (..., 2), returned with shape (..., 2, 2)."""
        xy = np.asarray(xy, dtype=float)
        hxx, hxy, hyy = np.broadcast_arrays(*self.hess(xy[..., 0], xy[..., 1]))
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2).astype(float)

    def value_and_grad(self, p: np.ndarray) -> tuple[float, np.ndarray]:
        """``(f(p), grad f(p))`` at one point: the callback :func:`regopt_core.optimizers.run` needs."""
        x, y = (p if type(p) is np.ndarray and p.dtype == np.float64 else np.asarray(p, dtype=float)).tolist()
        gx, gy = self.grad(x, y)  # Python floats in, Python floats out: fast arithmetic for one point
        return float(self.fun(x, y)), np.array((gx, gy), dtype=float)

    def distance_to_minimizer(self, xs: np.ndarray) -> np.ndarray:
        """Euclidean distance of each point in ``xs`` (..., 2) to the nearest known global minimizer."""
        xs = np.asarray(xs, dtype=float)
        mins = np.asarray(self.minimizers, dtype=float)  # (m, 2)
        with np.errstate(over="ignore", invalid="ignore"):
            d = np.linalg.norm(xs[..., None, :] - mins, axis=-1)
        return d.min(axis=-1)

    def nearest_minimizer(self, p: np.ndarray) -> np.ndarray:
        mins = np.asarray(self.minimizers, dtype=float)
        return mins[np.argmin(np.linalg.norm(mins - np.asarray(p, dtype=float), axis=1))]


# ---------------------------------------------------------------------------------------------- quadratic
def _quad_fun(x, y, *, a, b, c, cx, cy):
    u, v = x - cx, y - cy
    return 0.5 * (a * u * u + 2.0 * b * u * v + c * v * v)


def _quad_grad(x, y, *, a, b, c, cx, cy):
    u, v = x - cx, y - cy
    return a * u + b * v, b * u + c * v


def _quad_hess(x, y, *, a, b, c, cx, cy):
    return a + 0.0 * x, b + 0.0 * x, c + 0.0 * x


def quadratic(kappa: float = 10.0, theta_deg: float = 30.0, *, l_max: float = 1.0,
              center: tuple[float, float] = (0.0, 0.0)) -> Surface:
    r"""An elliptic paraboloid with condition number :math:`\kappa` rotated by :math:`\theta`.

    .. math::
        f(p) = \tfrac12 (p - c)^\top H (p - c), \qquad
        H = R_\theta \operatorname{diag}(L/\kappa,\; L) R_\theta^\top

    so :math:`\mu = L/\kappa` and :math:`L` are the Hessian's eigenvalues; with :math:`\theta = 0`
    the steep direction is :math:`y`. Gradient descent converges iff :math:`\eta < 2/L`.

    Parameters
    ----------
    kappa : float, default 10
        Condition number :math:`\kappa = L/\mu \ge 1`.
    theta_deg : float, default 30
        Rotation of the principal axes, in degrees.
    l_max : float, default 1
        Largest eigenvalue :math:`L`.
    center : (float, float)
        The minimizer :math:`c`.
    """
    kappa = float(kappa)
    if not (kappa >= 1.0 and math.isfinite(kappa)):
        raise ValueError(f"kappa must be a finite number >= 1, got {kappa}")
    t = math.radians(float(theta_deg))
    mu, lm = float(l_max) / kappa, float(l_max)
    cs, sn = math.cos(t), math.sin(t)
    # H = R diag(mu, L) R^T with R = [[cos, -sin], [sin, cos]]
    a = mu * cs * cs + lm * sn * sn
    b = (mu - lm) * cs * sn
    c = mu * sn * sn + lm * cs * cs
    kw = dict(a=a, b=b, c=c, cx=float(center[0]), cy=float(center[1]))
    return Surface(
        key="quadratic",
        name=f"Quadratic (κ = {kappa:g})",
        latex=r"f(p) = \tfrac12 (p-c)^\top H (p-c),\quad H = R_\theta\,\mathrm{diag}(L/\kappa,\,L)\,R_\theta^\top",
        fun=partial(_quad_fun, **kw),
        grad=partial(_quad_grad, **kw),
        hess=partial(_quad_hess, **kw),
        minimizers=((float(center[0]), float(center[1])),),
        f_min=0.0,
        bounds=((center[0] - 5.0, center[0] + 5.0), (center[1] - 5.0, center[1] + 5.0)),
        start=(center[0] - 4.0, center[1] + 3.0),
        lipschitz=lm,
        mu=mu,
        note="Ill-conditioning: one direction is κ times steeper than the other; GD zig-zags across the valley.",
        params=(("kappa", kappa), ("theta_deg", float(theta_deg)), ("l_max", lm)),
    )


# ---------------------------------------------------------------------------------------------- Rosenbrock
def _rosen_fun(x, y, *, a, b):
    return (a - x) ** 2 + b * (y - x * x) ** 2


def _rosen_grad(x, y, *, a, b):
    r = y - x * x
    return -2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r


def _rosen_hess(x, y, *, a, b):
    return 2.0 - 4.0 * b * y + 12.0 * b * x * x, -4.0 * b * x, 2.0 * b + 0.0 * x


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    r"""Rosenbrock's banana valley (Rosenbrock 1960, Comput. J. 3(3):175-184).

    .. math:: f(x, y) = (a - x)^2 + b (y - x^2)^2, \qquad \min f = 0 \text{ at } (a, a^2)
    """
    kw = dict(a=float(a), b=float(b))
    return Surface(
        key="rosenbrock",
        name="Rosenbrock",
        latex=r"f(x,y) = (1-x)^2 + 100\,(y-x^2)^2",
        fun=partial(_rosen_fun, **kw),
        grad=partial(_rosen_grad, **kw),
        hess=partial(_rosen_hess, **kw),
        minimizers=((float(a), float(a) ** 2),),
        f_min=0.0,
        bounds=((-2.0, 2.0), (-1.0, 3.0)),
        start=(-1.2, 1.0),
        note="A curved, flat-bottomed valley: finding the valley is easy, following it to (1, 1) is slow.",
    )


# ---------------------------------------------------------------------------------------------- Himmelblau
def _himmel_fun(x, y):
    return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2


def _himmel_grad(x, y):
    p, q = x * x + y - 11.0, x + y * y - 7.0
    return 4.0 * x * p + 2.0 * q, 2.0 * p + 4.0 * y * q


def _himmel_hess(x, y):
    return 12.0 * x * x + 4.0 * y - 42.0, 4.0 * (x + y), 4.0 * x + 12.0 * y * y - 26.0


def himmelblau() -> Surface:
    r"""Himmelblau's function (Himmelblau 1972, *Applied Nonlinear Programming*): four equal minima.

    .. math:: f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2,

    :math:`\min f = 0` at :math:`(3, 2)`, :math:`(-2.805118, 3.131312)`, :math:`(-3.779310, -3.283186)`,
    :math:`(3.584428, -1.848126)`.
    """
    return Surface(
        key="himmelblau",
        name="Himmelblau",
        latex=r"f(x,y) = (x^2+y-11)^2 + (x+y^2-7)^2",
        fun=_himmel_fun,
        grad=_himmel_grad,
        hess=_himmel_hess,
        minimizers=((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
        f_min=0.0,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        start=(-0.5, -0.5),
        note="Four global minima: which one you reach depends on where you start.",
    )


# ---------------------------------------------------------------------------------------------- Beale
def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y**3


def _beale_fun(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    return t1 * t1 + t2 * t2 + t3 * t3


def _beale_grad(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    gx = 2.0 * (t1 * (y - 1.0) + t2 * (y * y - 1.0) + t3 * (y**3 - 1.0))
    gy = 2.0 * (t1 * x + t2 * 2.0 * x * y + t3 * 3.0 * x * y * y)
    return gx, gy


def _beale_hess(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    a1, a2, a3 = y - 1.0, y * y - 1.0, y**3 - 1.0  # d t_i / dx
    b1, b2, b3 = x, 2.0 * x * y, 3.0 * x * y * y  # d t_i / dy
    hxx = 2.0 * (a1 * a1 + a2 * a2 + a3 * a3)
    hxy = 2.0 * (a1 * b1 + t1 + a2 * b2 + t2 * 2.0 * y + a3 * b3 + t3 * 3.0 * y * y)
    hyy = 2.0 * (b1 * b1 + b2 * b2 + t2 * 2.0 * x + b3 * b3 + t3 * 6.0 * x * y)
    return hxx, hxy, hyy


def beale() -> Surface:
    r"""Beale's function (Beale 1958): flat plateaus and steep walls.

    .. math:: f(x,y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2,
              \qquad \min f = 0 \text{ at } (3, 0.5)
    """
    return Surface(
        key="beale",
        name="Beale",
        latex=r"f(x,y) = (1.5-x+xy)^2 + (2.25-x+xy^2)^2 + (2.625-x+xy^3)^2",
        fun=_beale_fun,
        grad=_beale_grad,
        hess=_beale_hess,
        minimizers=((3.0, 0.5),),
        f_min=0.0,
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        start=(1.0, 1.5),
        note="Gradients range over many orders of magnitude: plain GD crawls on the plateau or explodes on the walls.",
    )


# ---------------------------------------------------------------------------------------------- saddle
def _saddle_fun(x, y):
    return x * x + 0.25 * y**4 - 0.5 * y * y


def _saddle_grad(x, y):
    return 2.0 * x, y**3 - y


def _saddle_hess(x, y):
    return 2.0 + 0.0 * x, 0.0 * x, 3.0 * y * y - 1.0


def saddle() -> Surface:
    r"""A saddle point between two valleys.

    .. math:: f(x, y) = x^2 + \tfrac14 y^4 - \tfrac12 y^2

    The origin is a saddle (Hessian :math:`\mathrm{diag}(2, -1)`); the minima are :math:`(0, \pm 1)`
    with :math:`f = -1/4`. Started on the line :math:`y = 0`, gradient descent converges to the
    saddle; a little off it, it lingers there before escaping.
    """
    return Surface(
        key="saddle",
        name="Saddle",
        latex=r"f(x,y) = x^2 + \tfrac14 y^4 - \tfrac12 y^2",
        fun=_saddle_fun,
        grad=_saddle_grad,
        hess=_saddle_hess,
        minimizers=((0.0, 1.0), (0.0, -1.0)),
        f_min=-0.25,
        bounds=((-2.5, 2.5), (-2.0, 2.0)),
        start=(-2.0, 0.01),
        note="Near a saddle the gradient vanishes although it is no minimum: progress stalls, momentum helps escape.",
    )


# ---------------------------------------------------------------------------------------------- six-hump camel
def _camel_fun(x, y):
    x2, y2 = x * x, y * y
    return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2


def _camel_grad(x, y):
    x2 = x * x
    return 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y, x - 8.0 * y + 16.0 * y**3


def _camel_hess(x, y):
    x2 = x * x
    return 8.0 - 25.2 * x2 + 10.0 * x2 * x2, 1.0 + 0.0 * x, -8.0 + 48.0 * y * y


def six_hump_camel() -> Surface:
    r"""The six-hump camel back (Dixon & Szegő 1978): six local minima, two of them global.

    .. math:: f(x,y) = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (-4 + 4y^2)\,y^2,

    :math:`\min f \approx -1.031628` at :math:`(\pm 0.089842, \mp 0.712656)`.
    """
    return Surface(
        key="camel",
        name="Six-hump camel",
        latex=r"f(x,y) = (4 - 2.1x^2 + x^4/3)\,x^2 + xy + (4y^2 - 4)\,y^2",
        fun=_camel_fun,
        grad=_camel_grad,
        hess=_camel_hess,
        minimizers=((0.0898420131, -0.7126564030), (-0.0898420131, 0.7126564030)),
        f_min=-1.031628453489877,
        bounds=((-2.0, 2.0), (-1.2, 1.2)),
        start=(-1.6, -0.9),
        note="Non-convex with six local minima: a descent method finds the one whose basin it starts in.",
    )


# ---------------------------------------------------------------------------------------------- logistic regression
def make_logistic_data(n_samples: int = 60, *, w_true: tuple[float, float] = (1.5, -1.0), rho: float = 0.5,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    r"""A small binary classification set drawn from the logistic model itself.

    .. math:: x_i \sim \mathcal N\!\left(0, \begin{pmatrix}1&\rho\\\rho&1\end{pmatrix}\right), \qquad
              P(y_i = +1 \mid x_i) = \sigma(x_i^\top w^\star)

    Labels are :math:`\pm 1`. Noisy labels make the classes overlap, so the unregularized loss has a
    finite minimizer (near :math:`w^\star`); correlated features tilt its contours.

    Returns
    -------
    X : ndarray (n_samples, 2)
    y : ndarray (n_samples,) of +1/-1
    """
    n = int(n_samples)
    if n < 2:
        raise ValueError("need at least 2 samples")
    cov = np.array([[1.0, rho], [rho, 1.0]])
    X = rng.multivariate_normal(np.zeros(2), cov, size=n)
    p = expit(X @ np.asarray(w_true, dtype=float))
    y = np.where(rng.random(n) < p, 1.0, -1.0)
    return X, y


def _margins(w1, w2, X, y):
    w1 = np.asarray(w1, dtype=float)[..., None]
    w2 = np.asarray(w2, dtype=float)[..., None]
    return y * (w1 * X[:, 0] + w2 * X[:, 1])  # (..., N)


def _logistic_fun(w1, w2, *, X, y, lam, penalty):
    data = np.logaddexp(0.0, -_margins(w1, w2, X, y)).mean(axis=-1)
    if penalty == "l2":
        reg = lam * (np.square(w1) + np.square(w2))
    elif penalty == "l1":
        reg = lam * (np.abs(w1) + np.abs(w2))
    else:
        reg = 0.0
    out = data + reg
    return float(out) if np.ndim(out) == 0 else out


def _logistic_grad(w1, w2, *, X, y, lam, penalty):
    s = -expit(-_margins(w1, w2, X, y)) * y  # (..., N): d/dm log(1+e^-m) * dm/dz
    g1 = (s * X[:, 0]).mean(axis=-1)
    g2 = (s * X[:, 1]).mean(axis=-1)
    if penalty == "l2":
        g1, g2 = g1 + 2.0 * lam * np.asarray(w1), g2 + 2.0 * lam * np.asarray(w2)
    elif penalty == "l1":  # a subgradient: sign(0) = 0
        g1, g2 = g1 + lam * np.sign(w1), g2 + lam * np.sign(w2)
    if np.ndim(g1) == 0:
        return float(g1), float(g2)
    return g1, g2


def _logistic_hess(w1, w2, *, X, y, lam, penalty):
    sig = expit(_margins(w1, w2, X, y))
    d = sig * (1.0 - sig)  # (..., N)
    hxx = (d * X[:, 0] ** 2).mean(axis=-1)
    hxy = (d * X[:, 0] * X[:, 1]).mean(axis=-1)
    hyy = (d * X[:, 1] ** 2).mean(axis=-1)
    if penalty == "l2":
        hxx, hyy = hxx + 2.0 * lam, hyy + 2.0 * lam
    return hxx, hxy, hyy


def logistic(X: np.ndarray, y: np.ndarray, *, lam: float = 0.0, penalty: str = "l2") -> Surface:
    r"""Training loss of a two-weight logistic regression (no intercept), optionally regularized.

    .. math::
        L(w) = \frac1N \sum_{i=1}^N \log\!\left(1 + e^{-y_i\, x_i^\top w}\right) + \lambda R(w),
        \qquad R(w) = \|w\|_2^2 \ \text{(L2)} \ \text{or}\ \|w\|_1 \ \text{(L1)}

    The data term's Hessian :math:`\frac1N \sum_i \sigma_i(1-\sigma_i) x_i x_i^\top` is bounded by
    :math:`\frac1{4N} X^\top X`, so :math:`L = \lambda_{\max}(X^\top X)/(4N) + 2\lambda` (L2), and L2
    adds :math:`2\lambda` of curvature in every direction (:math:`\mu \ge 2\lambda`). L1 is not
    differentiable on the axes: its "gradient" is the subgradient with :math:`\operatorname{sign}(0)=0`
    and its Hessian is that of the smooth part. The minimizer is computed numerically
    (Newton's method; proximal gradient for L1).

    Parameters
    ----------
    X : ndarray (N, 2)
        Features.
    y : ndarray (N,)
        Labels in {-1, +1}.
    lam : float, default 0
        Regularization strength :math:`\lambda \ge 0`.
    penalty : {"l2", "l1"}
        Which penalty :math:`R`.
    """
    X = np.ascontiguousarray(X, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (X.shape[0],):
        raise ValueError("X must be (N, 2) and y (N,)")
    lam = float(lam)
    if not (lam >= 0.0 and math.isfinite(lam)):
        raise ValueError(f"lam must be finite and >= 0, got {lam}")
    if penalty not in ("l2", "l1"):
        raise ValueError(f"penalty must be 'l2' or 'l1', got {penalty!r}")
    X.setflags(write=False)
    y.setflags(write=False)
    kw = dict(X=X, y=y, lam=lam, penalty=penalty)
    n = X.shape[0]
    l_data = float(np.linalg.eigvalsh(X.T @ X / (4.0 * n))[-1])
    lip = l_data + (2.0 * lam if penalty == "l2" else 0.0)
    mu = 2.0 * lam if penalty == "l2" else 0.0
    w_star, conv = _logistic_minimizer(X, y, lam, penalty)
    fun = partial(_logistic_fun, **kw)
    f_min = float(fun(*w_star))
    r = max(4.0, 1.5 * float(np.max(np.abs(w_star))) + 1.0)
    pen_tex = r"\|w\|_2^2" if penalty == "l2" else r"\|w\|_1"
    return Surface(
        key="logistic",
        name=f"Logistic regression ({penalty.upper()}, λ = {lam:g})",
        latex=r"L(w) = \frac1N\sum_i \log\left(1+e^{-y_i x_i^\top w}\right) + \lambda" + pen_tex,
        fun=fun,
        grad=partial(_logistic_grad, **kw),
        hess=partial(_logistic_hess, **kw),
        minimizers=(tuple(float(v) for v in w_star),),
        f_min=f_min,
        bounds=((-r, r), (-r, r)),
        start=(-0.8 * r, 0.8 * r),
        lipschitz=lip,
        mu=mu,
        note="A real model's training loss: regularization adds curvature and pulls the minimizer towards 0.",
        params=(("lam", lam), ("penalty", penalty), ("n_samples", float(n))),
        convergence=conv,
    )


MINIMIZER_TOL = 1e-13
MINIMIZER_CRITERION = "relative change of w"


def _logistic_minimizer(X: np.ndarray, y: np.ndarray, lam: float, penalty: str) -> tuple[np.ndarray, Convergence]:
    """argmin of the regularized logistic loss (Newton with halving for L2/none; FISTA for L1), and
    whether the solver met its tolerance: relative change of w, ‖Δw‖ ≤ 1e-13 (1 + ‖w‖)."""
    n = X.shape[0]
    w = np.zeros(2)
    kw = dict(X=X, y=y, lam=lam, penalty=penalty)
    change, nit = math.inf, 0
    if penalty == "l2" or lam == 0.0:
        kw["penalty"] = "l2"
        fun = partial(_logistic_fun, **kw)
        for nit in range(1, 101):
            g = np.array(_logistic_grad(w[0], w[1], **kw))
            hxx, hxy, hyy = _logistic_hess(w[0], w[1], **kw)
            h = np.array([[hxx, hxy], [hxy, hyy]], dtype=float) + 1e-12 * np.eye(2)
            step = np.linalg.solve(h, g)
            t, f0 = 1.0, fun(w[0], w[1])
            while t > 1e-10 and fun(*(w - t * step)) > f0 - 0.25 * t * float(g @ step):
                t *= 0.5
            w = w - t * step
            change = float(np.linalg.norm(t * step)) / (1.0 + float(np.linalg.norm(w)))
            if change < MINIMIZER_TOL:
                break
    else:
        # L1: FISTA (Beck & Teboulle 2009) on the smooth data term with soft-thresholding.
        smooth = dict(X=X, y=y, lam=0.0, penalty="l2")
        lip = float(np.linalg.eigvalsh(X.T @ X / (4.0 * n))[-1])
        z, w_prev, t = w.copy(), w.copy(), 1.0
        for nit in range(1, 20001):
            g = np.array(_logistic_grad(z[0], z[1], **smooth))
            v = z - g / lip
            w = np.sign(v) * np.maximum(np.abs(v) - lam / lip, 0.0)
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            z = w + ((t - 1.0) / t_next) * (w - w_prev)
            change = float(np.linalg.norm(w - w_prev)) / (1.0 + float(np.linalg.norm(w)))
            if change < MINIMIZER_TOL:
                break
            w_prev, t = w, t_next
    return w, Convergence(converged=bool(change < MINIMIZER_TOL), criterion=MINIMIZER_CRITERION, value=change,
                          tol=MINIMIZER_TOL, nit=nit)


# ---------------------------------------------------------------------------------------------- registry
SURFACE_NAMES: dict[str, str] = {
    "quadratic": "Quadratic bowl (κ, θ)",
    "rosenbrock": "Rosenbrock valley",
    "himmelblau": "Himmelblau (4 minima)",
    "beale": "Beale",
    "saddle": "Saddle point",
    "camel": "Six-hump camel (6 minima)",
    "logistic": "Logistic regression (real model)",
}


def make_surface(key: str, *, kappa: float = 10.0, theta_deg: float = 30.0, lam: float = 0.0,
                 penalty: str = "l2", n_samples: int = 60, rng: np.random.Generator | None = None) -> Surface:
    """Build a surface by key; ``kappa``/``theta_deg`` apply to the quadratic, ``lam``/``penalty``/
    ``n_samples`` to the logistic loss, whose data are drawn with ``rng`` (required for it)."""
    if key == "quadratic":
        return quadratic(kappa, theta_deg)
    if key == "rosenbrock":
        return rosenbrock()
    if key == "himmelblau":
        return himmelblau()
    if key == "beale":
        return beale()
    if key == "saddle":
        return saddle()
    if key == "camel":
        return six_hump_camel()
    if key == "logistic":
        if rng is None:
            raise ValueError("the logistic surface draws its data set: pass rng")
        X, y = make_logistic_data(n_samples, rng=rng)
        return logistic(X, y, lam=lam, penalty=penalty)
    raise ValueError(f"unknown surface {key!r}; expected one of {tuple(SURFACE_NAMES)}")
