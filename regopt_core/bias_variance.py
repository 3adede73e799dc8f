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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "TRUE_FUNCTIONS",
    "MAX_DRAWS",
    "MAX_SAMPLES",
    "MAX_BASIS",
    "MAX_GRID",
    "Smoother",
    "Decomposition",
    "MonteCarlo",
    "Sweep",
    "DoubleDescent",
    "true_function",
    "sample_design",
    "rbf_features",
    "rbf_smoother",
    "decompose",
    "simulate_bias_variance",
    "sweep_spread",
    "sweep_lam",
    "double_descent",
    "random_cosine_features",
    "Experiment",
    "ExperimentResult",
    "LECTURE",
    "run_experiment",
    "run_sweeps",
    "experiment_data",
    "SPREAD_GRID",
    "LAM_GRID",
]

MAX_SAMPLES = 400  # n: training inputs
MAX_BASIS = 800  # p: basis functions (centres / random features)
MAX_GRID = 1000  # m: evaluation points
MAX_DRAWS = 20_000  # K: Monte-Carlo training sets
MAX_SWEEP = 200  # points of a spread or lambda sweep

# Ill-conditioning threshold for the ridge system (Φ_cᵀΦ_c + λI): beyond 1e8 a double-precision
# solve loses more than half of its 16 significant digits.
ILL_CONDITIONED = 1e8


def _sine(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x)


def _step(x: np.ndarray) -> np.ndarray:
    # a smoothed step: a steep logistic ramp from -0.8 to 0.8 at x = 0.5
    return 0.8 * np.tanh((x - 0.5) / 0.03)


def _bump(x: np.ndarray) -> np.ndarray:
    return 1.5 * np.exp(-(((x - 0.5) / 0.12) ** 2)) - 0.5


def _dip(x: np.ndarray) -> np.ndarray:
    # a wave with a sharp dip in the middle, like the curve in the lecture's pictures
    return np.sin(2 * np.pi * x) * 0.6 + 0.4 - 1.4 * np.exp(-(((x - 0.5) / 0.06) ** 2))


TRUE_FUNCTIONS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "sine": ("sin(2πx)", _sine),
    "dip": ("wave with a sharp central dip", _dip),
    "step": ("smoothed step at x = 0.5", _step),
    "bump": ("smooth bump at x = 0.5", _bump),
}


