r"""The model family of the splits page: kernel ridge regression for every :math:`\lambda` at once,
leave-one-out by the linear-smoother shortcut, and plain ``k``-fold cross-validation.

Convention (stated once, used by every function here and named on the page): :math:`\lambda` multiplies
the squared RKHS norm next to the **sum** (not the mean) of squared errors,

.. math:: \alpha_\lambda = \arg\min_\alpha\ \|y - K\alpha\|_2^2 + \lambda\,\alpha^\top K\alpha
          = (K + \lambda I)^{-1} y ,

which is scikit-learn's ``KernelRidge(alpha=λ)``. In the mean-loss convention
:math:`\tfrac1n\|y-K\alpha\|^2 + \lambda'\alpha^\top K\alpha` the same fit has :math:`\lambda' = \lambda/n`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits


def one_blas_thread(fn):
    """Run ``fn`` with single-threaded BLAS/LAPACK. Batched small eigendecompositions are up to
    20x slower with OpenBLAS threads on a busy 2-core server (threads spin against each other)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


def kernel_matrix(A: np.ndarray, B: np.ndarray, *, length_scale: float) -> np.ndarray:
    r"""Exponential (Laplace, Matérn-1/2) kernel :math:`k(a,b)=\exp(-\|a-b\|/\ell)`.

    ``A`` (..., m, d) and ``B`` (..., n, d) broadcast over leading axes; returns (..., m, n).
    Positive definite in every dimension; its interpolant (:math:`\lambda\to0`) passes through
    every training point without exploding between them, like a nearest-neighbour rule with kinks.
    """
    if not length_scale > 0:
        raise ValueError(f"length_scale must be positive, got {length_scale}")
    sq = (
        np.sum(A * A, axis=-1)[..., :, None]
        + np.sum(B * B, axis=-1)[..., None, :]
        - 2.0 * (A @ np.swapaxes(B, -1, -2))
    )
    return np.exp(-np.sqrt(np.maximum(sq, 0.0)) / length_scale)


def lambda_grid(n_models: int, *, lo: float = 1e-6, hi: float = 1e2) -> np.ndarray:
    """``n_models`` ridge strengths log-spaced in [lo, hi]; one model sits at the geometric middle."""
    n_models = int(n_models)
    if n_models < 1 or not 0 < lo <= hi:
        raise ValueError(f"need n_models >= 1 and 0 < lo <= hi, got {n_models}, {lo}, {hi}")
    if n_models == 1:
        return np.array([np.sqrt(lo * hi)])
    return np.logspace(np.log10(lo), np.log10(hi), n_models)


def _check_lams(lams: np.ndarray) -> np.ndarray:
    lams = np.asarray(lams, dtype=float)
    if lams.size and not np.all(lams > 0):
        raise ValueError("ridge strengths lambda must be positive")
    return lams


