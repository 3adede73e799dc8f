r"""The noise floor of constant-step SGD: how close it gets, set by :math:`\eta/B`.

On a quadratic the SGD iterate does not converge but settles into a stationary distribution; for one
weight with curvature :math:`h` and gradient noise of variance :math:`\sigma^2` per example its
variance is :math:`\eta\sigma^2/(B\,h\,(2-\eta h))` (Mandt, Hoffman & Blei 2017, Sec. 3), and on
least squares :math:`L(\theta) = \frac{1}{2N}\|X\theta - y\|^2` the stationary excess loss is exactly
:func:`stationary_excess_loss` (Bottou, Curtis & Nocedal 2018, Thm. 4.6 for the bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from regopt_core.sgd.objectives import LeastSquares

__all__ = ["stationary_variance", "noisy_quadratic_sgd", "stationary_excess_loss", "NoiseFloor",
           "measure_noise_floor"]


def stationary_variance(h: float, sigma: float, *, lr: float, batch_size: int = 1) -> float:
    r"""Stationary variance of SGD on :math:`\tfrac12 h\theta^2` with gradient noise of variance :math:`\sigma^2`.

    The iteration :math:`\theta_{t+1} = (1-\eta h)\theta_t - \eta\xi_t`,
    :math:`\operatorname{Var}\xi_t = \sigma^2/B`, is an AR(1) process whose variance settles at

    .. math:: v_\infty = \frac{\eta\sigma^2}{B\,h\,(2-\eta h)}, \qquad 0 < \eta h < 2,

    (Mandt, Hoffman & Blei 2017, Sec. 3; set :math:`v = (1-\eta h)^2 v + \eta^2\sigma^2/B`).
    Returns ``inf`` outside the stable range.
    """
    a = lr * h
    if not 0 < a < 2:
        return math.inf
    return lr * sigma**2 / (batch_size * h * (2 - a))


def noisy_quadratic_sgd(
    h: float,
    sigma: float,
    *,
    lr: float,
    batch_size: int = 1,
    n_steps: int = 1000,
    n_chains: int = 1000,
    theta0: float = 0.0,
    rng: np.random.Generator,
) -> np.ndarray:
    r"""Run ``n_chains`` independent SGD chains on :math:`\tfrac12 h\theta^2` with noisy gradients.

    Each per-example gradient is :math:`h\theta + \xi_i`, :math:`\xi_i \sim \mathcal N(0, \sigma^2)`
    i.i.d.; the minibatch mean of :math:`B` of them has noise :math:`\mathcal N(0, \sigma^2/B)`,
    drawn directly. Vectorized over chains; returns the final :math:`\theta` of every chain.
    """
    theta = np.full(int(n_chains), float(theta0))
    scale = sigma / math.sqrt(batch_size)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(n_steps)):
            theta -= lr * (h * theta + scale * rng.standard_normal(theta.shape))
    return theta


def stationary_excess_loss(objective: LeastSquares, *, lr: float, batch_size: int) -> float:
    r"""Exact stationary :math:`E[L(\theta)] - L(\theta^\star)` of SGD with replacement on least squares.

    With :math:`e = \theta - \theta^\star`, :math:`A_i = x_i x_i^\top`, :math:`c_i = x_i r_i`
    (residuals at :math:`\theta^\star`, :math:`\sum_i c_i = 0`), the second moment
    :math:`S = E[e e^\top]` of the stationary distribution solves the linear equation

    .. math:: S = (I-\eta H) S (I-\eta H) + \frac{\eta^2}{B}\Big(\overline{A S A} - H S H + C\Big),
              \quad C = \frac1N\sum_i c_i c_i^\top,

    (both the additive noise :math:`C` and the parameter-dependent part of the per-example
    Hessians), and the excess loss is :math:`\tfrac12 \operatorname{tr}(HS)`. For small
    :math:`\eta` this is :math:`\approx \eta\operatorname{tr}(C)/(4B)`: linear in :math:`\eta/B`
    (Bottou et al. 2018, Thm. 4.6 for the bound). Returns ``inf`` when the second moment diverges.
    """
    X = objective.X
    N, d = X.shape
    H = objective.hessian()
    r = X @ objective.minimizer() - objective.y
    c = X * r[:, None]
    C = c.T @ c / N
    I = np.eye(d)
    M = I - lr * H
    AA = np.einsum("ni,nj,nk,nl->ikjl", X, X, X, X).reshape(d * d, d * d) / N  # mean A_i (x) A_i
    T = np.kron(M, M) + lr**2 / batch_size * (AA - np.kron(H, H))
    if np.max(np.abs(np.linalg.eigvals(T))) >= 1:
        return math.inf
    S = np.linalg.solve(np.eye(d * d) - T, lr**2 / batch_size * C.reshape(-1)).reshape(d, d)
    return 0.5 * float(np.trace(H @ S))


@dataclass(frozen=True, eq=False)
class NoiseFloor:
    """Measured and predicted stationary excess loss for a grid of (lr, batch size).

    Arrays are flat over the configurations. ``excess_mean`` is the excess loss
    :math:`L(\\theta_t) - L(\\theta^\\star)` averaged over the second half of the run and over the
    replicas; ``final_q10``/``final_q90`` the 10 %/90 % quantiles of the final excess loss across
    replicas; ``theory`` :func:`stationary_excess_loss`; ``slope`` is :math:`\\operatorname{tr}(C)/4`,
    the small-step line ``excess = slope * lr / B``. Diverged configurations hold ``nan``.
    """

    lrs: np.ndarray
    batch_sizes: np.ndarray
    excess_mean: np.ndarray
    final_q10: np.ndarray
    final_q90: np.ndarray
    theory: np.ndarray
    slope: float
    n_steps: int
    n_replicas: int

    @property
    def lr_over_b(self) -> np.ndarray:
        return self.lrs / self.batch_sizes


def measure_noise_floor(
    objective: LeastSquares,
    *,
    lrs: tuple[float, ...] = (0.01, 0.03, 0.1),
    batch_sizes: tuple[int, ...] = (1, 4, 16, 64),
    n_steps: int = 1500,
    n_replicas: int = 64,
    rng: np.random.Generator,
) -> NoiseFloor:
    r"""Run SGD (with replacement) from :math:`\theta^\star` and measure the loss it settles at.

    Every (learning rate, batch size, replica) chain runs at once: a minibatch gradient of least squares
    at :math:`\theta^\star + e` is :math:`A_b e + c_b`, the batch means of :math:`x_i x_i^\top` and
    :math:`x_i r_i` (:math:`r` the residuals at :math:`\theta^\star`). Each step draws, per replica, one
    block of :math:`\sum B` indices (one minibatch per batch size, independent), sums the per-example
    features per minibatch (``np.add.reduceat``) and updates the errors of shape ``(lrs, replicas,
    batch sizes, d)``; the learning rates share the draws (common random numbers). Started at the
    optimum, the excess loss rises to its stationary level within about :math:`1/(2\eta\lambda_{\min})`
    steps; the second half of the run is averaged. The loop is over steps only.
    """
    X, y = objective.X, objective.y
    N, d = X.shape
    sizes = [int(b) for b in batch_sizes]
    if not sizes or any(b != int(b) or not 1 <= b <= N for b in batch_sizes):
        raise ValueError(f"batch sizes must be integers in [1, N = {N}], got {batch_sizes}")
    eta = np.asarray(lrs, dtype=np.float64)
    if eta.ndim != 1 or len(eta) == 0 or not np.all(np.isfinite(eta) & (eta > 0)):
        raise ValueError(f"lrs must be finite positive numbers, got {lrs}")
    n_steps, R = int(n_steps), int(n_replicas)
    if n_steps < 2 or R < 2:
        raise ValueError(f"n_steps and n_replicas must be >= 2, got {n_steps} and {R}")
    theta_star = objective.minimizer()
    H = objective.hessian()
    r = X @ theta_star - y
    slope = float(np.sum((X * r[:, None]) ** 2) / N) / 4.0
    F = np.concatenate([(X[:, :, None] * X[:, None, :]).reshape(N, d * d), X * r[:, None]], axis=1)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    Bs = np.asarray(sizes, dtype=np.float64)[None, :, None]
    total = int(sum(sizes))
    nB, L = len(sizes), len(eta)
    burn = n_steps // 2
    e = np.zeros((L, R, nB, d))  # theta - theta_star
    acc = np.zeros((L, R, nB))
    step = eta[:, None, None, None]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            idx = rng.integers(0, N, size=(R, total))
            means = np.add.reduceat(F[idx], offsets, axis=1) / Bs          # (R, nB, d*d + d)
            A = means[..., : d * d].reshape(R, nB, d, d)
            c = means[..., d * d:]
            e -= step * (np.einsum("rbij,lrbj->lrbi", A, e) + c[None])
            if t >= burn:
                acc += 0.5 * np.einsum("lrbi,ij,lrbj->lrb", e, H, e)
    final = 0.5 * np.einsum("lrbi,ij,lrbj->lrb", e, H, e)
    out_lr, out_b, mean_ex, q10, q90, theory = [], [], [], [], [], []
    for j, B in enumerate(sizes):
        for k, lr in enumerate(eta):
            fk = final[k, :, j]
            ok = bool(np.all(np.isfinite(fk)))
            out_lr.append(float(lr))
            out_b.append(B)
            mean_ex.append(float(acc[k, :, j].mean() / (n_steps - burn)) if ok else math.nan)
            q10.append(float(np.quantile(fk, 0.1)) if ok else math.nan)
            q90.append(float(np.quantile(fk, 0.9)) if ok else math.nan)
            theory.append(stationary_excess_loss(objective, lr=float(lr), batch_size=B))
    return NoiseFloor(np.array(out_lr), np.array(out_b), np.array(mean_ex), np.array(q10),
                      np.array(q90), np.array(theory), slope, n_steps, R)
