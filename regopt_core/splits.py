r"""How optimistic is each way of measuring a model's error? Experiments where the truth is known.

The page ``splits`` asks one question of every evaluation protocol: *the error it reports, minus
the error the chosen model really makes on new data*. On a synthetic problem the true error is
known (a fine quadrature of the generator, equivalent to an infinitely large fresh sample); on the
bundled breast-cancer data each simulated study draws ``n`` patients and the remaining patients
play the role of "everybody else" (a large fresh sample).

Contents

* **Best of K equally good models** (:func:`simulate_best_of_k`): the optimism of picking the best of
  ``K`` models on one test set, against :math:`s\,\mathbb E[\max_K Z]` (:func:`expected_max_normal`)
  and the exact binomial answer (:func:`expected_best_binomial`).
* **The model family**: kernel ridge regression (:func:`kernel_ridge_path`), all
  :math:`\lambda` at once from one eigendecomposition, with leave-one-out by the linear-smoother
  shortcut (:func:`loo_residuals`) and plain ``k``-fold cross-validation (:func:`cv_errors`).
* **The three approaches, CV and nested CV over many random splits** (:func:`compare_approaches`),
  and one split's error curves (:func:`error_curves`).
* **Early stopping** of gradient descent (:func:`early_stopping`), next to ridge with
  :math:`\lambda = 1/(\eta t)`.
* **Leakage**: the wrong way to cross-validate (:func:`selection_leak`, ESL §7.10.2), preprocessing
  fitted before the split (:func:`preprocessing_leak`), and several samples per patient
  (:func:`patient_leak`).

References: Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 2nd ed. (ESL),
§7.10 (cross-validation, the wrong and right way), §7.10.1 and Eq. (7.52) (leave-one-out for linear
smoothers); Cawley & Talbot (2010), "On over-fitting in model selection and subsequent selection
bias in performance evaluation", JMLR 11 (nested CV); Varma & Simon (2006), BMC Bioinformatics 7:91;
Vandewiele et al. (2021), "Overly optimistic prediction results on imbalanced data",
Artif. Intell. Med. 111 (oversampling before the split); Yao, Rosasco & Caponnetto (2007),
"On early stopping in gradient descent learning", Constr. Approx. 26 (early stopping as
regularization).

Every random function takes ``rng`` keyword-only; loops run over folds or epochs, never over
samples or repetitions (those are array axes).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import integrate, stats
from threadpoolctl import threadpool_limits

from regopt_core.errors import NumericalError

# --------------------------------------------------------------------------------------------------
# Caps: whatever a URL asks for, no call does more than this.
# --------------------------------------------------------------------------------------------------
MAX_MODELS = 1000  # K, configurations compared
MAX_REPEATS = 5000  # repetitions of the idealised best-of-K experiment
MAX_SPLIT_REPEATS = 400  # repetitions of a full split experiment (each one a new random study)
MAX_SAMPLES = 200  # study size n for the kernel-ridge experiments
MAX_FEATURES = 5000  # noise predictors in the ESL experiment
MAX_EPOCHS = 20000  # gradient-descent epochs
MAX_PATIENTS = 200
MAX_PER_PATIENT = 20
MAX_PATIENT_WORK = 400_000_000  # repetitions x samples^2 (and x fresh patients) in patient_leak
MAX_OUTER_FOLDS = 10  # nested CV: outer folds (the inner loop may be leave-one-out)
WORK_SECONDS = 2.0  # compare_approaches lowers its repetitions so that one call stays near this


def _approach_cost(problem: str, n: int, n_folds: int) -> float:
    """Rough seconds per repetition of :func:`compare_approaches` (an eigendecomposition of an
    m x m kernel costs about 0.07 m^2 microseconds here, batched; kernels and products double it)."""
    shortcut = True  # leave-one-out always uses the linear-smoother shortcut

    def cv_fits(m: int) -> list[int]:
        k = min(n_folds, m)
        if k >= m and shortcut:
            return [m]
        return [m - int(np.ceil(m / k))] * k

    sizes = [n, n, n] + cv_fits(n)
    n_outer = min(n_folds, n, MAX_OUTER_FOLDS)
    for _ in range(n_outer):
        m = n - int(np.ceil(n / n_outer))
        sizes += cv_fits(m) + ([] if (min(n_folds, m) >= m and shortcut) else [m])
    per_problem = 2.0 if problem == "sine" else 6.0  # cancer: 30-d kernels and a 500-patient population
    return per_problem * 0.07e-6 * float(sum(max(m, 8) ** 2 for m in sizes))


def _one_blas_thread(fn):
    """Run ``fn`` with single-threaded BLAS/LAPACK. Batched small eigendecompositions are up to
    20x slower with OpenBLAS threads on a busy 2-core server (threads spin against each other)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