def standardizer(X_train: np.ndarray, scale: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the *training* rows (identity when ``scale`` is False)."""
    shape = X_train.shape[:-2] + (1, X_train.shape[-1])
    if not scale:
        return np.zeros(shape), np.ones(shape)
    mu = X_train.mean(axis=-2, keepdims=True)
    sd = X_train.std(axis=-2, keepdims=True)
    return mu, np.where(sd > 1e-12, sd, 1.0)


@dataclass(frozen=True)
class KernelRidgeFit:
    """Eigendecomposition of one (batch of) training kernel(s); every lambda follows from it."""

    Q: np.ndarray  # (..., n, n) eigenvectors of K
    evals: np.ndarray  # (..., n) eigenvalues of K (clipped at 0)
    Qty: np.ndarray  # (..., n) Q^T y
    X: np.ndarray  # (..., n, d) standardized training inputs
    mu: np.ndarray
    sd: np.ndarray
    length_scale: float

    def coef(self, lams: np.ndarray) -> np.ndarray:
        r"""Dual coefficients :math:`\alpha(\lambda)=(K+\lambda I)^{-1}y`, shape (..., n, L)."""
        lams = _check_lams(lams)
        return self.Q @ (self.Qty[..., :, None] / (self.evals[..., :, None] + lams))

    def predict(self, X_new: np.ndarray, lams: np.ndarray) -> np.ndarray:
        """Predictions at ``X_new`` (..., m, d) for every lambda: (..., m, L)."""
        Kx = kernel_matrix((X_new - self.mu) / self.sd, self.X, length_scale=self.length_scale)
        return Kx @ self.coef(lams)

    def fitted(self, lams: np.ndarray) -> np.ndarray:
        r"""In-sample fit :math:`S_\lambda y = Q\,\mathrm{diag}(e/(e+\lambda))\,Q^\top y`: (..., n, L)."""
        lams = _check_lams(lams)
        shrink = self.evals[..., :, None] / (self.evals[..., :, None] + lams)
        return self.Q @ (self.Qty[..., :, None] * shrink)

    def hat_diagonal(self, lams: np.ndarray) -> np.ndarray:
        r"""Leverages :math:`(S_\lambda)_{ii} = \sum_j Q_{ij}^2\,e_j/(e_j+\lambda)`: (..., n, L)."""
        lams = _check_lams(lams)
        shrink = self.evals[..., :, None] / (self.evals[..., :, None] + lams)
        return (self.Q * self.Q) @ shrink


def kernel_ridge_path(
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    length_scale: float,
    scale: bool = False,
) -> KernelRidgeFit:
    r"""Fit kernel ridge regression for every :math:`\lambda` at once.

    The objective, exactly as computed (sum of squared errors, :math:`\lambda` on :math:`\alpha^\top K\alpha`):

    .. math:: \hat f_\lambda(x) = k(x, X)^\top \alpha_\lambda,\qquad
              \alpha_\lambda = \arg\min_\alpha \|y - K\alpha\|_2^2 + \lambda\,\alpha^\top K\alpha
              = (K+\lambda I)^{-1} y

    (the same :math:`\lambda` as scikit-learn's ``KernelRidge(alpha=λ)``; the mean-loss convention
    :math:`\tfrac1n\|y-K\alpha\|^2+\lambda'\alpha^\top K\alpha` has :math:`\lambda'=\lambda/n`).
    With :math:`K = Q\,\mathrm{diag}(e)\,Q^\top`, :math:`\alpha_\lambda = Q\,\mathrm{diag}(1/(e+\lambda))\,Q^\top y`,
    so one eigendecomposition serves the whole :math:`\lambda` grid (ESL §5.8, §18.3.5). As
    :math:`\lambda\to 0` the fit interpolates the training data (training error 0).

    Parameters
    ----------
    X_train : array (..., n, d)
        Inputs; leading axes are independent problems (repetitions, folds), solved in one batch.
    y_train : array (..., n)
        Targets (class labels as :math:`\pm 1` for classification).
    length_scale :
        Kernel width :math:`\ell` (in standardized units when ``scale``).
    scale :
        Standardize the inputs with the mean and standard deviation of *these training rows*.
    """
    if X_train.shape[-2] < 1 or X_train.shape[:-1] != np.shape(y_train):
        raise ValueError(f"X (..., n, d) and y (..., n) do not match: {X_train.shape} vs {np.shape(y_train)}")
    mu, sd = standardizer(X_train, scale)
    Xs = (X_train - mu) / sd
    K = kernel_matrix(Xs, Xs, length_scale=length_scale)
    evals, Q = np.linalg.eigh(K)
    evals = np.maximum(evals, 0.0)
    Qty = np.squeeze(np.swapaxes(Q, -1, -2) @ y_train[..., :, None], -1)
    return KernelRidgeFit(Q=Q, evals=evals, Qty=Qty, X=Xs, mu=mu, sd=sd, length_scale=float(length_scale))


def loo_residuals(fit: KernelRidgeFit, y_train: np.ndarray, lams: np.ndarray) -> np.ndarray:
    r"""Leave-one-out residuals of a linear smoother without refitting (ESL Eq. 7.52).

    .. math:: y_i - \hat f^{(-i)}_\lambda(x_i) = \frac{y_i - \hat f_\lambda(x_i)}{1 - (S_\lambda)_{ii}}

    Exact for kernel ridge regression (the fit is :math:`S_\lambda y` with :math:`S_\lambda` not
    depending on :math:`y`). Shape (..., n, L).
    """
    resid = y_train[..., :, None] - fit.fitted(lams)
    denom = 1.0 - fit.hat_diagonal(lams)
    return resid / np.maximum(denom, 1e-15)


def point_loss(y: np.ndarray, pred: np.ndarray, kind: str) -> np.ndarray:
    """Squared error (``"regression"``) or 0-1 loss of ``sign(pred)`` against labels in {-1, +1}."""
    if kind == "regression":
        return (y - pred) ** 2
    if kind == "classification":
        return (np.where(pred >= 0.0, 1.0, -1.0) != y).astype(float)
    raise ValueError(f"unknown kind {kind!r} (regression or classification)")


def fold_slices(n: int, n_folds: int) -> list[np.ndarray]:
    """Indices of ``min(n_folds, n)`` contiguous, nearly equal folds of ``range(n)`` (shuffle the data
    first). ``n_folds >= n`` is leave-one-out."""
    n, n_folds = int(n), int(n_folds)
    if n < 2 or n_folds < 2:
        raise ValueError(f"cross-validation needs n >= 2 points and at least 2 folds, got n={n}, folds={n_folds}")
    n_folds = min(n_folds, n)
    bounds = np.linspace(0, n, n_folds + 1).round().astype(int)
    return [np.arange(bounds[i], bounds[i + 1]) for i in range(n_folds)]


def complement(n: int, idx: np.ndarray) -> np.ndarray:
    """``range(n)`` without ``idx`` (the training part of a fold)."""
    mask = np.ones(n, dtype=bool)
    mask[idx] = False
    return np.flatnonzero(mask)


@one_blas_thread
def cv_errors(
    X: np.ndarray,
    y: np.ndarray,
    lams: np.ndarray,
    *,
    n_folds: int,
    length_scale: float,
    scale: bool = False,
    kind: str = "regression",
    shortcut: bool = True,
) -> np.ndarray:
    r"""``k``-fold cross-validation error of kernel ridge for every :math:`\lambda`.

    .. math:: \mathrm{CV}(\lambda) = \frac1n \sum_{i=1}^n L\big(y_i, \hat f^{(-\kappa(i))}_\lambda(x_i)\big)

    where :math:`\kappa(i)` is the fold of point :math:`i` (ESL Eq. 7.48). Folds are contiguous
    blocks of the (already shuffled) rows; leading axes of ``X`` (..., n, d) are independent
    repetitions, fitted in one batch per fold. With ``n_folds >= n`` this is leave-one-out, done by
    the linear-smoother shortcut when ``shortcut`` (one fit instead of ``n``). The shortcut needs
    one fixed feature map, so with ``scale`` the standardization is then fitted once on all ``n``
    rows (it sees the left-out point's features, never its label; ``preprocessing_leak`` shows
    that this unsupervised step changes CV estimates by well under a percentage point).

    Returns (..., L). Raises ``ValueError`` for fewer than two samples or two folds.
    """
    n = X.shape[-2]
    lams = _check_lams(lams)
    folds = fold_slices(n, n_folds)  # validates n and n_folds
    if len(folds) >= n and shortcut:
        fit = kernel_ridge_path(X, y, length_scale=length_scale, scale=scale)
        e = loo_residuals(fit, y, lams)
        loo_pred = y[..., :, None] - e
        return point_loss(y[..., :, None], loo_pred, kind).mean(axis=-2)
    total = np.zeros(X.shape[:-2] + (lams.size,))
    for idx in folds:
        rest = complement(n, idx)
        fit = kernel_ridge_path(X[..., rest, :], y[..., rest], length_scale=length_scale, scale=scale)
        pred = fit.predict(X[..., idx, :], lams)
        total += point_loss(y[..., idx, None], pred, kind).sum(axis=-2)
    return total / n
