r"""Your own points: RBF ridge fits, their bootstrap variance and K-fold cross-validation — no known truth.

A student pastes or uploads up to :data:`MAX_POINTS` pairs :math:`(x_i, y_i)`. There is no true curve
:math:`f` and no second training set, so the exact split of the test error into bias², variance and noise
(:mod:`regopt_core.bias_variance.smoother`) cannot be computed: bias² needs :math:`f`. What can be measured:

* the fit itself, with the page's model (Gaussian bumps plus an unpenalized offset, *sum* of squared errors
  + :math:`\lambda\|w\|_2^2`, the same spectral solve as :func:`~regopt_core.bias_variance.rbf_smoother`);
* the **bootstrap variance** of the fit: refit on :math:`B` resamples of the pairs (drawn with replacement,
  Efron & Tibshirani 1993, ch. 6 and 9.5 "bootstrapping pairs") and take the variance of the fitted curves
  at each :math:`x` — an estimate of the *variance* term for a random design;
* **K-fold cross-validation**, :math:`\mathrm{CV} = \frac1n\sum_i \big(y_i - \hat y^{-k(i)}(x_i)\big)^2`
  (ESL §7.10, eq. 7.48), which estimates the *whole* prediction error bias² + variance + σ² without saying
  how it splits, over a grid of spread × λ with its minimum.

**Units of x.** Inputs are rescaled to :math:`u = (x - x_{\min}) / (x_{\max} - x_{\min}) \in [0, 1]`, so a
spread means the same as on the simulated page: a fraction of the input range (spread 0.1 = a tenth of it;
in your units, :math:`0.1\,(x_{\max} - x_{\min})`). The rescaling uses the min and max of all x (inputs only,
never y), also inside cross-validation. **Bumps.** :math:`p = \min(n, 50)` bumps evenly spaced on [0, 1] —
the same for every fold and every resample, so CV and the bootstrap compare one fixed model.

Parsing is pure, in memory and never executes anything: bytes -> text -> cells -> a strict number pattern.
Every problem a student can cause raises :class:`PointsError` (a ``ValueError``) with a message meant for them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from regopt_core.bias_variance.experiment import SPREADS
from regopt_core.bias_variance.smoother import ILL_CONDITIONED, _condition, _gain, _spectral, rbf_features
from regopt_core.seeding import stream
from regopt_core.uploads import UploadRef, sha256

__all__ = [
    "MAX_BYTES", "MAX_POINTS", "MIN_POINTS", "MAX_CENTRES", "OWN_LAMS", "OWN_CAPS", "BOOT_WORK",
    "PointsError", "Points", "OwnData", "OwnFit", "CVSurface",
    "parse_points", "points_ref", "example_csv", "centres_for", "ridge_predict", "bootstrap_indices", "fold_labels",
    "cv_errors", "bootstrap_fits", "own_fit", "own_cv", "md_escape",
    "describe_cv", "describe_bootstrap", "describe_gap",
]

MAX_BYTES = 1024 * 1024  # the server's maxUploadSize = 1 (MB, counted as 1024², as Streamlit does)
MAX_POINTS = 2000
MIN_POINTS = 5
MAX_CELL = 40  # characters in one number
MAX_NAME = 30  # characters kept of a column name
MAX_ABS = 1e100  # larger |values| would overflow a squared error
MAX_CENTRES = 50
N_EVAL = 200  # points of the fitted curve
N_SHOWN_BOOT = 20  # bootstrap fits drawn
BOOT_STREAM, FOLD_STREAM = 3, 4  # seeding streams (0–2 are the simulated experiment's)
#: the work cap of the bootstrap: resamples × points (B = 500 at n ≤ 400, B = 100 at n = 2000)
BOOT_WORK = 200_000


class PointsError(ValueError):
    """A problem with pasted or uploaded points, worded for the student."""


def md_escape(text: str) -> str:
    """``text`` safe inside markdown: no link, image, emphasis or HTML can be formed from it."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$&])", r"\\\1", str(text))


