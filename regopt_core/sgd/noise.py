r"""Gradient noise: minibatch gradients drawn from the per-example gradients, measured against
Cochran's finite-population formula.

.. math:: \operatorname{Var}\hat g_B = \frac{\sigma^2}{B} \quad\text{(with replacement)}, \qquad
          \frac{\sigma^2}{B}\,\frac{N-B}{N-1} \quad\text{(without)}, \qquad
          \sigma^2 = \frac1N\sum_{i=1}^N \|g_i - \bar g\|^2

(Cochran 1977, *Sampling Techniques*, Thm. 2.2); for vector gradients :math:`\sigma^2` and the
variance are traces of covariance matrices, :math:`E\|\hat g_B - \bar g\|^2`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["sample_minibatch_gradients", "minibatch_variance_theory", "GradientNoise", "measure_gradient_noise",
           "MAX_WORK_NUMBERS"]

MAX_WORK_NUMBERS = 50_000_000
"""Largest work array (numbers) a noise measurement builds; larger requests raise ValueError."""


def _check_batch(B: int, N: int) -> int:
    if int(B) != B or not 1 <= int(B) <= N:
        raise ValueError(f"batch size must be an integer in [1, N = {N}], got {B}")
    return int(B)


def sample_minibatch_gradients(
    per_example: np.ndarray,
    *,
    batch_size: int,
    n_draws: int,
    replace: bool = False,
    rng: np.random.Generator,
) -> np.ndarray:
    r"""Draw ``n_draws`` minibatch-mean gradients :math:`\hat g = \frac1B \sum_{i\in\mathcal B} g_i`.

    Vectorized: all draws at once, as an ``(n_draws, B)`` index array (with replacement: uniform
    integers; without: the ``B`` smallest of ``N`` uniform keys per draw, a uniformly random subset —
    at ``B = N`` that is every example, in a random order).

    Parameters
    ----------
    per_example : (N,) or (N, p) array
        :math:`g_i`, one row per example.
    batch_size : int
        :math:`B \in [1, N]` (ValueError outside).
    n_draws : int
        Number of minibatches, >= 1.
    replace : bool, default False
    rng : numpy.random.Generator

    Returns
    -------
    (n_draws, p) array (or (n_draws,) for 1-D input).
    """
    g = np.asarray(per_example, dtype=np.float64)
    N = g.shape[0]
    B = _check_batch(batch_size, N)
    n_draws = int(n_draws)
    if n_draws < 1:
        raise ValueError(f"n_draws must be >= 1, got {n_draws}")
    if n_draws * max(B if replace else N, 1) > MAX_WORK_NUMBERS:
        raise ValueError(f"{n_draws} draws of {B} out of {N} exceed the work limit of {MAX_WORK_NUMBERS:.0e} numbers")
    if replace:
        idx = rng.integers(0, N, size=(n_draws, B))
    elif B == N:
        idx = np.argsort(rng.random((n_draws, N)), axis=1)
    else:
        idx = np.argpartition(rng.random((n_draws, N)), B - 1, axis=1)[:, :B]
    return g[idx].mean(axis=1)


def minibatch_variance_theory(sigma2: float, n_samples: int, batch_size: np.ndarray | int, *,
                              replace: bool = False) -> np.ndarray:
    r"""Variance of a minibatch mean of :math:`B` out of :math:`N` values with variance :math:`\sigma^2`.

    .. math:: \operatorname{Var}\hat g = \frac{\sigma^2}{B} \quad\text{(with replacement)}, \qquad
              \frac{\sigma^2}{B}\,\frac{N-B}{N-1} \quad\text{(without)}

    with :math:`\sigma^2 = \frac1N\sum_i \|g_i - \bar g\|^2` (Cochran 1977, Thm. 2.2). For vector
    gradients, :math:`\sigma^2` and the result are traces of covariance matrices.
    """
    B = np.asarray(batch_size, dtype=np.float64)
    v = sigma2 / B
    if not replace:
        v = v * (n_samples - B) / (n_samples - 1)
    return v


@dataclass(frozen=True, eq=False)
class GradientNoise:
    """Minibatch gradients at one point, and their measured vs predicted total variance.

    ``full_grad`` is :math:`\\bar g`; ``sigma2`` the per-example variance (trace);
    ``batch_sizes``/``variance``/``theory`` the measured :math:`E\\|\\hat g - \\bar g\\|^2` and its
    formula; ``cloud`` maps a few batch sizes to ``(n_cloud, p)`` sampled minibatch gradients.
    """

    theta: np.ndarray
    full_grad: np.ndarray
    sigma2: float
    n_samples: int
    replace: bool
    batch_sizes: np.ndarray
    variance: np.ndarray
    theory: np.ndarray
    cloud_batch_sizes: tuple[int, ...]
    cloud: tuple[np.ndarray, ...]


def measure_gradient_noise(
    per_example: np.ndarray,
    *,
    batch_sizes: np.ndarray | None = None,
    cloud_batch_sizes: tuple[int, ...] = (),
    n_draws: int = 1000,
    n_cloud: int = 300,
    replace: bool = False,
    theta: np.ndarray | None = None,
    rng: np.random.Generator,
) -> GradientNoise:
    r"""Measure :math:`E\|\hat g_B - \bar g\|^2` for several :math:`B` and sample gradient clouds.

    The per-example gradients are computed once by the caller. All batch sizes are measured from
    the same ``n_draws`` random orderings of the data (without replacement: a random permutation;
    with: i.i.d. uniform picks): the minibatch of size :math:`B` is the first :math:`B` entries, so
    one cumulative sum gives every minibatch mean at once. Each :math:`B`'s draws are exactly
    distributed as a minibatch (a uniformly random subset, or :math:`B` i.i.d. picks); only the
    estimates for different :math:`B` are correlated. ``batch_sizes`` (integers in [1, N]) defaults to
    about 20 log-spaced sizes from 1 to N. The clouds are independent draws
    (:func:`sample_minibatch_gradients`).
    """
    g = np.asarray(per_example, dtype=np.float64)
    if g.ndim == 1:
        g = g[:, None]
    N, p = g.shape
    mean = g.mean(axis=0)
    sigma2 = float(np.mean(np.sum((g - mean) ** 2, axis=1)))
    if batch_sizes is None:
        batch_sizes = np.unique(np.rint(np.geomspace(1, N, 20)).astype(np.int64))
    sizes = np.unique(np.asarray([_check_batch(b, N) for b in np.atleast_1d(batch_sizes)], dtype=np.int64))
    for b in cloud_batch_sizes:
        _check_batch(b, N)
    n_draws = int(n_draws)
    b_max = int(sizes.max())
    if n_draws < 2:
        raise ValueError(f"n_draws must be >= 2, got {n_draws}")
    if n_draws * b_max * p > MAX_WORK_NUMBERS:
        raise ValueError(f"{n_draws} draws x {b_max} x {p} exceed the work limit of {MAX_WORK_NUMBERS:.0e} numbers")
    main, *cloud_rngs = rng.spawn(1 + len(cloud_batch_sizes))
    if replace:
        idx = main.integers(0, N, size=(n_draws, b_max))
    else:
        idx = main.permuted(np.broadcast_to(np.arange(N), (n_draws, N)), axis=1)[:, :b_max]
    prefix = np.cumsum(g[idx], axis=1)                          # (draws, b_max, p)
    means = prefix[:, sizes - 1, :] / sizes[None, :, None]     # (draws, n_sizes, p)
    var = np.mean(np.sum((means - mean) ** 2, axis=2), axis=0)
    # B = N without replacement is measured like every other size: each draw is the whole data set in a
    # random order, so the variance is zero by arithmetic and what is measured is summation-order round-off
    # (~1e-32 relative to σ²; the tests show it is below 1e-25 σ²)
    clouds = tuple(
        sample_minibatch_gradients(g, batch_size=int(B), n_draws=n_cloud, replace=replace, rng=r)
        for B, r in zip(cloud_batch_sizes, cloud_rngs)
    )
    return GradientNoise(
        theta=np.zeros(0) if theta is None else np.asarray(theta), full_grad=mean, sigma2=sigma2,
        n_samples=N, replace=bool(replace), batch_sizes=sizes, variance=var,
        theory=minibatch_variance_theory(sigma2, N, sizes, replace=replace),
        cloud_batch_sizes=tuple(int(b) for b in cloud_batch_sizes), cloud=clouds,
    )
