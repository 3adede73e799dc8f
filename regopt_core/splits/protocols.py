r"""The three approaches of the lecture, CV and nested CV, on problems whose true error is known.

On a synthetic problem the true error is exact (a fine quadrature of the generator, equivalent to an
infinitely large fresh sample); on the bundled breast-cancer data each simulated study draws ``n``
patients and the remaining patients play "everybody else" (a large fresh sample).

* :func:`compare_approaches`: every protocol on the same random studies, reported vs true error.
* :func:`error_curves`: one study's error curves against :math:`\lambda`; :func:`picks`: the
  :math:`\lambda` each protocol chooses in it (the model-selection rules, in one place).
* :func:`approach_cost`: seconds per repetition of :func:`compare_approaches` (the page's work budget
  in :class:`~regopt_core.splits.configs.ApproachesConfig` uses it).

References: ESL §7.10 (cross-validation), Eq. (7.52) (leave-one-out for linear smoothers); Varma &
Simon (2006), BMC Bioinformatics 7:91 and Cawley & Talbot (2010), JMLR 11 (nested CV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core.splits.best_of_k import expected_max_normal
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
)

SINE_SIGMA = 0.5
SINE_LENGTH_SCALE = 0.5
CANCER_LENGTH_SCALE = 6.0  # standardized units; 30 features put typical distances near 7
N_QUADRATURE = 400
NESTED_OUTER_FOLDS = 10  # nested CV uses min(n_folds, 10) outer folds (the inner loop may be leave-one-out)
CANCER_POPULATION_MIN = 50  # a cancer study leaves at least this many patients to judge it by
PROBLEMS = ("sine", "cancer")


def sine_truth(x: np.ndarray) -> np.ndarray:
    r"""The synthetic problem's regression function :math:`f(x)=\sin(2\pi x)` on :math:`[-1, 1]`."""
    return np.sin(2.0 * np.pi * x)


@dataclass(frozen=True)
class Studies:
    """A batch of simulated studies and the population each is judged against.

    ``X`` (R, n, d), ``y`` (R, n): the data each study has. ``X_pop`` (R or 1, m, d), ``y_pop``:
    the population (a fine quadrature grid of the noiseless truth for the synthetic problem, every
    other patient for the real data). True error = mean loss on the population + ``noise_var``.
    """

    X: np.ndarray
    y: np.ndarray
    X_pop: np.ndarray
    y_pop: np.ndarray
    noise_var: float
    kind: str  # "regression" or "classification"
    length_scale: float
    scale: bool
    name: str


def make_sine_studies(n_samples: int, *, n_repeats: int, sigma: float = SINE_SIGMA, rng: np.random.Generator) -> Studies:
    r"""``n_repeats`` independent studies of :math:`n` points :math:`x\sim U[-1,1]`,
    :math:`y = \sin(2\pi x) + \sigma\varepsilon`.

    The true squared error of a fit :math:`\hat f` is :math:`\sigma^2 + \tfrac12\int_{-1}^1 (\hat f - f)^2\,dx`,
    evaluated with a midpoint rule on ``N_QUADRATURE`` cells: what an infinitely large fresh test set
    would give.
    """
    if int(n_samples) < 2 or int(n_repeats) < 1:
        raise ValueError(f"need n_samples >= 2 and n_repeats >= 1, got {n_samples}, {n_repeats}")
    X = rng.uniform(-1.0, 1.0, size=(n_repeats, n_samples, 1))
    y = sine_truth(X[..., 0]) + sigma * rng.standard_normal((n_repeats, n_samples))
    xq = (np.arange(N_QUADRATURE) + 0.5) / N_QUADRATURE * 2.0 - 1.0
    return Studies(
        X=X, y=y, X_pop=xq[None, :, None], y_pop=sine_truth(xq)[None, :], noise_var=sigma**2,
        kind="regression", length_scale=SINE_LENGTH_SCALE, scale=False, name="sine",
    )