def _show(cell: str) -> str:
    cell = "".join(ch if ch.isprintable() else "?" for ch in cell)
    cell = cell if len(cell) <= 20 else cell[:20] + "…"
    return "“" + md_escape(cell) + "”"


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d{1,4})?")
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), (",", "commas"), (None, "spaces"))
_NAME_OK = re.compile(r"[^\w .,()/%°+\-]")


def _number(cell: str, *, decimal_comma: bool) -> float | None:
    """The value of a cell, or ``None`` when it is not a plain decimal number (never ``float()`` on raw text)."""
    if len(cell) > MAX_CELL:
        return None
    if decimal_comma and _DECIMAL_COMMA.fullmatch(cell):
        cell = cell.replace(",", ".")
    if _NUMBER.fullmatch(cell):
        return float(cell)
    return None


def _cells(line: str, sep: str | None) -> list[str]:
    parts = line.split(sep) if sep is not None else line.split()
    parts = [p.strip().strip("\"'").strip() for p in parts]
    while len(parts) > 1 and parts[-1] == "":  # a trailing separator ("1,2,") as spreadsheets write it
        parts.pop()
    return parts


def _name(cell: str, fallback: str) -> str:
    name = _NAME_OK.sub("", cell).strip()[:MAX_NAME].strip()
    return name or fallback


@dataclass(frozen=True)
class Points:
    """Parsed points, in the order given.

    Attributes
    ----------
    x, y : ndarray (n,), read-only
        The values in your units.
    x_name, y_name : str
        Column names from the header (only letters, digits, spaces and ``.,()/%°+-_``), or ``x`` and ``y``.
    has_header : bool
    separator : str
        ``"commas"``, ``"semicolons"``, ``"tabs"`` or ``"spaces"``.
    sha256 : str
        Digest of the bytes parsed (the cache key of everything computed from them).
    """

    x: np.ndarray
    y: np.ndarray
    x_name: str
    y_name: str
    has_header: bool
    separator: str
    sha256: str

    @property
    def n(self) -> int:
        return int(self.x.size)

    @property
    def x_min(self) -> float:
        return float(self.x.min())

    @property
    def x_max(self) -> float:
        return float(self.x.max())

    def rescale(self, x: np.ndarray) -> np.ndarray:
        """:math:`u = (x - x_{\\min}) / (x_{\\max} - x_{\\min})`: the input range becomes [0, 1]."""
        return (np.asarray(x, float) - self.x_min) / (self.x_max - self.x_min)

    def unscale(self, u: np.ndarray) -> np.ndarray:
        return self.x_min + np.asarray(u, float) * (self.x_max - self.x_min)

    @property
    def description(self) -> str:
        head = f"header “{md_escape(self.x_name)}, {md_escape(self.y_name)}”" if self.has_header else "no header"
        return (f"{self.n:,} points, separated by {self.separator}, {head}; {md_escape(self.x_name)} from "
                f"{self.x_min:.4g} to {self.x_max:.4g}, {md_escape(self.y_name)} from {float(self.y.min()):.4g} "
                f"to {float(self.y.max()):.4g}")


