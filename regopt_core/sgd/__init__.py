r"""Minibatch stochastic gradient descent, gradient noise and the batch size.

Gradient descent on a finite sum :math:`L(\theta) = \frac1N \sum_{i=1}^N L_i(\theta)` needs all
:math:`N` per-example gradients for every step. SGD replaces the full mean by the mean over a
random minibatch :math:`\mathcal B_t` of :math:`B` examples,

.. math:: \theta_{t+1} = \theta_t - \eta\, \hat g_t, \qquad
          \hat g_t = \frac1B \sum_{i \in \mathcal B_t} \nabla L_i(\theta_t),

an unbiased estimate of :math:`\nabla L(\theta_t)` whose covariance shrinks like :math:`1/B`.

The objectives, exactly as computed (:mod:`.objectives`):

* digits classifier: :math:`L(W, b) = \frac1N\sum_i \big(\log\sum_k e^{s_{ik}} - s_{iy_i}\big)
  + \frac\lambda2\|W\|_F^2`, :math:`s_i = W^\top x_i + b`, λ = 10⁻³, bias not penalized
  (**mean loss + λ/2 ‖W‖²**);
* two-weight regression: :math:`L(\theta) = \frac1{2N}\|X\theta - y\|^2` (no penalty).

Modules: :mod:`.objectives` (the two objectives) · :mod:`.loop` (the one SGD loop, its trace and the
batch-size comparison) · :mod:`.noise` (minibatch gradient noise vs Cochran's formula) ·
:mod:`.floor` (the stationary noise floor) · :mod:`.critical` (critical batch size) · :mod:`.page`
(the page's config ``SGDConfig``, its caps in ``clamped()``, and the recipes) · :mod:`.claims` (the
page's sentences, worded from the numbers). Every name is re-exported here: ``sgd.minibatch_sgd``.

References
----------
* Robbins, H., Monro, S. (1951). A stochastic approximation method. Ann. Math. Statist. 22(3).
* Bottou, L., Curtis, F. E., Nocedal, J. (2018). Optimization methods for large-scale machine
  learning. SIAM Review 60(2), 223-311. Sec. 4 (SGD analysis, noise floor proportional to the
  step size), Sec. 5.2 (minibatches).
* Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., Thm. 2.2 (variance of a sample mean
  drawn without replacement: finite-population correction :math:`(N-B)/(N-1)`).
* Mandt, S., Hoffman, M. D., Blei, D. M. (2017). Stochastic gradient descent as approximate
  Bayesian inference. JMLR 18, Sec. 3 (stationary distribution of SGD on a quadratic).
* Goyal, P. et al. (2017). Accurate, large minibatch SGD: training ImageNet in 1 hour.
  arXiv:1706.02677 (linear scaling rule).
* McCandlish, S., Kaplan, J., Amodei, D., OpenAI Dota Team (2018). An empirical model of
  large-batch training. arXiv:1812.06162, Sec. 2.2 (critical batch size, eq. 2.6-2.8).
"""

from __future__ import annotations

from regopt_core.datasets import ClassificationSplit
from regopt_core.datasets import load_digits_split as _load_digits_split
from regopt_core.datasets import load_diabetes_pair as _load_diabetes_pair
from regopt_core.sgd import claims
from regopt_core.sgd.critical import CriticalBatch, critical_batch
from regopt_core.sgd.floor import (NoiseFloor, measure_noise_floor, noisy_quadratic_sgd, stationary_excess_loss,
                                   stationary_variance)
from regopt_core.sgd.loop import (CRITERION, PLATEAU_TOL, BatchComparison, SGDTrace, compare_batch_sizes,
                                  loss_plateau, minibatch_sgd, record_schedule, scaled_lr)
from regopt_core.sgd.noise import (GradientNoise, measure_gradient_noise, minibatch_variance_theory,
                                   sample_minibatch_gradients)
from regopt_core.sgd.objectives import LeastSquares, SoftmaxRegression, accuracy, least_squares, softmax_regression
from regopt_core.sgd.page import (BATCH_OPTIONS, DEFAULT, DEFAULT_BATCH_SIZES, DEFAULT_EPOCHS, DEFAULT_EQUAL_STEPS,
                                  DEFAULT_LR, EQUAL_STEPS_GRID, FULL_BATCH, LAM, LR_RANGE, MAX_BATCH_SIZES,
                                  MAX_EPOCHS, MAX_EQUAL_STEPS, MAX_STEPS, NOISE_FLOOR_BATCHES, NOISE_FLOOR_LRS,
                                  TRAJECTORY_START, CriticalConfig, DigitsConfig, DigitsFamily, FloorConfig,
                                  NoiseConfig, NoiseResult, PathsConfig, PathsFamily, SGDConfig, UpdatesView,
                                  critical, digits_family, digits_problem, digits_run, digits_run_configs, digits_runs,
                                  DigitsRunConfig, lecture_states, warm_pairs, gradient_noise, noise_floor,
                                  regression_paths, regression_problem, resolve_batches)


def digits_split() -> ClassificationSplit:
    """The digits training/held-out split of the page (:func:`regopt_core.datasets.load_digits_split`)."""
    return _load_digits_split()


def diabetes_pair():
    """``(X, y, feature names)`` of the two-weight regression (:func:`regopt_core.datasets.load_diabetes_pair`)."""
    d = _load_diabetes_pair()
    return d.X, d.y, (d.feature_names[0], d.feature_names[1])


__all__ = [
    "claims",
    "LeastSquares", "SoftmaxRegression", "least_squares", "softmax_regression", "accuracy",
    "ClassificationSplit", "digits_split", "diabetes_pair",
    "SGDTrace", "minibatch_sgd", "record_schedule", "scaled_lr", "loss_plateau", "CRITERION", "PLATEAU_TOL",
    "BatchComparison", "compare_batch_sizes",
    "sample_minibatch_gradients", "minibatch_variance_theory", "GradientNoise", "measure_gradient_noise",
    "stationary_variance", "noisy_quadratic_sgd", "stationary_excess_loss", "NoiseFloor", "measure_noise_floor",
    "CriticalBatch", "critical_batch",
    "SGDConfig", "DEFAULT", "DigitsConfig", "PathsConfig", "NoiseConfig", "FloorConfig", "CriticalConfig",
    "DigitsFamily", "UpdatesView", "PathsFamily", "NoiseResult", "digits_problem", "regression_problem",
    "resolve_batches", "DigitsRunConfig", "digits_run_configs", "digits_run", "digits_family", "regression_paths", "gradient_noise", "noise_floor", "critical",
    "digits_runs", "lecture_states", "warm_pairs",
    "FULL_BATCH", "BATCH_OPTIONS", "DEFAULT_BATCH_SIZES", "DEFAULT_EPOCHS", "DEFAULT_LR", "DEFAULT_EQUAL_STEPS",
    "MAX_EPOCHS", "MAX_STEPS", "MAX_EQUAL_STEPS", "EQUAL_STEPS_GRID", "MAX_BATCH_SIZES", "LR_RANGE", "LAM",
    "TRAJECTORY_START", "NOISE_FLOOR_LRS", "NOISE_FLOOR_BATCHES",
]