def make_cancer_studies(n_samples: int, *, n_repeats: int, rng: np.random.Generator) -> Studies:
    """``n_repeats`` studies of ``n`` patients drawn without replacement from the 569 breast-cancer
    records (raw features; every fit standardizes on its own training rows). The remaining
    ``569 - n`` patients of each study are its population: their error stands in for the true error.
    """
    from regopt_core.datasets import load_breast_cancer_pm1

    d = load_breast_cancer_pm1()
    X_all, y_all = d.X, d.y
    n_all = X_all.shape[0]
    if not 2 <= int(n_samples) <= n_all - CANCER_POPULATION_MIN or int(n_repeats) < 1:
        raise ValueError(f"a cancer study enrols 2 to {n_all - CANCER_POPULATION_MIN} patients, got {n_samples}")
    perm = rng.permuted(np.tile(np.arange(n_all), (n_repeats, 1)), axis=1)
    study, pop = perm[:, :n_samples], perm[:, n_samples:]
    return Studies(
        X=X_all[study], y=y_all[study], X_pop=X_all[pop], y_pop=y_all[pop], noise_var=0.0,
        kind="classification", length_scale=CANCER_LENGTH_SCALE, scale=True, name="cancer",
    )


def make_studies(problem: str, n_samples: int, *, n_repeats: int, rng: np.random.Generator) -> Studies:
    """``problem`` is ``"sine"`` (synthetic regression) or ``"cancer"`` (bundled breast-cancer data)."""
    if problem == "sine":
        return make_sine_studies(n_samples, n_repeats=n_repeats, rng=rng)
    if problem == "cancer":
        return make_cancer_studies(n_samples, n_repeats=n_repeats, rng=rng)
    raise ValueError(f"unknown problem {problem!r} (one of {PROBLEMS})")


def true_error(studies: Studies, fit: KernelRidgeFit, lam: np.ndarray) -> np.ndarray:
    """True error of each study's fit at its own ``lam`` (one value per study): shape (R,)."""
    lam = np.asarray(lam, dtype=float)
    coef = fit.Q @ (fit.Qty / (fit.evals + lam[:, None]))[..., None]  # (R, n, 1)
    Kx = kernel_matrix((studies.X_pop - fit.mu) / fit.sd, fit.X, length_scale=fit.length_scale)
    pred = (Kx @ coef)[..., 0]
    return point_loss(studies.y_pop, pred, studies.kind).mean(axis=-1) + studies.noise_var


def _take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Row ``r`` of ``a`` (R, L) at column ``idx[r]``."""
    return np.take_along_axis(a, idx[:, None], axis=-1)[:, 0]


# --------------------------------------------------------------------------- the model-selection rules
def pick_training(train_err: np.ndarray) -> np.ndarray:
    """Approach 1: the smallest training error; ties go to the smallest λ (index along the last axis)."""
    return np.argmin(train_err + 1e-12 * np.arange(train_err.shape[-1]), axis=-1)


def pick_min(err: np.ndarray) -> np.ndarray:
    """Approaches 2, 3 and CV: the λ with the smallest error on the held-out data (first one on a tie)."""
    return np.argmin(err, axis=-1)


APPROACHES = (
    "1 · training error",
    "2 · best on the test set",
    "3 · train / validation / test",
    "CV minimum (k-fold)",
    "nested CV",
)
SHORT_NAMES = ("1 · training", "2 · test-tuned", "3 · train/val/test", "CV minimum", "nested CV")


@dataclass(frozen=True)
class ApproachComparison:
    """Result of :func:`compare_approaches`.

    ``reported[a, r]`` is what approach ``a`` reports in study ``r``; ``true[a, r]`` is the true
    error of the model that approach hands over. ``optimism = true - reported`` (positive: the
    approach promises less error than you will get).
    """

    names: tuple[str, ...]
    reported: np.ndarray  # (A, R)
    true: np.ndarray  # (A, R)
    lams: np.ndarray  # (K,)
    chosen: np.ndarray  # (A, R) index of the chosen lambda
    problem: str
    kind: str
    n_samples: int
    n_folds: int
    n_repeats: int
    test_fraction: float
    val_fraction: float
    test_se: np.ndarray  # (R,) standard error of the chosen configuration's test error (approach 2)

    @property
    def theory_optimism(self) -> float:
        r"""Optimism of approach 2 if its K configurations were equally good and independent:
        :math:`\bar s\,\mathbb E[\max_K Z]` (an upper reference: a lambda grid is correlated)."""
        return float(np.mean(self.test_se) * expected_max_normal(self.lams.size))

    @property
    def optimism(self) -> np.ndarray:
        return self.true - self.reported

    def summary(self) -> dict[str, np.ndarray]:
        """Mean reported, mean true, mean optimism and its Monte-Carlo standard error, per approach."""
        gap = self.optimism
        r = gap.shape[1]
        return {
            "approach": np.array(self.names),
            "reported": self.reported.mean(axis=1),
            "true": self.true.mean(axis=1),
            "optimism": gap.mean(axis=1),
            "optimism_se": gap.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.full(gap.shape[0], np.nan),
        }


def split_sizes(n: int, test_fraction: float, val_fraction: float) -> tuple[int, int, int]:
    """(train, validation, test) sizes of one study of ``n``: each part has at least one point."""
    if n < 3 or not (0 < test_fraction < 1 and 0 < val_fraction < 1 and test_fraction + val_fraction < 1):
        raise ValueError(f"need n >= 3 and fractions in (0, 1) summing below 1, got {n}, {test_fraction}, {val_fraction}")
    n_test = int(np.clip(round(test_fraction * n), 1, n - 2))
    n_val = int(np.clip(round(val_fraction * n), 1, n - n_test - 1))
    return n - n_test - n_val, n_val, n_test


def approach_cost(n: int, n_folds: int, n_models: int) -> float:
    """Estimated seconds per repetition of :func:`compare_approaches` on the project's 2-core machine:
    every kernel fit of size m costs about 0.07 m^2 microseconds (batched eigendecomposition) times
    (1.9 + 2.4 K/1000) (kernels, predictions at K lambdas), plus 3 ms; fitted to measured runs within a
    factor of two. The page's work budget divides by this."""

    def cv_fits(m: int) -> list[int]:
        k = min(n_folds, m)
        return [m] if k >= m else [m - int(np.ceil(m / k))] * k

    sizes = [n, n, n] + cv_fits(n)
    n_outer = min(n_folds, n, NESTED_OUTER_FOLDS)
    for _ in range(n_outer):
        m = n - int(np.ceil(n / n_outer))
        sizes += cv_fits(m) + ([] if min(n_folds, m) >= m else [m])
    base = 0.07e-6 * float(sum(max(m, 8) ** 2 for m in sizes))
    return base * (1.9 + 2.4 * n_models / 1000.0) + 3.3e-3


