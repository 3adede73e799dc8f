r"""Early stopping of gradient descent on least squares, next to ridge with :math:`\lambda = 1/(\eta t)`.

Conventions (named on the page): GD minimizes the *mean* loss :math:`\tfrac1{2n}\|Xw-y\|^2`; the ridge
it is compared with is :math:`\tfrac1{2n}\|Xw-y\|^2+\tfrac\lambda2\|w\|^2` (scikit-learn's
``Ridge(alpha=nλ)``) — not the kernel-ridge convention of the other sections.

Reference: Yao, Rosasco & Caponnetto (2007), "On early stopping in gradient descent learning",
Constr. Approx. 26.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core.iteration import DIVERGENCE_LIMIT, Callback, Convergence, diverged, notify
from regopt_core.splits.kernel_ridge import one_blas_thread

GD_TOL = 1e-6  # GD "converged": relative gradient norm ||grad f(w_T)|| / ||grad f(w_0)|| at or below this
_CHECK_EVERY = 32  # the divergence rule is applied every this many epochs (and the first bad epoch found)


def gd_step_size(X: np.ndarray, *, fraction: float = 1.0) -> float:
    r"""Step :math:`\eta = c/L` for :math:`\tfrac1{2n}\|Xw-y\|^2`, with :math:`L=\sigma_{\max}(X)^2/n`
    its gradient's Lipschitz constant (GD is monotone for :math:`\eta \le 1/L`, diverges above
    :math:`2/L`)."""
    if not fraction > 0:
        raise ValueError(f"the step fraction must be positive, got {fraction}")
    L = np.linalg.norm(X, 2) ** 2 / X.shape[0]
    if not L > 0:
        raise ValueError("X is zero: the gradient has no Lipschitz constant to scale the step by")
    return float(fraction / L)


@dataclass(frozen=True)
class GDPath:
    """Every iterate of :func:`gd_least_squares` and how the loop ended.

    ``W`` (n_epochs + 1, p); row ``t`` is :math:`w_t` (rows after a divergence are NaN).
    ``diverged_at`` is the first epoch whose iterate broke the divergence rule
    (:func:`regopt_core.iteration.diverged`), else ``None``.
    """

    W: np.ndarray
    step: float
    diverged: bool
    diverged_at: int | None
    convergence: Convergence


def gd_least_squares(X: np.ndarray, y: np.ndarray, *, step: float, n_epochs: int = 1000,
                     tol: float = GD_TOL, callback: Callback | None = None) -> GDPath:
    r"""Full-batch gradient descent on :math:`\tfrac1{2n}\|Xw-y\|^2` from :math:`w_0=0`.

    .. math:: w_{t+1} = w_t - \eta\,\tfrac1n X^\top (X w_t - y)

    Runs all ``n_epochs`` (the experiment watches every epoch) unless the iterates diverge (the one
    rule :func:`regopt_core.iteration.diverged`, checked every 32 epochs and at the end; the first
    diverged epoch is then located exactly) or ``callback`` raises ``StopIteration``. Divergence is
    *recorded* (``diverged``, ``diverged_at``), never raised. ``convergence`` reports the relative
    gradient norm :math:`\|\nabla f(w_T)\|/\|\nabla f(w_0)\|` against ``tol``.
    """
    n_epochs = int(n_epochs)
    if n_epochs < 1 or not step > 0 or X.ndim != 2 or X.shape[0] != np.shape(y)[0]:
        raise ValueError(f"need n_epochs >= 1, step > 0 and X (n, p) matching y (n,); got {n_epochs}, {step}, "
                         f"{X.shape}, {np.shape(y)}")
    n, p = X.shape
    W = np.full((n_epochs + 1, p), np.nan)
    W[0] = 0.0
    w = np.zeros(p)
    XtX, Xty = X.T @ X / n, X.T @ y / n  # the gradient is XtX w - Xty
    # w - step (XtX w - Xty) = M w + c, written straight into the next row (no temporaries)
    M, c = np.eye(p) - step * XtX, step * Xty
    g0 = float(np.linalg.norm(Xty))
    bad_at, last = None, n_epochs
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_epochs):
            np.dot(M, W[t], out=W[t + 1])
            W[t + 1] += c
            w = W[t + 1]
            if (t + 1) % _CHECK_EVERY == 0 or t + 1 == n_epochs:
                if diverged(w):
                    block = W[max(1, t + 2 - _CHECK_EVERY): t + 2]
                    bad = ~(np.all(np.isfinite(block), axis=1) & (np.max(np.abs(np.nan_to_num(block, nan=np.inf)), axis=1)
                                                                 <= DIVERGENCE_LIMIT))
                    bad_at = int(max(1, t + 2 - _CHECK_EVERY) + np.argmax(bad))
                    W[bad_at:] = np.nan
                    last = bad_at
                    break
            if callback is not None and notify(callback, w, t + 1, n_epochs):
                last = t + 1
                W[t + 2:] = np.nan
                break
        w_end = W[last] if bad_at is None else W[bad_at - 1]
        g = float(np.linalg.norm(XtX @ w_end - Xty))
    rel = g / g0 if g0 > 0 else 0.0
    conv = Convergence(converged=bad_at is None and rel <= tol, criterion="relative gradient norm ‖∇f(w_T)‖/‖∇f(w_0)‖",
                       value=float(rel) if bad_at is None else float("inf"), tol=float(tol), nit=int(last))
    return GDPath(W=W, step=float(step), diverged=bad_at is not None, diverged_at=bad_at, convergence=conv)


def gd_closed_form(X: np.ndarray, y: np.ndarray, *, step: float, epochs: np.ndarray) -> np.ndarray:
    r"""The same iterates in closed form: with :math:`X/\sqrt n = U\,\mathrm{diag}(s)\,V^\top`,

    .. math:: w_t = V\,\mathrm{diag}\!\Big(\frac{1-(1-\eta s_j^2)^t}{s_j}\Big)\,U^\top y/\sqrt n,

    a spectral filter; ridge has :math:`s_j/(s_j^2+\lambda)` instead, and the two agree roughly for
    :math:`\lambda = 1/(\eta t)` (Yao et al. 2007). Returns (len(epochs), p).
    """
    n = X.shape[0]
    U, s, Vt = np.linalg.svd(X / np.sqrt(n), full_matrices=False)
    uty = U.T @ y / np.sqrt(n)
    t = np.asarray(epochs, dtype=float)[:, None]
    keep = s > s.max() * 1e-12
    filt = np.zeros((t.shape[0], s.size))
    with np.errstate(over="ignore", invalid="ignore"):
        base = 1.0 - step * s[keep] ** 2  # |base| < 1 for every mode when step < 2/L
        pos = base > 0
        decay = np.where(pos, -np.expm1(t * np.log1p(-np.minimum(step * s[keep] ** 2, 1.0 - 1e-300))),
                         1.0 - np.power(base, t))
        filt[:, keep] = decay / s[keep]
    return (filt * uty) @ Vt


def ridge_path(X: np.ndarray, y: np.ndarray, lams: np.ndarray) -> np.ndarray:
    r"""Ridge :math:`\arg\min_w \tfrac1{2n}\|Xw-y\|^2+\tfrac\lambda2\|w\|^2` for each :math:`\lambda`:
    :math:`w_\lambda = V\,\mathrm{diag}(s/(s^2+\lambda))\,U^\top y/\sqrt n`. Returns (len(lams), p)."""
    lams = np.asarray(lams, dtype=float)
    if lams.size and not np.all(lams >= 0):
        raise ValueError("ridge strengths must be non-negative")
    n = X.shape[0]
    U, s, Vt = np.linalg.svd(X / np.sqrt(n), full_matrices=False)
    uty = U.T @ y / np.sqrt(n)
    filt = s / (s**2 + lams[:, None])
    return (filt * uty) @ Vt


@dataclass(frozen=True)
class EarlyStopping:
    r"""Result of :func:`early_stopping`. Errors are mean squared errors; ``true`` is exact:
    :math:`\|w-w^\star\|^2+\sigma^2` for isotropic Gaussian inputs (NaN after a divergence)."""

    epochs: np.ndarray  # 0..T
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray  # a finite test set
    true: np.ndarray
    stop_epoch: int  # argmin of the validation error
    ridge_lams: np.ndarray  # lambda = 1/(eta t) for t >= 1
    ridge_true: np.ndarray  # true error of ridge at those lambdas (aligned with epochs[1:])
    step: float
    sigma: float
    n_train: int
    n_features: int
    diverged: bool = False
    diverged_at: int | None = None
    convergence: Convergence | None = None

    @property
    def best_epoch(self) -> int:
        """Epoch of the smallest true error (unknown in practice)."""
        return int(np.nanargmin(self.true))


def _mse_rows(Xm: np.ndarray, ym: np.ndarray, Ws: np.ndarray) -> np.ndarray:
    """mean((Xm w - ym)^2) for every row w of Ws, as a quadratic form (no m x T matrix)."""
    G, b, c = Xm.T @ Xm / ym.size, Xm.T @ ym / ym.size, ym @ ym / ym.size
    return np.maximum(np.sum((Ws @ G) * Ws, axis=1) - 2.0 * Ws @ b + c, 0.0)


@one_blas_thread
def early_stopping(
    *,
    n_train: int = 40,
    n_val: int = 40,
    n_test: int = 200,
    n_features: int = 40,
    sigma: float = 0.3,
    step_fraction: float = 0.5,
    n_epochs: int = 3000,
    rng: np.random.Generator,
) -> EarlyStopping:
    r"""Train a linear model with more weights than is safe by gradient descent and watch the
    training, validation, test and true error per epoch.

    Data: :math:`x\sim\mathcal N(0, I_p)`, :math:`y = x^\top w^\star + \sigma\varepsilon` with
    :math:`\|w^\star\| = 1` drawn at random, so the true error of any :math:`w` is exactly

    .. math:: \mathbb E\,(y - x^\top w)^2 = \|w - w^\star\|^2 + \sigma^2 .

    GD (:func:`gd_least_squares`, step ``step_fraction``/L) minimizes the training MSE; it first learns
    the strong directions and then fits noise, so the true error falls and rises again when :math:`p`
    is near :math:`n`. Early stopping returns the iterate at the validation minimum. A diverging run
    (``step_fraction`` above 2) is recorded in the result, not raised.
    """
    if min(n_train, n_val, n_test, n_features, n_epochs) < 1 or n_train < 2 or not sigma >= 0:
        raise ValueError("early_stopping needs n_train >= 2, n_val, n_test, n_features, n_epochs >= 1 and sigma >= 0")
    w_star = rng.standard_normal(n_features)
    w_star /= np.linalg.norm(w_star)

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        Xm = rng.standard_normal((m, n_features))
        return Xm, Xm @ w_star + sigma * rng.standard_normal(m)

    X, y = draw(n_train)
    Xv, yv = draw(n_val)
    Xt, yt = draw(n_test)
    step = gd_step_size(X, fraction=step_fraction)
    path = gd_least_squares(X, y, step=step, n_epochs=n_epochs)
    W = path.W
    with np.errstate(over="ignore", invalid="ignore"):
        true = np.sum((W - w_star) ** 2, axis=1) + sigma**2
        val = _mse_rows(Xv, yv, W)
        train, test = _mse_rows(X, y, W), _mse_rows(Xt, yt, W)
    t = np.arange(1, n_epochs + 1)
    ridge_lams = 1.0 / (step * t)
    ridge_true = np.sum((ridge_path(X, y, ridge_lams) - w_star) ** 2, axis=1) + sigma**2
    return EarlyStopping(
        epochs=np.arange(n_epochs + 1), train=train, validation=val, test=test, true=true,
        stop_epoch=int(np.nanargmin(val)), ridge_lams=ridge_lams, ridge_true=ridge_true, step=step,
        sigma=float(sigma), n_train=n_train, n_features=n_features,
        diverged=path.diverged, diverged_at=path.diverged_at, convergence=path.convergence,
    )
