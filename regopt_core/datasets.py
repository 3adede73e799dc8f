"""Bundled real data and synthetic generators. Every random generator takes ``rng`` keyword-only.

Real data come from scikit-learn's *bundled* datasets (shipped inside the package, no download),
so the app works offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Features ``X`` (n_samples, n_features), integer labels or real targets ``y``, and names."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _sklearn_csv(name: str) -> np.ndarray:
    """A gzipped CSV file bundled in ``sklearn/datasets/data``, read as ``sklearn.datasets`` reads it
    (``np.loadtxt(..., delimiter=",")``) but without importing scikit-learn: the import costs ~1-2 s of CPU in
    every fresh worker process, the file itself ~20 ms."""
    import gzip
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")  # locates the package without executing it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("scikit-learn is needed for its bundled datasets")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    with gzip.open(path, mode="rt", encoding="utf-8") as fh:
        return np.loadtxt(fh, delimiter=",")


@lru_cache(maxsize=1)
def load_digits() -> Dataset:
    """The 1,797 8x8 handwritten digits (UCI; bundled with scikit-learn), pixels scaled to [0, 1].

    Pixel intensities are 0..16 in the source; dividing by 16 keeps each pixel's meaning (ink) so a
    weight row reshaped to 8x8 is a readable template. Arrays are read-only and shared.
    """
    data = _sklearn_csv("digits.csv.gz")  # the file and the parse of sklearn.datasets.load_digits
    return Dataset(
        X=_readonly(data[:, :-1].astype(np.float64) / 16.0),
        y=_readonly(data[:, -1].astype(np.int64)),
        feature_names=tuple(f"pixel_{i // 8}_{i % 8}" for i in range(64)),
        target_names=tuple(str(t) for t in range(10)),
        description="8x8 handwritten digits 0-9, 1,797 images, pixels in [0, 1]",
    )


@lru_cache(maxsize=1)
def load_breast_cancer() -> Dataset:
    """Wisconsin diagnostic breast cancer (569 x 30; bundled with scikit-learn), features standardized.

    Standardization uses the whole dataset's mean and standard deviation. That is fine for
    illustrating optimization; a page that *evaluates* generalization must refit the scaling on the
    training split only (the splits page shows why). Label 1 = benign, 0 = malignant (as in sklearn).
    """
    from sklearn.datasets import load_breast_cancer as _load

    d = _load()
    X = d.data.astype(np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return Dataset(
        X=_readonly(X),
        y=_readonly(d.target.astype(np.int64)),
        feature_names=tuple(str(f) for f in d.feature_names),
        target_names=tuple(str(t) for t in d.target_names),
        description="Breast cancer diagnosis, 569 samples, 30 standardized features",
    )


@lru_cache(maxsize=1)
def load_breast_cancer_raw() -> Dataset:
    """Breast cancer data *unscaled*, for pages that fit preprocessing on a training split."""
    from sklearn.datasets import load_breast_cancer as _load

    d = _load()
    return Dataset(
        X=_readonly(d.data.astype(np.float64)),
        y=_readonly(d.target.astype(np.int64)),
        feature_names=tuple(str(f) for f in d.feature_names),
        target_names=tuple(str(t) for t in d.target_names),
        description="Breast cancer diagnosis, 569 samples, 30 raw features",
    )


def split_indices(n_samples: int, fractions: tuple[float, ...], *, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Random disjoint index sets with the given fractions (the last takes the remainder)."""
    perm = rng.permutation(n_samples)
    out, start = [], 0
    for i, f in enumerate(fractions):
        stop = n_samples if i == len(fractions) - 1 else start + int(round(f * n_samples))
        out.append(np.sort(perm[start:stop]))
        start = stop
    return tuple(out)


