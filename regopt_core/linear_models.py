r"""Linear models trained by the project's own (proximal) gradient descent.

Everything here minimises a *data term plus a regularizer*,

.. math:: L(W) = \frac1N \sum_i L_i\big(f(x_i, W), y_i\big) + \lambda R(W),

with the proximal-gradient iteration (Parikh & Boyd 2014, §4.2; Beck & Teboulle 2009 for FISTA)

.. math:: W_{k+1} = \operatorname{prox}_{\eta\lambda R}\big(W_k - \eta \nabla D(W_k)\big),

which is plain gradient descent when :math:`R` is smooth, and which sets weights *exactly* to zero
for L1 (soft thresholding) where a subgradient step would only make them jitter around zero.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from regopt_core import losses, regularizers
from regopt_core.iteration import Convergence, diverged

MAX_STEPS = 2000


# ---------------------------------------------------------------------------------------------
# 2-weight regression: regularizer geometry and the path of the minimiser as lambda grows
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PathResult:
    """Minimisers ``x[k]`` of data loss + ``lams[k]`` R(w), k over the lambda grid.

    ``convergence`` reports the worst λ: the largest KKT residual (norm of the proximal-gradient map)
    against the tolerance; ``converged[k]`` per λ; ``diverged``/``diverged_at`` by :func:`iteration.diverged`.
    """

    lams: np.ndarray  # (n_lam,)
    x: np.ndarray  # (n_lam, d)
    data_loss: np.ndarray  # (n_lam,)
    penalty: np.ndarray  # (n_lam,) R(w) without lambda
    nit: int
    message: str
    convergence: Convergence | None = None
    converged: np.ndarray | None = None  # (n_lam,) bool
    kkt: np.ndarray | None = None  # (n_lam,) final KKT residual
    diverged: bool = False
    diverged_at: int | None = None


LOSSES = ("squared", "huber")
REGULARIZERS = ("none", "l2", "l1", "elastic_net")
MAX_PATH_ITER = 50_000  # the capped budget of regularization_path


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


def _prox_rows(V: np.ndarray, step: float, lams: np.ndarray, reg: str, alpha: float) -> np.ndarray:
    """Row k: prox of step·lams[k]·R at V[k] (vectorized over the λ grid)."""
    t = step * lams[:, None]
    if reg == "none":
        return V.copy()
    if reg == "l2":
        return V / (1.0 + 2.0 * t)
    if reg == "l1":
        return regularizers.soft_threshold(V, t)
    return regularizers.soft_threshold(V, t * alpha) / (1.0 + 2.0 * t * (1 - alpha))


def regularization_path(
    X: np.ndarray,
    y: np.ndarray,
    lams: np.ndarray,
    *,
    reg: str = "l1",
    alpha: float = 0.5,
    loss: str = "squared",
    delta: float = 1.0,
    max_iter: int = 20_000,
    tol: float = 1e-10,
) -> PathResult:
    r"""Solve, for every λ of ``lams`` at once,

    .. math:: \min_w\ \frac1N\sum_{i=1}^N \ell(x_i^\top w - y_i) + \lambda R(w),\qquad
              \ell(r) = \tfrac12 r^2 \ \text{(squared) or Huber's } \rho_\delta(r),

    with :math:`R = \|w\|_2^2` (``"l2"``, no ½), :math:`\|w\|_1` (``"l1"``),
    :math:`\alpha\|w\|_1 + (1-\alpha)\|w\|_2^2` (``"elastic_net"``) or 0 (``"none"``) — for squared loss and
    L1 exactly scikit-learn's ``Lasso(alpha=λ, fit_intercept=False)``.

    FISTA (Beck & Teboulle 2009) with step :math:`1/L`, :math:`L = \sigma_{\max}(X)^2 / N`, and the adaptive
    gradient restart of O'Donoghue & Candès (2015), vectorized over λ. **Stopping rule:** the KKT residual
    :math:`\|w - \operatorname{prox}_{R/L}(w - \nabla D(w)/L)\|_\infty \cdot L` (zero exactly at a minimiser)
    below ``tol`` for every λ, within ``max_iter`` iterations (at most ``MAX_PATH_ITER``). The result's
    ``convergence`` says whether it got there. Raises ``ValueError`` on unknown names, λ < 0, bad sizes.
    """
    if reg not in REGULARIZERS:
        raise ValueError(f"unknown regularizer {reg!r}; choose one of {REGULARIZERS}")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    if not 1 <= int(max_iter) <= MAX_PATH_ITER:
        raise ValueError(f"max_iter must lie in [1, {MAX_PATH_ITER}], got {max_iter}")
    if not (tol > 0 and delta > 0):
        raise ValueError("tol and delta must be positive")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lams = np.atleast_1d(np.asarray(lams, dtype=np.float64))
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(lams)) and np.all(lams >= 0)):
        raise ValueError("every lambda must be a finite number >= 0")
    L = np.linalg.norm(X, 2) ** 2 / X.shape[0]
    if not L > 0:
        raise ValueError("X must not be all zeros")
    step = 1.0 / L
    W = np.zeros((lams.size, X.shape[1]))
    Z = W.copy()
    t = np.ones(lams.size)
    active = np.ones(lams.size, dtype=bool)  # rows still iterating
    kkt = np.full(lams.size, np.inf)
    nit, bad_at = 0, None
    for k in range(int(max_iter)):
        idx = np.flatnonzero(active)
        _, G = _data_loss_and_grad(X, y, Z[idx], loss, delta)
        W_new = _prox_rows(Z[idx] - step * G, step, lams[idx], reg, alpha)
        # adaptive restart: drop the momentum of a row whose step points against its last move
        restart = np.einsum("ij,ij->i", Z[idx] - W_new, W_new - W[idx]) > 0
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t[idx] ** 2))
        beta = np.where(restart, 0.0, (t[idx] - 1) / t_new)
        Z[idx] = W_new + beta[:, None] * (W_new - W[idx])
        W[idx] = W_new
        t[idx] = np.where(restart, 1.0, t_new)
        nit = k + 1
        if diverged(W_new):
            bad_at = nit
            break
        if k % 10 == 9 or k == int(max_iter) - 1:  # the KKT residual costs one more gradient: every 10th step
            _, Gw = _data_loss_and_grad(X, y, W[idx], loss, delta)
            res = np.max(np.abs(W[idx] - _prox_rows(W[idx] - step * Gw, step, lams[idx], reg, alpha)), axis=1) / step
            kkt[idx] = res
            done = res <= tol
            active[idx[done]] = False
            if not active.any():
                break
    if bad_at is None and active.any():  # final residual of the rows still iterating
        idx = np.flatnonzero(active)
        _, Gw = _data_loss_and_grad(X, y, W[idx], loss, delta)
        kkt[idx] = np.max(np.abs(W[idx] - _prox_rows(W[idx] - step * Gw, step, lams[idx], reg, alpha)), axis=1) / step
    value, _ = _data_loss_and_grad(X, y, W, loss, delta)
    worst = float(np.max(kkt)) if kkt.size else 0.0
    conv = Convergence(converged=bool(bad_at is None and worst <= tol), criterion="KKT residual (prox-gradient map, max over λ)",
                       value=worst, tol=float(tol), nit=nit)
    msg = f"FISTA with adaptive restart, step 1/L = {step:.3g}: " + conv.sentence("it")
    if bad_at is not None:
        msg = f"FISTA diverged at iteration {bad_at} (non-finite or huge weights)."
    return PathResult(lams=lams, x=W, data_loss=value, penalty=penalty_value(reg, W, alpha=alpha), nit=nit, message=msg,
                      convergence=conv, converged=kkt <= tol, kkt=kkt, diverged=bad_at is not None, diverged_at=bad_at)


def first_zero_lambda(X: np.ndarray, y: np.ndarray) -> float:
    r"""The smallest λ at which the lasso :math:`\frac1{2N}\|Xw-y\|^2 + \lambda\|w\|_1` sets a weight exactly to 0.

    While every weight is non-zero with signs :math:`s = \operatorname{sign} w`, the path is linear,
    :math:`w(\lambda) = G^{-1}(c - \lambda s)` with :math:`G = X^\top X/N`, :math:`c = X^\top y/N` (the KKT
    conditions; Efron et al. 2004, LARS), so weight :math:`j` reaches 0 at
    :math:`\lambda_j = (G^{-1}c)_j / (G^{-1}s)_j`; the first zero is the smallest positive such
    :math:`\lambda_j`. Needs :math:`X^\top X` invertible (d ≤ N).
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    n = X.shape[0]
    G, c = X.T @ X / n, X.T @ y / n
    w0 = np.linalg.solve(G, c)
    s = np.sign(w0)
    gs = np.linalg.solve(G, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_j = w0 / gs
    lam_j = lam_j[np.isfinite(lam_j) & (lam_j > 0)]
    return float(lam_j.min()) if lam_j.size else float("inf")


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
    objective: np.ndarray  # per step: data loss + lam R (steps run; shorter when diverged)
    data_loss: np.ndarray
    zero_fraction: float  # share of exactly-zero weights
    nit: int
    step_size: float
    message: str
    convergence: Convergence | None = None
    diverged: bool = False
    diverged_at: int | None = None


def _data_term(loss: str, scores: np.ndarray, y: np.ndarray, margin: float):
    """Mean loss and the gradient with respect to the scores ``(n, K)``, through :mod:`regopt_core.losses`
    (the definition that :func:`_data_term_t` computes faster; a test keeps the two equal)."""
    if loss == "softmax":
        return losses.softmax_cross_entropy(scores, y).mean(), losses.softmax_cross_entropy_grad(scores, y)
    if loss == "hinge":
        return losses.multiclass_hinge(scores, y, margin=margin).mean(), losses.multiclass_hinge_grad(scores, y, margin=margin)
    raise ValueError(f"unknown loss {loss!r}")


def _data_term_t(loss: str, S: np.ndarray, y: np.ndarray, cols: np.ndarray, onehot: np.ndarray, margin: float):
    """:func:`_data_term` on the transposed scores ``S`` of shape ``(K, n)`` (overwritten), returning the
    gradient transposed too. The same formulas as :mod:`regopt_core.losses` written out once per step: in
    this layout the reductions over the K classes are K-1 vector operations over the n examples (fast), and
    the softmax is computed once for the value and the gradient (the training loop's hot path)."""
    if loss == "softmax":
        S -= S.max(axis=0)                     # shift for a stable exp
        picked = S[y, cols]                    # s_y - max
        np.exp(S, out=S)
        Z = S.sum(axis=0)
        value = float(np.mean(np.log(Z) - picked))  # log sum_j e^{s_j} - s_y
        S /= Z                                 # probabilities p
        S -= onehot                            # dL_i/ds = p - onehot(y_i)
        return value, S
    correct = S[y, cols]
    S -= correct
    S += margin
    np.maximum(S, 0.0, out=S)                  # hinge terms max(0, s_j - s_y + Δ)
    S[y, cols] = 0.0
    value = float(S.sum(axis=0).mean())
    active = (S > 0).astype(np.float64)
    active[y, cols] = -active.sum(axis=0)      # +1 per violated class, minus their count on the true class
    return value, active


CLASSIFIER_TOL = 1e-4  # KKT residual (prox-gradient map, max entry) of the classifier


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
    tol: float = CLASSIFIER_TOL,
) -> ClassifierResult:
    r"""Full-batch proximal gradient descent on :math:`\frac1N\sum_i L_i(W^\top x_i + b, y_i) + \lambda R(W)`
    (mean loss + λR, R as in :mod:`regopt_core.regularizers`: :math:`\|W\|_2^2` without ½, :math:`\|W\|_1`).

    The bias :math:`b` is not regularized. Step size :math:`\eta = 1/L`. For softmax,
    :math:`L = \sigma_{\max}(X)^2 / (2N)` bounds the Hessian of the data term (Böhning 1992:
    :math:`\nabla^2 \preceq \tfrac12 (I - \tfrac1K 11^\top) \otimes X^\top X / N`). The hinge loss
    has no Lipschitz gradient; :math:`L = \sigma_{\max}(X)^2 / N` is then just a sensible fixed step
    for a subgradient method, whose iterates keep oscillating at a scale set by :math:`\eta`.
    Runs ``n_steps`` steps (at most ``MAX_STEPS``; ``ValueError`` outside [1, MAX_STEPS]); reports the final
    KKT residual :math:`\max|W - \operatorname{prox}_{\eta\lambda R}(W - \eta\nabla D)|/\eta` against ``tol``
    (for the hinge loss a subgradient version, which need not reach 0). A diverged iterate
    (:func:`iteration.diverged`) stops the loop and is recorded, not raised.
    """
    return _train(X, y, X_val, y_val, loss=loss, reg=reg, lam=lam, alpha=alpha, margin=margin, n_steps=n_steps,
                  n_classes=n_classes, tol=tol)[0]


def _train(X, y, X_val, y_val, *, loss, reg, lam, alpha, margin, n_steps, n_classes, tol, snapshot_every=0,
           start=None):
    """:func:`train_linear_classifier`; also returns the per-step KKT residuals and, with ``snapshot_every``,
    the weights after every ``snapshot_every`` steps. ``start = (Wb, t0)`` continues a run from its weights
    after ``t0`` steps (``n_steps`` more steps; histories then cover those steps only)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n, d = X.shape
    k = int(n_classes or (int(max(y.max(), np.max(y_val)) + 1)))
    if not 1 <= int(n_steps) <= MAX_STEPS:
        raise ValueError(f"n_steps must lie in [1, {MAX_STEPS}], got {n_steps}")
    if loss not in ("softmax", "hinge"):
        raise ValueError(f"unknown loss {loss!r}")
    n_steps = int(n_steps)
    Xb = np.hstack([X, np.ones((n, 1))])
    lipschitz = np.linalg.norm(Xb, 2) ** 2 / n
    step = 1.0 / (0.5 * lipschitz if loss == "softmax" else lipschitz)
    r = regularizers.make(reg, lam, alpha=alpha)
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"labels must lie in [0, {k})")
    XbT = np.ascontiguousarray(Xb.T)  # (d + 1, n): scores computed as (K, n), see _data_term_t
    cols = np.arange(n)
    onehot = np.zeros((k, n))
    onehot[y, cols] = 1.0
    Wb = np.zeros((d + 1, k)) if start is None else np.array(start[0], dtype=np.float64)
    t0 = 0 if start is None else int(start[1])
    objective = np.empty(n_steps)
    data_hist = np.empty(n_steps)
    resid_hist = np.empty(n_steps)
    snaps = [Wb.copy()] if snapshot_every else []
    bad_at, nit, residual = None, 0, float("inf")
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            value, gsT = _data_term_t(loss, Wb.T @ XbT, y, cols, onehot, margin)
            G = (gsT @ Xb).T / n
            data_hist[t] = value
            objective[t] = value + r.value(Wb[:-1])
            V = Wb - step * G
            W_new = np.vstack([r.prox(V[:-1], step), V[-1:]])
            residual = float(np.max(np.abs(W_new - Wb))) / step  # KKT residual at the iterate just evaluated
            resid_hist[t] = residual
            nit = t + 1
            if diverged(W_new, objective[t]):
                bad_at = nit
                break
            Wb = W_new
            if snapshot_every and nit % snapshot_every == 0:
                snaps.append(Wb.copy())
    objective, data_hist = objective[:nit], data_hist[:nit]
    res = _classifier_result(X, y, X_val, y_val, Wb, objective, data_hist, residual, nit, bad_at, step, tol, t0)
    return res, resid_hist[:nit], snaps


def _classifier_result(X, y, X_val, y_val, Wb, objective, data_hist, residual, nit, bad_at, step, tol, t0=0):
    nit, bad_at = nit + t0, None if bad_at is None else bad_at + t0
    W, b = Wb[:-1], Wb[-1]
    train_acc = float(np.mean(np.argmax(X @ W + b, axis=1) == y))
    val_acc = float(np.mean(np.argmax(np.asarray(X_val) @ W + b, axis=1) == np.asarray(y_val)))
    conv = Convergence(converged=bool(bad_at is None and residual <= tol), criterion="KKT residual (prox-gradient map)",
                       value=residual, tol=float(tol), nit=nit)
    msg = (f"diverged at step {bad_at}: weights or objective not finite or above 1e12" if bad_at is not None
           else f"proximal gradient descent, {nit} steps of size {step:.3g}; " + conv.sentence("it"))
    return ClassifierResult(
        W=W, b=b, train_accuracy=train_acc, val_accuracy=val_acc, objective=objective, data_loss=data_hist,
        zero_fraction=float(np.mean(W == 0.0)), nit=nit, step_size=float(step), message=msg, convergence=conv,
        diverged=bad_at is not None, diverged_at=bad_at,
    )


# ---------------------------------------------------------------------------------------------
# The losses page's experiments: frozen configs (the only place of the caps) and the cached functions
# ---------------------------------------------------------------------------------------------
N_LAMBDAS = 48  # λ values of the geometry path (plus λ = 0)
LAM_PATH = np.concatenate([[0.0], np.geomspace(1e-3, 10.0, N_LAMBDAS)])
N_GEOMETRY = 60  # samples of the 2-weight regression
GRID_SIZE = 121  # loss contours: GRID_SIZE × GRID_SIZE
GEOMETRY_STREAM, SPLIT_STREAM = 0, 1  # regopt_core.seeding streams of the page's seed


GEOMETRY_DEFAULT_LAM = 1.4  # between the default data's first exact L1 zero (≈1.357) and all-zero (≈1.463)


def _finite(name: str, v: float, lo: float, hi: float) -> float:
    v = float(v)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}")
    return min(max(v, lo), hi)


@dataclass(frozen=True)
class GeometryConfig:
    r"""The 2-weight regression of the geometry section: :math:`\frac1N\sum_i \ell(x_i^\top w - y_i) + \lambda R(w)`.

    The default λ = 1.4 lies past the default data's first exact L1 zero (λ ≈ 1.357, :func:`first_zero_lambda`)
    and below the point where both weights are zero (max|Xᵀy|/N ≈ 1.463), so the default shows sparsity.
    """

    reg: str = "l1"
    loss: str = "squared"
    rho: float = 0.7
    alpha: float = 0.5
    n_outliers: int = 0
    lam: float = GEOMETRY_DEFAULT_LAM
    seed: int = 0

    def clamped(self) -> GeometryConfig:
        if self.reg not in REGULARIZERS or self.loss not in LOSSES:
            raise ValueError(f"unknown regularizer {self.reg!r} or loss {self.loss!r}")
        if int(self.seed) < 0:
            raise ValueError("seed must be >= 0")
        return replace(self, rho=_finite("rho", self.rho, -0.95, 0.95), alpha=_finite("alpha", self.alpha, 0.0, 1.0),
                       n_outliers=int(_finite("n_outliers", self.n_outliers, 0, 10)),
                       lam=_finite("lam", self.lam, 0.0, 10.0), seed=int(self.seed))

    def path_key(self) -> GeometryConfig:
        """The config of :func:`geometry` (the path and the contours do not depend on λ)."""
        return replace(self, lam=GEOMETRY_DEFAULT.lam)


GEOMETRY_DEFAULT = GeometryConfig()


def geometry_data(cfg: GeometryConfig):
    from regopt_core import datasets
    from regopt_core.seeding import stream

    return datasets.correlated_regression(N_GEOMETRY, rho=cfg.rho, n_outliers=cfg.n_outliers,
                                          rng=stream(cfg.seed, GEOMETRY_STREAM))


@dataclass(frozen=True)
class Geometry:
    path: PathResult  # over LAM_PATH (first entry λ = 0)
    w1: np.ndarray
    w2: np.ndarray
    loss_grid: np.ndarray
    first_zero: float  # smallest λ with an exact zero (closed form for squared L1; else from the path; inf if none)


def geometry(cfg: GeometryConfig) -> Geometry:
    """Data, loss contours and the regularization path over :data:`LAM_PATH` (``cfg.lam`` unused)."""
    data = geometry_data(cfg)
    path = regularization_path(data.X, data.y, LAM_PATH, reg=cfg.reg, alpha=cfg.alpha, loss=cfg.loss)
    lim = float(max(2.2, 1.25 * np.max(np.abs(path.x))))
    w1 = np.linspace(-lim, lim, GRID_SIZE)
    w2 = np.linspace(-lim, lim, GRID_SIZE)
    grid = loss_grid(data.X, data.y, w1, w2, loss=cfg.loss)
    if cfg.reg == "l1" and cfg.loss == "squared":
        first = first_zero_lambda(data.X, data.y)
    else:
        hit = np.flatnonzero(np.any(path.x[1:] == 0.0, axis=1))
        first = float(LAM_PATH[1:][hit[0]]) if hit.size else float("inf")
    return Geometry(path=path, w1=w1, w2=w2, loss_grid=grid, first_zero=first)


def geometry_solution(cfg: GeometryConfig) -> PathResult:
    """The minimiser at ``cfg.lam`` alone (one-row path)."""
    data = geometry_data(cfg)
    return regularization_path(data.X, data.y, np.array([cfg.lam]), reg=cfg.reg, alpha=cfg.alpha, loss=cfg.loss)


@dataclass(frozen=True)
class ClassifierConfig:
    """The digits classifier: mean softmax or hinge loss + λR(W), full-batch proximal GD on a seeded
    70/30 train/validation split."""

    loss: str = "softmax"
    reg: str = "l2"
    lam: float = 1e-3
    alpha: float = 0.5
    n_steps: int = 300
    seed: int = 0

    def clamped(self) -> ClassifierConfig:
        if self.loss not in ("softmax", "hinge") or self.reg not in REGULARIZERS:
            raise ValueError(f"unknown loss {self.loss!r} or regularizer {self.reg!r}")
        if int(self.seed) < 0:
            raise ValueError("seed must be >= 0")
        return replace(self, lam=_finite("lam", self.lam, 0.0, 10.0), alpha=_finite("alpha", self.alpha, 0.0, 1.0),
                       n_steps=int(_finite("n_steps", self.n_steps, 1, MAX_STEPS)), seed=int(self.seed))


CLASSIFIER_DEFAULT = ClassifierConfig()


def _classifier_data(cfg: ClassifierConfig):
    from regopt_core import datasets
    from regopt_core.seeding import stream

    d = datasets.load_digits()
    train, val = datasets.split_indices(len(d.y), (0.7, 0.3), rng=stream(cfg.seed, SPLIT_STREAM))
    return d.X[train], d.y[train], d.X[val], d.y[val]


def _knobs(cfg: ClassifierConfig) -> dict:
    return {"loss": cfg.loss, "reg": cfg.reg, "lam": cfg.lam, "alpha": cfg.alpha, "margin": 1.0, "n_classes": 10,
            "tol": CLASSIFIER_TOL}


def classifier(cfg: ClassifierConfig) -> ClassifierResult:
    """Train the digits classifier of ``cfg`` (split from stream 1 of the seed)."""
    X, y, Xv, yv = _classifier_data(cfg)
    return train_linear_classifier(X, y, Xv, yv, n_steps=cfg.n_steps, **_knobs(cfg))


LIGHT_STEPS = 400  # runs up to this many steps take ~50 ms (one BLAS thread): light work for the page
SNAPSHOT_EVERY = 10  # the steps slider's grid: a trajectory keeps the weights after every 10th step


@dataclass(frozen=True)
class ClassifierTrajectory:
    """One run of :func:`classifier` to ``config.n_steps`` that serves every shorter run of the same settings
    (:func:`classifier_at`): proximal gradient descent is deterministic and its state is the weights alone, so
    the run for n steps is this run's first n steps. Weights after every ``SNAPSHOT_EVERY`` steps, the
    per-step histories, and the step at which it diverged (if it did)."""

    config: ClassifierConfig
    snapshots: np.ndarray  # (n_snap, d + 1, K): weights (bias as last row) after 0, 10, 20 ... steps
    objective: np.ndarray
    data_loss: np.ndarray
    residual: np.ndarray  # KKT residual at each step
    nit: int
    diverged_at: int | None
    last: ClassifierResult  # the run to config.n_steps itself


def classifier_trajectory(cfg: ClassifierConfig) -> ClassifierTrajectory:
    """:func:`classifier` of ``cfg`` keeping what :func:`classifier_at` needs to give every shorter run."""
    X, y, Xv, yv = _classifier_data(cfg)
    last, resid, snaps = _train(X, y, Xv, yv, n_steps=cfg.n_steps, snapshot_every=SNAPSHOT_EVERY, **_knobs(cfg))
    return ClassifierTrajectory(cfg, np.stack(snaps), last.objective, last.data_loss, resid, last.nit,
                                last.diverged_at, last)


def classifier_at(traj: ClassifierTrajectory, n_steps: int) -> ClassifierResult:
    """The result of ``classifier(replace(traj.config, n_steps=n_steps))``, cut from the trajectory (at most
    ``SNAPSHOT_EVERY - 1`` steps recomputed from the nearest snapshot): the same numbers, bit for bit."""
    n = int(n_steps)
    if not 1 <= n <= traj.config.n_steps:
        raise ValueError(f"n_steps must lie in [1, {traj.config.n_steps}], got {n_steps}")
    if n >= traj.nit:  # the whole run (a diverged run stops at the same step whatever n is beyond it)
        return traj.last
    cfg = traj.config
    X, y, Xv, yv = _classifier_data(cfg)
    base = n // SNAPSHOT_EVERY
    Wb, t0 = traj.snapshots[base], base * SNAPSHOT_EVERY
    if n > t0:  # finish the last few steps from the snapshot (never diverges: the full run did not before nit)
        part, _, _ = _train(X, y, Xv, yv, n_steps=n - t0, start=(Wb, t0), **_knobs(cfg))
        Wb = np.vstack([part.W, part.b[None, :]])
    knobs = _knobs(cfg)
    step = traj.last.step_size
    return _classifier_result(X, y, Xv, yv, Wb, traj.objective[:n].copy(), traj.data_loss[:n].copy(),
                              float(traj.residual[n - 1]), n, None, step, knobs["tol"])


def classifier_trajectory_key(cfg: ClassifierConfig) -> ClassifierConfig:
    """The trajectory that holds ``cfg``'s run: the same settings to the steps slider's end."""
    return replace(cfg, n_steps=MAX_STEPS)
