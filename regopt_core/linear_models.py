r"""Linear models trained by the project's own (proximal) gradient descent.

Everything here minimises a *data term plus a regularizer*,

.. math:: L(W) = \frac1N \sum_i L_i\big(f(x_i, W), y_i\big) + \lambda R(W),

with the proximal-gradient iteration (Parikh & Boyd 2014, §4.2; Beck & Teboulle 2009 for FISTA)

.. math:: W_{k+1} = \operatorname{prox}_{\eta\lambda R}\big(W_k - \eta \nabla D(W_k)\big),

which is plain gradient descent when :math:`R` is smooth, and which sets weights *exactly* to zero
for L1 (soft thresholding) where a subgradient step would only make them jitter around zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core import losses, regularizers
from regopt_core.errors import NumericalError

MAX_STEPS = 2000


# ---------------------------------------------------------------------------------------------
# 2-weight regression: regularizer geometry and the path of the minimiser as lambda grows
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PathResult:
    """Minimisers ``x[k]`` of data loss + ``lams[k]`` R(w), k over the lambda grid."""

    lams: np.ndarray  # (n_lam,)
    x: np.ndarray  # (n_lam, d)
    data_loss: np.ndarray  # (n_lam,)
    penalty: np.ndarray  # (n_lam,) R(w) without lambda
    nit: int
    message: str


def _data_loss_and_grad(X: np.ndarray, y: np.ndarray, W: np.ndarray, loss: str, delta: float):
    """Mean loss and gradient for each row of W (n_w, d) at once."""
    R = W @ X.T - y[None, :]  # (n_w, n)
    n = X.shape[0]
    if loss == "squared":
        value = losses.squared(R).mean(axis=1)
        grad = R @ X / n
    elif loss == "huber":
        value = losses.huber(R, delta=delta).mean(axis=1)
        grad = losses.huber_grad(R, delta=delta) @ X / n
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return value, grad


def penalty_value(name: str, w: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """R(w) for each row of ``w`` (without lambda)."""
    w = np.atleast_2d(w)
    l1n = np.abs(w).sum(axis=1)
    l2n = np.square(w).sum(axis=1)
    if name == "l1":
        return l1n
    if name == "l2":
        return l2n
    if name == "elastic_net":
        return alpha * l1n + (1 - alpha) * l2n
    if name == "none":
        return np.zeros(w.shape[0])
    raise ValueError(f"unknown regularizer {name!r}")


def regularization_path(
    X: np.ndarray,
    y: np.ndarray,
    lams: np.ndarray,
    *,
    reg: str = "l1",
    alpha: float = 0.5,
    loss: str = "squared",
    delta: float = 1.0,
    n_iter: int = 1500,
    tol: float = 1e-10,
) -> PathResult:
    r"""Solve :math:`\min_w \frac1N\sum_i \ell(x_i^\top w - y_i) + \lambda R(w)` for every lambda at once.

    FISTA (Beck & Teboulle 2009) with step :math:`1/L`, :math:`L = \sigma_{\max}(X)^2 / N` (the
    Lipschitz constant of the squared and Huber data gradients), run on all lambdas in one
    vectorized iteration. ``reg`` in ``{"none", "l2", "l1", "elastic_net"}``; ``loss`` in
    ``{"squared", "huber"}`` with :math:`\ell(r) = \tfrac12 r^2` or Huber's :math:`\rho_\delta`.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lams = np.asarray(lams, dtype=np.float64)
    n_iter = int(min(max(n_iter, 1), 20 * MAX_STEPS))
    L = np.linalg.norm(X, 2) ** 2 / X.shape[0]
    step = 1.0 / L
    reg_obj = [regularizers.make(reg, lam, alpha=alpha) for lam in lams]
    W = np.zeros((lams.size, X.shape[1]))
    Z = W.copy()
    t = 1.0
    nit = n_iter
    for k in range(n_iter):
        _, G = _data_loss_and_grad(X, y, Z, loss, delta)
        V = Z - step * G
        W_new = np.vstack([r.prox(V[i], step) for i, r in enumerate(reg_obj)]) if reg != "l2" and reg != "none" \
            else V / (1.0 + 2.0 * step * lams[:, None]) if reg == "l2" else V
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        Z = W_new + ((t - 1) / t_new) * (W_new - W)
        change = np.max(np.abs(W_new - W))
        W, t = W_new, t_new
        if change < tol:
            nit = k + 1
            break
    if not np.all(np.isfinite(W)):
        raise NumericalError("The regularization path did not converge (non-finite weights).")
    value, _ = _data_loss_and_grad(X, y, W, loss, delta)
    return PathResult(lams=lams, x=W, data_loss=value, penalty=penalty_value(reg, W, alpha=alpha), nit=nit,
                      message=f"FISTA, {nit} iterations, step 1/L = {step:.3g}")


def loss_grid(
    X: np.ndarray, y: np.ndarray, w1: np.ndarray, w2: np.ndarray, *, loss: str = "squared", delta: float = 1.0
) -> np.ndarray:
    """Data loss on the grid ``w1 x w2`` (returns shape (len(w2), len(w1)) for contour plots)."""
    W1, W2 = np.meshgrid(w1, w2)
    W = np.column_stack([W1.ravel(), W2.ravel()])
    value, _ = _data_loss_and_grad(np.asarray(X, float), np.asarray(y, float), W, loss, delta)
    return value.reshape(W1.shape)


