r"""First-order optimizers as (init, update) pairs, and one loop that runs them.

Every optimizer is a small :class:`Optimizer` record holding two pure functions, as in optax
(DeepMind, https://github.com/google-deepmind/optax):

* ``init(params) -> state`` builds the optimizer state (a ``NamedTuple`` of arrays);
* ``update(grads, state, params) -> (updates, new_state)`` turns a gradient into a step.

The caller applies the step itself, ``params = params + updates``. Keeping the update separate from
the loop lets the same optimizer drive full-batch gradient descent (:func:`run`), minibatch SGD, or a
hand-written loop that a student reads line by line.

All updates are element-wise, so ``params`` may be an array of any shape (a 2-vector on a test
surface, a flattened weight matrix of a classifier, or a stack of points).

References
----------
* Polyak, B. T. (1964). Some methods of speeding up the convergence of iteration methods.
  USSR Computational Mathematics and Mathematical Physics 4(5), 1-17. (heavy ball)
* Nesterov, Y. (1983). A method for solving the convex programming problem with convergence rate
  O(1/k^2). Soviet Mathematics Doklady 27, 372-376.
* Sutskever, I., Martens, J., Dahl, G., Hinton, G. (2013). On the importance of initialization and
  momentum in deep learning. ICML, Sec. 2 (Nesterov momentum written as a momentum update).
* Duchi, J., Hazan, E., Singer, Y. (2011). Adaptive subgradient methods for online learning and
  stochastic optimization. JMLR 12, 2121-2159. (AdaGrad)
* Tieleman, T., Hinton, G. (2012). Lecture 6.5 - RMSProp. COURSERA: Neural Networks for Machine
  Learning.
* Kingma, D. P., Ba, J. (2015). Adam: A method for stochastic optimization. ICLR, Algorithm 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from regopt_core.iteration import DIVERGENCE_LIMIT, Callback, Convergence, diverged, notify

__all__ = [
    "Optimizer",
    "GDState",
    "MomentumState",
    "AdaGradState",
    "RMSPropState",
    "AdamState",
    "gd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "make_optimizer",
    "OPTIMIZER_NAMES",
    "Trace",
    "run",
    "KEEP_PATH_MAX_DIM",
    "CRITERION",
]


class Optimizer(NamedTuple):
    """An optimizer as a pair of pure functions (optax style).

    Attributes
    ----------
    init : callable
        ``init(params) -> state``.
    update : callable
        ``update(grads, state, params) -> (updates, new_state)``; apply with ``params + updates``.
    """

    init: Callable[[np.ndarray], Any]
    update: Callable[[np.ndarray, Any, np.ndarray], tuple[np.ndarray, Any]]


class GDState(NamedTuple):
    """Plain gradient descent keeps no state."""


class MomentumState(NamedTuple):
    """Velocity ``v`` (heavy ball) or momentum buffer (Nesterov)."""

    v: np.ndarray


class AdaGradState(NamedTuple):
    """Running sum of squared gradients."""

    sum_sq: np.ndarray


class RMSPropState(NamedTuple):
    """Exponential moving average of squared gradients."""

    mean_sq: np.ndarray


class AdamState(NamedTuple):
    """Step count and the first and second moment estimates."""

    count: int
    m: np.ndarray
    v: np.ndarray


def _as_float_array(params: np.ndarray) -> np.ndarray:
    return np.asarray(params, dtype=float)


def gd(learning_rate: float) -> Optimizer:
    r"""Gradient descent with a constant step size.

    .. math:: x_{k+1} = x_k - \eta \, \nabla f(x_k)

    On a quadratic with Hessian eigenvalues in :math:`[\mu, L]` it converges iff
    :math:`0 < \eta < 2/L`; the best constant step :math:`\eta = 2/(\mu + L)` contracts the error by
    :math:`(\kappa - 1)/(\kappa + 1)` per step, :math:`\kappa = L/\mu`
    (Nesterov, *Introductory Lectures on Convex Optimization*, 2004, Thm. 2.1.15).

    Parameters
    ----------
    learning_rate : float
        Step size :math:`\eta`.
    """
    eta = float(learning_rate)

    def init(params: np.ndarray) -> GDState:
        return GDState()

    def update(grads: np.ndarray, state: GDState, params: np.ndarray) -> tuple[np.ndarray, GDState]:
        return -eta * grads, state

    return Optimizer(init, update)


def momentum(learning_rate: float, beta: float = 0.9) -> Optimizer:
    r"""Polyak's heavy-ball momentum, in the velocity form.

    .. math::
        v_{k+1} = \beta v_k - \eta \nabla f(x_k), \qquad x_{k+1} = x_k + v_{k+1}

    with :math:`v_0 = 0`. Equivalently :math:`x_{k+1} = x_k - \eta \nabla f(x_k) + \beta (x_k - x_{k-1})`.
    On a quadratic with largest Hessian eigenvalue :math:`L` (and :math:`0 \le \beta < 1`) it is stable
    iff :math:`0 < \eta < 2(1+\beta)/L` (Polyak 1964; roots of :math:`z^2 - (1+\beta-\eta\lambda)z + \beta`).

    Parameters
    ----------
    learning_rate : float
        Step size :math:`\eta`.
    beta : float, default 0.9
        Momentum coefficient :math:`\beta \in [0, 1)`.
    """
    eta, b = float(learning_rate), float(beta)

    def init(params: np.ndarray) -> MomentumState:
        return MomentumState(np.zeros_like(_as_float_array(params)))

    def update(grads: np.ndarray, state: MomentumState, params: np.ndarray) -> tuple[np.ndarray, MomentumState]:
        v = b * state.v - eta * grads
        return v, MomentumState(v)

    return Optimizer(init, update)


def nesterov(learning_rate: float, beta: float = 0.9) -> Optimizer:
    r"""Nesterov's accelerated gradient with constant momentum, as a proper (init, update) pair.

    The textbook form evaluates the gradient at a look-ahead point
    :math:`y_k = x_k + \beta (x_k - x_{k-1})`, :math:`x_{k+1} = y_k - \eta \nabla f(y_k)`.
    Tracking the look-ahead point itself as the parameter (Sutskever et al. 2013, Sec. 2;
    optax's ``trace(nesterov=True)``) puts the look-ahead into the update, so the gradient is taken at
    the current parameters:

    .. math::
        v_{k+1} = \beta v_k - \eta \nabla f(x_k), \qquad
        x_{k+1} = x_k + \beta v_{k+1} - \eta \nabla f(x_k).

    On a quadratic with largest eigenvalue :math:`L` it is stable iff
    :math:`0 < \eta < 2(1+\beta) / ((1+2\beta) L)`.

    Parameters
    ----------
    learning_rate : float
        Step size :math:`\eta`.
    beta : float, default 0.9
        Momentum coefficient :math:`\beta \in [0, 1)`.
    """
    eta, b = float(learning_rate), float(beta)

    def init(params: np.ndarray) -> MomentumState:
        return MomentumState(np.zeros_like(_as_float_array(params)))

    def update(grads: np.ndarray, state: MomentumState, params: np.ndarray) -> tuple[np.ndarray, MomentumState]:
        step = eta * grads
        v = b * state.v - step
        return b * v - step, MomentumState(v)

    return Optimizer(init, update)


def adagrad(learning_rate: float, eps: float = 1e-8) -> Optimizer:
    r"""AdaGrad: per-coordinate steps shrinking with the accumulated squared gradient (Duchi et al. 2011).

    .. math::
        s_{k+1} = s_k + g_k^2, \qquad x_{k+1} = x_k - \eta \, \frac{g_k}{\sqrt{s_{k+1}} + \epsilon}

    (element-wise, :math:`s_0 = 0`). The first step is :math:`-\eta \operatorname{sign}(g_0)` up to
    :math:`\epsilon`.

    Parameters
    ----------
    learning_rate : float
        Base step size :math:`\eta`.
    eps : float, default 1e-8
        Added to the denominator; a coordinate whose denominator is exactly 0 gets no step.
    """
    eta, e = float(learning_rate), float(eps)

    def init(params: np.ndarray) -> AdaGradState:
        return AdaGradState(np.zeros_like(_as_float_array(params)))

    def update(grads: np.ndarray, state: AdaGradState, params: np.ndarray) -> tuple[np.ndarray, AdaGradState]:
        s = state.sum_sq + grads * grads
        if e > 0.0:
            return grads * (-eta / (np.sqrt(s) + e)), AdaGradState(s)
        return -eta * _safe_ratio(grads, np.sqrt(s)), AdaGradState(s)

    return Optimizer(init, update)


def rmsprop(learning_rate: float, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    r"""RMSProp: divide the step by a running RMS of recent gradients (Tieleman & Hinton 2012).

    .. math::
        s_{k+1} = \rho s_k + (1-\rho) g_k^2, \qquad
        x_{k+1} = x_k - \eta \, \frac{g_k}{\sqrt{s_{k+1}} + \epsilon}

    (element-wise, :math:`s_0 = 0`).

    Parameters
    ----------
    learning_rate : float
        Step size :math:`\eta`.
    decay : float, default 0.9
        Averaging factor :math:`\rho`.
    eps : float, default 1e-8
        Added to the denominator; a coordinate whose denominator is exactly 0 gets no step.
    """
    eta, rho, e = float(learning_rate), float(decay), float(eps)
    c_s = 1.0 - rho

    def init(params: np.ndarray) -> RMSPropState:
        return RMSPropState(np.zeros_like(_as_float_array(params)))

    def update(grads: np.ndarray, state: RMSPropState, params: np.ndarray) -> tuple[np.ndarray, RMSPropState]:
        s = rho * state.mean_sq + c_s * (grads * grads)
        if e > 0.0:
            return grads * (-eta / (np.sqrt(s) + e)), RMSPropState(s)
        return -eta * _safe_ratio(grads, np.sqrt(s)), RMSPropState(s)

    return Optimizer(init, update)


def adam(learning_rate: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    r"""Adam: momentum on the gradient, RMS scaling, and bias correction (Kingma & Ba 2015, Alg. 1).

    .. math::
        m_k = \beta_1 m_{k-1} + (1-\beta_1) g_k, \quad
        v_k = \beta_2 v_{k-1} + (1-\beta_2) g_k^2, \quad
        x_{k} = x_{k-1} - \alpha \, \frac{m_k / (1-\beta_1^k)}{\sqrt{v_k / (1-\beta_2^k)} + \epsilon}

    for :math:`k = 1, 2, \ldots` with :math:`m_0 = v_0 = 0`. The first step is
    :math:`-\alpha \, g/(|g| + \epsilon)`, i.e. :math:`-\alpha \operatorname{sign}(g)` per coordinate,
    whatever the gradient's size; with :math:`\epsilon = 0` the whole trajectory is invariant to
    multiplying the loss by a positive constant.

    Parameters
    ----------
    learning_rate : float
        Step size :math:`\alpha`.
    b1, b2 : float, default 0.9, 0.999
        Decay rates of the first and second moment estimates.
    eps : float, default 1e-8
        Added to the denominator; a coordinate whose denominator is exactly 0 gets no step.
    """
    alpha, beta1, beta2, e = float(learning_rate), float(b1), float(b2), float(eps)

    def init(params: np.ndarray) -> AdamState:
        z = np.zeros_like(_as_float_array(params))
        return AdamState(0, z, z.copy())

    c_m, c_v = 1.0 - beta1, 1.0 - beta2

    def update(grads: np.ndarray, state: AdamState, params: np.ndarray) -> tuple[np.ndarray, AdamState]:
        t = state.count + 1
        m = beta1 * state.m + c_m * grads
        v = beta2 * state.v + c_v * (grads * grads)
        # m_hat / (sqrt(v_hat) + eps) rewritten with the bias corrections folded into two scalars
        # (algebraically identical; saves array operations): c2 = sqrt(1 - b2^t).
        c2 = math.sqrt(1.0 - beta2**t)
        scale = -alpha * c2 / (1.0 - beta1**t)
        if e > 0.0:
            return m * (scale / (np.sqrt(v) + e * c2)), AdamState(t, m, v)
        return scale * _safe_ratio(m, np.sqrt(v)), AdamState(t, m, v)

    return Optimizer(init, update)


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with 0 where den == 0 (only possible when eps == 0 and the gradient history is 0)."""
    if np.all(den > 0):
        return num / den
    return np.divide(num, den, out=np.zeros_like(num, dtype=float), where=den > 0)


OPTIMIZER_NAMES: tuple[str, ...] = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


def make_optimizer(name: str, learning_rate: float, *, beta: float = 0.9, rho: float = 0.9, beta1: float = 0.9,
                   beta2: float = 0.999) -> Optimizer:
    r"""Build an optimizer by name.

    Each hyper-parameter means one thing: ``beta`` is the momentum coefficient :math:`\beta` of
    ``momentum`` and ``nesterov``, ``rho`` the averaging factor :math:`\rho` of ``rmsprop``, and
    ``beta1``, ``beta2`` Adam's :math:`\beta_1, \beta_2`; each is ignored by the other methods
    (``gd`` and ``adagrad`` take none).
    """
    if name == "gd":
        return gd(learning_rate)
    if name == "momentum":
        return momentum(learning_rate, beta)
    if name == "nesterov":
        return nesterov(learning_rate, beta)
    if name == "adagrad":
        return adagrad(learning_rate)
    if name == "rmsprop":
        return rmsprop(learning_rate, decay=rho)
    if name == "adam":
        return adam(learning_rate, b1=beta1, b2=beta2)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {OPTIMIZER_NAMES}")


#: ``run`` keeps the full path of iterates by default only up to this many parameters.
KEEP_PATH_MAX_DIM = 100
#: up to this many parameters ``run`` takes norms with ``math.hypot`` of Python floats (cheaper than numpy calls)
SMALL_DIM = 4

#: the stopping criterion :func:`run` reports in ``Trace.convergence``
CRITERION = "gradient norm ‖∇f(x_k)‖"


@dataclass(frozen=True)
class Trace:
    r"""The history of one optimization run.

    Attributes
    ----------
    x : ndarray
        Last accepted (not diverged) iterate.
    fun : float
        Loss at ``x``.
    nit : int
        Number of accepted steps; ``xs`` (if kept) has ``nit + 1`` rows.
    message : str
        Why the loop stopped.
    xs : ndarray of shape (nit + 1, d), or None
        Iterates :math:`x_0, \ldots, x_{nit}`; ``None`` when the path was not kept (see :func:`run`).
    fs : ndarray of shape (nit + 1,)
        Loss at each iterate.
    grad_norms : ndarray of shape (nit + 1,)
        Euclidean norm of the gradient at each iterate.
    diverged : bool
        True if the loop stopped because an iterate was diverged by the one rule
        :func:`regopt_core.iteration.diverged` (or its gradient was not finite).
    diverged_at : int or None
        The step k whose iterate :math:`x_k` was rejected (then ``nit == max(k - 1, 0)``); 0 when the
        starting point itself is diverged.
    convergence : Convergence
        Whether :math:`\|\nabla f(x_{nit})\| \le` ``tol`` (the criterion is the gradient norm).
    """

    x: np.ndarray
    fun: float
    nit: int
    message: str
    xs: np.ndarray | None
    fs: np.ndarray
    grad_norms: np.ndarray
    diverged: bool
    diverged_at: int | None
    convergence: Convergence | None = None

    @property
    def success(self) -> bool:
        """True when the run neither diverged nor was stopped early by a callback."""
        return not self.diverged and not self.message.startswith("stopped")


def run(
    optimizer: Optimizer,
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    n_steps: int = 100,
    tol: float = 0.0,
    callback: Callback | None = None,
    bound: float = DIVERGENCE_LIMIT,
    keep_path: bool | None = None,
) -> Trace:
    r"""Run ``optimizer`` from ``x0`` for at most ``n_steps`` steps: the one optimization loop of the app.

    .. math:: (u_k, s_{k+1}) = \mathrm{update}(\nabla f(x_k), s_k, x_k), \qquad x_{k+1} = x_k + u_k

    Divergence is a result, not a crash: the loop stops before accepting an iterate :math:`x_k` that
    the one divergence rule :func:`regopt_core.iteration.diverged` calls diverged (:math:`x_k` or
    :math:`f(x_k)` not finite or larger than ``bound`` in magnitude), or whose gradient is not
    finite. It returns the history up to :math:`x_{k-1}` with ``diverged=True`` and ``diverged_at=k``
    (``k = 0``: the start itself). Overflow warnings are silenced inside the loop, and an
    ``OverflowError`` raised by ``value_and_grad`` (Python floats raise it, e.g. ``1e200 ** 2``)
    counts as an overflowed loss.

    Parameters
    ----------
    optimizer : Optimizer
        An (init, update) pair, e.g. ``gd(0.1)``.
    value_and_grad : callable
        ``value_and_grad(x) -> (f, g)`` with ``g`` an ndarray of the same shape as ``x``.
    x0 : array_like
        Starting point (any shape; copied).
    n_steps : int, default 100
        Maximum number of steps (an int >= 0; anything else raises ValueError).
    tol : float, default 0.0
        Stop once :math:`\|\nabla f(x_k)\| \le` ``tol``; ``Trace.convergence`` reports this test
        (with ``tol = 0`` it is met only at an exact stationary point).
    callback : callable, optional
        scipy style: ``callback(intermediate)`` with a :class:`regopt_core.iteration.Intermediate`
        (``x``, ``nit``, ``max_iter``, ``fun``) after each accepted step; raising ``StopIteration``
        stops the run cleanly (message ``"stopped by callback ..."``).
    bound : float, default :data:`regopt_core.iteration.DIVERGENCE_LIMIT`
        Iterates or losses beyond this magnitude count as divergence.
    keep_path : bool, optional
        Store every iterate in ``Trace.xs``. By default (``None``) the path is kept only when
        ``x0`` has at most :data:`KEEP_PATH_MAX_DIM` (100) entries; for larger problems (e.g. the
        ~650 weights of a softmax classifier) only ``fs`` and ``grad_norms`` are stored and
        ``xs`` is ``None``.

    Returns
    -------
    Trace
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise ValueError(f"n_steps must be an int >= 0, got {n_steps!r}")
    tol = float(tol)
    if not (tol >= 0.0):
        raise ValueError(f"tol must be >= 0, got {tol}")
    n_steps = int(n_steps)
    x = np.array(x0, dtype=float)  # copy
    flat = x.ndim == 1
    if keep_path is None:
        keep_path = x.size <= KEEP_PATH_MAX_DIM
    xs = np.empty((n_steps + 1, x.size)) if keep_path else None
    fs = np.empty(n_steps + 1)
    gsq = np.empty(n_steps + 1)  # squared gradient norms; their square roots are taken once, after the loop
    limit = float(bound)
    bound_sq = limit * limit
    update = optimizer.update
    nit, diverged_at = 0, None
    # a few parameters (the 2-D landscapes): norms from Python floats (math.hypot) cost a fraction of a numpy
    # dot product; the fast test below only decides "certainly not diverged", the rule itself decides the rest
    small = flat and x.size <= SMALL_DIM
    hypot = math.hypot

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        try:
            f, g = value_and_grad(x)
            f = float(f)
        except (OverflowError, FloatingPointError):
            f, g = math.inf, np.full(x.shape, math.inf)
        gg = _sq(g)
        if _diverged(x, f, g, gg, bound_sq, limit):
            diverged_at, n_steps = 0, 0
            message = _divergence_message(0, x, f, g, limit)
        else:
            message = f"reached the step limit ({n_steps})"
        if xs is not None:
            xs[0] = x if flat else x.ravel()
        fs[0], gsq[0] = f, gg
        state = optimizer.init(x)
        tol_sq = tol * tol
        if diverged_at is None and gg <= tol_sq:
            message = "gradient norm ≤ tol at the start"
            n_steps = 0
        for k in range(1, n_steps + 1):
            updates, state = update(g, state, x)
            x_new = x + updates
            try:
                f_new, g_new = value_and_grad(x_new)
                f_new = float(f_new)
            except (OverflowError, FloatingPointError):  # Python-float arithmetic raises instead of giving inf
                f_new, g_new = math.inf, g
            xf = x_new if flat else x_new.ravel()
            if small and type(g_new) is np.ndarray:
                gn = hypot(*g_new.tolist())
                gg = gn * gn  # inf when it overflows, like g @ g
                fast_ok = abs(f_new) <= limit and hypot(*xf.tolist()) <= limit and gg < math.inf
            else:
                gg = float(g_new @ g_new) if flat else _sq(g_new)
                fast_ok = abs(f_new) <= limit and float(xf @ xf) <= bound_sq and gg < math.inf
            # fast sufficient test for "not diverged" (comparisons with nan are False); else the rule itself
            if not fast_ok and _diverged(x_new, f_new, g_new, gg, bound_sq, limit):
                diverged_at = k
                message = _divergence_message(k, x_new, f_new, g_new, limit)
                break
            x, f, g, nit = x_new, f_new, g_new, k
            if xs is not None:
                xs[k] = xf
            fs[k], gsq[k] = f, gg
            if callback is not None and notify(callback, x, k, n_steps, f):
                message = f"stopped by callback at step {k}"
                break
            if gg <= tol_sq and tol > 0.0:
                message = f"gradient norm ≤ tol after {k} steps"
                break

    grad_norms = np.sqrt(gsq[: nit + 1])
    gn = float(grad_norms[-1])
    return Trace(
        x=x,
        fun=f,
        nit=nit,
        message=message,
        xs=None if xs is None else xs[: nit + 1].copy(),
        fs=fs[: nit + 1].copy(),
        grad_norms=grad_norms,
        diverged=diverged_at is not None,
        diverged_at=diverged_at,
        convergence=Convergence(converged=diverged_at is None and gn <= tol, criterion=CRITERION,
                                value=gn, tol=tol, nit=nit),
    )


def _sq(g: np.ndarray) -> float:
    """Squared Euclidean norm (inf when an entry is not finite or the sum overflows)."""
    g = np.ravel(g)
    return float(g @ g)


def _diverged(x: np.ndarray, f: float, g: np.ndarray, gg: float, bound_sq: float, limit: float) -> bool:
    """:func:`regopt_core.iteration.diverged` on ``(x, f)``, or a non-finite gradient (``gg = ‖g‖²``).

    A fast sufficient test comes first: ``x @ x <= bound**2`` (so every ``|x_i| <= bound``),
    ``|f| <= bound`` and a finite ``‖g‖²`` mean "not diverged"; only otherwise is the rule itself
    asked (a ``‖g‖²`` that overflowed from finite entries is not a divergence).
    """
    xf = np.ravel(x)
    if abs(f) <= limit and float(xf @ xf) <= bound_sq and gg < math.inf:
        return False
    return diverged(x, f, limit=limit) or diverged(g, limit=math.inf)


def _divergence_message(k: int, x: np.ndarray, f: float, g: np.ndarray | float, limit: float) -> str:
    """Why step ``k`` was rejected, in words (``"diverged at step k: ..."``)."""
    gn = g if isinstance(g, float) else float(np.sum(np.abs(g)))
    if not np.all(np.isfinite(x)):
        why = "the iterate overflowed"
    elif not math.isfinite(f):
        why = "the loss overflowed"
    elif abs(f) > limit:
        why = f"|loss| exceeded {limit:.0e}"
    elif float(np.max(np.abs(x))) > limit:
        why = f"the iterate left the box |x| <= {limit:.0e}"
    elif not math.isfinite(gn):
        why = "the gradient overflowed"
    else:
        why = "the iterate is diverged"
    where = "at the start" if k == 0 else f"at step {k}"
    return f"diverged {where}: {why}"