def correlated_regression(
    n_samples: int = 100,
    *,
    w_true: tuple[float, float] = (1.5, 0.5),
    rho: float = 0.7,
    sigma: float = 0.5,
    n_outliers: int = 0,
    rng: np.random.Generator,
) -> Dataset:
    r"""Two correlated Gaussian features and a linear target.

    .. math:: x \sim \mathcal N\!\left(0, \begin{pmatrix}1&\rho\\ \rho&1\end{pmatrix}\right),
              \quad y = x^\top w^\star + \sigma\varepsilon

    Correlated features tilt the least-squares contours into ellipses, which is what makes L1 and
    L2 penalties pick visibly different solutions. ``n_outliers`` targets get a gross error of
    +/-8 sigma_y, where squared and Huber losses part ways.
    """
    cov = np.array([[1.0, rho], [rho, 1.0]])
    X = rng.multivariate_normal(np.zeros(2), cov, size=n_samples)
    y = X @ np.asarray(w_true) + sigma * rng.standard_normal(n_samples)
    if n_outliers:
        idx = rng.choice(n_samples, size=min(int(n_outliers), n_samples), replace=False)
        y[idx] += 8.0 * y.std() * np.where(X[idx, 0] > 0, -1.0, 1.0)
    return Dataset(X=X, y=y, feature_names=("x1", "x2"), target_names=("y",),
                   description=f"2 correlated features (rho={rho}), linear target, noise sigma={sigma}")


@dataclass(frozen=True, eq=False)
class ClassificationSplit:
    """Training and held-out arrays of a classification task (read-only)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    description: str


@lru_cache(maxsize=2)
def load_digits_split(*, test_fraction: float = 0.2, split_seed: int = 0) -> ClassificationSplit:
    """The bundled digits (:func:`load_digits`), split at random into training and held-out sets.

    Pixels are centred with the *training* mean (so a bias and the weights do not fight over the mean
    image, which keeps a linear model's Hessian well conditioned). The split has its own fixed seed, so
    a page's seed changes only what the page draws, never the split. Arrays are read-only and shared.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    d = load_digits()
    test, train = split_indices(d.X.shape[0], (test_fraction, 1 - test_fraction),
                                rng=np.random.default_rng(split_seed))
    mean = d.X[train].mean(axis=0)
    return ClassificationSplit(_readonly(d.X[train] - mean), _readonly(d.y[train]), _readonly(d.X[test] - mean),
                               _readonly(d.y[test]), len(d.target_names), d.description)


@lru_cache(maxsize=1)
def load_diabetes_pair() -> Dataset:
    r"""Two standardized features of the bundled diabetes data (Efron et al. 2004; scikit-learn), N = 442.

    Disease progression after one year (standardized) against body-mass index and the log serum
    triglycerides level ``s5`` (both standardized), all centred, so a model without intercept fits:
    :math:`y \approx \theta_1\,\mathrm{BMI} + \theta_2\,\mathrm{s5}`. The two features are correlated
    (r = 0.45): least-squares contours are tilted ellipses.
    """
    from sklearn.datasets import load_diabetes as _load  # bundled, no download

    d = _load()
    X = d.data[:, [2, 8]].astype(np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = d.target.astype(np.float64)
    y = (y - y.mean()) / y.std()
    return Dataset(X=_readonly(X), y=_readonly(y), feature_names=("BMI", "s5 (log triglycerides)"),
                   target_names=("disease progression (standardized)",),
                   description="Diabetes progression vs BMI and s5, 442 patients, standardized")


@lru_cache(maxsize=1)
def load_breast_cancer_pm1() -> Dataset:
    """Breast cancer data *unscaled* with labels ±1: **+1 = malignant** (the class a screening test looks
    for), −1 = benign. For pages that fit preprocessing on a training split and classify by a sign."""
    raw = load_breast_cancer_raw()
    y = np.where(np.asarray(raw.y) == 0, 1.0, -1.0)
    return Dataset(
        X=raw.X,
        y=_readonly(y),
        feature_names=raw.feature_names,
        target_names=("benign (-1)", "malignant (+1)"),
        description="Breast cancer diagnosis, 569 samples, 30 raw features, label +1 = malignant",
    )
