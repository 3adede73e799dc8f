r"""Leakage: when the data that judge a model helped build it.

* :func:`selection_leak`: the wrong way to cross-validate (ESL §7.10.2) — predictors selected on all
  samples before CV — against selecting inside each training fold, on pure noise (true error 50 %).
* :func:`preprocessing_leak`: standardization and oversampling fitted before the split, on the
  bundled breast-cancer data (Vandewiele et al. 2021, Artif. Intell. Med. 111).
* :func:`patient_leak`: several samples per patient, split at random vs by patient.

The classifier is ``k``-nearest-neighbours (:func:`knn_predict`). Loops run over folds and over
memory-sized chunks, never over samples one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core.splits.kernel_ridge import complement, fold_slices, one_blas_thread, standardizer

_CHUNK_PAIRS = 1 << 18  # distances held at once by knn_predict (2 MB: stays in cache)


def knn_predict(X_train: np.ndarray, y_train: np.ndarray, X_eval: np.ndarray, *, k: int = 1) -> np.ndarray:
    r"""``k``-nearest-neighbour vote with labels in :math:`\{-1,+1\}` (Euclidean distance).

    .. math:: \hat y(x) = \mathrm{sign}\!\sum_{i\in N_k(x)} y_i

    Leading axes of ``X_train`` (..., n, d) / ``X_eval`` (..., m, d) are independent problems.
    Ties (even ``k``) go to +1. Returns (..., m). Distances are ranked by
    :math:`\|b\|^2 - 2a^\top b` (the :math:`\|a\|^2` term is the same for every neighbour), in
    chunks of rows that fit in cache.
    """
    n = X_train.shape[-2]
    k = int(k)
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of training points {n}, got {k}")
    lead = np.broadcast_shapes(X_train.shape[:-2], X_eval.shape[:-2], np.shape(y_train)[:-1])
    m, d = X_eval.shape[-2], X_eval.shape[-1]
    A = np.broadcast_to(X_eval, lead + (m, d)).reshape(-1, m, d)
    B = np.broadcast_to(X_train, lead + (n, d)).reshape(-1, n, d)
    Y = np.broadcast_to(y_train, lead + (n,)).reshape(-1, n)
    b2 = np.einsum("rnd,rnd->rn", B, B)
    out = np.empty((A.shape[0], m))
    rows = max(1, _CHUNK_PAIRS // max(n, 1))
    for r in range(A.shape[0]):
        Bt = B[r].T
        for s in range(0, m, rows):
            score = A[r, s:s + rows] @ Bt
            score *= -2.0
            score += b2[r]
            if k == 1:
                votes = Y[r][np.argmin(score, axis=-1)]
            else:
                nearest = np.argpartition(score, k - 1, axis=-1)[:, :k]
                votes = Y[r][nearest].sum(axis=-1)
            out[r, s:s + rows] = np.where(votes >= 0, 1.0, -1.0)
    return out.reshape(lead + (m,))


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
        gap = self.true - self.estimates
        return {
            "protocol": np.array(self.names),
            "mean": self.estimates.mean(axis=1),
            "true": self.true.mean(axis=1),
            "se": self.estimates.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.full(len(self.names), np.nan),
            "optimism": gap.mean(axis=1),
            "optimism_se": gap.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.full(len(self.names), np.nan),
        }


def _top_from_sums(sx: np.ndarray, sxx: np.ndarray, sxy: np.ndarray, sy: np.ndarray, m: int, n_keep: int) -> np.ndarray:
    r"""Indices (R, n_keep) of the columns with the largest :math:`|\mathrm{corr}(x_j, y)|` from the sums
    over ``m`` rows: :math:`|S_{xy}-S_xS_y/m|/\sqrt{S_{xx}-S_x^2/m}` (the norm of centred y is common)."""
    num = np.abs(sxy - sx * (sy / m)[:, None])
    den = np.sqrt(np.maximum(sxx - sx * sx / m, 1e-300))
    return np.argpartition(-(num / den), n_keep - 1, axis=-1)[:, :n_keep]


@one_blas_thread
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

    Correlations of a training part come from column sums over all rows minus the fold's rows.
    """
    n_samples, n_features, n_keep, n_folds, n_repeats = map(int, (n_samples, n_features, n_keep, n_folds, n_repeats))
    if n_samples < 4 or not 1 <= n_keep <= n_features or n_folds < 2 or n_repeats < 2:
        raise ValueError(f"need n_samples >= 4, 1 <= n_keep <= n_features, n_folds >= 2, n_repeats >= 2; got "
                         f"{n_samples}, {n_keep}, {n_features}, {n_folds}, {n_repeats}")
    chunk = max(1, int(2.0e6 // (n_samples * n_features)))  # keep each batch near 16 MB
    wrong, right = [], []
    folds = fold_slices(n_samples, n_folds)
    labels = np.where(np.arange(n_samples) < n_samples // 2, 1.0, -1.0)
    for start in range(0, n_repeats, chunk):
        r = min(chunk, n_repeats - start)
        X = rng.standard_normal((r, n_samples, n_features))
        y = rng.permuted(np.tile(labels, (r, 1)), axis=1)
        sx, sxx = X.sum(axis=1), np.einsum("rnp,rnp->rp", X, X)
        sxy, sy = np.einsum("rnp,rn->rp", X, y), y.sum(axis=1)
        Xw = _columns(X, _top_from_sums(sx, sxx, sxy, sy, n_samples, n_keep))
        err_w = np.zeros(r)
        err_r = np.zeros(r)
        for idx in folds:
            rest = complement(n_samples, idx)
            pred_w = knn_predict(Xw[:, rest], y[:, rest], Xw[:, idx], k=k)
            err_w += (pred_w != y[:, idx]).sum(axis=-1)
            Xf, yf = X[:, idx], y[:, idx]
            sel = _top_from_sums(sx - Xf.sum(axis=1), sxx - np.einsum("rnp,rnp->rp", Xf, Xf),
                                 sxy - np.einsum("rnp,rn->rp", Xf, yf), sy - yf.sum(axis=1), rest.size, n_keep)
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
        description=f"pure noise, n={n_samples}, p={n_features}, keep {n_keep}, {len(folds)}-fold, {k}-NN",
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


def stratified_counts(n_samples: int) -> tuple[int, int]:
    """(malignant, benign) patients in a study of ``n_samples`` drawn with the data's proportions."""
    from regopt_core.datasets import load_breast_cancer_pm1

    y = load_breast_cancer_pm1().y
    n_pos = int(np.clip(round(n_samples * np.sum(y > 0) / y.size), 2, n_samples - 2))
    return n_pos, n_samples - n_pos


@one_blas_thread
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
    remaining patients give the true error. Four ``k``-fold CV estimates (folds stratified):

    * standardization fitted on all study data before the split vs inside each training fold
      (unsupervised; it leaks little);
    * random oversampling of the minority class to balance the classes, before the split (copies
      of one patient land in training and test folds; Vandewiele et al. 2021) vs inside each
      training fold.

    The true error is that of the model fitted (standardized and oversampled) on the whole study.
    ``n_folds`` must not exceed the smaller class's count (``ValueError``).
    """
    from regopt_core.datasets import load_breast_cancer_pm1

    n_samples, n_folds, n_repeats = int(n_samples), int(n_folds), int(n_repeats)
    d = load_breast_cancer_pm1()
    X_all, y_all = d.X, d.y
    if not 10 <= n_samples <= X_all.shape[0] - 50 or n_repeats < 2:
        raise ValueError(f"a study enrols 10 to {X_all.shape[0] - 50} patients and needs >= 2 repeats; "
                         f"got {n_samples}, {n_repeats}")
    n_pos, n_neg = stratified_counts(n_samples)
    if not 2 <= n_folds <= min(n_pos, n_neg):
        raise ValueError(f"stratified {n_folds}-fold CV needs 2 to {min(n_pos, n_neg)} folds at n = {n_samples}")
    # stratified draw: every study has the same class counts, positives first then negatives (each
    # block in random order), so stratified folds are contiguous slices of each block and every
    # training part has the same class counts in every study (oversampling sizes then match).
    pos_all, neg_all = np.flatnonzero(y_all > 0), np.flatnonzero(y_all < 0)
    pp = rng.permuted(np.tile(pos_all, (n_repeats, 1)), axis=1)
    nn = rng.permuted(np.tile(neg_all, (n_repeats, 1)), axis=1)
    study = np.concatenate([pp[:, :n_pos], nn[:, :n_neg]], axis=1)
    pop = np.concatenate([pp[:, n_pos:], nn[:, n_neg:]], axis=1)
    X, y = X_all[study], y_all[study]
    Xp, yp = X_all[pop], y_all[pop]
    folds = [np.concatenate([a, n_pos + b]) for a, b in zip(fold_slices(n_pos, n_folds), fold_slices(n_neg, n_folds))]

    def standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
        mu, sd = standardizer(train, True)
        return [(a - mu) / sd for a in (train, *others)]

    errs = np.zeros((4, n_repeats))
    # (a) standardization: on all study data vs on each training part
    Xs_all = standardize(X)[0]
    for idx in folds:
        rest = complement(n_samples, idx)
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
        rest = complement(n_o, idx)
        Xtr, Xte = standardize(Xo[:, rest], Xo[:, idx])
        pred = knn_predict(Xtr, yo[:, rest], Xte, k=k)
        errs[2] += (pred != yo[:, idx]).sum(axis=-1) / n_o
    # ... and inside each fold, only the training part is oversampled
    for idx in folds:
        rest = complement(n_samples, idx)
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
    if min(int(n_patients), int(n_per_patient), int(n_repeats), d) < 1:
        raise ValueError("make_patients needs at least one patient, sample, repetition and feature")
    u = np.ones(d) / np.sqrt(d)
    y_p = np.where(rng.random((n_repeats, n_patients)) < 0.5, 1.0, -1.0)
    centre = signal * y_p[..., None] * u + between * rng.standard_normal((n_repeats, n_patients, d))
    X = centre[:, :, None, :] + within * rng.standard_normal((n_repeats, n_patients, n_per_patient, d))
    return X.reshape(n_repeats, n_patients * n_per_patient, d), np.repeat(y_p, n_per_patient, axis=1)


@one_blas_thread
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
    n_fresh: int = 1000,
    rng: np.random.Generator,
) -> LeakResult:
    r"""Several samples per patient: ``k``-fold CV over samples at random vs over patients (group
    split). The true error is that of the ``k``-NN classifier trained on all study samples, for one
    sample of each of ``n_fresh`` new patients (:func:`make_patients`). With one sample per patient
    both splits coincide."""
    n_patients, n_per_patient, n_folds, n_repeats, n_fresh = map(int, (n_patients, n_per_patient, n_folds,
                                                                      n_repeats, n_fresh))
    if n_patients < 2 or n_per_patient < 1 or not 2 <= n_folds <= n_patients or n_repeats < 2 or n_fresh < 1:
        raise ValueError(f"need >= 2 patients, >= 1 sample each, 2 <= folds <= patients, >= 2 repeats, >= 1 fresh "
                         f"patient; got {n_patients}, {n_per_patient}, {n_folds}, {n_repeats}, {n_fresh}")
    n = n_patients * n_per_patient
    knobs = dict(n_features=n_features, signal=signal, between=between, within=within)
    X, y = make_patients(n_patients, n_per_patient, n_repeats=n_repeats, rng=rng, **knobs)
    # random split over samples: shuffle samples, contiguous folds
    perm = rng.permuted(np.tile(np.arange(n), (n_repeats, 1)), axis=1)
    Xs, ys = np.take_along_axis(X, perm[..., None], axis=1), np.take_along_axis(y, perm, axis=1)
    errs = np.zeros((2, n_repeats))
    X_new, y_new = make_patients(n_fresh, 1, n_repeats=n_repeats, rng=rng, **knobs)
    for idx in fold_slices(n, n_folds):
        rest = complement(n, idx)
        errs[0] += (knn_predict(Xs[:, rest], ys[:, rest], Xs[:, idx], k=k) != ys[:, idx]).sum(-1)
    # group split: patients are iid, so contiguous blocks of patients are random patient folds
    for pidx in fold_slices(n_patients, n_folds):
        idx = (pidx[:, None] * n_per_patient + np.arange(n_per_patient)).ravel()
        rest = complement(n, idx)
        errs[1] += (knn_predict(X[:, rest], y[:, rest], X[:, idx], k=k) != y[:, idx]).sum(-1)
    # truth: new patients, one sample each
    true = (knn_predict(X, y, X_new, k=k) != y_new).mean(axis=-1)
    errs /= n
    return LeakResult(
        names=("random split over samples", "split by patient (group k-fold)"),
        estimates=errs,
        true=np.stack([true, true]),
        description=f"{n_patients} patients x {n_per_patient} samples, {n_folds}-fold, {k}-NN",
    )