# ==================================================================================================
# Best of K equally good models
# ==================================================================================================
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

    def density(z: float) -> float:
        # K phi(z) Phi(z)^(K-1), in logs so that K = 1000 does not underflow
        return z * np.exp(np.log(k) + stats.norm.logpdf(z) + (k - 1) * stats.norm.logcdf(z))

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
    j = np.arange(int(n_test))
    cdf = stats.binom.cdf(j, int(n_test), float(accuracy))
    return float(np.sum(-np.expm1(int(n_models) * np.log(np.maximum(cdf, 1e-300)))) / n_test)


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
    expected_best_normal: float  # p + se * E[max of K standard normals]
    expected_best_exact: float  # exact binomial expectation

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
    better than the others, so a fresh test set gives :math:`p` back. For large :math:`n`

    .. math:: \mathbb E\Big[\max_k \tfrac{X_k}{n}\Big] \approx p + s\,\mathbb E[\max_K Z],\qquad
              s = \sqrt{p(1-p)/n}.

    Parameters
    ----------
    n_test, accuracy, n_models :
        Test-set size :math:`n`, true accuracy :math:`p`, number of configurations :math:`K`
        (capped at ``MAX_MODELS``).
    n_repeats :
        Repetitions (capped at ``MAX_REPEATS``); each is one array row, no Python loop.
    n_fresh :
        Size of the fresh test set (default ``n_test``).
    rng :
        Random generator.
    """
    n_test = int(np.clip(n_test, 1, 1_000_000))
    n_models = int(np.clip(n_models, 1, MAX_MODELS))
    n_repeats = int(np.clip(n_repeats, 2, MAX_REPEATS))
    p = float(np.clip(accuracy, 0.0, 1.0))
    n_fresh = n_test if n_fresh is None else int(max(1, n_fresh))
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
        expected_best_normal=p + se * expected_max_normal(n_models),
        expected_best_exact=expected_best_binomial(n_test, p, n_models),
    )


# ==================================================================================================
# The model family: kernel ridge regression, every lambda at once
# ==================================================================================================
def kernel_matrix(A: np.ndarray, B: np.ndarray, *, length_scale: float) -> np.ndarray:
    r"""Exponential (Laplace, Matérn-1/2) kernel :math:`k(a,b)=\exp(-\|a-b\|/\ell)`.

    ``A`` (..., m, d) and ``B`` (..., n, d) broadcast over leading axes; returns (..., m, n).
    Positive definite in every dimension; its interpolant (:math:`\lambda\to0`) passes through
    every training point without exploding between them, like a nearest-neighbour rule with kinks.
    """
    sq = (
        np.sum(A * A, axis=-1)[..., :, None]
        + np.sum(B * B, axis=-1)[..., None, :]
        - 2.0 * (A @ np.swapaxes(B, -1, -2))
    )
    return np.exp(-np.sqrt(np.maximum(sq, 0.0)) / length_scale)


def lambda_grid(n_models: int, *, lo: float = 1e-6, hi: float = 1e2) -> np.ndarray:
    """``n_models`` ridge strengths log-spaced in [lo, hi]; one model sits at the geometric middle."""
    n_models = int(np.clip(n_models, 1, MAX_MODELS))
    if n_models == 1:
        return np.array([np.sqrt(lo * hi)])
    return np.logspace(np.log10(lo), np.log10(hi), n_models)


def _standardizer(X_train: np.ndarray, scale: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the *training* rows (identity when ``scale`` is False)."""
    if not scale:
        return np.zeros(X_train.shape[:-2] + (1, X_train.shape[-1])), np.ones(X_train.shape[:-2] + (1, X_train.shape[-1]))
    mu = X_train.mean(axis=-2, keepdims=True)
    sd = X_train.std(axis=-2, keepdims=True)
    return mu, np.where(sd > 1e-12, sd, 1.0)


@dataclass(frozen=True)
class KernelRidgeFit:
    """Eigendecomposition of one (batch of) training kernel(s); every lambda follows from it."""

    Q: np.ndarray  # (..., n, n) eigenvectors of K
    evals: np.ndarray  # (..., n) eigenvalues of K (clipped at 0)
    Qty: np.ndarray  # (..., n) Q^T y
    X: np.ndarray  # (..., n, d) standardized training inputs
    mu: np.ndarray
    sd: np.ndarray
    length_scale: float

    def coef(self, lams: np.ndarray) -> np.ndarray:
        r"""Dual coefficients :math:`\alpha(\lambda)=(K+\lambda I)^{-1}y`, shape (..., n, L)."""
        lams = np.asarray(lams, dtype=float)
        return self.Q @ (self.Qty[..., :, None] / (self.evals[..., :, None] + lams))

    def predict(self, X_new: np.ndarray, lams: np.ndarray) -> np.ndarray:
        """Predictions at ``X_new`` (..., m, d) for every lambda: (..., m, L)."""
        Kx = kernel_matrix((X_new - self.mu) / self.sd, self.X, length_scale=self.length_scale)
        return Kx @ self.coef(lams)

    def fitted(self, lams: np.ndarray) -> np.ndarray:
        r"""In-sample fit :math:`S_\lambda y = Q\,\mathrm{diag}(e/(e+\lambda))\,Q^\top y`: (..., n, L)."""
        lams = np.asarray(lams, dtype=float)
        shrink = self.evals[..., :, None] / (self.evals[..., :, None] + lams)
        return self.Q @ (self.Qty[..., :, None] * shrink)

    def hat_diagonal(self, lams: np.ndarray) -> np.ndarray:
        r"""Leverages :math:`(S_\lambda)_{ii} = \sum_j Q_{ij}^2\,e_j/(e_j+\lambda)`: (..., n, L)."""
        lams = np.asarray(lams, dtype=float)
        shrink = self.evals[..., :, None] / (self.evals[..., :, None] + lams)
        return (self.Q * self.Q) @ shrink


def kernel_ridge_path(
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    length_scale: float,
    scale: bool = False,
) -> KernelRidgeFit:
    r"""Fit kernel ridge regression for every :math:`\lambda` at once.

    .. math:: \hat f_\lambda(x) = k(x, X)^\top \alpha_\lambda,\qquad
              \alpha_\lambda = \arg\min_\alpha \|y - K\alpha\|^2 + \lambda\,\alpha^\top K\alpha
              = (K+\lambda I)^{-1} y

    With :math:`K = Q\,\mathrm{diag}(e)\,Q^\top`, :math:`\alpha_\lambda = Q\,\mathrm{diag}(1/(e+\lambda))\,Q^\top y`,
    so one eigendecomposition serves the whole :math:`\lambda` grid (ESL §5.8, §18.3.5). As
    :math:`\lambda\to 0` the fit interpolates the training data (training error 0).

    Parameters
    ----------
    X_train : array (..., n, d)
        Inputs; leading axes are independent problems (repetitions, folds), solved in one batch.
    y_train : array (..., n)
        Targets (class labels as :math:`\pm 1` for classification).
    length_scale :
        Kernel width :math:`\ell` (in standardized units when ``scale``).
    scale :
        Standardize the inputs with the mean and standard deviation of *these training rows*.
    """
    mu, sd = _standardizer(X_train, scale)
    Xs = (X_train - mu) / sd
    K = kernel_matrix(Xs, Xs, length_scale=length_scale)
    evals, Q = np.linalg.eigh(K)
    evals = np.maximum(evals, 0.0)
    Qty = np.squeeze(np.swapaxes(Q, -1, -2) @ y_train[..., :, None], -1)
    return KernelRidgeFit(Q=Q, evals=evals, Qty=Qty, X=Xs, mu=mu, sd=sd, length_scale=float(length_scale))


