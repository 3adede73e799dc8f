r"""Best of :math:`K` equally good models: the optimism of picking the best on one test set.

Reported best accuracy against :math:`p + s\,\mathbb E[\max_K Z]` (:func:`expected_max_normal`, a
*normal approximation* of the binomial counts) and the exact binomial answer (:func:`expected_best_binomial`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import integrate, special, stats

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@lru_cache(maxsize=256)
def expected_max_normal(n_models: int) -> float:
    r"""Expected maximum of ``n_models`` independent standard normal variables.

    .. math:: \mathbb E\big[\max_{k\le K} Z_k\big]
              = \int_{-\infty}^{\infty} z\,K\,\varphi(z)\,\Phi(z)^{K-1}\,dz

    computed by adaptive quadrature (``scipy.integrate.quad``), not read from a table. Known values:
    :math:`K=2`: :math:`1/\sqrt\pi`; :math:`K=3`: :math:`3/(2\sqrt\pi)`; :math:`K=100`: 2.5076
    (Harter 1961, "Expected values of normal order statistics", Biometrika 48).
    """
    k = int(n_models)
    if k < 1:
        raise ValueError("n_models must be at least 1")
    if k == 1:
        return 0.0

    log_k = math.log(k)

    def density(z: float) -> float:
        # z K phi(z) Phi(z)^(K-1), in logs so that K = 1000 does not underflow; log phi written out and
        # log Phi = scipy.special.log_ndtr (the same values as scipy.stats.norm.logpdf/logcdf, ~100x cheaper per
        # call: quad evaluates this a few hundred times per K, and the page's figure asks for 23 values of K)
        return z * math.exp(log_k - 0.5 * z * z - _LOG_SQRT_2PI + (k - 1) * float(special.log_ndtr(z)))

    # the integrand lives within a few units of sqrt(2 log K); split at 0 for the sign change
    hi = np.sqrt(2.0 * np.log(k)) + 8.0
    left, _ = integrate.quad(density, -12.0, 0.0, limit=200)
    right, _ = integrate.quad(density, 0.0, hi, points=[np.sqrt(2.0 * np.log(k))], limit=200)
    return float(left + right)


def expected_best_binomial(n_test: int, accuracy: float, n_models: int) -> float:
    r"""Exact expected best test accuracy of ``n_models`` independent, equally good classifiers.

    Each classifier gets :math:`X_k \sim \mathrm{Binomial}(n, p)` of ``n_test`` points right, and

    .. math:: \mathbb E\big[\max_k X_k\big] = \sum_{j=0}^{n-1} \big(1 - F(j)^K\big),

    with :math:`F` the binomial CDF (a sum of tail probabilities). Divided by ``n_test``.
    """
    n, p, k = int(n_test), float(accuracy), int(n_models)
    if n < 1 or k < 1 or not 0.0 <= p <= 1.0:
        raise ValueError(f"need n_test >= 1, n_models >= 1 and 0 <= accuracy <= 1, got {n_test}, {n_models}, {accuracy}")
    j = np.arange(n)
    cdf = stats.binom.cdf(j, n, p)
    return float(np.sum(-np.expm1(k * np.log(np.maximum(cdf, 1e-300)))) / n)


@dataclass(frozen=True)
class BestOfK:
    """Result of :func:`simulate_best_of_k`; arrays have one entry per repetition."""

    best: np.ndarray  # best test accuracy among the K models (what approach 2 reports)
    fresh: np.ndarray  # the chosen model's accuracy on a fresh test set
    optimism: np.ndarray  # best - true accuracy
    accuracy: float  # every model's true accuracy p
    n_test: int
    n_models: int
    se: float  # standard error of one model's test accuracy, sqrt(p(1-p)/n)
    normal_approximation: float  # p + se * E[max of K standard normals], unclipped (may exceed 1)
    expected_best_exact: float  # exact binomial expectation

    @property
    def expected_best_normal(self) -> float:
        """The normal approximation clipped to the possible range [0, 1] (see :attr:`normal_exceeds_one`)."""
        return float(min(self.normal_approximation, 1.0))

    @property
    def normal_exceeds_one(self) -> bool:
        """True when p + s·E[max] is above 1: an accuracy cannot be, so the approximation has broken down
        (small n, p near 1, large K — the binomial is far from normal there)."""
        return bool(self.normal_approximation > 1.0)

    @property
    def normal_error(self) -> float:
        """Normal approximation (clipped) minus the exact expectation."""
        return self.expected_best_normal - self.expected_best_exact

    @property
    def mc_error(self) -> float:
        """Monte-Carlo standard error of ``best.mean()``."""
        return float(self.best.std(ddof=1) / np.sqrt(self.best.size)) if self.best.size > 1 else float("nan")


def simulate_best_of_k(
    n_test: int = 1000,
    accuracy: float = 0.80,
    n_models: int = 100,
    *,
    n_repeats: int = 2000,
    n_fresh: int | None = None,
    rng: np.random.Generator,
) -> BestOfK:
    r"""Pick the best of ``K`` equally good classifiers on one test set, many times over.

    Every model has true accuracy :math:`p`; on a test set of :math:`n` points its measured accuracy
    is :math:`X_k/n`, :math:`X_k\sim\mathrm{Binomial}(n,p)`, independently across models (the
    idealisation of the theory). Approach 2 reports :math:`\max_k X_k/n`; the chosen model is no
    better than the others, so a fresh test set gives :math:`p` back. The **normal approximation**
    (large :math:`n`, :math:`p` away from 0 and 1)

    .. math:: \mathbb E\Big[\max_k \tfrac{X_k}{n}\Big] \approx p + s\,\mathbb E[\max_K Z],\qquad
              s = \sqrt{p(1-p)/n}

    can exceed 1 for small :math:`n`; the result keeps it unclipped (``normal_approximation``) next to
    the exact binomial value, and flags it (``normal_exceeds_one``).

    Parameters
    ----------
    n_test, accuracy, n_models :
        Test-set size :math:`n \ge 1`, true accuracy :math:`0 \le p \le 1`, number of configurations
        :math:`K \ge 1`. Invalid values raise ``ValueError`` (the page's caps live in
        :meth:`~regopt_core.splits.configs.BestOfKConfig.clamped`).
    n_repeats :
        Repetitions (at least 2); each is one array row, no Python loop.
    n_fresh :
        Size of the fresh test set (default ``n_test``).
    rng :
        Random generator.
    """
    n_test, n_models, n_repeats = int(n_test), int(n_models), int(n_repeats)
    p = float(accuracy)
    n_fresh = n_test if n_fresh is None else int(n_fresh)
    if n_test < 1 or n_models < 1 or n_repeats < 2 or n_fresh < 1 or not 0.0 <= p <= 1.0:
        raise ValueError(f"need n_test, n_models, n_fresh >= 1, n_repeats >= 2 and 0 <= accuracy <= 1; got "
                         f"n_test={n_test}, n_models={n_models}, n_repeats={n_repeats}, n_fresh={n_fresh}, accuracy={p}")
    counts = rng.binomial(n_test, p, size=(n_repeats, n_models))
    best = counts.max(axis=1) / n_test
    fresh = rng.binomial(n_fresh, p, size=n_repeats) / n_fresh
    se = float(np.sqrt(p * (1.0 - p) / n_test))
    return BestOfK(
        best=best,
        fresh=fresh,
        optimism=best - p,
        accuracy=p,
        n_test=n_test,
        n_models=n_models,
        se=se,
        normal_approximation=p + se * expected_max_normal(n_models),
        expected_best_exact=expected_best_binomial(n_test, p, n_models),
    )