def _decode(data: bytes | str) -> tuple[str, str]:
    if isinstance(data, str):
        data = data.encode("utf-8", errors="replace")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise PointsError("No data received.")
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise PointsError(f"That is {len(data) / 1024 / 1024:.1f} MB of data; this server reads at most "
                          f"{MAX_BYTES // (1024 * 1024)} MB (about {MAX_POINTS:,} points need 50 kB).")
    digest = sha256(data)
    if b"\x00" in data:
        raise PointsError("This is not a text file (it holds binary bytes): upload a CSV or text file with two "
                          "columns of numbers, x and y.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # numbers are ASCII anyway; names keep their letters
    return text, digest


def parse_points(data: bytes | str) -> Points:
    """Read two numeric columns, x and y, from CSV text (header optional).

    Separators: commas, semicolons, tabs or spaces (detected from the lines); with semicolons or tabs a
    decimal comma (``1,5``) is read as ``1.5``. Blank lines and lines starting with ``#`` are skipped.
    Limits are checked before any number is read: at most :data:`MAX_BYTES` bytes and :data:`MAX_POINTS`
    lines of data. A cell is a number only if it matches a plain decimal pattern (``-1.5e3``); nothing
    is evaluated.

    Raises
    ------
    PointsError
        Empty, binary, too large, too many or too few points, not exactly two columns, text in a data cell,
        NaN or infinite values, values beyond ±1e100, or every x the same.
    """
    text, digest = _decode(data)
    lines = [(k + 1, ln.strip()) for k, ln in enumerate(text.splitlines())]
    lines = [(k, ln) for k, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise PointsError("No points yet: paste or upload two columns of numbers, x and y (one point per line).")
    if len(lines) > MAX_POINTS + 1:
        raise PointsError(f"{len(lines):,} lines of data; this page takes at most {MAX_POINTS:,} points. Thin them "
                          "out or take a subset.")
    sample = [ln for _, ln in lines[:21]]
    scores = []
    for sep, word in _SEPARATORS:
        if sep is not None and not any(sep in ln for ln in sample):
            continue
        counts = [len(_cells(ln, sep)) for ln in sample]
        scores.append((sum(c == 2 for c in counts), -len(scores), sep, word))
    _, _, sep, word = max(scores)
    decimal_comma = sep in (";", "\t")

    first = _cells(lines[0][1], sep)
    has_header = not all(_number(c, decimal_comma=decimal_comma) is not None or _NONFINITE.fullmatch(c)
                         for c in first)
    x_name, y_name = "x", "y"
    if has_header:
        if len(first) != 2:
            raise PointsError(f"The first line (a header) names {len(first)} columns; this page fits y against one "
                              "input x: keep exactly two columns, x then y.")
        x_name, y_name = _name(first[0], "x"), _name(first[1], "y")
        if x_name == y_name:
            y_name = y_name + " (y)"
        lines = lines[1:]
    if len(lines) < MIN_POINTS:
        raise PointsError(f"Only {len(lines)} point{'s' if len(lines) != 1 else ''}: at least {MIN_POINTS} are "
                          "needed to fit a curve and cross-validate it.")
    if len(lines) > MAX_POINTS:
        raise PointsError(f"{len(lines):,} points; this page takes at most {MAX_POINTS:,}.")
    values = np.empty((len(lines), 2))
    for row, (k, ln) in enumerate(lines):
        cells = _cells(ln, sep)
        if len(cells) != 2:
            if len(cells) > 2:
                raise PointsError(f"Line {k} has {len(cells)} columns (separated by {word}); this page fits y "
                                  "against one input x: keep exactly two columns, x then y.")
            raise PointsError(f"Line {k} has only one value ({_show(cells[0])}); every line needs two, x and y, "
                              f"separated by {'a comma, semicolon, tab or space' if sep is None else word[:-1]}.")
        for col, cell in enumerate(cells):
            v = _number(cell, decimal_comma=decimal_comma)
            what = ("x", "y")[col]
            if v is None:
                if cell == "":
                    raise PointsError(f"Line {k}: the {what} value is missing.")
                if _NONFINITE.fullmatch(cell):
                    raise PointsError(f"Line {k}: {what} = {_show(cell)} is not a finite number; remove the line or "
                                      "fill in a value.")
                raise PointsError(f"Line {k}, column {col + 1}: {_show(cell)} is not a number (write numbers like "
                                  "2.5, -0.3 or 1e-4; only the first line may be a header).")
            if not math.isfinite(v) or abs(v) > MAX_ABS:
                raise PointsError(f"Line {k}: {what} = {_show(cell)} is too large; values up to ±1e100 are read.")
            values[row, col] = v
    x, y = values[:, 0].copy(), values[:, 1].copy()
    lo, hi = float(x.min()), float(x.max())
    if not hi - lo > 1e-12 * max(abs(lo), abs(hi)) or not math.isfinite(hi - lo):
        raise PointsError(f"Every x is the same ({lo:g}): there is no input range to fit a curve along. "
                          "Is the first column your input?")
    x.setflags(write=False)
    y.setflags(write=False)
    return Points(x=x, y=y, x_name=x_name, y_name=y_name, has_header=has_header, separator=word, sha256=digest)


def points_ref(data: bytes | str, name: str = "pasted points") -> UploadRef:
    """A hashable handle on the raw data for a frozen config: equal (and cached) by the bytes' SHA-256."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return UploadRef.of(raw, name)


def example_csv() -> str:
    """An example to paste: body-mass index (kg/m²) and a measure of disease progression one year later for
    442 diabetes patients (Efron, Hastie, Johnstone & Tibshirani, "Least angle regression", Ann. Statist. 2004),
    the unscaled copy bundled with scikit-learn (no download)."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes(scaled=False)
    rows = (f"{float(a):g},{float(b):g}" for a, b in zip(d.data[:, 2], d.target, strict=True))
    return "bmi,progression\n" + "\n".join(rows)


# ------------------------------------------------------------------------------------------------ fits
def centres_for(n_points: int) -> np.ndarray:
    """:math:`p = \\min(n, 50)` bump centres evenly spaced on the rescaled input range [0, 1]."""
    return np.linspace(0.0, 1.0, max(1, min(int(n_points), MAX_CENTRES)))


def ridge_predict(phi_train: np.ndarray, y_train: np.ndarray, phi_eval: np.ndarray, lams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""RBF ridge predictions for many λ at once, by the smoother's thin SVD (:func:`rbf_smoother`'s recipe).

    With :math:`\Phi_c = UDV^\top` the centred training features,
    :math:`\hat y(x) = \bar y + (\varphi(x) - \bar\varphi)^\top V \operatorname{diag}\big(d_k/(d_k^2+\lambda)\big)
    U^\top y` — the minimizer of :math:`\sum_i (y_i - b - \varphi_i^\top w)^2 + \lambda\|w\|^2`.

    Returns
    -------
    pred : ndarray (L, m)
        Predictions at the evaluation rows for each λ.
    df : ndarray (L,)
        Effective degrees of freedom :math:`1 + \sum_k d_k^2/(d_k^2+\lambda)`.
    cond : ndarray (L,)
        :math:`\operatorname{cond}(\Phi_c^\top\Phi_c + \lambda I)`.
    """
    lams = np.atleast_1d(np.asarray(lams, float))
    y_train = np.asarray(y_train, float)
    n, p = phi_train.shape
    u, d, a_eval, d_all, _ = _spectral(phi_train, phi_eval, fit_intercept=True, rcond=None)
    ybar = float(y_train.mean())
    uty = u.T @ (y_train - ybar)
    g = _gain(d, lams[:, None])  # (L, r)
    pred = ybar + (g * uty) @ a_eval.T
    df = 1.0 + (d * g).sum(axis=1)
    cond = np.asarray(_condition(d_all, n, p, lams, True), float)
    return pred, df, cond


def bootstrap_indices(n_points: int, n_boot: int, seed: int) -> list[np.ndarray]:
    """The resamples: ``n_boot`` draws of ``n_points`` indices with replacement, one spawned stream each
    (``stream(seed, BOOT_STREAM).spawn(n_boot)``)."""
    return [g.integers(0, n_points, n_points) for g in stream(seed, BOOT_STREAM).spawn(int(n_boot))]


def fold_labels(n_points: int, n_folds: int, seed: int) -> np.ndarray:
    """Fold of each point: a random permutation (stream :data:`FOLD_STREAM`) dealt round-robin into
    ``n_folds`` folds whose sizes differ by at most one."""
    perm = stream(seed, FOLD_STREAM).permutation(int(n_points))
    labels = np.empty(int(n_points), dtype=int)
    labels[perm] = np.arange(int(n_points)) % int(n_folds)
    return labels


def cv_errors(u: np.ndarray, y: np.ndarray, folds: np.ndarray, *, spreads, lams, centres: np.ndarray):
    r"""K-fold CV errors for every (spread, λ): ``(pooled (S, L), per_fold (S, L, K))``.

    ``pooled`` is ESL eq. 7.48, :math:`\frac1n\sum_i (y_i - \hat y^{-k(i)}(x_i))^2`; ``per_fold[..., k]`` is
    the mean squared error on fold k of the fit to the other folds (one SVD per spread and fold).
    """
    u, y = np.asarray(u, float), np.asarray(y, float)
    folds = np.asarray(folds)
    spreads, lams = np.asarray(spreads, float), np.asarray(lams, float)
    ks = np.unique(folds)
    sse = np.zeros((spreads.size, lams.size))
    per_fold = np.empty((spreads.size, lams.size, ks.size))
    for i, s in enumerate(spreads):
        phi = rbf_features(u, centres, spread=float(s))
        for j, k in enumerate(ks):
            test = folds == k
            pred, _, _ = ridge_predict(phi[~test], y[~test], phi[test], lams)
            err = ((pred - y[test]) ** 2).sum(axis=1)
            sse[i] += err
            per_fold[i, :, j] = err / test.sum()
    return sse / y.size, per_fold


def bootstrap_fits(phi: np.ndarray, y: np.ndarray, phi_eval: np.ndarray, *, lam: float,
                   indices: list[np.ndarray]) -> np.ndarray:
    r"""Fits to the resampled pairs ``(phi[idx], y[idx])`` evaluated at ``phi_eval``: ``(B, m)``.

    A resample that holds point i :math:`c_i` times is the ridge problem with row weights :math:`c_i`,
    :math:`\min_{b,w} \sum_i c_i (y_i - b - \varphi_i^\top w)^2 + \lambda\|w\|^2`, whose normal equations
    :math:`(A^\top C A + \lambda I) w = A^\top C (y - \bar y_c)` (A: features minus their weighted mean) are
    p × p. For λ > 0 all B systems are solved in one batched call (n p² + p³ work per resample instead of an
    n × p SVD); the forward error, below cond · 10⁻¹⁶ ≤ 10⁻⁵ relative on this page's grid, is far below the
    bootstrap's own sampling error (a test compares with scikit-learn's SVD solver). λ = 0 uses the SVD
    (:func:`ridge_predict`)."""
    phi, y, phi_eval = np.asarray(phi, float), np.asarray(y, float), np.asarray(phi_eval, float)
    n_boot, p = len(indices), phi.shape[1]
    if not lam > 0:
        return np.array([ridge_predict(phi[idx], y[idx], phi_eval, [lam])[0][0] for idx in indices])
    # shift by the plain means first (a resample's weighted mean is close to them: little cancellation below)
    centre, y_mean = phi.mean(axis=0), float(y.mean())
    phi0, y0, ev0 = phi - centre, y - y_mean, phi_eval - centre
    counts = np.stack([np.bincount(idx, minlength=y.size) for idx in indices]).astype(float)  # (B, n)
    total = counts.sum(axis=1)
    mu = counts @ phi0 / total[:, None]  # (B, p) weighted means
    yb = counts @ y0 / total
    outer = (phi0[:, :, None] * phi0[:, None, :]).reshape(y.size, p * p)
    grams = (counts @ outer).reshape(n_boot, p, p) - total[:, None, None] * mu[:, :, None] * mu[:, None, :]
    grams[:, np.arange(p), np.arange(p)] += lam
    rhs = (counts * y0) @ phi0 - total[:, None] * mu * yb[:, None]
    coef = np.linalg.solve(grams, rhs[..., None])[..., 0]  # (B, p)
    return y_mean + yb[:, None] + coef @ ev0.T - np.einsum("bp,bp->b", mu, coef)[:, None]


# ------------------------------------------------------------------------------------------- the page
def _log_values(lo_exp: int, hi_exp: int, mantissas=(1, 2, 5)) -> tuple[float, ...]:
    return tuple(sorted({float(f"{m * 10.0**e:.12g}") for e in range(lo_exp, hi_exp + 1) for m in mantissas}))


#: λ of the CV grid and of the page's λ control (1-2-5 per decade, 1e-6 … 1e3)
OWN_LAMS: tuple[float, ...] = tuple(v for v in _log_values(-6, 3) if v <= 1e3)
OWN_CAPS = dict(spread=(1e-3, 100.0), lam=(0.0, 1e6), n_boot=(20, 500), n_folds=(2, 20))


@dataclass(frozen=True)
class OwnData:
    """One state of the page's "Your points" mode. ``data`` is hashed by its bytes' SHA-256 only, so a cached
    result is shared exactly by whoever sends the same bytes; the bytes never appear in ``repr``.

    Defaults: spread 0.1 of the input range, λ = 10⁻³ (sum of squares + λ‖w‖²), B = 200 resamples, 5 folds."""

    data: UploadRef
    spread: float = 0.1
    lam: float = 1e-3
    n_boot: int = 200
    n_folds: int = 5
    seed: int = 0

    def points(self) -> Points:
        return parse_points(self.data.data)

    def clamped(self) -> OwnData:
        """Values within :data:`OWN_CAPS`, folds at most n, resamples within :data:`BOOT_WORK` (B·n).

        Raises :class:`PointsError` for unreadable data and ``ValueError`` for a non-finite knob."""
        n = self.points().n
        vals = {}
        for name, (lo, hi) in OWN_CAPS.items():
            v = float(getattr(self, name))
            if not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number, got {v}")
            vals[name] = min(max(v, lo), hi)
        if int(self.seed) < 0:
            raise ValueError("seed must be >= 0")
        n_boot = min(int(round(vals["n_boot"])), max(OWN_CAPS["n_boot"][0], BOOT_WORK // n))
        return replace(self, spread=vals["spread"], lam=vals["lam"], n_boot=n_boot,
                       n_folds=min(int(round(vals["n_folds"])), n), seed=int(self.seed))

    def cv_key(self) -> OwnData:
        """The config of :func:`own_cv`: spread, λ and B do not change it."""
        return replace(self, spread=0.1, lam=1e-3, n_boot=200)


@dataclass(frozen=True)
class OwnFit:
    """The fit at one spread and λ, and its bootstrap variance.

    ``x_eval`` is in your units (``u_eval`` the same points on [0, 1]); ``boot_var_x`` the variance (ddof 1)
    of the B bootstrap fits at each ``x_eval``; ``boot_var`` its average over *your* x values (where the
    data are), ``boot_var_grid`` over the evenly spaced grid."""

    config: OwnData
    x: np.ndarray
    y: np.ndarray
    x_name: str
    y_name: str
    x_eval: np.ndarray
    fit_x: np.ndarray
    fitted: np.ndarray  # the fit at each data point
    train_mse: float
    df: float
    cond: float
    ill_conditioned: bool
    n_centres: int
    boot_fits: np.ndarray  # (N_SHOWN_BOOT, m)
    boot_mean_x: np.ndarray
    boot_var_x: np.ndarray
    boot_var: float
    boot_var_grid: float
    n_boot: int


def own_fit(cfg: OwnData) -> OwnFit:
    """The RBF ridge fit at ``cfg.spread`` and ``cfg.lam`` and its variance over ``cfg.n_boot`` resamples."""
    pts = cfg.points()
    u, y = pts.rescale(pts.x), np.asarray(pts.y, float)
    centres = centres_for(pts.n)
    u_eval = np.linspace(0.0, 1.0, N_EVAL)
    phi = rbf_features(u, centres, spread=cfg.spread)
    phi_ev = rbf_features(u_eval, centres, spread=cfg.spread)
    rows = np.vstack([phi_ev, phi])
    pred, df, cond = ridge_predict(phi, y, rows, [cfg.lam])
    fit_x, fitted = pred[0, :N_EVAL], pred[0, N_EVAL:]
    boots = bootstrap_fits(phi, y, rows, lam=cfg.lam, indices=bootstrap_indices(pts.n, cfg.n_boot, cfg.seed))
    var_rows = boots.var(axis=0, ddof=1)
    return OwnFit(
        config=cfg, x=np.asarray(pts.x), y=y, x_name=pts.x_name, y_name=pts.y_name, x_eval=pts.unscale(u_eval),
        fit_x=fit_x, fitted=fitted, train_mse=float(np.mean((y - fitted) ** 2)), df=float(df[0]),
        cond=float(cond[0]), ill_conditioned=bool(cond[0] > ILL_CONDITIONED), n_centres=centres.size,
        boot_fits=boots[:N_SHOWN_BOOT, :N_EVAL].copy(), boot_mean_x=boots[:, :N_EVAL].mean(axis=0),
        boot_var_x=var_rows[:N_EVAL], boot_var=float(var_rows[N_EVAL:].mean()),
        boot_var_grid=float(var_rows[:N_EVAL].mean()), n_boot=len(boots))


@dataclass(frozen=True)
class CVSurface:
    """K-fold CV error over spread × λ, with the training error and df of the full-data fits.

    ``mse[i, j]`` (ESL eq. 7.48) at ``spreads[i]``, ``lams[j]``; ``se`` the standard error of the fold
    errors (their sd / √K); ``best`` the (i, j) of the minimum; ``fold_sizes`` the points per fold."""

    spreads: np.ndarray
    lams: np.ndarray
    mse: np.ndarray
    se: np.ndarray
    train_mse: np.ndarray
    df: np.ndarray
    cond: np.ndarray
    best: tuple[int, int]
    n_folds: int
    fold_sizes: np.ndarray
    n_points: int
    y_var: float  # variance of y (ddof 0): the CV error of always predicting the mean, roughly

    @property
    def best_spread(self) -> float:
        return float(self.spreads[self.best[0]])

    @property
    def best_lam(self) -> float:
        return float(self.lams[self.best[1]])

    @property
    def best_mse(self) -> float:
        return float(self.mse[self.best])

    def index(self, spread: float, lam: float) -> tuple[int, int]:
        """Grid cell nearest (on log scales) to a setting (λ = 0 maps to the smallest λ)."""
        i = int(np.argmin(np.abs(np.log(self.spreads) - math.log(max(spread, 1e-300)))))
        j = int(np.argmin(np.abs(np.log(self.lams) - math.log(max(lam, self.lams[0])))))
        return i, j


def own_cv(cfg: OwnData) -> CVSurface:
    """K-fold CV over :data:`~regopt_core.bias_variance.SPREADS` × :data:`OWN_LAMS` (call with ``cfg.cv_key()``)."""
    pts = cfg.points()
    u, y = pts.rescale(pts.x), np.asarray(pts.y, float)
    centres = centres_for(pts.n)
    spreads, lams = np.asarray(SPREADS, float), np.asarray(OWN_LAMS, float)
    folds = fold_labels(pts.n, cfg.n_folds, cfg.seed)
    mse, per_fold = cv_errors(u, y, folds, spreads=spreads, lams=lams, centres=centres)
    k = per_fold.shape[-1]
    se = per_fold.std(axis=-1, ddof=1) / math.sqrt(k)
    train = np.empty_like(mse)
    df = np.empty_like(mse)
    cond = np.empty_like(mse)
    for i, s in enumerate(spreads):
        phi = rbf_features(u, centres, spread=float(s))
        pred, df[i], cond[i] = ridge_predict(phi, y, phi, lams)
        train[i] = ((pred - y) ** 2).mean(axis=1)
    finite = np.where(np.isfinite(mse), mse, np.inf)
    best = tuple(int(v) for v in np.unravel_index(int(np.argmin(finite)), mse.shape))
    return CVSurface(spreads=spreads, lams=lams, mse=mse, se=se, train_mse=train, df=df, cond=cond, best=best,
                     n_folds=k, fold_sizes=np.bincount(folds), n_points=pts.n, y_var=float(np.var(y)))


# ------------------------------------------------------------------------------------------ sentences
def describe_cv(cv: CVSurface, *, spread: float, lam: float) -> str:
    """Where the CV minimum is, how the chosen setting compares, and on which side (by df) it lies (markdown)."""
    i, j = cv.best
    here = cv.index(spread, lam)
    now, best = float(cv.mse[here]), cv.best_mse
    edges = []
    if i in (0, cv.spreads.size - 1):
        edges.append("the " + ("narrowest" if i == 0 else "widest") + " spread")
    if j in (0, cv.lams.size - 1):
        edges.append("the " + ("smallest" if j == 0 else "largest") + " λ")
    edge = (f" The minimum sits at the edge of the grid ({' and '.join(edges)}): a setting beyond it might do "
            "even better." if edges else "")
    head = (f"{cv.n_folds}-fold cross-validation: the lowest error, **{best:.4g}**, is at spread "
            f"**{cv.best_spread:g}** and λ = **{cv.best_lam:g}** (df ≈ {cv.df[cv.best]:.1f}).{edge}")
    if here == cv.best:
        return head + " Your setting is that minimum."
    rel = (now - best) / best if best > 0 else float("inf")
    df_now, df_best = float(cv.df[here]), float(cv.df[cv.best])
    if df_now > df_best * 1.05:
        side = (f"it is more flexible than the minimum (df {df_now:.1f} vs {df_best:.1f}): by CV, on the "
                "**wiggly, high-variance** side")
    elif df_now < df_best / 1.05:
        side = (f"it is more rigid than the minimum (df {df_now:.1f} vs {df_best:.1f}): by CV, on the "
                "**rigid, high-bias** side")
    else:
        side = f"about as flexible as the minimum (df {df_now:.1f} vs {df_best:.1f})"
    within = (" — within one standard error of the minimum, so CV cannot tell them apart"
              if now - best <= float(cv.se[cv.best]) else "")
    more = f"{now / best:.3g} times the minimum" if now >= 2 * best else f"{100 * rel:.3g} % higher"
    return head + f" At your setting the CV error is {now:.4g}, {more}{within}; {side}."


def describe_bootstrap(fit: OwnFit) -> str:
    """The bootstrap variance in numbers, next to the training error (markdown)."""
    sd = math.sqrt(max(fit.boot_var, 0.0))
    k = int(np.argmax(fit.boot_var_x))
    rel = math.sqrt(2.0 / (fit.n_boot - 1))
    ratio = fit.boot_var / fit.train_mse if fit.train_mse > 0 else float("inf")
    cmp = ("larger than" if ratio > 1.05 else "smaller than" if ratio < 1 / 1.05 else "about the same as")
    return (f"Over {fit.n_boot} resamples of your points, the fitted curve moves by a standard deviation of "
            f"**{sd:.3g}** on average at your x values (variance {fit.boot_var:.4g}, "
            f"{cmp} the training error {fit.train_mse:.4g}); it moves most near x = {fit.x_eval[k]:.4g} "
            f"(sd {math.sqrt(fit.boot_var_x[k]):.3g}). A variance from B resamples is itself uncertain by about "
            f"√(2/(B−1)) ≈ {100 * rel:.0f} %.")


def describe_gap(fit: OwnFit, cv: CVSurface) -> str:
    """Training error against the CV error at the same setting: how optimistic the training error is."""
    cell = cv.index(fit.config.spread, fit.config.lam)
    c = float(cv.mse[cell])
    tr = fit.train_mse
    if c > tr:
        how = (f"the error on held-out points is **{c / tr:.3g} times** the training error" if c >= 2 * tr else
               f"the training error is **{100 * (c - tr) / c:.3g} % lower** than the error on held-out points")
        word = how + ": judged on the points it has seen, the fit looks better than it is"
    elif c < tr:
        word = "here the CV error is lower than the training error (it happens by chance, mostly with few points)"
    else:
        word = "training and CV error are equal"
    return (f"At spread {cv.spreads[cell[0]]:g} and λ = {cv.lams[cell[1]]:g}: training error {tr:.4g}, "
            f"CV error {c:.4g} — {word}.")