def true_function(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The true regression curve ``f`` on the input range [0, 1] called ``name``.

    Parameters
    ----------
    name : str
        One of ``TRUE_FUNCTIONS``: ``"sine"`` (:math:`\\sin 2\\pi x`, Bishop §3.2), ``"dip"``,
        ``"step"``, ``"bump"``.
    """
    try:
        return TRUE_FUNCTIONS[name][1]
    except KeyError:
        raise ValueError(f"unknown true function {name!r}; choose one of {sorted(TRUE_FUNCTIONS)}") from None


def sample_design(n_samples: int, *, kind: str = "grid", rng: np.random.Generator | None = None) -> np.ndarray:
    """Training inputs on [0, 1], held fixed across the simulated training sets.

    ``kind="grid"``: equally spaced, :math:`x_i = (i - 1/2)/n`; ``kind="uniform"``: i.i.d. uniform
    draws (needs ``rng``), sorted. ``n_samples`` is capped at ``MAX_SAMPLES``.
    """
    n = int(np.clip(n_samples, 2, MAX_SAMPLES))
    if kind == "grid":
        return (np.arange(n) + 0.5) / n
    if kind == "uniform":
        if rng is None:
            raise ValueError("a uniform design needs rng")
        return np.sort(rng.uniform(0.0, 1.0, n))
    raise ValueError(f"unknown design kind {kind!r}")


def rbf_features(x: np.ndarray, centres: np.ndarray, *, spread: float) -> np.ndarray:
    r"""Gaussian bumps :math:`\varphi_j(x) = 2^{-((x - c_j)/s)^2}`, one column per centre.

    The spread :math:`s` is the half-width at half-height: :math:`\varphi_j(c_j \pm s) = 1/2`
    (MATLAB ``radbas`` with bias :math:`\sqrt{\ln 2}/s`). A Gaussian of standard deviation
    :math:`\ell` has :math:`s = \ell\sqrt{2\ln 2} \approx 1.177\,\ell`.

    Returns
    -------
    ndarray, shape (len(x), len(centres))
    """
    if not spread > 0:
        raise ValueError("spread must be positive")
    d = (np.asarray(x, float)[:, None] - np.asarray(centres, float)[None, :]) / spread
    return np.exp2(-(d * d))


# ----------------------------------------------------------------------------------------------
# The smoother in spectral form
# ----------------------------------------------------------------------------------------------


def _spectral(phi_train: np.ndarray, phi_eval: np.ndarray, *, fit_intercept: bool, rcond: float | None):
    """Thin SVD of the (centred) training features; works on stacks ``(..., n, p)``.

    Returns ``U (.., n, r)``, ``d (.., r)`` with truncated singular values set to 0,
    ``A_eval (.., m, r)`` and ``d_all`` (the untruncated singular values, padded with zeros when
    p > rank could be).
    """
    n, p = phi_train.shape[-2:]
    if fit_intercept:
        mean = phi_train.mean(axis=-2, keepdims=True)
        phi_train = phi_train - mean
        phi_eval = phi_eval - mean
    u, d, vt = np.linalg.svd(phi_train, full_matrices=False)
    tol = (np.finfo(float).eps * max(n, p)) if rcond is None else rcond
    keep = d > tol * d[..., :1]
    d_kept = np.where(keep, d, 0.0)
    a_eval = phi_eval @ np.swapaxes(vt, -1, -2)
    return u, d_kept, a_eval, d, keep


def _gain(d: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    """Spectral filter d/(d²+λ), 0 for dropped directions (d = 0), the λ = 0 limit being 1/d."""
    d = np.asarray(d, float)
    lam = np.asarray(lam, float)
    den = d * d + lam
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(d > 0, d / np.where(den > 0, den, 1.0), 0.0)
    return g


def _condition(d_all: np.ndarray, n: int, p: int, lam: float, fit_intercept: bool) -> float:
    """Condition number of the regularized normal matrix Φ_cᵀΦ_c + λI (p × p)."""
    d_max = d_all[..., 0]
    # a p-column matrix with fewer independent rows than columns has zero singular values
    n_eff = n - 1 if fit_intercept else n
    d_min = d_all[..., -1] if p <= n_eff else np.zeros_like(d_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (d_max**2 + lam) / (d_min**2 + lam)


@dataclass(frozen=True)
class Smoother:
    r"""The linear smoother of an RBF ridge fit: :math:`\hat y(x_{\text{eval}}) = S\,y`.

    Attributes
    ----------
    S : ndarray (m, n)
        Rows :math:`S(x)` on the evaluation grid.
    S_train : ndarray (n, n)
        The hat matrix at the training inputs.
    df : float
        Effective degrees of freedom :math:`\operatorname{tr} S_{\text{train}}` (ESL eq. 5.16).
    cond : float
        Condition number of :math:`\Phi_c^\top\Phi_c + \lambda I` (inf when singular).
    rank : int
        Numerical rank of the centred features (directions kept by the SVD).
    n_basis : int
        Number of basis functions p (without the intercept).
    ill_conditioned : bool
        ``cond > 1e8``: a plain normal-equations solve would lose half its digits; the SVD solve
        used here stays stable but the fit is the minimum-norm one among near-equal fits.
    message : str
    """

    S: np.ndarray
    S_train: np.ndarray
    df: float
    cond: float
    rank: int
    n_basis: int
    ill_conditioned: bool
    message: str


def rbf_smoother(
    x_train: np.ndarray,
    x_eval: np.ndarray,
    *,
    spread: float,
    lam: float = 0.0,
    centres: np.ndarray | None = None,
    fit_intercept: bool = True,
    rcond: float | None = None,
) -> Smoother:
    r"""Smoother matrix of the RBF ridge fit, computed once by an SVD (stable for any spread, λ ≥ 0).

    With :math:`\Phi_c = U D V^\top` the thin SVD of the centred training features,

    .. math::

        S(x) = \tfrac1n \mathbf 1^\top + (\varphi(x) - \bar\varphi)^\top V\,
        \operatorname{diag}\!\Big(\frac{d_k}{d_k^2 + \lambda}\Big) U^\top ,

    which at :math:`\lambda = 0` is the minimum-norm least-squares fit (directions with
    :math:`d_k \le \texttt{rcond}\, d_1` are dropped, as in ``numpy.linalg.lstsq``). ESL §5.4.1.

    Parameters
    ----------
    x_train, x_eval : ndarray
        Training inputs (n) and evaluation points (m).
    spread : float
        Half-width at half-height of every bump (> 0).
    lam : float
        Ridge strength λ ≥ 0 on the bump weights (the intercept is not penalized).
    centres : ndarray, optional
        Bump centres; default: at the training inputs.
    fit_intercept : bool
        Add an unpenalized constant.
    rcond : float, optional
        Relative cut-off for small singular values; default ``eps * max(n, p)``.
    """
    if lam < 0 or not np.isfinite(lam):
        raise ValueError("lam must be a finite number >= 0")
    x_train = np.asarray(x_train, float)
    x_eval = np.asarray(x_eval, float)
    centres = x_train if centres is None else np.asarray(centres, float)
    n, p = x_train.size, centres.size
    if n > MAX_SAMPLES or p > MAX_BASIS or x_eval.size > MAX_GRID:
        raise ValueError(f"sizes capped at n <= {MAX_SAMPLES}, p <= {MAX_BASIS}, m <= {MAX_GRID}")
    phi_train = rbf_features(x_train, centres, spread=spread)
    phi_eval = rbf_features(x_eval, centres, spread=spread)
    return _smoother_from_features(phi_train, phi_eval, lam=lam, fit_intercept=fit_intercept, rcond=rcond)


def _smoother_from_features(phi_train, phi_eval, *, lam, fit_intercept, rcond) -> Smoother:
    n, p = phi_train.shape
    u, d, a_eval, d_all, keep = _spectral(phi_train, phi_eval, fit_intercept=fit_intercept, rcond=rcond)
    g = _gain(d, lam)
    ut = u.T
    base = 1.0 / n if fit_intercept else 0.0
    S = base + (a_eval * g) @ ut
    shrink = d * g  # d²/(d²+λ), 0 for dropped directions
    S_train = base + (u * shrink) @ ut
    df = float((1.0 if fit_intercept else 0.0) + shrink.sum())
    cond = float(_condition(d_all, n, p, lam, fit_intercept))
    rank = int(keep.sum())
    ill = bool(cond > ILL_CONDITIONED)
    if ill:
        msg = (
            f"ill-conditioned: cond(ΦᵀΦ + λI) = {cond:.1e}; solved stably by SVD, keeping "
            f"{rank} of {p} directions (minimum-norm fit)"
        )
    else:
        msg = f"well-conditioned: cond(ΦᵀΦ + λI) = {cond:.1e}"
    return Smoother(S=S, S_train=S_train, df=df, cond=cond, rank=rank, n_basis=p, ill_conditioned=ill, message=msg)


# ----------------------------------------------------------------------------------------------
# Exact decomposition
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decomposition:
    r"""Bias², variance and noise, pointwise on the evaluation grid and averaged over it.

    ``mse = bias2 + var + noise`` is the expected squared error of a prediction at a new input
    drawn uniformly from the evaluation grid, with fresh noise (ESL eq. 7.9).
    """

    mean_x: np.ndarray  # expected fit E[ŷ(x)] = S(x) f
    bias2_x: np.ndarray
    var_x: np.ndarray
    bias2: float
    var: float
    noise: float
    mse: float
    df: float
    optimism: float  # 2σ² df / n, the expected gap between in-sample test error and training error


def decompose(smoother: Smoother, f_train: np.ndarray, f_eval: np.ndarray, *, sigma: float) -> Decomposition:
    r"""Closed-form bias–variance decomposition of a linear smoother.

    .. math::

        \operatorname{bias}^2(x) = \big(S(x) f - f(x)\big)^2, \quad
        \operatorname{Var}(x) = \sigma^2 \|S(x)\|^2, \quad
        \text{optimism} = \frac{2\sigma^2}{n}\operatorname{tr} S_{\text{train}}

    (ESL §7.3 eq. 7.9 and §7.4 eq. 7.21–7.22.)
    """
    S = smoother.S
    n = S.shape[1]
    mean_x = S @ f_train
    bias = mean_x - f_eval
    bias2_x = bias * bias
    var_x = sigma**2 * np.einsum("ij,ij->i", S, S)
    b, v = float(bias2_x.mean()), float(var_x.mean())
    return Decomposition(
        mean_x=mean_x,
        bias2_x=bias2_x,
        var_x=var_x,
        bias2=b,
        var=v,
        noise=float(sigma**2),
        mse=b + v + float(sigma**2),
        df=smoother.df,
        optimism=2 * sigma**2 * smoother.df / n,
    )


# ----------------------------------------------------------------------------------------------
# Monte Carlo
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonteCarlo:
    r"""Monte-Carlo estimates from K simulated training sets (same design, fresh noise each).

    Attributes
    ----------
    fits : ndarray (n_keep, m)
        The first few fitted curves (for drawing).
    samples : ndarray (n_keep, n)
        The training targets those curves were fitted to.
    mean_fit : ndarray (m,)
        Average fitted curve over all K sets.
    bias2_x, var_x : ndarray (m,)
        :math:`(\bar{\hat y} - f)^2` and the sample variance (ddof = 1) across the K fits.
    bias2, var : float
        Their averages over the grid.
    mse : float
        Average test error against *fresh* noisy targets on the grid (one new draw per fit).
    train_err, test_err_in : float
        Average training error :math:`\frac1n\|y - S_{tr}y\|^2` and in-sample test error against
        fresh noise at the training inputs; their difference estimates the optimism (ESL §7.4).
    n_draws : int
    k_path, bias2_path, var_path : ndarray
        The estimates from the first k draws, k on a log-spaced path (convergence to the exact value).
    """

    fits: np.ndarray
    samples: np.ndarray
    mean_fit: np.ndarray
    bias2_x: np.ndarray
    var_x: np.ndarray
    bias2: float
    var: float
    mse: float
    train_err: float
    test_err_in: float
    optimism: float
    n_draws: int
    k_path: np.ndarray
    bias2_path: np.ndarray
    var_path: np.ndarray


def simulate_bias_variance(
    smoother: Smoother,
    f_train: np.ndarray,
    f_eval: np.ndarray,
    *,
    sigma: float,
    n_draws: int = 1000,
    n_keep: int = 30,
    rng: np.random.Generator,
) -> MonteCarlo:
    r"""Estimate bias², variance and test error by simulating ``n_draws`` training sets at once.

    The K noise vectors form one matrix :math:`E \in \mathbb R^{n\times K}`; all fits are
    :math:`\hat Y = S (f + \sigma E)` in a single product. ``n_draws`` is capped at ``MAX_DRAWS``.
    Bishop §3.2 eqs. 3.45–3.47; ESL §7.4.
    """
    S, S_tr = smoother.S, smoother.S_train
    m, n = S.shape
    k = int(np.clip(n_draws, 2, MAX_DRAWS))
    Y = f_train[:, None] + sigma * rng.standard_normal((n, k))
    fits = (S @ Y).T  # (K, m)
    mean_fit = fits.mean(axis=0)
    bias2_x = (mean_fit - f_eval) ** 2
    var_x = fits.var(axis=0, ddof=1)
    y_new = f_eval[None, :] + sigma * rng.standard_normal((k, m))
    mse = float(np.mean((fits - y_new) ** 2))
    fitted_train = S_tr @ Y
    train_err = float(np.mean((Y - fitted_train) ** 2))
    y_new_train = f_train[:, None] + sigma * rng.standard_normal((n, k))
    test_err_in = float(np.mean((y_new_train - fitted_train) ** 2))
    # convergence path: estimates from the first k draws, via cumulative sums (no refits)
    k_path = np.unique(np.round(np.geomspace(2, k, num=min(25, k - 1))).astype(int))
    c1 = np.cumsum(fits, axis=0)[k_path - 1]  # (P, m)
    c2 = np.cumsum(fits * fits, axis=0)[k_path - 1]
    kk = k_path[:, None].astype(float)
    mean_k = c1 / kk
    var_k = (c2 - kk * mean_k**2) / (kk - 1)
    return MonteCarlo(
        fits=fits[: max(1, min(n_keep, k))].copy(),
        samples=Y[:, : max(1, min(n_keep, k))].T.copy(),
        mean_fit=mean_fit,
        bias2_x=bias2_x,
        var_x=var_x,
        bias2=float(bias2_x.mean()),
        var=float(var_x.mean()),
        mse=mse,
        train_err=train_err,
        test_err_in=test_err_in,
        optimism=test_err_in - train_err,
        n_draws=k,
        k_path=k_path,
        bias2_path=((mean_k - f_eval) ** 2).mean(axis=1),
        var_path=var_k.mean(axis=1),
    )


# ----------------------------------------------------------------------------------------------
# Sweeps (closed form, vectorized)
# ----------------------------------------------------------------------------------------------


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
    """Exact decomposition for many spreads at one λ: one batched SVD of the stacked features."""
    spreads = np.asarray(spreads, float)[:MAX_SWEEP]
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
    lams = np.asarray(lams, float)[:MAX_SWEEP]
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


# ----------------------------------------------------------------------------------------------
# Double descent
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoubleDescent:
    r"""Exact expected test error of minimum-norm (λ → 0) and slightly ridged random-feature fits
    as the number of features p passes the number of samples n (geometric mean over feature draws).
    """

    n_features: np.ndarray
    n_samples: int
    mse_min_norm: np.ndarray
    mse_ridge: np.ndarray
    bias2_min_norm: np.ndarray
    var_min_norm: np.ndarray
    lam: float
    noise: float
    peak: int  # n_features at the min-norm peak
    n_repeats: int


def random_cosine_features(x: np.ndarray, omega: np.ndarray, phase: np.ndarray) -> np.ndarray:
    r"""Random Fourier features :math:`\varphi_j(x) = \sqrt2 \cos(\omega_j x + b_j)` (Rahimi & Recht 2007)."""
    return np.sqrt(2.0) * np.cos(np.asarray(x, float)[:, None] * omega[None, :] + phase[None, :])


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
    r"""Double descent of random-feature regression (no intercept), in closed form.

    The p features are random cosines :math:`\sqrt2\cos(\omega_j x + b_j)` with frequencies
    :math:`\omega_j \sim U(-\pi n, \pi n)` (up to the Nyquist rate of n equispaced samples on
    [0, 1]) and phases :math:`b_j \sim U(0, 2\pi)`, nested: the fit with p features uses the first p
    of one draw. For each p the expected test error of the minimum-norm least-squares fit
    :math:`\hat w = \Phi^+ y` (what ``numpy.linalg.lstsq`` returns) and of a ridge fit with small
    λ follow from the smoother in closed form. For p < n the fit is ordinary least squares; at
    p = n it interpolates through a nearly singular square system and its variance explodes; for
    p > n the minimum-norm interpolant is smooth again (Belkin, Hsu, Ma & Mandal, PNAS 2019;
    Hastie, Montanari, Rosset & Tibshirani, Ann. Stat. 2022). The curve is the geometric mean over
    ``n_repeats`` feature draws (an arithmetic mean would be dominated by the rare draw whose
    square system is almost exactly singular). Sizes: p ≤ ``MAX_BASIS``, repeats ≤ 25.
    """
    n_features = np.unique(np.clip(np.asarray(n_features, int), 1, MAX_BASIS))
    reps = int(np.clip(n_repeats, 1, 25))
    n = int(np.asarray(x_train).size)
    p_max = int(n_features.max())
    lams = np.array([0.0, float(lam)])
    mse0 = np.zeros((reps, n_features.size))
    mse1 = np.zeros_like(mse0)
    b0 = np.zeros_like(mse0)
    v0 = np.zeros_like(mse0)
    for r, child in enumerate(rng.spawn(reps)):
        omega = child.uniform(-np.pi * n, np.pi * n, p_max)
        phase = child.uniform(0.0, 2 * np.pi, p_max)
        phi_tr_all = random_cosine_features(x_train, omega, phase)
        phi_ev_all = random_cosine_features(x_eval, omega, phase)
        for j, p in enumerate(n_features):  # one small SVD per p; both λ from the same spectrum
            sw = _sweep_features(
                "lam", lams, phi_tr_all[:, :p], phi_ev_all[:, :p], f_train, f_eval,
                lams=lams, sigma=sigma, fit_intercept=False,
            )
            mse0[r, j], mse1[r, j] = sw.mse
            b0[r, j], v0[r, j] = sw.bias2[0], sw.var[0]
    m0 = np.exp(np.log(np.maximum(mse0, 1e-300)).mean(axis=0))
    return DoubleDescent(
        n_features=n_features,
        n_samples=n,
        mse_min_norm=m0,
        mse_ridge=np.exp(np.log(np.maximum(mse1, 1e-300)).mean(axis=0)),
        bias2_min_norm=np.median(b0, axis=0),
        var_min_norm=np.median(v0, axis=0),
        lam=float(lam),
        noise=float(sigma**2),
        peak=int(n_features[np.argmax(m0)]),
        n_repeats=reps,
    )


# ----------------------------------------------------------------------------------------------
# The page's experiment: one frozen description, one call
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """One demo state: true curve, design, noise and the RBF ridge fit.

    The defaults are the lecture's setting (``LECTURE``): 25 equally spaced samples on [0, 1] of
    a wave with a central dip, noise σ = 0.3, one bump per sample, a tiny ridge λ = 1e-3.
    """

    function: str = "dip"
    n_samples: int = 25
    sigma: float = 0.3
    spread: float = 5.0
    lam: float = 1e-3
    centres: str = "inputs"  # "inputs" or "grid"
    n_centres: int = 24
    design: str = "grid"  # "grid" or "uniform"
    n_grid: int = 200

    def inputs(self, *, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Training inputs, evaluation grid and centres (``None`` = at the inputs)."""
        x = sample_design(self.n_samples, kind=self.design, rng=rng)
        x_eval = np.linspace(0.0, 1.0, int(np.clip(self.n_grid, 10, MAX_GRID)))
        centres = None if self.centres == "inputs" else np.linspace(0.0, 1.0, int(np.clip(self.n_centres, 1, MAX_BASIS)))
        return x, x_eval, centres


LECTURE = Experiment()


@dataclass(frozen=True)
class ExperimentResult:
    """Everything the page draws for one :class:`Experiment`."""

    x_train: np.ndarray
    x_eval: np.ndarray
    f_train: np.ndarray
    f_eval: np.ndarray
    y_first: np.ndarray  # the first simulated training set (the one drawn as dots)
    smoother: Smoother
    exact: Decomposition
    mc: MonteCarlo


def experiment_data(exp: Experiment, *, rng: np.random.Generator):
    """Training inputs, evaluation grid, centres and the true values: ``(x_train, x_eval, centres,
    f_train, f_eval)``. ``rng`` draws the inputs of a random design (unused for an even one)."""
    x, x_eval, centres = exp.inputs(rng=rng)
    f = true_function(exp.function)
    return x, x_eval, centres, f(x), f(x_eval)


def run_experiment(exp: Experiment, *, n_draws: int = 200, n_keep: int = 30, rng: np.random.Generator) -> ExperimentResult:
    """Build the smoother once, decompose exactly and by Monte Carlo (see the module docstring).

    ``rng`` is split into a design stream and a noise stream (``rng.spawn(2)``); :func:`run_sweeps`
    uses the same design stream, so a fresh generator with the same seed gives both the same inputs.
    """
    design_rng, noise_rng = rng.spawn(2)
    x, x_eval, centres, f_train, f_eval = experiment_data(exp, rng=design_rng)
    sm = rbf_smoother(x, x_eval, spread=exp.spread, lam=exp.lam, centres=centres)
    exact = decompose(sm, f_train, f_eval, sigma=exp.sigma)
    mc = simulate_bias_variance(sm, f_train, f_eval, sigma=exp.sigma, n_draws=n_draws, n_keep=n_keep, rng=noise_rng)
    return ExperimentResult(x, x_eval, f_train, f_eval, mc.samples[0], sm, exact, mc)


SPREAD_GRID = np.geomspace(0.01, 10.0, 61)
LAM_GRID = np.geomspace(1e-8, 1e3, 56)


def run_sweeps(
    exp: Experiment,
    *,
    spreads: np.ndarray | None = SPREAD_GRID,
    lams: np.ndarray | None = LAM_GRID,
    rng: np.random.Generator,
) -> tuple[Sweep | None, Sweep | None]:
    """The two U-curves of an experiment: over spread (at its λ) and over λ (at its spread).

    Pass ``None`` for a grid to skip that sweep. ``rng``: a fresh generator seeded like the one
    given to :func:`run_experiment` (its first spawned child fixes a random design).
    """
    design_rng, _ = rng.spawn(2)
    x, x_eval, centres, f_train, f_eval = experiment_data(exp, rng=design_rng)
    by_spread = by_lam = None
    if spreads is not None:
        by_spread = sweep_spread(x, x_eval, f_train, f_eval, spreads=spreads, lam=exp.lam, sigma=exp.sigma,
                                 centres=centres)
    if lams is not None:
        by_lam = sweep_lam(x, x_eval, f_train, f_eval, lams=lams, spread=exp.spread, sigma=exp.sigma, centres=centres)
    return by_spread, by_lam
