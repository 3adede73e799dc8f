"""The linear smoother of RBF ridge regression, its exact bias–variance decomposition, and a Monte Carlo.

See the package docstring (:mod:`regopt_core.bias_variance`) for the model and the references.
"""


from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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
    draws (needs ``rng``), sorted. Raises ``ValueError`` unless ``2 <= n_samples <= MAX_SAMPLES``.
    """
    n = int(n_samples)
    if not 2 <= n <= MAX_SAMPLES:
        raise ValueError(f"n_samples must lie in [2, {MAX_SAMPLES}], got {n_samples}")
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
    :math:`\hat Y = S (f + \sigma E)` in a single product. Raises ``ValueError`` unless ``2 <= n_draws <= MAX_DRAWS``.
    Bishop §3.2 eqs. 3.45–3.47; ESL §7.4.
    """
    S, S_tr = smoother.S, smoother.S_train
    m, n = S.shape
    k = int(n_draws)
    if not 2 <= k <= MAX_DRAWS:
        raise ValueError(f"n_draws must lie in [2, {MAX_DRAWS}], got {n_draws}")
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma}")
    # one training set per row of the noise matrix: the first n_keep sets are the first n_keep·n draws,
    # so any caller drawing (n_keep, n) normals from the same stream gets the same training sets
    Y = f_train[:, None] + sigma * rng.standard_normal((k, n)).T
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


