r"""Bias, variance and noise of radial-basis-function (RBF) ridge regression, exactly and by simulation.

The experiment behind the lecture's RBF pictures: a true curve :math:`f`, a *fixed* design
:math:`x_1, \dots, x_n`, and many training sets :math:`y^{(k)} = f(x) + \sigma\varepsilon^{(k)}` that
differ only in their noise. Each training set is fitted with Gaussian bumps plus an intercept,

.. math::

    \hat y(x) = b + \sum_{j=1}^{p} w_j\, \varphi_j(x), \qquad
    \varphi_j(x) = 2^{-\left((x - c_j)/s\right)^2}, \qquad
    (b, w) = \arg\min_{b, w}\ \|y - b\mathbf 1 - \Phi w\|_2^2 + \lambda \|w\|_2^2 ,

where the *spread* :math:`s` is the distance at which a bump has fallen to half its height (the
convention of MATLAB's ``newrb``/``newrbe``, which drew the lecture's figures). For every
:math:`\lambda \ge 0` the fitted values are linear in the data, :math:`\hat y(x) = S(x)\, y`, with a
*smoother* row :math:`S(x) \in \mathbb R^{n}` that does not depend on the noise. Hence, at every
:math:`x`,

.. math::

    \operatorname{bias}(x) = S(x) f(x_{1:n}) - f(x), \qquad
    \operatorname{Var}(x) = \sigma^2 \|S(x)\|_2^2, \qquad
    \mathbb E\,(\hat y(x) - y_{\text{new}})^2 = \operatorname{bias}(x)^2 + \operatorname{Var}(x) + \sigma^2 .

**λ convention.** λ multiplies :math:`\|w\|_2^2` next to a *sum* of squared errors (as scikit-learn's
``Ridge(alpha=λ)``), not a mean: the losses page's :math:`\frac1N\sum_i L_i + \lambda R(W)` with the
same numerical λ is n times stronger.

Everything on the page (the decomposition, the U-curves over spread and :math:`\lambda`, the
effective degrees of freedom :math:`\mathrm{df} = \operatorname{tr} S_{\text{train}}` and the
optimism :math:`2\sigma^2\mathrm{df}/n`) comes from one thin SVD of the centred feature matrix, with
no refitting; the Monte-Carlo estimate applies :math:`S` to a whole matrix of noise draws at once.

References
----------
Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 2nd ed. (2009), §5.4.1
(smoother matrices, df = tr S), §7.3 (bias–variance decomposition), §7.4 (optimism 2σ²df/n).
Bishop, *Pattern Recognition and Machine Learning* (2006), §3.2 (the bias–variance decomposition
with 24 Gaussian basis functions on :math:`\sin 2\pi x`).
Belkin, Hsu, Ma & Mandal, "Reconciling modern machine-learning practice and the classical
bias–variance trade-off", PNAS 116(32), 2019 (double descent of minimum-norm fits).

Modules: :mod:`.smoother` (features, smoother, exact decomposition, Monte Carlo), :mod:`.sweeps`
(U-curves and the family of fits over spread), :mod:`.double_descent`, :mod:`.experiment` (the page's
configs and cached functions), :mod:`.own_data` (a student's own points: fits, bootstrap variance and K-fold CV,
where no truth is known).
"""

from __future__ import annotations

from regopt_core.bias_variance.double_descent import (
    LAM_SCAN,
    PEAK_TOL,
    DoubleDescent,
    DoubleDescentCore,
    bump_ratio,
    describe,
    double_descent,
    double_descent_at,
    double_descent_core,
    random_cosine_features,
)
from regopt_core.bias_variance.experiment import (
    CAPS,
    DD_DEFAULT,
    DEFAULT,
    LAM_GRID,
    LECTURE,
    N_SHOWN,
    SPREADS,
    U_LAM,
    U_SPREAD,
    DD_CAPS,
    DD_LIGHT_N,
    DoubleDescentConfig,
    Experiment,
    ExperimentResult,
    LIGHT_DRAWS,
    LIGHT_SIZE,
    dd_core,
    dd_features,
    double_descent_experiment,
    experiment,
    fits_family,
    inputs,
    is_u_shaped,
    lam_sweep,
    shown_training_sets,
    agreement,
    describe_sweep,
    verdict,
)
from regopt_core.bias_variance.smoother import (
    ILL_CONDITIONED,
    MAX_BASIS,
    MAX_DRAWS,
    MAX_GRID,
    MAX_SAMPLES,
    MAX_SWEEP,
    TRUE_FUNCTIONS,
    Decomposition,
    MonteCarlo,
    Smoother,
    decompose,
    rbf_features,
    rbf_smoother,
    sample_design,
    simulate_bias_variance,
    true_function,
)
from regopt_core.bias_variance.own_data import (
    OWN_LAMS,
    CVSurface,
    OwnData,
    OwnFit,
    Points,
    PointsError,
    own_cv,
    own_fit,
    parse_points,
    points_ref,
)
from regopt_core.bias_variance.sweeps import SpreadFamily, Sweep, spread_family, sweep_lam, sweep_spread

__all__ = [
    "CAPS", "DD_DEFAULT", "DEFAULT", "ILL_CONDITIONED", "LAM_GRID", "LAM_SCAN", "LECTURE", "PEAK_TOL", "MAX_BASIS", "MAX_DRAWS",
    "MAX_GRID", "MAX_SAMPLES", "MAX_SWEEP", "N_SHOWN", "SPREADS", "TRUE_FUNCTIONS", "U_LAM", "U_SPREAD", "DD_CAPS", "DD_LIGHT_N",
    "Decomposition", "DoubleDescent", "DoubleDescentConfig", "DoubleDescentCore", "LIGHT_DRAWS", "LIGHT_SIZE", "Experiment", "ExperimentResult", "MonteCarlo",
    "Smoother", "SpreadFamily", "Sweep", "OWN_LAMS", "CVSurface", "OwnData", "OwnFit", "Points", "PointsError",
    "own_cv", "own_fit", "parse_points", "points_ref",
    "bump_ratio", "dd_core", "dd_features", "describe", "decompose", "double_descent", "double_descent_at",
    "double_descent_core", "double_descent_experiment", "experiment",
    "fits_family", "inputs", "is_u_shaped", "lam_sweep", "random_cosine_features", "rbf_features",
    "rbf_smoother", "sample_design", "shown_training_sets", "simulate_bias_variance", "spread_family",
    "sweep_lam", "sweep_spread", "true_function", "agreement", "describe_sweep", "verdict",
]