def loo_residuals(fit: KernelRidgeFit, y_train: np.ndarray, lams: np.ndarray) -> np.ndarray:
    r"""Leave-one-out residuals of a linear smoother without refitting (ESL Eq. 7.52).

    .. math:: y_i - \hat f^{(-i)}_\lambda(x_i) = \frac{y_i - \hat f_\lambda(x_i)}{1 - (S_\lambda)_{ii}}

    Exact for kernel ridge regression (the fit is :math:`S_\lambda y` with :math:`S_\lambda` not
    depending on :math:`y`). Shape (..., n, L).
    """
    resid = y_train[..., :, None] - fit.fitted(lams)
    denom = 1.0 - fit.hat_diagonal(lams)
    return resid / np.maximum(denom, 1e-15)


def point_loss(y: np.ndarray, pred: np.ndarray, kind: str) -> np.ndarray:
    """Squared error (``"regression"``) or 0-1 loss of ``sign(pred)`` against labels in {-1, +1}."""
    if kind == "regression":
        return (y - pred) ** 2
    return (np.where(pred >= 0.0, 1.0, -1.0) != y).astype(float)


def fold_slices(n: int, n_folds: int) -> list[np.ndarray]:
    """Indices of ``n_folds`` contiguous, nearly equal folds of ``range(n)`` (shuffle the data first)."""
    n_folds = int(np.clip(n_folds, 2, n))
    bounds = np.linspace(0, n, n_folds + 1).round().astype(int)
    return [np.arange(bounds[i], bounds[i + 1]) for i in range(n_folds)]


def _complement(n: int, idx: np.ndarray) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    mask[idx] = False
    return np.flatnonzero(mask)


@_one_blas_thread
def cv_errors(
    X: np.ndarray,
    y: np.ndarray,
    lams: np.ndarray,
    *,
    n_folds: int,
    length_scale: float,
    scale: bool = False,
    kind: str = "regression",
    shortcut: bool = True,
) -> np.ndarray:
    r"""``k``-fold cross-validation error of kernel ridge for every :math:`\lambda`.

    .. math:: \mathrm{CV}(\lambda) = \frac1n \sum_{i=1}^n L\big(y_i, \hat f^{(-\kappa(i))}_\lambda(x_i)\big)

    where :math:`\kappa(i)` is the fold of point :math:`i` (ESL Eq. 7.48). Folds are contiguous
    blocks of the (already shuffled) rows; leading axes of ``X`` (..., n, d) are independent
    repetitions, fitted in one batch per fold. With ``n_folds >= n`` this is leave-one-out, done by
    the linear-smoother shortcut when ``shortcut`` (one fit instead of ``n``). The shortcut needs
    one fixed feature map, so with ``scale`` the standardization is then fitted once on all ``n``
    rows (it sees the left-out point's features, never its label; ``preprocessing_leak`` shows
    that this unsupervised step changes CV estimates by well under a percentage point).

    Returns (..., L).
    """
    n = X.shape[-2]
    lams = np.asarray(lams, dtype=float)
    if n < 2:
        raise NumericalError("Cross-validation needs at least two samples.", hint="Use a larger study.")
    if n_folds >= n and shortcut:
        fit = kernel_ridge_path(X, y, length_scale=length_scale, scale=scale)
        e = loo_residuals(fit, y, lams)
        loo_pred = y[..., :, None] - e
        return point_loss(y[..., :, None], loo_pred, kind).mean(axis=-2)
    total = np.zeros(X.shape[:-2] + (lams.size,))
    for idx in fold_slices(n, n_folds):
        rest = _complement(n, idx)
        fit = kernel_ridge_path(X[..., rest, :], y[..., rest], length_scale=length_scale, scale=scale)
        pred = fit.predict(X[..., idx, :], lams)
        total += point_loss(y[..., idx, None], pred, kind).sum(axis=-2)
    return total / n


# ==================================================================================================
# Problems with a known truth
# ==================================================================================================
def sine_truth(x: np.ndarray) -> np.ndarray:
    r"""The synthetic problem's regression function :math:`f(x)=\sin(2\pi x)` on :math:`[-1, 1]`."""
    return np.sin(2.0 * np.pi * x)


SINE_SIGMA = 0.5
SINE_LENGTH_SCALE = 0.5
CANCER_LENGTH_SCALE = 6.0  # standardized units; 30 features put typical distances near 7
N_QUADRATURE = 400


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
    X = rng.uniform(-1.0, 1.0, size=(n_repeats, n_samples, 1))
    y = sine_truth(X[..., 0]) + sigma * rng.standard_normal((n_repeats, n_samples))
    xq = (np.arange(N_QUADRATURE) + 0.5) / N_QUADRATURE * 2.0 - 1.0
    return Studies(
        X=X, y=y, X_pop=xq[None, :, None], y_pop=sine_truth(xq)[None, :], noise_var=sigma**2,
        kind="regression", length_scale=SINE_LENGTH_SCALE, scale=False, name="sine",
    )


def _cancer_arrays() -> tuple[np.ndarray, np.ndarray]:
    from regopt_core.datasets import load_breast_cancer_raw

    d = load_breast_cancer_raw()
    # label +1 = malignant (the class a screening test looks for), -1 = benign
    return np.asarray(d.X, dtype=float), np.where(np.asarray(d.y) == 0, 1.0, -1.0)


