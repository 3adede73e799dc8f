r"""How optimistic is each way of measuring a model's error? Experiments where the truth is known.

The page ``splits`` asks one question of every evaluation protocol: *the error it reports, minus
the error the chosen model really makes on new data*. The package follows the page's seams:

* :mod:`~regopt_core.splits.best_of_k` — best of ``K`` equally good models on one test set, against
  the normal approximation :math:`p + s\,\mathbb E[\max_K Z]` and the exact binomial answer.
* :mod:`~regopt_core.splits.kernel_ridge` — the model family: kernel ridge regression for every
  :math:`\lambda` at once (objective :math:`\|y-K\alpha\|^2+\lambda\alpha^\top K\alpha`), leave-one-out by
  the linear-smoother shortcut, ``k``-fold CV.
* :mod:`~regopt_core.splits.protocols` — the three approaches, CV and nested CV over many random
  studies, one study's error curves, and the model-selection rules (:func:`picks`).
* :mod:`~regopt_core.splits.early_stopping` — GD on least squares (one divergence rule, a
  convergence report) next to ridge with :math:`\lambda = 1/(\eta t)`.
* :mod:`~regopt_core.splits.leakage` — selection before CV (ESL §7.10.2), preprocessing before the
  split, several samples per patient.
* :mod:`~regopt_core.splits.configs` — the page's frozen configs (``DEFAULT``, ``clamped()``: the only
  place its caps and work budgets live) and the recipes ``fn(config) -> result`` it caches.
* :mod:`~regopt_core.splits.claims` — every sentence the page states about a result, worded from
  the numbers by their sign and size.

References: Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 2nd ed. (ESL),
§7.10; Cawley & Talbot (2010), JMLR 11; Varma & Simon (2006), BMC Bioinformatics 7:91; Vandewiele
et al. (2021), Artif. Intell. Med. 111; Yao, Rosasco & Caponnetto (2007), Constr. Approx. 26;
Harter (1961), Biometrika 48.

``from regopt_core import splits; splits.<name>`` keeps working for every name below.
"""

from regopt_core.splits.best_of_k import BestOfK, expected_best_binomial, expected_max_normal, simulate_best_of_k
from regopt_core.splits.early_stopping import (
    GD_TOL,
    EarlyStopping,
    GDPath,
    early_stopping,
    gd_closed_form,
    gd_least_squares,
    gd_step_size,
    ridge_path,
)
from regopt_core.splits.kernel_ridge import (
    KernelRidgeFit,
    complement,
    cv_errors,
    fold_slices,
    kernel_matrix,
    kernel_ridge_path,
    lambda_grid,
    loo_residuals,
    one_blas_thread,
    point_loss,
    standardizer,
)
from regopt_core.splits.leakage import (
    LeakResult,
    knn_predict,
    make_patients,
    patient_leak,
    preprocessing_leak,
    selection_leak,
)
from regopt_core.splits.protocols import (
    APPROACHES,
    CANCER_LENGTH_SCALE,
    N_QUADRATURE,
    NESTED_OUTER_FOLDS,
    PROBLEMS,
    SHORT_NAMES,
    SINE_LENGTH_SCALE,
    SINE_SIGMA,
    ApproachComparison,
    ErrorCurves,
    Studies,
    approach_cost,
    compare_approaches,
    error_curves,
    make_cancer_studies,
    make_sine_studies,
    make_studies,
    pick_min,
    pick_training,
    picks,
    sine_truth,
    split_sizes,
    true_error,
)

__all__ = [name for name in dir() if not name.startswith("_")]