@one_blas_thread
def compare_approaches(
    problem: str = "sine",
    *,
    n_samples: int = 40,
    n_models: int = 30,
    n_folds: int = 5,
    n_repeats: int = 100,
    test_fraction: float = 0.25,
    val_fraction: float = 0.25,
    rng: np.random.Generator,
) -> ApproachComparison:
    r"""Run every evaluation protocol on the same ``n_repeats`` random studies and record, for each,
    the error it reports and the true error of the model it hands over.

    The model is kernel ridge regression (:func:`~regopt_core.splits.kernel_ridge.kernel_ridge_path`)
    with :math:`\lambda` on a log grid of ``n_models`` values (the :math:`K` configurations).

    1. *Training error*: fit on all :math:`n`, pick the :math:`\lambda` with the smallest training
       error (the smallest one: the fit interpolates), report that training error.
    2. *Best on the test set*: fit on the training part, report :math:`\min_\lambda` test error.
    3. *Train/validation/test*: pick :math:`\lambda` on validation, refit on train+validation,
       report the untouched test error (unbiased for that model's true error).
    4. *CV minimum*: :math:`\min_\lambda \mathrm{CV}(\lambda)` with ``n_folds`` folds on all
       :math:`n`, refit at that :math:`\lambda` (slightly optimistic: a minimum over noisy curves).
    5. *Nested CV*: the whole procedure 4 repeated inside each of ``min(n_folds, 10)`` outer folds,
       its outer-fold error reported (Varma & Simon 2006; Cawley & Talbot 2010); compared with the
       model of 4.

    ``n_folds >= n`` means leave-one-out (linear-smoother shortcut). Invalid sizes raise ``ValueError``;
    the page's caps and work budget live in ``ApproachesConfig.clamped()``.
    """
    n_samples, n_models, n_folds, n_repeats = int(n_samples), int(n_models), int(n_folds), int(n_repeats)
    if n_samples < 8 or n_models < 1 or n_folds < 2 or n_repeats < 2:
        raise ValueError(f"need n_samples >= 8, n_models >= 1, n_folds >= 2, n_repeats >= 2; got {n_samples}, "
                         f"{n_models}, {n_folds}, {n_repeats}")
    st = make_studies(problem, n_samples, n_repeats=n_repeats, rng=rng)
    lams = lambda_grid(n_models)
    ls, sc, kind = st.length_scale, st.scale, st.kind
    X, y = st.X, st.y
    R = n_repeats
    reported = np.zeros((len(APPROACHES), R))
    true = np.zeros_like(reported)
    chosen = np.zeros((len(APPROACHES), R), dtype=int)

    # 1 - training error on all data
    fit_all = kernel_ridge_path(X, y, length_scale=ls, scale=sc)
    train_err = point_loss(y[..., None], fit_all.fitted(lams), kind).mean(axis=-2)
    k1 = pick_training(train_err)
    reported[0], true[0], chosen[0] = _take(train_err, k1), true_error(st, fit_all, lams[k1]), k1

    # 2 and 3 share the split: train | validation | test (approach 2 trains on train+validation)
    n_tr, n_val, n_te = split_sizes(n_samples, test_fraction, val_fraction)
    dev, te = np.arange(n_tr + n_val), np.arange(n_tr + n_val, n_samples)
    fit_dev = kernel_ridge_path(X[:, dev], y[:, dev], length_scale=ls, scale=sc)
    test_loss = point_loss(y[:, te, None], fit_dev.predict(X[:, te], lams), kind)  # (R, n_te, K)
    test_err = test_loss.mean(axis=-2)
    k2 = pick_min(test_err)
    reported[1], true[1], chosen[1] = _take(test_err, k2), true_error(st, fit_dev, lams[k2]), k2
    # standard error of one configuration's test error: s in the theory s * E[max of K normals]
    chosen_loss = np.take_along_axis(test_loss, k2[:, None, None], axis=-1)[..., 0]
    test_se = chosen_loss.std(axis=-1, ddof=1) / np.sqrt(te.size) if te.size > 1 else np.zeros(R)

    tr, va = np.arange(n_tr), np.arange(n_tr, n_tr + n_val)
    fit_tr = kernel_ridge_path(X[:, tr], y[:, tr], length_scale=ls, scale=sc)
    val_err = point_loss(y[:, va, None], fit_tr.predict(X[:, va], lams), kind).mean(axis=-2)
    k3 = pick_min(val_err)
    reported[2], true[2], chosen[2] = _take(test_err, k3), true_error(st, fit_dev, lams[k3]), k3

    # 4 - k-fold CV on all data, refit at the minimum
    cv = cv_errors(X, y, lams, n_folds=n_folds, length_scale=ls, scale=sc, kind=kind)
    k4 = pick_min(cv)
    reported[3], true[3], chosen[3] = _take(cv, k4), true_error(st, fit_all, lams[k4]), k4

    # 5 - nested CV: procedure 4 inside every outer fold (at most NESTED_OUTER_FOLDS outer folds)
    outer_loss = np.zeros(R)
    n_outer = min(n_folds, NESTED_OUTER_FOLDS)
    for idx in fold_slices(n_samples, n_outer):
        rest = complement(n_samples, idx)
        Xr, yr = X[:, rest], y[:, rest]
        fit_o = kernel_ridge_path(Xr, yr, length_scale=ls, scale=sc)
        if n_folds >= rest.size:  # inner leave-one-out: the shortcut reuses fit_o
            inner_cv = point_loss(yr[..., None], yr[..., None] - loo_residuals(fit_o, yr, lams), kind).mean(axis=-2)
        else:
            inner_cv = cv_errors(Xr, yr, lams, n_folds=n_folds, length_scale=ls, scale=sc, kind=kind)
        k_in = pick_min(inner_cv)
        coef = fit_o.Q @ (fit_o.Qty / (fit_o.evals + lams[k_in][:, None]))[..., None]
        Kx = kernel_matrix((X[:, idx] - fit_o.mu) / fit_o.sd, fit_o.X, length_scale=ls)
        outer_loss += point_loss(y[:, idx], (Kx @ coef)[..., 0], kind).sum(axis=-1)
    reported[4], true[4], chosen[4] = outer_loss / n_samples, true[3], k4

    return ApproachComparison(
        names=APPROACHES, reported=reported, true=true, lams=lams, chosen=chosen, problem=st.name,
        kind=kind, n_samples=n_samples, n_folds=min(n_folds, n_samples), n_repeats=R,
        test_fraction=n_te / n_samples, val_fraction=n_val / n_samples, test_se=test_se,
    )


