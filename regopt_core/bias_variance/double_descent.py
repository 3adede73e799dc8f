r"""Double descent of random-feature regression, in closed form, with a decomposition that adds up.

The model (no intercept): :math:`\hat y(x) = \sum_{j=1}^p w_j \varphi_j(x)` with random cosines
:math:`\varphi_j(x) = \sqrt2\cos(\omega_j x + b_j)` (Rahimi & Recht 2007), fitted by

.. math:: \hat w = \arg\min_w \|y - \Phi w\|_2^2 + \lambda \|w\|_2^2

(a *sum* of squared errors plus :math:`\lambda\|w\|^2`, the convention of the whole bias–variance page),
and at :math:`\lambda \to 0` the minimum-norm least-squares fit :math:`\Phi^+ y`. For p < n the fit is
ordinary least squares; at p = n it interpolates through a nearly singular square system and its variance
explodes; for p > n the minimum-norm interpolant is smooth again (Belkin, Hsu, Ma & Mandal, PNAS 2019;
Hastie, Montanari, Rosset & Tibshirani, Ann. Stat. 2022).

**What is shown.** For each p, the expected test error of one feature draw is exact
(:math:`\text{bias}^2 + \text{variance} + \sigma^2`, from the smoother). Over the ``n_repeats`` draws the
curve shows the **median draw** — the draw whose test error is the median — together with *that draw's*
bias² and variance, so the parts shown add up to the total shown (an arithmetic mean over draws would be
dominated by the rare draw whose square system is almost exactly singular, and a geometric mean does not
split into parts).

**When is there a peak?** :func:`bump_ratio` compares the highest error in a window around p = n with the
higher of the two valleys on either side (the lowest error left of the window and right of it): a ratio
above 1 is a peak the curve climbs into and out of. A ratio at most :data:`PEAK_TOL` = 1.1 counts as *no
peak* (a bump under 10 % is within the scatter of a median over a few draws and invisible on a log axis).
:func:`double_descent` scans λ on :data:`LAM_SCAN` and reports the smallest λ from which on (it and every
larger scanned λ) the curve has no peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core.bias_variance.smoother import MAX_BASIS, _gain

MAX_REPEATS = 25
#: λ scanned for the smallest ridge strength whose curve has no peak at p = n
LAM_SCAN = np.geomspace(1e-8, 1e2, 41)
#: a bump ratio at most this is "no peak"
PEAK_TOL = 1.1


def random_cosine_features(x: np.ndarray, omega: np.ndarray, phase: np.ndarray) -> np.ndarray:
    r"""Random Fourier features :math:`\varphi_j(x) = \sqrt2 \cos(\omega_j x + b_j)` (Rahimi & Recht 2007)."""
    return np.sqrt(2.0) * np.cos(np.asarray(x, float)[:, None] * omega[None, :] + phase[None, :])


def peak_window(n_samples: int) -> int:
    """Half-width of the window around p = n in which a peak is looked for: max(1, round(n/10))."""
    return max(1, int(round(0.1 * n_samples)))


def bump_ratio(n_features: np.ndarray, mse: np.ndarray, n_samples: int) -> float:
    """Height of the peak at the interpolation threshold over the higher of its two valleys.

    ``max(mse[|p − n| ≤ w]) / max(min(mse[p < n − w]), min(mse[p > n + w]))`` with ``w =``
    :func:`peak_window`. Above 1: the curve rises into p = n and falls after it (a peak); at most 1: no
    peak (the curve is monotone or has its minimum there). ``nan`` when a side has no point.
    """
    p = np.asarray(n_features)
    mse = np.asarray(mse, float)
    w = peak_window(n_samples)
    near, left, right = np.abs(p - n_samples) <= w, p < n_samples - w, p > n_samples + w
    if not (near.any() and left.any() and right.any()):
        return float("nan")
    return float(mse[near].max() / max(mse[left].min(), mse[right].min()))


@dataclass(frozen=True)
class DoubleDescent:
    r"""Expected test error of minimum-norm and ridge random-feature fits against the number of features p.

    Each curve is the median feature draw at each p, with that draw's bias² and variance:
    ``bias2_* + var_* + noise == mse_*`` exactly. ``bump_*`` are :func:`bump_ratio` of the curves;
    ``lam_no_peak`` the smallest λ of ``lam_scan`` from which on every curve has a bump ratio ≤
    :data:`PEAK_TOL` (``nan`` if none), and ``mse_no_peak`` the curve at that λ.
    """

    n_features: np.ndarray
    n_samples: int
    lam: float
    noise: float
    n_repeats: int
    mse_min_norm: np.ndarray
    bias2_min_norm: np.ndarray
    var_min_norm: np.ndarray
    mse_ridge: np.ndarray
    bias2_ridge: np.ndarray
    var_ridge: np.ndarray
    peak: int  # n_features at the min-norm maximum
    bump_min_norm: float
    bump_ridge: float
    lam_scan: np.ndarray
    bump_scan: np.ndarray
    lam_no_peak: float
    mse_no_peak: np.ndarray


def _median_draw(mse: np.ndarray) -> np.ndarray:
    """Index (along axis 0) of the median draw of each column (the lower median for an even count)."""
    return np.argsort(mse, axis=0, kind="stable")[(mse.shape[0] - 1) // 2]


@dataclass(frozen=True)
class DoubleDescentCore:
    r"""The part of :func:`double_descent` that does not depend on the noise level σ.

    For every feature draw, every λ of ``lams`` (``[0, lam, *LAM_SCAN]``) and every p: the exact bias²
    (``bias2``) and the variance per unit noise variance (``var_unit``, so that the variance is
    ``sigma**2 * var_unit``), arrays of shape ``(n_repeats, len(lams), len(n_features))``. The fit is linear
    in the targets and its row :math:`S(x)` does not depend on the noise: bias² involves f only, and the
    variance is :math:`\sigma^2\|S(x)\|^2`. :func:`double_descent_at` turns a core into the curves for any σ,
    so a move of σ alone costs no new fits.
    """

    n_features: np.ndarray
    n_samples: int
    lam: float
    n_repeats: int
    lams: np.ndarray
    bias2: np.ndarray
    var_unit: np.ndarray


def double_descent_core(
    x_train: np.ndarray,
    x_eval: np.ndarray,
    f_train: np.ndarray,
    f_eval: np.ndarray,
    *,
    n_features: np.ndarray,
    lam: float = 1e-3,
    n_repeats: int = 9,
    rng: np.random.Generator,
) -> DoubleDescentCore:
    r"""The σ-free part of :func:`double_descent` (see :class:`DoubleDescentCore`); same arguments but σ,
    same errors."""
    p_all = np.asarray(n_features)
    if p_all.size == 0 or np.any(p_all != np.round(p_all)) or p_all.min() < 1 or p_all.max() > MAX_BASIS:
        raise ValueError(f"n_features must be integers in [1, {MAX_BASIS}]")
    if not 1 <= int(n_repeats) <= MAX_REPEATS:
        raise ValueError(f"n_repeats must lie in [1, {MAX_REPEATS}], got {n_repeats}")
    if not (np.isfinite(lam) and lam >= 0):
        raise ValueError("lam and sigma must be finite numbers >= 0")
    p_all = np.unique(p_all.astype(int))
    reps = int(n_repeats)
    x_train, x_eval = np.asarray(x_train, float), np.asarray(x_eval, float)
    f_train, f_eval = np.asarray(f_train, float), np.asarray(f_eval, float)
    n, p_max = x_train.size, int(p_all.max())
    lams = np.r_[0.0, float(lam), LAM_SCAN]  # (L,)
    phi_tr, phi_ev = [], []
    for child in rng.spawn(reps):
        omega = child.uniform(-np.pi * n, np.pi * n, p_max)
        phase = child.uniform(0.0, 2 * np.pi, p_max)
        phi_tr.append(random_cosine_features(x_train, omega, phase))
        phi_ev.append(random_cosine_features(x_eval, omega, phase))
    phi_tr, phi_ev = np.stack(phi_tr), np.stack(phi_ev)  # (R, n, p_max), (R, m, p_max)
    bias2 = np.empty((reps, lams.size, p_all.size))
    var_unit = np.empty_like(bias2)
    eps = np.finfo(float).eps
    for j, p in enumerate(p_all):  # one batched SVD per p over the draws
        u, d, vt = np.linalg.svd(phi_tr[:, :, :p], full_matrices=False)  # (R, n, r), (R, r), (R, r, p)
        d = np.where(d > eps * max(n, p) * d[:, :1], d, 0.0)
        a_eval = phi_ev[:, :, :p] @ np.swapaxes(vt, 1, 2)  # (R, m, r)
        g = _gain(d[:, None, :], lams[None, :, None])  # (R, L, r)
        ut_f = f_train @ u  # (R, r): U^T f per draw
        # batched matrix products (BLAS) instead of einsum: pred[R, L, m] = sum_r g ut_f a_eval[R, m, r]
        pred = (g * ut_f[:, None, :]) @ np.swapaxes(a_eval, 1, 2)  # (R, L, m)
        pred -= f_eval
        bias2[:, :, j] = np.einsum("RLm,RLm->RL", pred, pred) / pred.shape[2]
        var_unit[:, :, j] = ((g * g) @ (a_eval * a_eval).mean(axis=1)[:, :, None])[:, :, 0]
    for a in (p_all, lams, bias2, var_unit):
        a.setflags(write=False)
    return DoubleDescentCore(n_features=p_all, n_samples=n, lam=float(lam), n_repeats=reps, lams=lams,
                             bias2=bias2, var_unit=var_unit)


def double_descent_at(core: DoubleDescentCore, sigma: float) -> DoubleDescent:
    """The double-descent curves of a :class:`DoubleDescentCore` at noise level ``sigma`` (σ ≥ 0, finite, else
    ValueError): exactly what :func:`double_descent` with that σ returns."""
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError("lam and sigma must be finite numbers >= 0")
    p_all, n, bias2 = core.n_features, core.n_samples, core.bias2
    var = sigma**2 * core.var_unit
    mse = bias2 + var + sigma**2
    pick = _median_draw(mse)  # (L, P)
    take = lambda a: np.take_along_axis(a, pick[None], axis=0)[0]  # noqa: E731
    mse_m, b_m, v_m = take(mse), take(bias2), take(var)
    bumps = np.array([bump_ratio(p_all, mse_m[i], n) for i in range(core.lams.size)])
    scan_bumps = bumps[2:]
    above = np.flatnonzero(~(scan_bumps <= PEAK_TOL))  # nan counts as a peak
    i_gone = int(above[-1]) + 1 if above.size else 0
    i_gone = i_gone if i_gone < scan_bumps.size else -1
    return DoubleDescent(
        n_features=np.array(p_all),
        n_samples=n,
        lam=core.lam,
        noise=float(sigma**2),
        n_repeats=core.n_repeats,
        mse_min_norm=mse_m[0],
        bias2_min_norm=b_m[0],
        var_min_norm=v_m[0],
        mse_ridge=mse_m[1],
        bias2_ridge=b_m[1],
        var_ridge=v_m[1],
        peak=int(p_all[np.argmax(mse_m[0])]),
        bump_min_norm=float(bumps[0]),
        bump_ridge=float(bumps[1]),
        lam_scan=LAM_SCAN.copy(),
        bump_scan=scan_bumps,
        lam_no_peak=float(LAM_SCAN[i_gone]) if i_gone >= 0 else float("nan"),
        mse_no_peak=mse_m[2 + i_gone] if i_gone >= 0 else np.full(p_all.size, np.nan),
    )


def double_descent(
    x_train: np.ndarray,
    x_eval: np.ndarray,
    f_train: np.ndarray,
    f_eval: np.ndarray,
    *,
    n_features: np.ndarray,
    sigma: float,
    lam: float = 1e-3,
    n_repeats: int = 9,
    rng: np.random.Generator,
) -> DoubleDescent:
    r"""Double descent of random-feature regression (no intercept), in closed form (module docstring).

    Frequencies :math:`\omega_j \sim U(-\pi n, \pi n)` (up to the Nyquist rate of n equispaced samples on
    [0, 1]) and phases :math:`b_j \sim U(0, 2\pi)`, nested: the fit with p features uses the first p of one
    draw; ``n_repeats`` independent draws (children of ``rng``). For each p and draw one thin SVD gives the
    exact bias² and variance for λ = 0, ``lam`` and every λ of :data:`LAM_SCAN` at once
    (:func:`double_descent_core`, then :func:`double_descent_at` for σ).
    Raises ``ValueError`` for p outside [1, ``MAX_BASIS``], repeats outside [1, ``MAX_REPEATS``], λ < 0.
    """
    if not (np.isfinite(lam) and lam >= 0 and np.isfinite(sigma) and sigma >= 0):
        raise ValueError("lam and sigma must be finite numbers >= 0")
    core = double_descent_core(x_train, x_eval, f_train, f_eval, n_features=n_features, lam=lam,
                               n_repeats=n_repeats, rng=rng)
    return double_descent_at(core, sigma)


def describe(dd: DoubleDescent) -> str:
    """The page's sentence about the peak, worded from the computed bump ratios (markdown)."""
    lam, b0, b1, gone = dd.lam, dd.bump_min_norm, dd.bump_ridge, dd.lam_no_peak
    if not np.isfinite(b0):
        return "The feature counts do not reach both sides of p = n, so no peak can be judged."
    if b0 <= PEAK_TOL:
        return (f"Here even the minimum-norm curve has **no peak** at p = n (its highest point there is {b0:.2g}× "
                "its valleys): with so little noise the interpolant does not swing.")
    where = (f"it is gone from **λ ≈ {gone:.2g}** on (the dotted curve)" if np.isfinite(gone)
             else f"no λ up to {LAM_SCAN[-1]:g} removes it entirely here")
    if b1 > PEAK_TOL:
        return (f"Without ridge the error at p = n is **{b0:.3g}×** its valleys. At λ = {lam:g} the peak is "
                f"**smaller but not gone** ({b1:.3g}×); {where}.")
    return (f"Without ridge the error at p = n is **{b0:.3g}×** its valleys. At λ = {lam:g} the ridge curve has "
            f"**no peak** ({b1:.3g}×, at most {PEAK_TOL:g}× counts as none); "
            + (f"the smallest such λ here is ≈ {gone:.2g}." if np.isfinite(gone) else "larger λ do not all stay flat."))
