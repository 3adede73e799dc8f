r"""The two finite-sum objectives of the SGD page, exactly as computed.

* :class:`LeastSquares` — :math:`L(\theta) = \frac{1}{2N}\sum_{i=1}^N (x_i^\top\theta - y_i)^2
  = \frac{1}{2N}\|X\theta - y\|^2` (no penalty).
* :class:`SoftmaxRegression` — mean cross-entropy plus a ridge penalty with the **λ/2 convention**,

  .. math:: L(W, b) = \frac1N \sum_{i=1}^N \Big(\log\sum_{k=1}^K e^{s_{ik}} - s_{i y_i}\Big)
            + \frac{\lambda}{2}\|W\|_F^2, \qquad s_i = W^\top x_i + b ,

  the bias :math:`b` not penalized, so :math:`\nabla_W L = \frac1N X^\top(P - Y) + \lambda W`.

Both expose ``loss(theta)``, the minibatch-mean gradient ``grad(theta, idx)`` (one matrix product
for the whole batch) and ``rows_grad(theta, X_rows, y_rows)``, the same on rows the caller already
gathered (the SGD loop gathers one reshuffled epoch at once and hands out views).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core.losses import softmax_cross_entropy, softmax_cross_entropy_grad

__all__ = ["LeastSquares", "SoftmaxRegression", "least_squares", "softmax_regression", "accuracy"]


@dataclass(frozen=True, eq=False)
class LeastSquares:
    r"""Least-squares objective :math:`L(\theta) = \frac{1}{2N}\|X\theta - y\|^2`.

    Per-example loss :math:`L_i = \tfrac12 (x_i^\top\theta - y_i)^2`, gradient
    :math:`\nabla L_i = x_i (x_i^\top\theta - y_i)`, Hessian :math:`H = X^\top X / N` (constant).
    """

    X: np.ndarray
    y: np.ndarray

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, targets) the SGD loop draws minibatches from."""
        return self.X, self.y

    def loss(self, theta: np.ndarray) -> float:
        """Full training loss."""
        r = self.X @ theta - self.y
        return 0.5 * float(r @ r) / self.n_samples

    def rows_grad(self, theta: np.ndarray, Xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
        """Mean gradient over the given rows: :math:`X_b^\\top (X_b\\theta - y_b) / B`."""
        return Xb.T @ (Xb @ theta - yb) / len(yb)

    def grad(self, theta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Mean gradient over the examples ``idx`` (one matrix product for the whole batch)."""
        return self.rows_grad(theta, self.X[idx], self.y[idx])

    def per_example_grads(self, theta: np.ndarray) -> np.ndarray:
        """All :math:`N` per-example gradients at ``theta``, shape ``(N, d)``."""
        return self.X * (self.X @ theta - self.y)[:, None]

    def hessian(self) -> np.ndarray:
        """:math:`H = X^\\top X / N`."""
        return self.X.T @ self.X / self.n_samples

    def minimizer(self) -> np.ndarray:
        """Least-squares solution (via :func:`numpy.linalg.lstsq`)."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    def loss_grid(self, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
        r"""Full loss on the grid ``w1 x w2`` of a 2-parameter problem, shape ``(len(w2), len(w1))``.

        Uses :math:`L(\theta) = \tfrac12\theta^\top H\theta - b^\top\theta + \tfrac{1}{2N}\|y\|^2`,
        :math:`b = X^\top y/N`, so the cost does not grow with N.
        """
        if self.X.shape[1] != 2:
            raise ValueError("loss_grid needs exactly two parameters")
        H = self.hessian()
        b = self.X.T @ self.y / self.n_samples
        c = 0.5 * float(self.y @ self.y) / self.n_samples
        T1, T2 = np.meshgrid(np.asarray(w1, float), np.asarray(w2, float))
        return 0.5 * (H[0, 0] * T1**2 + 2 * H[0, 1] * T1 * T2 + H[1, 1] * T2**2) - b[0] * T1 - b[1] * T2 + c

    def losses_along(self, path: np.ndarray) -> np.ndarray:
        """Full loss at every row of ``path`` (K, d) at once, through the quadratic form (cost O(K d²))."""
        H = self.hessian()
        b = self.X.T @ self.y / self.n_samples
        c = 0.5 * float(self.y @ self.y) / self.n_samples
        P = np.asarray(path, dtype=np.float64)
        return 0.5 * np.einsum("ki,ij,kj->k", P, H, P) - P @ b + c


def least_squares(X: np.ndarray, y: np.ndarray) -> LeastSquares:
    """Build a :class:`LeastSquares` objective (arrays copied, float64)."""
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, d) and y (N,), got {X.shape} and {y.shape}")
    return LeastSquares(X, y)


@dataclass(frozen=True, eq=False)
class SoftmaxRegression:
    r"""Softmax (multinomial logistic) regression with an L2 penalty on the weights (λ/2 convention).

    .. math:: L(W, b) = \frac1N \sum_i \Big(\log\sum_k e^{s_{ik}} - s_{i y_i}\Big)
              + \frac\lambda2 \|W\|_F^2, \qquad s_i = W^\top x_i + b

    Parameters are stored as one ``(d + 1, K)`` array ``theta`` whose last row is the bias ``b``
    (the bias is not penalized); ``Xa`` is ``X`` with a column of ones appended. The per-example
    loss and its gradient with respect to the scores come from :mod:`regopt_core.losses`.
    """

    Xa: np.ndarray
    y: np.ndarray
    n_classes: int
    lam: float

    @property
    def n_samples(self) -> int:
        return self.Xa.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return (self.Xa.shape[1], self.n_classes)

    @property
    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.Xa, self.y

    def loss(self, theta: np.ndarray) -> float:
        """Full training loss (mean cross-entropy plus the penalty), a log-sum-exp written out in the
        (classes, examples) layout, where the reductions over classes are fast (the same numbers as
        :func:`regopt_core.losses.softmax_cross_entropy`, without its input checks)."""
        S = theta.T @ self._XaT                          # (K, N) scores
        picked = S[self.y, np.arange(len(self.y))]
        m = S.max(axis=0)
        S -= m
        np.exp(S, out=S)
        lse = np.log(S.sum(axis=0)) + m
        data = float(np.mean(lse - picked))
        return data + 0.5 * self.lam * float(np.vdot(theta[:-1], theta[:-1]))

    def reference_loss(self, theta: np.ndarray) -> float:
        """:meth:`loss` through :func:`regopt_core.losses.softmax_cross_entropy` (tests keep the two equal)."""
        data = float(np.mean(softmax_cross_entropy(self.Xa @ theta, self.y)))
        return data + 0.5 * self.lam * float(np.vdot(theta[:-1], theta[:-1]))

    def sgd_step(self, theta: np.ndarray, Xb: np.ndarray, yb: np.ndarray, lr: float) -> np.ndarray:
        """``theta - lr * rows_grad(theta, Xb, yb)`` with fewer array operations (the loop's hot path; a
        test keeps it equal to the definition). For one example the gradient is an outer product."""
        if len(yb) == 1:
            x = Xb[0]
            p = x @ theta
            p -= p.max()
            np.exp(p, out=p)
            p *= lr / p.sum()
            p[yb[0]] -= lr
            new = theta * self._decay(lr)
            new -= np.multiply.outer(x, p)
            return new
        if len(yb) == self.n_samples and Xb is self.Xa:
            P = theta.T @ self._XaT                      # (K, N): fast reductions over classes
            P -= P.max(axis=0)
            np.exp(P, out=P)
            P /= P.sum(axis=0)
            P -= self._onehot
            new = theta * self._decay(lr)
            new -= (lr / self.n_samples) * (P @ self.Xa).T
            return new
        B = len(yb)
        P = theta.T @ Xb.T                               # (K, B)
        P -= P.max(axis=0)
        np.exp(P, out=P)
        P /= P.sum(axis=0)
        P[yb, np.arange(B)] -= 1.0
        new = theta * self._decay(lr)
        new -= (lr / B) * (P @ Xb).T
        return new

    def _decay(self, lr: float) -> np.ndarray:
        """Column of 1 - lr λ (weights) and 1 (bias): the penalty's part of a step, cached per lr."""
        cache = self.__dict__.setdefault("_decays", {})
        d = cache.get(lr)
        if d is None:
            d = np.full((self.Xa.shape[1], 1), 1.0 - lr * self.lam)
            d[-1] = 1.0
            if len(cache) > 64:
                cache.clear()
            cache[lr] = d
        return d

    @property
    def _onehot(self) -> np.ndarray:
        Y = self.__dict__.get("_Y")
        if Y is None:
            Y = np.zeros((self.n_classes, self.n_samples))
            Y[self.y, np.arange(self.n_samples)] = 1.0
            object.__setattr__(self, "_Y", Y)
        return Y

    @property
    def _XaT(self) -> np.ndarray:
        T = self.__dict__.get("_T")
        if T is None:
            T = np.ascontiguousarray(self.Xa.T)
            object.__setattr__(self, "_T", T)
        return T

    def rows_grad(self, theta: np.ndarray, Xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
        r"""Mean gradient over the given rows: :math:`X_b^\top (P_b - Y_b) / B + \lambda W`.

        :math:`P_b - Y_b` is :func:`regopt_core.losses.softmax_cross_entropy_grad` written out here:
        that function checks its inputs on every call, which costs more than the arithmetic when
        B = 1 and the loop makes thousands of calls (a test keeps the two equal).
        """
        P = Xb @ theta                                   # scores s_i, shape (B, K)
        P -= P.max(axis=1, keepdims=True)                # shift for a stable exp
        np.exp(P, out=P)
        P /= P.sum(axis=1, keepdims=True)                # softmax probabilities
        P[np.arange(len(yb)), yb] -= 1.0                 # dL_i/ds_i = p_i - onehot(y_i)
        G = Xb.T @ P
        G *= 1.0 / len(yb)
        G[:-1] += self.lam * theta[:-1]
        return G

    def grad(self, theta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Mean gradient over the examples ``idx``."""
        return self.rows_grad(theta, self.Xa[idx], self.y[idx])

    def per_example_grads(self, theta: np.ndarray) -> np.ndarray:
        """All per-example gradients (penalty included), flattened: shape ``(N, (d+1) K)``."""
        dscores = softmax_cross_entropy_grad(self.Xa @ theta, self.y)
        G = self.Xa[:, :, None] * dscores[:, None, :]
        pen = self.lam * theta
        pen[-1] = 0.0
        G += pen[None]
        return G.reshape(self.n_samples, -1)

    def predict(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Predicted class of each row of ``X`` (without the ones column)."""
        return np.argmax(X @ theta[:-1] + theta[-1], axis=1)


def softmax_regression(X: np.ndarray, y: np.ndarray, *, n_classes: int | None = None,
                       lam: float = 1e-3) -> SoftmaxRegression:
    """Build a :class:`SoftmaxRegression` objective from features ``X`` (N, d) and labels ``y``."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.intp)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, d) and y (N,), got {X.shape} and {y.shape}")
    if not (np.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be a finite non-negative number, got {lam}")
    K = int(n_classes) if n_classes is not None else int(y.max()) + 1
    Xa = np.ascontiguousarray(np.hstack([X, np.ones((X.shape[0], 1))]))
    return SoftmaxRegression(Xa, y, K, float(lam))


def accuracy(objective: SoftmaxRegression, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of ``X`` whose predicted class equals ``y``."""
    return float(np.mean(objective.predict(theta, np.asarray(X)) == np.asarray(y)))