def make_cancer_studies(n_samples: int, *, n_repeats: int, rng: np.random.Generator) -> Studies:
    """``n_repeats`` studies of ``n`` patients drawn without replacement from the 569 breast-cancer
    records (raw features; every fit standardizes on its own training rows). The remaining
    ``569 - n`` patients of each study are its population: their error stands in for the true error.
    """
    X_all, y_all = _cancer_arrays()
    n_all = X_all.shape[0]
    n_samples = int(np.clip(n_samples, 4, n_all - 50))
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
    raise ValueError(f"unknown problem {problem!r}")


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


# ==================================================================================================
# The approaches side by side
# ==================================================================================================
APPROACHES = (
    "1 · training error",
    "2 · best on the test set",
    "3 · train / validation / test",
    "CV minimum (k-fold)",
    "nested CV",
)


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


def _split_sizes(n: int, test_fraction: float, val_fraction: float) -> tuple[int, int, int]:
    n_test = int(np.clip(round(test_fraction * n), 1, n - 2))
    n_val = int(np.clip(round(val_fraction * n), 1, n - n_test - 1))
    return n - n_test - n_val, n_val, n_test


@_one_blas_thread
def compare_approaches(
    problem: str = "sine",
    *,
    n_samples: int = 40,
    n_models: int = 30,
    n_folds: int = 5,
    n_repeats: int = 200,
    test_fraction: float = 0.25,
    val_fraction: float = 0.25,
    rng: np.random.Generator,
) -> ApproachComparison:
    r"""Run every evaluation protocol on the same ``n_repeats`` random studies and record, for each,
    the error it reports and the true error of the model it hands over.

    The model is kernel ridge regression (:func:`kernel_ridge_path`) with
    :math:`\lambda` on a log grid of ``n_models`` values (the :math:`K` configurations).

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

    ``n_folds >= n`` means leave-one-out (linear-smoother shortcut). Sizes are capped so one call
    stays within ``MAX_WORK``; ``n_repeats`` may be lowered for leave-one-out nested CV.
    """
    n_samples = int(np.clip(n_samples, 8, MAX_SAMPLES))
    n_models = int(np.clip(n_models, 1, MAX_MODELS))
    n_folds = int(np.clip(n_folds, 2, n_samples))
    n_repeats = int(np.clip(n_repeats, 2, MAX_SPLIT_REPEATS))
    n_repeats = int(min(n_repeats, max(2, WORK_SECONDS / _approach_cost(problem, n_samples, n_folds))))
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
    k1 = np.argmin(train_err + 1e-12 * np.arange(lams.size), axis=-1)  # ties -> smallest lambda
    reported[0], true[0], chosen[0] = _take(train_err, k1), true_error(st, fit_all, lams[k1]), k1

    # 2 and 3 share the split: train | validation | test (approach 2 trains on train+validation)
    n_tr, n_val, n_te = _split_sizes(n_samples, test_fraction, val_fraction)
    dev, te = np.arange(n_tr + n_val), np.arange(n_tr + n_val, n_samples)
    fit_dev = kernel_ridge_path(X[:, dev], y[:, dev], length_scale=ls, scale=sc)
    test_loss = point_loss(y[:, te, None], fit_dev.predict(X[:, te], lams), kind)  # (R, n_te, K)
    test_err = test_loss.mean(axis=-2)
    k2 = np.argmin(test_err, axis=-1)
    reported[1], true[1], chosen[1] = _take(test_err, k2), true_error(st, fit_dev, lams[k2]), k2
    # standard error of one configuration's test error: s in the theory s * E[max of K normals]
    chosen_loss = np.take_along_axis(test_loss, k2[:, None, None], axis=-1)[..., 0]
    test_se = chosen_loss.std(axis=-1, ddof=1) / np.sqrt(te.size) if te.size > 1 else np.zeros(R)

    tr, va = np.arange(n_tr), np.arange(n_tr, n_tr + n_val)
    fit_tr = kernel_ridge_path(X[:, tr], y[:, tr], length_scale=ls, scale=sc)
    val_err = point_loss(y[:, va, None], fit_tr.predict(X[:, va], lams), kind).mean(axis=-2)
    k3 = np.argmin(val_err, axis=-1)
    reported[2], true[2], chosen[2] = _take(test_err, k3), true_error(st, fit_dev, lams[k3]), k3

    # 4 - k-fold CV on all data, refit at the minimum
    cv = cv_errors(X, y, lams, n_folds=n_folds, length_scale=ls, scale=sc, kind=kind)
    k4 = np.argmin(cv, axis=-1)
    reported[3], true[3], chosen[3] = _take(cv, k4), true_error(st, fit_all, lams[k4]), k4

    # 5 - nested CV: procedure 4 inside every outer fold (at most MAX_OUTER_FOLDS outer folds)
    outer_loss = np.zeros(R)
    n_outer = min(n_folds, MAX_OUTER_FOLDS)
    for idx in fold_slices(n_samples, n_outer):
        rest = _complement(n_samples, idx)
        Xr, yr = X[:, rest], y[:, rest]
        fit_o = kernel_ridge_path(Xr, yr, length_scale=ls, scale=sc)
        if n_folds >= rest.size:  # inner leave-one-out: the shortcut reuses fit_o
            inner_cv = point_loss(yr[..., None], yr[..., None] - loo_residuals(fit_o, yr, lams), kind).mean(axis=-2)
        else:
            inner_cv = cv_errors(Xr, yr, lams, n_folds=n_folds, length_scale=ls, scale=sc, kind=kind)
        k_in = np.argmin(inner_cv, axis=-1)
        coef = fit_o.Q @ (fit_o.Qty / (fit_o.evals + lams[k_in][:, None]))[..., None]
        Kx = kernel_matrix((X[:, idx] - fit_o.mu) / fit_o.sd, fit_o.X, length_scale=ls)
        outer_loss += point_loss(y[:, idx], (Kx @ coef)[..., 0], kind).sum(axis=-1)
    reported[4], true[4], chosen[4] = outer_loss / n_samples, true[3], k4

    return ApproachComparison(
        names=APPROACHES, reported=reported, true=true, lams=lams, chosen=chosen, problem=st.name,
        kind=kind, n_samples=n_samples, n_folds=n_folds, n_repeats=R,
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


@_one_blas_thread
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
    n_samples = int(np.clip(n_samples, 8, MAX_SAMPLES))
    n_folds = int(np.clip(n_folds, 2, n_samples))
    st = make_studies(problem, n_samples, n_repeats=1, rng=rng)
    lams = lambda_grid(n_models)
    ls, sc, kind = st.length_scale, st.scale, st.kind
    X, y = st.X, st.y
    fit_all = kernel_ridge_path(X, y, length_scale=ls, scale=sc)
    train = point_loss(y[..., None], fit_all.predict(X, lams), kind).mean(axis=-2)[0]
    n_tr, n_val, _ = _split_sizes(n_samples, test_fraction, val_fraction)
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


# ==================================================================================================
# Early stopping
# ==================================================================================================
def gd_step_size(X: np.ndarray, *, fraction: float = 1.0) -> float:
    r"""Step :math:`\eta = c/L` for :math:`\tfrac1{2n}\|Xw-y\|^2`, with :math:`L=\sigma_{\max}(X)^2/n`
    its gradient's Lipschitz constant (GD is monotone for :math:`\eta \le 1/L`, diverges above
    :math:`2/L`)."""
    L = np.linalg.norm(X, 2) ** 2 / X.shape[0]
    return float(fraction / L)


def gd_least_squares(X: np.ndarray, y: np.ndarray, *, step: float, n_epochs: int = 1000) -> np.ndarray:
    r"""Full-batch gradient descent on :math:`\tfrac1{2n}\|Xw-y\|^2` from :math:`w_0=0`.

    .. math:: w_{t+1} = w_t - \eta\,\tfrac1n X^\top (X w_t - y)

    Returns every iterate, shape (n_epochs + 1, p) (row ``t`` is :math:`w_t`). Raises
    :class:`~regopt_core.errors.NumericalError` if the iterates blow up (step above :math:`2/L`).
    """
    n_epochs = int(np.clip(n_epochs, 1, MAX_EPOCHS))
    n, p = X.shape
    W = np.zeros((n_epochs + 1, p))
    w = np.zeros(p)
    XtX, Xty = X.T @ X / n, X.T @ y / n  # the gradient is XtX w - Xty
    for t in range(n_epochs):
        w = w - step * (XtX @ w - Xty)
        W[t + 1] = w
        if t % 64 == 0 and not np.abs(w).max() < 1e100:  # also catches NaN
            raise NumericalError(
                f"Gradient descent diverged after {t + 1} epochs (step {step:.3g}).",
                hint="Use a step size below 2/L.",
            )
    if not np.all(np.isfinite(W[-1])):
        raise NumericalError("Gradient descent diverged.", hint="Use a step size below 2/L.")
    return W


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
    filt[:, keep] = -np.expm1(t * np.log1p(-step * s[keep] ** 2)) / s[keep]
    return (filt * uty) @ Vt


def ridge_path(X: np.ndarray, y: np.ndarray, lams: np.ndarray) -> np.ndarray:
    r"""Ridge :math:`\arg\min_w \tfrac1{2n}\|Xw-y\|^2+\tfrac\lambda2\|w\|^2` for each :math:`\lambda`:
    :math:`w_\lambda = V\,\mathrm{diag}(s/(s^2+\lambda))\,U^\top y/\sqrt n`. Returns (len(lams), p)."""
    n = X.shape[0]
    U, s, Vt = np.linalg.svd(X / np.sqrt(n), full_matrices=False)
    uty = U.T @ y / np.sqrt(n)
    filt = s / (s**2 + np.asarray(lams, dtype=float)[:, None])
    return (filt * uty) @ Vt


@dataclass(frozen=True)
class EarlyStopping:
    r"""Result of :func:`early_stopping`. Errors are mean squared errors; ``true`` is exact:
    :math:`\|w-w^\star\|^2+\sigma^2` for isotropic Gaussian inputs."""

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

    @property
    def best_epoch(self) -> int:
        """Epoch of the smallest true error (unknown in practice)."""
        return int(np.argmin(self.true))


@_one_blas_thread
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

    GD (:func:`gd_least_squares`) minimizes the training MSE; it first learns the strong
    directions and then fits noise, so the true error falls and rises again when :math:`p` is near
    :math:`n`. Early stopping returns the iterate at the validation minimum.
    """
    n_train = int(np.clip(n_train, 2, 2000))
    n_val = int(np.clip(n_val, 1, 2000))
    n_test = int(np.clip(n_test, 1, 10000))
    n_features = int(np.clip(n_features, 1, 500))
    n_epochs = int(np.clip(n_epochs, 1, MAX_EPOCHS))
    w_star = rng.standard_normal(n_features)
    w_star /= np.linalg.norm(w_star)

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        Xm = rng.standard_normal((m, n_features))
        return Xm, Xm @ w_star + sigma * rng.standard_normal(m)

    X, y = draw(n_train)
    Xv, yv = draw(n_val)
    Xt, yt = draw(n_test)
    step = gd_step_size(X, fraction=step_fraction)
    W = gd_least_squares(X, y, step=step, n_epochs=n_epochs)

    def mse(Xm: np.ndarray, ym: np.ndarray, Ws: np.ndarray) -> np.ndarray:
        # mean((Xm w - ym)^2) for every row w of Ws, as a quadratic form (no m x T matrix)
        G, b, c = Xm.T @ Xm / ym.size, Xm.T @ ym / ym.size, ym @ ym / ym.size
        return np.maximum(np.einsum("tp,pq,tq->t", Ws, G, Ws) - 2.0 * Ws @ b + c, 0.0)

    true = np.sum((W - w_star) ** 2, axis=1) + sigma**2
    val = mse(Xv, yv, W)
    t = np.arange(1, n_epochs + 1)
    ridge_lams = 1.0 / (step * t)
    ridge_true = np.sum((ridge_path(X, y, ridge_lams) - w_star) ** 2, axis=1) + sigma**2
    return EarlyStopping(
        epochs=np.arange(n_epochs + 1), train=mse(X, y, W), validation=val, test=mse(Xt, yt, W), true=true,
        stop_epoch=int(np.argmin(val)), ridge_lams=ridge_lams, ridge_true=ridge_true, step=step,
        sigma=float(sigma), n_train=n_train, n_features=n_features,
    )


# ==================================================================================================
# Leakage
# ==================================================================================================
def knn_predict(X_train: np.ndarray, y_train: np.ndarray, X_eval: np.ndarray, *, k: int = 1) -> np.ndarray:
    r"""``k``-nearest-neighbour vote with labels in :math:`\{-1,+1\}` (Euclidean distance).

    .. math:: \hat y(x) = \mathrm{sign}\!\sum_{i\in N_k(x)} y_i

    Leading axes of ``X_train`` (..., n, d) / ``X_eval`` (..., m, d) are independent problems.
    Ties (even ``k``) go to +1. Returns (..., m).
    """
    n = X_train.shape[-2]
    k = int(np.clip(k, 1, n))
    sq = (
        np.sum(X_eval * X_eval, axis=-1)[..., :, None]
        + np.sum(X_train * X_train, axis=-1)[..., None, :]
        - 2.0 * (X_eval @ np.swapaxes(X_train, -1, -2))
    )
    if k == 1:
        nearest = np.argmin(sq, axis=-1)[..., None]
    else:
        nearest = np.argpartition(sq, k - 1, axis=-1)[..., :k]
    votes = np.take_along_axis(np.broadcast_to(y_train[..., None, :], sq.shape), nearest, axis=-1).sum(axis=-1)
    return np.where(votes >= 0, 1.0, -1.0)


def _top_correlated(X: np.ndarray, y: np.ndarray, n_keep: int) -> np.ndarray:
    """Indices (..., n_keep) of the columns of X (..., n, p) most correlated (in absolute value) with y."""
    Xc = X - X.mean(axis=-2, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    num = np.abs(np.squeeze(np.swapaxes(Xc, -1, -2) @ yc[..., :, None], -1))
    corr = num / np.maximum(np.sqrt(np.sum(Xc * Xc, axis=-2)), 1e-300)
    return np.argpartition(-corr, n_keep - 1, axis=-1)[..., :n_keep]


def _columns(X: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """X (R, n, p) restricted per row r to columns idx[r] (R, q): (R, n, q)."""
    return np.take_along_axis(X, idx[:, None, :], axis=-1)


@dataclass(frozen=True)
class LeakResult:
    """Estimates of a classifier's error by a leaky and an honest protocol, over repetitions.

    ``estimates[a, r]`` for ``a`` in ``names``; ``true[a, r]`` the true error of the model the
    study would deploy after protocol ``a`` (exactly 0.5 for pure noise).
    """

    names: tuple[str, ...]
    estimates: np.ndarray  # (A, R)
    true: np.ndarray  # (A, R)
    description: str

    def summary(self) -> dict[str, np.ndarray]:
        r = self.estimates.shape[1]
        return {
            "protocol": np.array(self.names),
            "mean": self.estimates.mean(axis=1),
            "true": self.true.mean(axis=1),
            "se": self.estimates.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.full(len(self.names), np.nan),
        }


@_one_blas_thread
def selection_leak(
    n_samples: int = 50,
    n_features: int = 5000,
    n_keep: int = 100,
    *,
    n_folds: int = 5,
    k: int = 1,
    n_repeats: int = 20,
    rng: np.random.Generator,
) -> LeakResult:
    r"""ESL §7.10.2: cross-validation done the wrong way and the right way on pure noise.

    ``n_samples`` points in two equal classes, ``n_features`` standard normal predictors independent
    of the labels, so every classifier's true error is exactly 50 %. The procedure: keep the
    ``n_keep`` predictors most correlated with the labels, then a ``k``-nearest-neighbour classifier.

    * Wrong: select on all samples, then cross-validate only the classifier (ESL: about 3 % error).
    * Right: select again inside every training fold (about 50 %).
    """
    n_samples = int(np.clip(n_samples, 4, 500))
    n_features = int(np.clip(n_features, 1, MAX_FEATURES))
    n_keep = int(np.clip(n_keep, 1, n_features))
    n_folds = int(np.clip(n_folds, 2, n_samples))
    n_repeats = int(np.clip(n_repeats, 2, 200))
    chunk = max(1, int(2.0e6 // (n_samples * n_features)))  # keep each batch near 16 MB
    wrong, right = [], []
    folds = fold_slices(n_samples, n_folds)
    for start in range(0, n_repeats, chunk):
        r = min(chunk, n_repeats - start)
        X = rng.standard_normal((r, n_samples, n_features))
        y = rng.permuted(np.tile(np.where(np.arange(n_samples) < n_samples // 2, 1.0, -1.0), (r, 1)), axis=1)
        Xw = _columns(X, _top_correlated(X, y, n_keep))
        err_w = np.zeros(r)
        err_r = np.zeros(r)
        for idx in folds:
            rest = _complement(n_samples, idx)
            pred_w = knn_predict(Xw[:, rest], y[:, rest], Xw[:, idx], k=k)
            err_w += (pred_w != y[:, idx]).sum(axis=-1)
            sel = _top_correlated(X[:, rest], y[:, rest], min(n_keep, n_features))
            Xr = _columns(X, sel)
            pred_r = knn_predict(Xr[:, rest], y[:, rest], Xr[:, idx], k=k)
            err_r += (pred_r != y[:, idx]).sum(axis=-1)
        wrong.append(err_w / n_samples)
        right.append(err_r / n_samples)
    est = np.stack([np.concatenate(wrong), np.concatenate(right)])
    return LeakResult(
        names=("wrong way: select on all data, then CV", "right way: select inside each fold"),
        estimates=est,
        true=np.full(est.shape, 0.5),
        description=f"pure noise, n={n_samples}, p={n_features}, keep {n_keep}, {n_folds}-fold, {k}-NN",
    )


def _oversample_indices(y: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """Indices (R, n + extra) that append random copies of the minority class until both classes are
    equally frequent. Needs the same class counts in every row (true after a stratified draw)."""
    R, n = y.shape
    pos = y > 0
    n_pos = int(pos[0].sum())
    n_neg = n - n_pos
    extra = abs(n_neg - n_pos)
    minority = np.argsort(~pos if n_pos < n_neg else pos, axis=1, kind="stable")[:, : min(n_pos, n_neg)]
    if extra == 0 or minority.shape[1] == 0:
        return np.tile(np.arange(n), (R, 1))
    pick = rng.integers(0, minority.shape[1], size=(R, extra))
    return np.concatenate([np.tile(np.arange(n), (R, 1)), np.take_along_axis(minority, pick, axis=1)], axis=1)


@_one_blas_thread
def preprocessing_leak(
    n_samples: int = 100,
    *,
    n_folds: int = 5,
    k: int = 1,
    n_repeats: int = 100,
    rng: np.random.Generator,
) -> LeakResult:
    r"""Preprocessing done before the split, on the breast-cancer data (a ``k``-NN classifier).

    Each study draws ``n_samples`` patients (class proportions as in the data, 37 % malignant); the
    remaining patients give the true error. Four ``k``-fold CV estimates:

    * standardization fitted on all study data before the split vs inside each training fold
      (unsupervised; it leaks little);
    * random oversampling of the minority class to balance the classes, before the split (copies
      of one patient land in training and test folds; Vandewiele et al. 2021) vs inside each
      training fold.

    The true error is that of the model fitted (standardized and oversampled) on the whole study.
    """
    n_samples = int(np.clip(n_samples, 10, 400))
    n_folds = int(np.clip(n_folds, 2, n_samples))
    n_repeats = int(np.clip(n_repeats, 2, MAX_SPLIT_REPEATS))
    X_all, y_all = _cancer_arrays()
    # stratified draw: every study has the same class counts, positives first then negatives (each
    # block in random order), so stratified folds are contiguous slices of each block and every
    # training part has the same class counts in every study (oversampling sizes then match).
    pos_all, neg_all = np.flatnonzero(y_all > 0), np.flatnonzero(y_all < 0)
    n_pos = int(np.clip(round(n_samples * pos_all.size / y_all.size), 2, n_samples - 2))
    n_neg = n_samples - n_pos
    n_folds = int(np.clip(n_folds, 2, min(n_pos, n_neg)))
    pp = rng.permuted(np.tile(pos_all, (n_repeats, 1)), axis=1)
    nn = rng.permuted(np.tile(neg_all, (n_repeats, 1)), axis=1)
    study = np.concatenate([pp[:, :n_pos], nn[:, :n_neg]], axis=1)
    pop = np.concatenate([pp[:, n_pos:], nn[:, n_neg:]], axis=1)
    X, y = X_all[study], y_all[study]
    Xp, yp = X_all[pop], y_all[pop]
    folds = [np.concatenate([a, n_pos + b]) for a, b in zip(fold_slices(n_pos, n_folds), fold_slices(n_neg, n_folds))]

    def standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
        mu, sd = _standardizer(train, True)
        return [(a - mu) / sd for a in (train, *others)]

    errs = np.zeros((4, n_repeats))
    # (a) standardization: on all study data vs on each training part
    Xs_all = standardize(X)[0]
    for idx in folds:
        rest = _complement(n_samples, idx)
        pred = knn_predict(Xs_all[:, rest], y[:, rest], Xs_all[:, idx], k=k)
        errs[0] += (pred != y[:, idx]).sum(axis=-1) / n_samples
        Xtr, Xte = standardize(X[:, rest], X[:, idx])
        pred = knn_predict(Xtr, y[:, rest], Xte, k=k)
        errs[1] += (pred != y[:, idx]).sum(axis=-1) / n_samples
    # (b) oversampling (standardization done right in both): before the split, the copies are
    # shuffled into random folds together with their originals ...
    over = _oversample_indices(y, rng=rng)
    over = np.take_along_axis(over, rng.permuted(np.tile(np.arange(over.shape[1]), (n_repeats, 1)), axis=1), axis=1)
    Xo, yo = np.take_along_axis(X, over[..., None], axis=1), np.take_along_axis(y, over, axis=1)
    n_o = Xo.shape[1]
    for idx in fold_slices(n_o, n_folds):
        rest = _complement(n_o, idx)
        Xtr, Xte = standardize(Xo[:, rest], Xo[:, idx])
        pred = knn_predict(Xtr, yo[:, rest], Xte, k=k)
        errs[2] += (pred != yo[:, idx]).sum(axis=-1) / n_o
    # ... and inside each fold, only the training part is oversampled
    for idx in folds:
        rest = _complement(n_samples, idx)
        ov = _oversample_indices(y[:, rest], rng=rng)
        Xr = np.take_along_axis(X[:, rest], ov[..., None], axis=1)
        yr = np.take_along_axis(y[:, rest], ov, axis=1)
        Xtr, Xte = standardize(Xr, X[:, idx])
        pred = knn_predict(Xtr, yr, Xte, k=k)
        errs[3] += (pred != y[:, idx]).sum(axis=-1) / n_samples
    # the deployed models, fitted on the whole study and scored on everyone else
    Xtr, Xpop = standardize(X, Xp)
    true_plain = (knn_predict(Xtr, y, Xpop, k=k) != yp).mean(axis=-1)
    Xtr, Xpop = standardize(Xo, Xp)
    true_over = (knn_predict(Xtr, yo, Xpop, k=k) != yp).mean(axis=-1)
    true = np.stack([true_plain, true_plain, true_over, true_over])
    return LeakResult(
        names=(
            "standardize on all data, then CV",
            "standardize inside each fold",
            "oversample on all data, then CV",
            "oversample inside each fold",
        ),
        estimates=errs,
        true=true,
        description=f"breast cancer, n={n_samples}, {n_folds}-fold, {k}-NN",
    )


def make_patients(
    n_patients: int,
    n_per_patient: int,
    *,
    n_repeats: int = 1,
    n_features: int = 10,
    signal: float = 0.6,
    between: float = 1.0,
    within: float = 0.3,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Several samples (scans, visits, slices) per patient, with a patient-level diagnosis.

    .. math:: x_{pj} = \mathrm{signal}\cdot y_p\,u + \mathrm{between}\cdot b_p + \mathrm{within}\cdot e_{pj},

    :math:`u = (1,\dots,1)/\sqrt d`, :math:`b_p, e_{pj}\sim\mathcal N(0, I_d)`, :math:`y_p=\pm1`
    with probability 1/2 each. Samples of one patient resemble each other far more than they reveal
    the diagnosis. Returns ``X`` (n_repeats, n_patients * n_per_patient, d) and ``y``; the samples of
    patient ``p`` are rows ``p * n_per_patient ... (p + 1) * n_per_patient - 1``.
    """
    d = int(n_features)
    u = np.ones(d) / np.sqrt(d)
    y_p = np.where(rng.random((n_repeats, n_patients)) < 0.5, 1.0, -1.0)
    centre = signal * y_p[..., None] * u + between * rng.standard_normal((n_repeats, n_patients, d))
    X = centre[:, :, None, :] + within * rng.standard_normal((n_repeats, n_patients, n_per_patient, d))
    return X.reshape(n_repeats, n_patients * n_per_patient, d), np.repeat(y_p, n_per_patient, axis=1)


@_one_blas_thread
def patient_leak(
    n_patients: int = 40,
    n_per_patient: int = 5,
    *,
    n_features: int = 10,
    signal: float = 0.6,
    between: float = 1.0,
    within: float = 0.3,
    n_folds: int = 5,
    k: int = 1,
    n_repeats: int = 100,
    n_fresh: int = 2000,
    rng: np.random.Generator,
) -> LeakResult:
    r"""Several samples per patient: ``k``-fold CV over samples at random vs over patients (group
    split). The true error is that of the ``k``-NN classifier trained on all study samples, for one
    sample of each of ``n_fresh`` new patients (:func:`make_patients`). With one sample per patient
    both splits coincide."""
    n_patients = int(np.clip(n_patients, 4, MAX_PATIENTS))
    n_per_patient = int(np.clip(n_per_patient, 1, MAX_PER_PATIENT))
    n_folds = int(np.clip(n_folds, 2, n_patients))
    n_repeats = int(np.clip(n_repeats, 2, MAX_SPLIT_REPEATS))
    n_fresh = int(np.clip(n_fresh, 100, 20000))
    d = int(np.clip(n_features, 1, 100))
    n = n_patients * n_per_patient
    n_repeats = int(max(2, min(n_repeats, MAX_PATIENT_WORK // (n * n))))  # keep R n^2 bounded
    n_fresh = int(np.clip(MAX_PATIENT_WORK // (n_repeats * n), 200, n_fresh))
    knobs = dict(n_features=d, signal=signal, between=between, within=within)
    X, y = make_patients(n_patients, n_per_patient, n_repeats=n_repeats, rng=rng, **knobs)
    # random split over samples: shuffle samples, contiguous folds
    perm = rng.permuted(np.tile(np.arange(n), (n_repeats, 1)), axis=1)
    Xs, ys = np.take_along_axis(X, perm[..., None], axis=1), np.take_along_axis(y, perm, axis=1)
    errs = np.zeros((2, n_repeats))
    X_new, y_new = make_patients(n_fresh, 1, n_repeats=n_repeats, rng=rng, **knobs)
    true = np.zeros(n_repeats)
    chunk = max(1, int(2.0e7 // (n * max(n_fresh, n))))  # about 160 MB of distances at most
    for s in range(0, n_repeats, chunk):
        sl = slice(s, s + chunk)
        for idx in fold_slices(n, n_folds):
            rest = _complement(n, idx)
            errs[0, sl] += (knn_predict(Xs[sl][:, rest], ys[sl][:, rest], Xs[sl][:, idx], k=k) != ys[sl][:, idx]).sum(-1)
        # group split: patients are iid, so contiguous blocks of patients are random patient folds
        for pidx in fold_slices(n_patients, n_folds):
            idx = (pidx[:, None] * n_per_patient + np.arange(n_per_patient)).ravel()
            rest = _complement(n, idx)
            errs[1, sl] += (knn_predict(X[sl][:, rest], y[sl][:, rest], X[sl][:, idx], k=k) != y[sl][:, idx]).sum(-1)
        # truth: new patients, one sample each
        true[sl] = (knn_predict(X[sl], y[sl], X_new[sl], k=k) != y_new[sl]).mean(axis=-1)
    errs /= n
    return LeakResult(
        names=("random split over samples", "split by patient (group k-fold)"),
        estimates=errs,
        true=np.stack([true, true]),
        description=f"{n_patients} patients x {n_per_patient} samples, {n_folds}-fold, {k}-NN",
    )