@dataclass(frozen=True)
class ErrorCurves:
    """One study's error curves against :math:`\\lambda` (what one student would see)."""

    lams: np.ndarray
    train: np.ndarray  # on all n
    validation: np.ndarray  # model fitted on the training part
    test: np.ndarray  # model fitted on train+validation, scored on the test part
    cv: np.ndarray  # k-fold on all n
    true: np.ndarray  # of the model fitted on all n
    true_dev: np.ndarray  # of the model fitted on train+validation
    x_plot: np.ndarray | None  # synthetic problem: a grid to draw fits on
    f_plot: np.ndarray | None
    fits_plot: np.ndarray | None  # (len(x_plot), L) fitted curves (all n)
    X: np.ndarray  # the study's data, for plotting (synthetic) / download
    y: np.ndarray
    kind: str


@one_blas_thread
def error_curves(
    problem: str = "sine",
    *,
    n_samples: int = 40,
    n_models: int = 30,
    n_folds: int = 5,
    test_fraction: float = 0.25,
    val_fraction: float = 0.25,
    rng: np.random.Generator,
) -> ErrorCurves:
    r"""Training, validation, test, cross-validation and true error of kernel ridge against
    :math:`\lambda` for one random study (same splits as :func:`compare_approaches`)."""
    n_samples, n_folds = int(n_samples), int(n_folds)
    if n_samples < 8 or n_folds < 2:
        raise ValueError(f"need n_samples >= 8 and n_folds >= 2, got {n_samples}, {n_folds}")
    st = make_studies(problem, n_samples, n_repeats=1, rng=rng)
    lams = lambda_grid(n_models)
    ls, sc, kind = st.length_scale, st.scale, st.kind
    X, y = st.X, st.y
    fit_all = kernel_ridge_path(X, y, length_scale=ls, scale=sc)
    train = point_loss(y[..., None], fit_all.predict(X, lams), kind).mean(axis=-2)[0]
    n_tr, n_val, _ = split_sizes(n_samples, test_fraction, val_fraction)
    dev, te = np.arange(n_tr + n_val), np.arange(n_tr + n_val, n_samples)
    tr, va = np.arange(n_tr), np.arange(n_tr, n_tr + n_val)
    fit_dev = kernel_ridge_path(X[:, dev], y[:, dev], length_scale=ls, scale=sc)
    fit_tr = kernel_ridge_path(X[:, tr], y[:, tr], length_scale=ls, scale=sc)
    test = point_loss(y[:, te, None], fit_dev.predict(X[:, te], lams), kind).mean(axis=-2)[0]
    val = point_loss(y[:, va, None], fit_tr.predict(X[:, va], lams), kind).mean(axis=-2)[0]
    cv = cv_errors(X, y, lams, n_folds=n_folds, length_scale=ls, scale=sc, kind=kind)[0]
    pop_all = fit_all.predict(st.X_pop, lams)
    pop_dev = fit_dev.predict(st.X_pop, lams)
    tru = point_loss(st.y_pop[..., None], pop_all, kind).mean(axis=-2)[0] + st.noise_var
    tru_dev = point_loss(st.y_pop[..., None], pop_dev, kind).mean(axis=-2)[0] + st.noise_var
    if problem == "sine":
        x_plot = np.linspace(-1.0, 1.0, 201)
        fits = fit_all.predict(x_plot[None, :, None], lams)[0]
        f_plot = sine_truth(x_plot)
    else:
        x_plot = f_plot = fits = None
    return ErrorCurves(
        lams=lams, train=train, validation=val, test=test, cv=cv, true=tru, true_dev=tru_dev,
        x_plot=x_plot, f_plot=f_plot, fits_plot=fits, X=X[0], y=y[0], kind=kind,
    )


def picks(c: ErrorCurves) -> dict[str, int]:
    """Index of the λ each protocol picks in one study (the same rules as :func:`compare_approaches`)."""
    return {
        "approach 1 (training)": int(pick_training(c.train)),
        "approach 3 (validation)": int(pick_min(c.validation)),
        "CV": int(pick_min(c.cv)),
    }
