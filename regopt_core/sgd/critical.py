r"""The critical batch size: the best one-step learning rate versus the batch size on a quadratic
(McCandlish, Kaplan, Amodei et al. 2018, *An empirical model of large-batch training*, Sec. 2.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core.sgd.noise import sample_minibatch_gradients
from regopt_core.sgd.objectives import LeastSquares

__all__ = ["CriticalBatch", "critical_batch"]


@dataclass(frozen=True, eq=False)
class CriticalBatch:
    r"""Best one-step learning rate versus batch size on a quadratic.

    ``eps_max`` :math:`= |G|^2 / G^\top H G`, ``b_noise`` :math:`= \operatorname{tr}(H\Sigma)/G^\top H G`;
    ``theory`` :math:`= \epsilon_{\max}/(1 + B_\mathrm{noise}/B)`; ``measured`` the Monte-Carlo best
    step :math:`\overline{G^\top\hat g} / \overline{\hat g^\top H \hat g}`.
    """

    batch_sizes: np.ndarray
    measured: np.ndarray
    theory: np.ndarray
    eps_max: float
    b_noise: float


def critical_batch(
    objective: LeastSquares,
    theta: np.ndarray,
    *,
    batch_sizes: np.ndarray | None = None,
    n_draws: int = 2000,
    rng: np.random.Generator,
) -> CriticalBatch:
    r"""The step size that most decreases the loss in one SGD step, versus :math:`B` (with replacement).

    On a quadratic, one step :math:`\theta - \epsilon\hat g` changes the loss by
    :math:`-\epsilon G^\top\hat g + \tfrac12\epsilon^2 \hat g^\top H\hat g`. Its expectation is
    maximal at

    .. math:: \epsilon_\mathrm{opt}(B) = \frac{\epsilon_{\max}}{1 + B_\mathrm{noise}/B}, \qquad
              \epsilon_{\max} = \frac{|G|^2}{G^\top H G},\quad
              B_\mathrm{noise} = \frac{\operatorname{tr}(H\Sigma)}{G^\top H G}

    (McCandlish et al. 2018, eq. 2.6-2.8): below :math:`B_\mathrm{noise}` doubling the batch almost
    doubles the usable step; far above it, a larger batch buys nothing. ``batch_sizes`` (integers in
    [1, N]) defaults to 16 log-spaced sizes.
    """
    G_i = objective.per_example_grads(np.asarray(theta, dtype=np.float64))
    N = G_i.shape[0]
    G = G_i.mean(axis=0)
    H = objective.hessian()
    Sigma = (G_i - G).T @ (G_i - G) / N
    gHg = float(G @ H @ G)
    eps_max = float(G @ G) / gHg
    b_noise = float(np.trace(H @ Sigma)) / gHg
    if batch_sizes is None:
        batch_sizes = np.unique(np.rint(np.geomspace(1, N, 16)).astype(np.int64))
    sizes = np.unique(np.asarray(batch_sizes, dtype=np.int64))
    if len(sizes) == 0 or sizes[0] < 1 or sizes[-1] > N:
        raise ValueError(f"batch sizes must be integers in [1, N = {N}], got {batch_sizes}")
    n_draws = int(n_draws)
    if n_draws < 2:
        raise ValueError(f"n_draws must be >= 2, got {n_draws}")
    measured = np.empty(len(sizes))
    for k, child in enumerate(rng.spawn(len(sizes))):
        g = sample_minibatch_gradients(G_i, batch_size=int(sizes[k]), n_draws=n_draws, replace=True, rng=child)
        measured[k] = np.mean(g @ G) / np.mean(np.einsum("ni,ij,nj->n", g, H, g))
    theory = eps_max / (1 + b_noise / sizes)
    return CriticalBatch(sizes, measured, theory, eps_max, b_noise)


