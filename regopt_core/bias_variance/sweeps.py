"""Exact bias², variance and test error along one knob (spread or λ), and the family of fits over spreads
that the page's fits figure animates (plotly frames), all from one SVD per spread."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import scipy.linalg

from regopt_core.bias_variance.smoother import (
    ILL_CONDITIONED,
    MAX_SWEEP,
    _condition,
    _gain,
    _smoother_from_features,
    _spectral,
    decompose,
    rbf_features,
)


def _knob_values(values, name: str) -> np.ndarray:
    v = np.asarray(values, float).ravel()
    if v.size == 0 or v.size > MAX_SWEEP:
        raise ValueError(f"{name}: between 1 and {MAX_SWEEP} values, got {v.size}")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError(f"{name} must be finite and >= 0")
    return v


@dataclass(frozen=True)
class Sweep:
    r"""Exact bias², variance, test error, training error and df along one knob (spread or λ).

    ``train_err`` is the expected training error :math:`\frac1n\mathbb E\|y - S_{tr}y\|^2` and
    ``test_in`` the expected in-sample test error; ``test_in - train_err = 2σ²df/n`` (ESL eq. 7.21).
    ``best`` is the index minimizing ``mse``.
    """

    knob: str
    values: np.ndarray
    bias2: np.ndarray
    var: np.ndarray
    noise: float
    mse: np.ndarray
    df: np.ndarray
    train_err: np.ndarray
    test_in: np.ndarray
    cond: np.ndarray
    best: int


def _sweep_from_spectrum(knob, values, u, d, a_eval, d_all, f_train, f_eval, lam, sigma, fit_intercept, n, p):
    """Evaluate everything for stacks of spectra ``(L, ...)`` and ridge values ``lam (L,)``."""
    lam = np.asarray(lam, float)
    g = _gain(d, lam[:, None])  # (L, r)
    base = 1.0 / n if fit_intercept else 0.0
    ut_f = np.einsum("lnr,n->lr", u, f_train)  # (L, r)
    f_mean = f_train.mean() if fit_intercept else 0.0
    pred_eval = f_mean + np.einsum("lmr,lr->lm", a_eval, g * ut_f)
    bias2 = ((pred_eval - f_eval) ** 2).mean(axis=1)
    var = sigma**2 * (base + np.einsum("lmr,lr->lm", a_eval**2, g**2)).mean(axis=1)
    shrink = d * g  # (L, r)
    df = (1.0 if fit_intercept else 0.0) + shrink.sum(axis=1)
    # training error: E||(I-S)y||²/n = (||(I-S)f||² + σ² tr((I-S)ᵀ(I-S)))/n, S = P1 + U diag(h) Uᵀ
    pred_train = f_mean + np.einsum("lnr,lr->ln", u, shrink * ut_f)
    resid_b = ((f_train - pred_train) ** 2).sum(axis=1)
    tr_ImS2 = n - (1.0 if fit_intercept else 0.0) - (2 * shrink - shrink**2).sum(axis=1)
    train_err = (resid_b + sigma**2 * tr_ImS2) / n
    # in-sample test error: ||(I-S)f||²/n + σ²(1 + tr(SᵀS)/n)
    tr_S2 = (1.0 if fit_intercept else 0.0) + (shrink**2).sum(axis=1)
    test_in = resid_b / n + sigma**2 * (1.0 + tr_S2 / n)
    cond = _condition(d_all, n, p, lam, fit_intercept)
    mse = bias2 + var + sigma**2
    return Sweep(
        knob=knob,
        values=np.asarray(values, float),
        bias2=bias2,
        var=var,
        noise=float(sigma**2),
        mse=mse,
        df=df,
        train_err=train_err,
        test_in=test_in,
        cond=np.asarray(cond, float),
        best=int(np.argmin(mse)),
    )


def sweep_spread(
    x_train: np.ndarray,
    x_eval: np.ndarray,
    f_train: np.ndarray,
    f_eval: np.ndarray,
    *,
    spreads: np.ndarray,
    lam: float,
    sigma: float,
    centres: np.ndarray | None = None,
    fit_intercept: bool = True,
) -> Sweep:
    """Exact decomposition for many spreads at one λ: one batched SVD of the stacked features.

    Raises ``ValueError`` for more than ``MAX_SWEEP`` values or non-positive spreads."""
    if np.any(np.asarray(spreads, float) <= 0):
        raise ValueError("spreads must be positive")
    spreads = _knob_values(spreads, "spreads")
    centres = x_train if centres is None else np.asarray(centres, float)
    n, p = x_train.size, centres.size
    d_tr = (x_train[:, None] - centres[None, :])[None] / spreads[:, None, None]
    d_ev = (x_eval[:, None] - centres[None, :])[None] / spreads[:, None, None]
    phi_train, phi_eval = np.exp2(-(d_tr**2)), np.exp2(-(d_ev**2))
    u, d, a_eval, d_all, _ = _spectral(phi_train, phi_eval, fit_intercept=fit_intercept, rcond=None)
    lam_v = np.full(spreads.size, float(lam))
    return _sweep_from_spectrum("spread", spreads, u, d, a_eval, d_all, f_train, f_eval, lam_v, sigma, fit_intercept, n, p)


def sweep_lam(
    x_train: np.ndarray,
    x_eval: np.ndarray,
    f_train: np.ndarray,
    f_eval: np.ndarray,
    *,
    lams: np.ndarray,
    spread: float,
    sigma: float,
    centres: np.ndarray | None = None,
    fit_intercept: bool = True,
) -> Sweep:
    """Exact decomposition for many λ at one spread: one SVD, then a spectral filter per λ."""
    lams = _knob_values(lams, "lams")
    centres = x_train if centres is None else np.asarray(centres, float)
    phi_train = rbf_features(x_train, centres, spread=spread)
    phi_eval = rbf_features(x_eval, centres, spread=spread)
    return _sweep_features("lam", lams, phi_train, phi_eval, f_train, f_eval, lams=lams, sigma=sigma, fit_intercept=fit_intercept)


def _sweep_features(knob, values, phi_train, phi_eval, f_train, f_eval, *, lams, sigma, fit_intercept):
    n, p = phi_train.shape
    u, d, a_eval, d_all, _ = _spectral(phi_train, phi_eval, fit_intercept=fit_intercept, rcond=None)
    L = len(lams)
    return _sweep_from_spectrum(
        knob,
        values,
        np.broadcast_to(u, (L, *u.shape)),
        np.broadcast_to(d, (L, *d.shape)),
        np.broadcast_to(a_eval, (L, *a_eval.shape)),
        np.broadcast_to(d_all, (L, *d_all.shape)),
        f_train,
        f_eval,
        lams,
        sigma,
        fit_intercept,
        n,
        p,
    )


class _Rows:
    """The parts of a :class:`Smoother` that :func:`spread_family` uses."""

    __slots__ = ("S", "S_train", "df", "cond")

    def __init__(self, S, S_train, df, cond):
        self.S, self.S_train, self.df, self.cond = S, S_train, df, cond


def _ridge_smoother(phi_train: np.ndarray, phi_eval: np.ndarray, *, lam: float, fit_intercept: bool):
    r"""The ridge smoother by a Cholesky solve of :math:`(\Phi_c^\top\Phi_c + \lambda I) X = \Phi_c^\top`
    (about twice as fast as the SVD), used only where it is as accurate: λ > 0 and
    cond(ΦᵀΦ + λI) ≤ 10⁸ (from the eigenvalues of ΦᵀΦ). Otherwise ``None`` (the caller uses the SVD)."""
    if not lam > 0:
        return None
    n, p = phi_train.shape
    if fit_intercept:
        mean = phi_train.mean(axis=0, keepdims=True)
        phi_train, phi_eval = phi_train - mean, phi_eval - mean
    gram = phi_train.T @ phi_train
    ev = scipy.linalg.eigvalsh(gram, check_finite=False)
    cond = float((ev[-1] + lam) / (max(ev[0], 0.0) + lam))
    if not cond <= ILL_CONDITIONED:
        return None
    gram[np.diag_indices_from(gram)] += lam
    factor = scipy.linalg.cho_factor(gram, lower=True, check_finite=False)
    X = scipy.linalg.cho_solve(factor, phi_train.T, check_finite=False)  # (p, n)
    base = 1.0 / n if fit_intercept else 0.0
    S_train = base + phi_train @ X
    return _Rows(base + phi_eval @ X, S_train, float(np.trace(S_train)), cond)


@dataclass(frozen=True)
class SpreadFamily:
    r"""The fits figure for every spread of a list at one λ: exact mean fit and variance band along x,
    the fits to the same few training sets, and the exact averages as a :class:`Sweep` over spread.

    ``fits[s, k]`` is the fit with spread ``spreads[s]`` to training set ``y_sets[k]`` (the same sets for
    every spread, so a frame change shows what the spread alone does).
    """

    spreads: np.ndarray  # (S,)
    lam: float
    x_train: np.ndarray  # (n,)
    x_eval: np.ndarray  # (m,)
    f_eval: np.ndarray  # (m,)
    y_sets: np.ndarray  # (k, n) training targets
    fits: np.ndarray  # (S, k, m)
    mean_x: np.ndarray  # (S, m)  E[ŷ(x)] = S(x) f
    sd_x: np.ndarray  # (S, m)  σ‖S(x)‖
    sweep: Sweep  # bias², variance, test MSE, df, errors and cond at each spread


def spread_family(
    x_train: np.ndarray,
    x_eval: np.ndarray,
    f_train: np.ndarray,
    f_eval: np.ndarray,
    y_sets: np.ndarray,
    *,
    spreads,
    lam: float,
    sigma: float,
    centres: np.ndarray | None = None,
    fit_intercept: bool = True,
) -> SpreadFamily:
    r"""One smoother per spread (thin SVD each, as :func:`rbf_smoother`), applied to the training sets
    ``y_sets`` and to the truth; training and in-sample test errors in closed form:
    :math:`\frac1n\mathbb E\|y - S_{tr}y\|^2 = \frac1n\big(\|(I-S_{tr})f\|^2 + \sigma^2\operatorname{tr}
    (I-S_{tr})^\top(I-S_{tr})\big)` and :math:`\frac1n\|(I-S_{tr})f\|^2 + \sigma^2(1 + \operatorname{tr}
    S_{tr}^\top S_{tr}/n)` (ESL §7.4)."""
    spreads = _knob_values(spreads, "spreads")
    if np.any(spreads <= 0):
        raise ValueError("spreads must be positive")
    x_train, x_eval = np.asarray(x_train, float), np.asarray(x_eval, float)
    centres = x_train if centres is None else np.asarray(centres, float)
    y_sets = np.atleast_2d(np.asarray(y_sets, float))
    n, m, k, L = x_train.size, x_eval.size, y_sets.shape[0], spreads.size
    fits = np.empty((L, k, m))
    mean_x = np.empty((L, m))
    sd_x = np.empty((L, m))
    stats = {name: np.empty(L) for name in ("bias2", "var", "mse", "df", "train_err", "test_in", "cond")}
    eye = np.eye(n)
    for i, s in enumerate(spreads):
        phi_train = rbf_features(x_train, centres, spread=float(s))
        phi_eval = rbf_features(x_eval, centres, spread=float(s))
        sm = _ridge_smoother(phi_train, phi_eval, lam=lam, fit_intercept=fit_intercept)
        if sm is None:  # λ = 0 or ill-conditioned: the SVD (minimum-norm, truncated) route
            sm = _smoother_from_features(phi_train, phi_eval, lam=lam, fit_intercept=fit_intercept, rcond=None)
        d = decompose(sm, f_train, f_eval, sigma=sigma)
        fits[i] = y_sets @ sm.S.T
        mean_x[i] = d.mean_x
        sd_x[i] = np.sqrt(d.var_x)
        resid = eye - sm.S_train
        rb = float(np.sum((resid @ f_train) ** 2))
        stats["bias2"][i], stats["var"][i], stats["mse"][i], stats["df"][i] = d.bias2, d.var, d.mse, d.df
        stats["train_err"][i] = (rb + sigma**2 * float(np.sum(resid * resid))) / n
        stats["test_in"][i] = rb / n + sigma**2 * (1.0 + float(np.sum(sm.S_train * sm.S_train)) / n)
        stats["cond"][i] = sm.cond
    sweep = Sweep(knob="spread", values=spreads, noise=float(sigma**2), best=int(np.argmin(stats["mse"])), **stats)
    return SpreadFamily(spreads=spreads, lam=float(lam), x_train=x_train, x_eval=x_eval, f_eval=np.asarray(f_eval, float),
                        y_sets=y_sets, fits=fits, mean_x=mean_x, sd_x=sd_x, sweep=sweep)