# ---------------------------------------------------------------------------------------------
# Non-uniqueness: scaling a zero-loss W
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScaleScan:
    r"""Hinge data loss, L2 penalty and their sum for scores :math:`c\,S` over the grid ``c``."""

    c: np.ndarray
    data_loss: np.ndarray
    penalty: np.ndarray  # lam * c^2 * ||W||^2
    objective: np.ndarray
    c_best: float
    c_zero: float  # smallest c on the grid with zero data loss (nan if none)


def scale_scan(scores: np.ndarray, labels: np.ndarray, c: np.ndarray, *, margin: float = 1.0, lam: float = 0.01) -> ScaleScan:
    r"""Scale the weights by :math:`c`: scores become :math:`cS` and :math:`R(cW) = c^2 R(W)`.

    The table's scores are taken as :math:`S = W X` with :math:`X = I` (each example a one-hot
    input), so :math:`W = S^\top` and :math:`\|W\|^2 = \|S\|_F^2`. Hinge loss is zero for every
    :math:`c` above the scale at which the smallest margin reaches :math:`\Delta`; only the
    regularizer can prefer one of these equally perfect solutions.
    """
    scores = np.asarray(scores, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    data = np.array([losses.multiclass_hinge(ci * scores, labels, margin=margin).mean() for ci in c])
    pen = lam * c**2 * float(np.sum(scores**2))
    obj = data + pen
    zero = np.flatnonzero(data <= 1e-12)
    return ScaleScan(c=c, data_loss=data, penalty=pen, objective=obj, c_best=float(c[np.argmin(obj)]),
                     c_zero=float(c[zero[0]]) if zero.size else float("nan"))


# ---------------------------------------------------------------------------------------------
# A real linear classifier on digits
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClassifierResult:
    W: np.ndarray  # (n_features, n_classes)
    b: np.ndarray  # (n_classes,)
    train_accuracy: float
    val_accuracy: float
    objective: np.ndarray  # per step: data loss + lam R
    data_loss: np.ndarray
    zero_fraction: float  # share of exactly-zero weights
    nit: int
    step_size: float
    message: str


def _data_term(loss: str, scores: np.ndarray, y: np.ndarray, margin: float):
    if loss == "softmax":
        return losses.softmax_cross_entropy(scores, y).mean(), losses.softmax_cross_entropy_grad(scores, y)
    if loss == "hinge":
        return losses.multiclass_hinge(scores, y, margin=margin).mean(), losses.multiclass_hinge_grad(scores, y, margin=margin)
    raise ValueError(f"unknown loss {loss!r}")


def train_linear_classifier(
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    loss: str = "softmax",
    reg: str = "l2",
    lam: float = 1e-3,
    alpha: float = 0.5,
    margin: float = 1.0,
    n_steps: int = 300,
    n_classes: int | None = None,
) -> ClassifierResult:
    r"""Full-batch proximal gradient descent on :math:`\frac1N\sum_i L_i(W^\top x_i + b, y_i) + \lambda R(W)`.

    The bias :math:`b` is not regularized. Step size :math:`\eta = 1/L`. For softmax,
    :math:`L = \sigma_{\max}(X)^2 / (2N)` bounds the Hessian of the data term (Böhning 1992:
    :math:`\nabla^2 \preceq \tfrac12 (I - \tfrac1K 11^\top) \otimes X^\top X / N`). The hinge loss
    has no Lipschitz gradient; :math:`L = \sigma_{\max}(X)^2 / N` is then just a sensible fixed step
    for a subgradient method, whose iterates keep oscillating at a scale set by :math:`\eta`.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n, d = X.shape
    k = int(n_classes or (int(max(y.max(), np.max(y_val)) + 1)))
    n_steps = int(min(max(n_steps, 1), MAX_STEPS))
    Xb = np.hstack([X, np.ones((n, 1))])
    lipschitz = np.linalg.norm(Xb, 2) ** 2 / n
    step = 1.0 / (0.5 * lipschitz if loss == "softmax" else lipschitz)
    r = regularizers.make(reg, lam, alpha=alpha)
    Wb = np.zeros((d + 1, k))
    objective = np.empty(n_steps)
    data_hist = np.empty(n_steps)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            value, gs = _data_term(loss, Xb @ Wb, y, margin)
            G = Xb.T @ gs / n
            data_hist[t] = value
            objective[t] = value + r.value(Wb[:-1])
            V = Wb - step * G
            Wb = np.vstack([r.prox(V[:-1], step), V[-1:]])
            if not np.all(np.isfinite(Wb)):
                raise NumericalError(f"Training diverged at step {t}.", hint="Lower the regularization strength λ.")
    W, b = Wb[:-1], Wb[-1]
    train_acc = float(np.mean(np.argmax(X @ W + b, axis=1) == y))
    val_acc = float(np.mean(np.argmax(np.asarray(X_val) @ W + b, axis=1) == np.asarray(y_val)))
    return ClassifierResult(
        W=W, b=b, train_accuracy=train_acc, val_accuracy=val_acc, objective=objective, data_loss=data_hist,
        zero_fraction=float(np.mean(W == 0.0)), nit=n_steps, step_size=float(step),
        message=f"proximal gradient descent, {n_steps} steps of size {step:.3g}",
    )
