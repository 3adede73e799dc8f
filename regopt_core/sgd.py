r"""Minibatch stochastic gradient descent, gradient noise and the batch size.

Gradient descent on a finite sum :math:`L(\theta) = \frac1N \sum_{i=1}^N L_i(\theta)` needs all
:math:`N` per-example gradients for every step. SGD replaces the full mean by the mean over a
random minibatch :math:`\mathcal B_t` of :math:`B` examples,

.. math:: \theta_{t+1} = \theta_t - \eta\, \hat g_t, \qquad
          \hat g_t = \frac1B \sum_{i \in \mathcal B_t} \nabla L_i(\theta_t),

an unbiased estimate of :math:`\nabla L(\theta_t)` whose covariance shrinks like :math:`1/B`.
This module holds the objectives (least squares with two parameters for parameter-space pictures,
softmax regression on the bundled digits), the one SGD loop (:func:`minibatch_sgd`), and the
experiments of the SGD page: gradient-noise sampling, the stationary noise floor and the best step
size versus batch size.

Every step is vectorized over the examples of its minibatch (one matrix product); the Python loop
runs over *steps* only. Every stochastic function takes ``rng`` keyword-only.

References
----------
* Robbins, H., Monro, S. (1951). A stochastic approximation method. Ann. Math. Statist. 22(3).
* Bottou, L., Curtis, F. E., Nocedal, J. (2018). Optimization methods for large-scale machine
  learning. SIAM Review 60(2), 223-311. Sec. 4 (SGD analysis, noise floor proportional to the
  step size), Sec. 5.2 (minibatches).
* Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., Thm. 2.2 (variance of a sample mean
  drawn without replacement: finite-population correction :math:`(N-B)/(N-1)`).
* Mandt, S., Hoffman, M. D., Blei, D. M. (2017). Stochastic gradient descent as approximate
  Bayesian inference. JMLR 18, Sec. 3 (stationary distribution of SGD on a quadratic).
* Goyal, P. et al. (2017). Accurate, large minibatch SGD: training ImageNet in 1 hour.
  arXiv:1706.02677 (linear scaling rule).
* McCandlish, S., Kaplan, J., Amodei, D., OpenAI Dota Team (2018). An empirical model of
  large-batch training. arXiv:1812.06162, Sec. 2.2 (critical batch size, eq. 2.6-2.8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from regopt_core import datasets
from regopt_core.losses import softmax_cross_entropy, softmax_cross_entropy_grad
from regopt_core.optimizers import gd

__all__ = [
    "LeastSquares",
    "SoftmaxRegression",
    "least_squares",
    "softmax_regression",
    "ClassificationSplit",
    "digits_split",
    "diabetes_pair",
    "SGDTrace",
    "minibatch_sgd",
    "record_schedule",
    "scaled_lr",
    "BatchComparison",
    "compare_batch_sizes",
    "accuracy",
    "sample_minibatch_gradients",
    "minibatch_variance_theory",
    "GradientNoise",
    "measure_gradient_noise",
    "stationary_variance",
    "noisy_quadratic_sgd",
    "stationary_excess_loss",
    "NoiseFloor",
    "measure_noise_floor",
    "CriticalBatch",
    "critical_batch",
    "MAX_STEPS",
    "MAX_EPOCHS",
]

MAX_STEPS = 10_000
"""Default cap on the number of updates of one run (B = 1 for 100 epochs would be ~144,000)."""

MAX_EPOCHS = 100
"""Largest number of epochs any entry point accepts."""

_MAX_DRAWS = 5_000  # minibatch draws per batch size in the noise measurements (page scale)


# --------------------------------------------------------------------------------------------
# Objectives: a finite sum with a full loss and a minibatch-mean gradient
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LeastSquares:
    r"""Least-squares objective :math:`L(\theta) = \frac{1}{2N}\|X\theta - y\|^2`.

    Per-example loss :math:`L_i = \tfrac12 (x_i^\top\theta - y_i)^2`, gradient
    :math:`\nabla L_i = x_i (x_i^\top\theta - y_i)`, Hessian :math:`H = X^\top X / N` (constant).
    """

    X: np.ndarray
    y: np.ndarray

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    def loss(self, theta: np.ndarray) -> float:
        """Full training loss."""
        r = self.X @ theta - self.y
        return 0.5 * float(r @ r) / self.n_samples

    def grad(self, theta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Mean gradient over the examples ``idx`` (one matrix product for the whole batch)."""
        Xb = self.X[idx]
        return Xb.T @ (Xb @ theta - self.y[idx]) / len(idx)

    def per_example_grads(self, theta: np.ndarray) -> np.ndarray:
        """All :math:`N` per-example gradients at ``theta``, shape ``(N, d)``."""
        return self.X * (self.X @ theta - self.y)[:, None]

    def hessian(self) -> np.ndarray:
        """:math:`H = X^\\top X / N`."""
        return self.X.T @ self.X / self.n_samples

    def minimizer(self) -> np.ndarray:
        """Least-squares solution (via :func:`numpy.linalg.lstsq`)."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    def loss_grid(self, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
        r"""Full loss on the grid ``w1 x w2`` of a 2-parameter problem, shape ``(len(w2), len(w1))``.

        Uses :math:`L(\theta) = \tfrac12\theta^\top H\theta - b^\top\theta + \tfrac{1}{2N}\|y\|^2`,
        :math:`b = X^\top y/N`, so the cost does not grow with N.
        """
        if self.X.shape[1] != 2:
            raise ValueError("loss_grid needs exactly two parameters")
        H = self.hessian()
        b = self.X.T @ self.y / self.n_samples
        c = 0.5 * float(self.y @ self.y) / self.n_samples
        T1, T2 = np.meshgrid(np.asarray(w1, float), np.asarray(w2, float))
        return 0.5 * (H[0, 0] * T1**2 + 2 * H[0, 1] * T1 * T2 + H[1, 1] * T2**2) - b[0] * T1 - b[1] * T2 + c


def least_squares(X: np.ndarray, y: np.ndarray) -> LeastSquares:
    """Build a :class:`LeastSquares` objective (arrays copied, float64)."""
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, d) and y (N,), got {X.shape} and {y.shape}")
    return LeastSquares(X, y)


@dataclass(frozen=True, eq=False)
class SoftmaxRegression:
    r"""Softmax (multinomial logistic) regression with an L2 penalty on the weights.

    .. math:: L(W, b) = \frac1N \sum_i \Big(\log\sum_j e^{s_{ij}} - s_{i y_i}\Big)
              + \frac\lambda2 \|W\|_F^2, \qquad s_i = W^\top x_i + b

    Parameters are stored as one ``(d + 1, K)`` array ``theta`` whose last row is the bias ``b``
    (the bias is not penalized); ``Xa`` is ``X`` with a column of ones appended. The per-example
    loss and its gradient with respect to the scores come from :mod:`regopt_core.losses`.
    """

    Xa: np.ndarray
    y: np.ndarray
    n_classes: int
    lam: float

    @property
    def n_samples(self) -> int:
        return self.Xa.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return (self.Xa.shape[1], self.n_classes)

    def _penalty_grad(self, theta: np.ndarray) -> np.ndarray:
        g = self.lam * theta
        g[-1] = 0.0
        return g

    def loss(self, theta: np.ndarray) -> float:
        """Full training loss (mean cross-entropy plus the penalty)."""
        data = float(np.mean(softmax_cross_entropy(self.Xa @ theta, self.y)))
        return data + 0.5 * self.lam * float(np.vdot(theta[:-1], theta[:-1]))

    def grad(self, theta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        r"""Mean gradient over the examples ``idx``: :math:`X_b^\top (P_b - Y_b) / B + \lambda W`.

        :math:`P_b - Y_b` is :func:`regopt_core.losses.softmax_cross_entropy_grad` written out here:
        that function checks its inputs on every call, which costs more than the arithmetic when
        B = 1 and the loop makes thousands of calls (a test keeps the two equal).
        """
        Xb = self.Xa[idx]
        P = Xb @ theta                                   # scores s_i, shape (B, K)
        P -= P.max(axis=1, keepdims=True)                # shift for a stable exp
        np.exp(P, out=P)
        P /= P.sum(axis=1, keepdims=True)                # softmax probabilities
        P[np.arange(len(idx)), self.y[idx]] -= 1.0       # dL_i/ds_i = p_i - onehot(y_i)
        G = Xb.T @ P
        G *= 1.0 / len(idx)
        G[:-1] += self.lam * theta[:-1]
        return G

    def per_example_grads(self, theta: np.ndarray) -> np.ndarray:
        """All per-example gradients (penalty included), flattened: shape ``(N, (d+1) K)``."""
        dscores = softmax_cross_entropy_grad(self.Xa @ theta, self.y)
        G = self.Xa[:, :, None] * dscores[:, None, :]
        G += self._penalty_grad(theta)[None]
        return G.reshape(self.n_samples, -1)

    def predict(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Predicted class of each row of ``X`` (without the ones column)."""
        return np.argmax(X @ theta[:-1] + theta[-1], axis=1)


def softmax_regression(X: np.ndarray, y: np.ndarray, *, n_classes: int | None = None,
                       lam: float = 1e-3) -> SoftmaxRegression:
    """Build a :class:`SoftmaxRegression` objective from features ``X`` (N, d) and labels ``y``."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.intp)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, d) and y (N,), got {X.shape} and {y.shape}")
    K = int(n_classes) if n_classes is not None else int(y.max()) + 1
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    return SoftmaxRegression(Xa, y, K, float(lam))


def accuracy(objective: SoftmaxRegression, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of ``X`` whose predicted class equals ``y``."""
    return float(np.mean(objective.predict(theta, np.asarray(X)) == np.asarray(y)))


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ClassificationSplit:
    """Training and held-out arrays of a classification task."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    description: str


@lru_cache(maxsize=2)
def digits_split(*, test_fraction: float = 0.2, split_seed: int = 0) -> ClassificationSplit:
    """The bundled 8x8 digits (pixels in [0, 1]), split at random into training and held-out sets.

    Pixels are centred with the *training* mean (so the bias and the weights are not fighting over
    the mean image, which keeps the Hessian well conditioned). The split uses its own fixed seed so
    the SGD seed only changes the minibatches.
    """
    d = datasets.load_digits()
    test, train = datasets.split_indices(d.X.shape[0], (test_fraction, 1 - test_fraction),
                                         rng=np.random.default_rng(split_seed))
    mean = d.X[train].mean(axis=0)
    out = ClassificationSplit(d.X[train] - mean, d.y[train].copy(), d.X[test] - mean, d.y[test].copy(),
                              len(d.target_names), d.description)
    for a in (out.X_train, out.y_train, out.X_test, out.y_test):
        a.setflags(write=False)
    return out


@lru_cache(maxsize=1)
def diabetes_pair() -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    r"""Two-parameter regression on the bundled diabetes data (Efron et al. 2004; scikit-learn).

    Disease progression after one year (standardized) is predicted from body-mass index and the
    log serum triglycerides level ``s5`` (both standardized), without intercept (all centred):
    :math:`y \approx \theta_1\,\mathrm{BMI} + \theta_2\,\mathrm{s5}`, N = 442. The two features are
    correlated (r = 0.45), so the loss contours are tilted ellipses.
    """
    from sklearn.datasets import load_diabetes  # bundled, no download

    d = load_diabetes()
    X = d.data[:, [2, 8]].astype(np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = d.target.astype(np.float64)
    y = (y - y.mean()) / y.std()
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y, ("BMI", "s5 (log triglycerides)")


# --------------------------------------------------------------------------------------------
# The SGD loop
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SGDTrace:
    """One minibatch SGD run.

    Attributes
    ----------
    x : ndarray
        Last accepted parameters.
    fun : float
        Full training loss at ``x``.
    nit : int
        Number of accepted updates.
    message : str
        Why the run stopped (``"diverged at step k: ..."`` like :func:`regopt_core.optimizers.run`).
    batch_size, lr : int, float
        The minibatch size and the step size used.
    n_samples : int
        :math:`N`, the size of the training set.
    replace : bool
        Minibatches drawn with replacement (i.i.d.) or by reshuffling every epoch.
    steps : ndarray of int
        Update counts at which the full loss was recorded (starts with 0).
    grad_evals : ndarray of int
        Per-example gradient evaluations done by then (examples seen).
    losses : ndarray
        Full training loss at ``steps``.
    path : ndarray or None
        Parameters (flattened) at ``steps`` when kept.
    diverged : bool
    diverged_at : int or None
        The update whose result was rejected.
    capped : bool
        True when the requested epochs needed more than ``max_steps`` updates.
    """

    x: np.ndarray
    fun: float
    nit: int
    message: str
    batch_size: int
    lr: float
    n_samples: int
    replace: bool
    steps: np.ndarray
    grad_evals: np.ndarray
    losses: np.ndarray
    path: np.ndarray | None
    diverged: bool
    diverged_at: int | None
    capped: bool

    @property
    def epochs(self) -> np.ndarray:
        """Passes over the data at ``steps`` (examples seen / N)."""
        return self.grad_evals / self.n_samples

    @property
    def success(self) -> bool:
        return not self.diverged


def record_schedule(n_steps: int, n_points: int = 100) -> np.ndarray:
    """Steps at which to record the full loss: 0, ``n_steps`` and a mix of log- and linear spacing.

    Half of the points are spaced geometrically (detail early on, where the loss moves fast) and
    half linearly (even coverage on an epoch axis). Sorted, unique, at most ``n_points + 2``.
    """
    n_steps = int(n_steps)
    if n_points <= 0 or n_steps <= n_points:
        return np.arange(n_steps + 1)
    half = max(1, n_points // 2)
    pts = np.concatenate([[0, n_steps], np.geomspace(1, n_steps, half), np.linspace(0, n_steps, half)])
    return np.unique(np.rint(pts).astype(np.int64))


def scaled_lr(lr: float, batch_size: int, *, reference_batch: int = 1) -> float:
    r"""Linear scaling rule (Goyal et al. 2017): :math:`\eta_B = \eta \cdot B / B_\mathrm{ref}`."""
    return float(lr) * batch_size / reference_batch


def _batches(n: int, batch_size: int, n_steps: int, replace: bool, rng: np.random.Generator):
    """Yield ``n_steps`` index arrays: reshuffled epochs (last batch may be short) or i.i.d. draws."""
    per_epoch = -(-n // batch_size)
    done = 0
    while done < n_steps:
        take = min(per_epoch, n_steps - done)
        if replace:
            block = rng.integers(0, n, size=(take, batch_size))
            yield from block
        else:
            perm = rng.permutation(n)
            for k in range(take):
                yield perm[k * batch_size:(k + 1) * batch_size]
        done += take


def minibatch_sgd(
    objective: LeastSquares | SoftmaxRegression,
    theta0: np.ndarray,
    *,
    batch_size: int,
    lr: float,
    n_epochs: float = 1.0,
    n_steps: int | None = None,
    replace: bool = False,
    max_steps: int = MAX_STEPS,
    n_record: int | None = 100,
    keep_path: bool = False,
    bound: float = 1e12,
    loss_factor: float = 100.0,
    rng: np.random.Generator,
) -> SGDTrace:
    r"""Minibatch SGD with a constant step size.

    .. math:: \theta_{t+1} = \theta_t - \eta\,\frac1B \sum_{i\in\mathcal B_t} \nabla L_i(\theta_t)

    Without replacement the training set is reshuffled every epoch and cut into
    :math:`\lceil N/B \rceil` consecutive minibatches (the last one shorter when :math:`B \nmid N`,
    as PyTorch's ``DataLoader`` does by default); with replacement every minibatch is :math:`B`
    independent uniform draws and an epoch is :math:`\lceil N/B \rceil` steps. The update itself is
    :func:`regopt_core.optimizers.gd`'s. Bottou, Curtis & Nocedal (2018), Alg. 4.1.

    Divergence is a result, not a crash: an update whose parameters are non-finite or leave
    ``|theta| <= bound`` is rejected (checked every step), and so is a recorded full loss that is not
    finite or exceeds ``loss_factor`` times the starting loss; the trace then ends with
    ``diverged_at = k`` and the message ``"diverged at step k: ..."``.

    Parameters
    ----------
    objective : LeastSquares or SoftmaxRegression
        Provides ``loss(theta)``, ``grad(theta, idx)`` (mean over ``idx``) and ``n_samples``.
    theta0 : ndarray
        Starting parameters (copied).
    batch_size : int
        :math:`B`, clipped to ``[1, N]``.
    lr : float
        Step size :math:`\eta`.
    n_epochs : float, default 1.0
        Passes over the data (clipped to :data:`MAX_EPOCHS`); ignored when ``n_steps`` is given.
    n_steps : int, optional
        Number of updates instead of epochs.
    replace : bool, default False
        Draw minibatches with replacement.
    max_steps : int, default :data:`MAX_STEPS`
        Hard cap on the updates; ``capped`` tells whether it cut the run short.
    n_record : int or None, default 100
        About how many full-loss evaluations to record (:func:`record_schedule`); ``None`` records
        every step.
    keep_path : bool, default False
        Store the parameters at every recorded step.
    bound : float, default 1e12
        Parameters beyond this magnitude count as divergence.
    loss_factor : float, default 100
        A recorded loss above ``loss_factor * loss(theta0)`` counts as divergence.
    rng : numpy.random.Generator
        Source of the minibatch indices.

    Returns
    -------
    SGDTrace
    """
    N = objective.n_samples
    B = int(min(max(int(batch_size), 1), N))
    per_epoch = -(-N // B)
    if n_steps is None:
        n_epochs = min(max(float(n_epochs), 0.0), MAX_EPOCHS)
        wanted = int(round(n_epochs * per_epoch))
    else:
        wanted = max(int(n_steps), 0)
    total = min(wanted, int(max_steps))
    capped = wanted > total
    record = record_schedule(total, n_record if n_record is not None else 0)
    is_recorded = np.zeros(total + 1, dtype=bool)
    is_recorded[record] = True

    optimizer = gd(lr)
    theta = np.array(theta0, dtype=np.float64)
    state = optimizer.init(theta)
    f0 = objective.loss(theta)
    if not math.isfinite(f0):
        raise ValueError("the starting point has a non-finite loss")
    loss_limit = min(float(bound), loss_factor * max(abs(f0), 1e-12))
    bound_sq = float(bound) ** 2

    steps, evals, losses = [0], [0], [f0]
    path = [theta.ravel().copy()] if keep_path else None
    n_evals = 0
    diverged_at = None
    message = f"finished {total} updates ({total / per_epoch:.3g} epochs)"
    if capped:
        message = (f"stopped at the cap of {total} updates ({total / per_epoch:.3g} of "
                   f"{wanted / per_epoch:.3g} epochs)")
    nit = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for t, idx in enumerate(_batches(N, B, total, replace, rng), start=1):
            updates, state = optimizer.update(objective.grad(theta, idx), state, theta)
            new = theta + updates
            n_evals += len(idx)
            sq = float(np.vdot(new, new))
            if not sq <= bound_sq:  # also catches nan
                diverged_at = t
                why = "the parameters overflowed" if not math.isfinite(sq) else f"|θ| exceeded {bound:.0e}"
                message = f"diverged at step {t}: {why}"
                break
            if is_recorded[t]:
                f = objective.loss(new)
                if not f <= loss_limit:
                    diverged_at = t
                    why = ("the loss overflowed" if not math.isfinite(f)
                           else f"the loss rose above {loss_factor:g}× its starting value")
                    message = f"diverged at step {t}: {why}"
                    break
                steps.append(t)
                evals.append(n_evals)
                losses.append(f)
                if path is not None:
                    path.append(new.ravel().copy())
            theta = new
            nit = t

    if nit and steps[-1] != nit:  # diverged between records: keep the last accepted point
        steps.append(nit)
        evals.append(n_evals - (len(idx) if diverged_at is not None else 0))
        losses.append(objective.loss(theta))
        if path is not None:
            path.append(theta.ravel().copy())
    return SGDTrace(
        x=theta, fun=float(losses[-1]), nit=nit, message=message, batch_size=B, lr=float(lr),
        n_samples=N, replace=bool(replace), steps=np.asarray(steps, dtype=np.int64),
        grad_evals=np.asarray(evals, dtype=np.int64), losses=np.asarray(losses, dtype=np.float64),
        path=None if path is None else np.asarray(path), diverged=diverged_at is not None,
        diverged_at=diverged_at, capped=capped,
    )


@dataclass(frozen=True, eq=False)
class BatchComparison:
    """Runs of the same problem with several batch sizes (one :class:`SGDTrace` each)."""

    traces: tuple[SGDTrace, ...]
    batch_sizes: tuple[int, ...]
    lrs: tuple[float, ...]
    test_accuracy: tuple[float, ...] | None

    def trace(self, batch_size: int) -> SGDTrace:
        return self.traces[self.batch_sizes.index(batch_size)]


def compare_batch_sizes(
    objective: LeastSquares | SoftmaxRegression,
    theta0: np.ndarray,
    batch_sizes: tuple[int, ...],
    *,
    lr: float,
    scale_lr: bool = False,
    n_epochs: float = 1.0,
    n_steps: int | None = None,
    replace: bool = False,
    max_steps: int = MAX_STEPS,
    n_record: int | None = 100,
    keep_path: bool = False,
    test_data: tuple[np.ndarray, np.ndarray] | None = None,
    rng: np.random.Generator,
) -> BatchComparison:
    r"""Run :func:`minibatch_sgd` once per batch size, each with its own child generator.

    With ``scale_lr`` the step size follows the linear scaling rule
    :math:`\eta_B = \eta\,B` (reference batch 1, :func:`scaled_lr`), otherwise every run uses
    :math:`\eta`. ``test_data`` (softmax only) adds each run's held-out accuracy.
    Batch sizes are clipped to ``[1, N]`` and de-duplicated.
    """
    N = objective.n_samples
    sizes = tuple(sorted({int(min(max(int(b), 1), N)) for b in batch_sizes}))
    children = rng.spawn(len(sizes))
    traces, lrs = [], []
    for B, child in zip(sizes, children):
        eta = scaled_lr(lr, B) if scale_lr else float(lr)
        lrs.append(eta)
        traces.append(minibatch_sgd(objective, theta0, batch_size=B, lr=eta, n_epochs=n_epochs,
                                    n_steps=n_steps, replace=replace, max_steps=max_steps,
                                    n_record=n_record, keep_path=keep_path, rng=child))
    acc = None
    if test_data is not None:
        acc = tuple(accuracy(objective, tr.x, *test_data) for tr in traces)
    return BatchComparison(tuple(traces), sizes, tuple(lrs), acc)


# --------------------------------------------------------------------------------------------
# Gradient noise
# --------------------------------------------------------------------------------------------


def sample_minibatch_gradients(
    per_example: np.ndarray,
    *,
    batch_size: int,
    n_draws: int,
    replace: bool = False,
    rng: np.random.Generator,
) -> np.ndarray:
    r"""Draw ``n_draws`` minibatch-mean gradients from precomputed per-example gradients.

    .. math:: \hat g = \frac1B \sum_{i\in\mathcal B} g_i

    Vectorized: all draws at once, as an ``(n_draws, B)`` index array (with replacement: uniform
    integers; without: the ``B`` smallest of ``N`` uniform keys per draw, a uniformly random subset).

    Parameters
    ----------
    per_example : (N,) or (N, p) array
        :math:`g_i`, one row per example.
    batch_size : int
        :math:`B`, clipped to ``[1, N]``.
    n_draws : int
        Number of minibatches.
    replace : bool, default False
    rng : numpy.random.Generator

    Returns
    -------
    (n_draws, p) array (or (n_draws,) for 1-D input).
    """
    g = np.asarray(per_example, dtype=np.float64)
    N = g.shape[0]
    B = int(min(max(int(batch_size), 1), N))
    n_draws = int(n_draws)
    if replace:
        idx = rng.integers(0, N, size=(n_draws, B))
    elif B == N:
        idx = np.broadcast_to(np.arange(N), (n_draws, N))
    else:
        idx = np.argpartition(rng.random((n_draws, N)), B - 1, axis=1)[:, :B]
    return g[idx].mean(axis=1)


def minibatch_variance_theory(sigma2: float, n_samples: int, batch_size: np.ndarray | int, *,
                              replace: bool = False) -> np.ndarray:
    r"""Variance of a minibatch mean of :math:`B` out of :math:`N` values with variance :math:`\sigma^2`.

    .. math:: \operatorname{Var}\hat g = \frac{\sigma^2}{B} \quad\text{(with replacement)}, \qquad
              \frac{\sigma^2}{B}\,\frac{N-B}{N-1} \quad\text{(without)}

    with :math:`\sigma^2 = \frac1N\sum_i \|g_i - \bar g\|^2` (Cochran 1977, Thm. 2.2). For vector
    gradients, :math:`\sigma^2` and the result are traces of covariance matrices.
    """
    B = np.asarray(batch_size, dtype=np.float64)
    v = sigma2 / B
    if not replace:
        v = v * (n_samples - B) / (n_samples - 1)
    return v


@dataclass(frozen=True, eq=False)
class GradientNoise:
    """Minibatch gradients at one point, and their measured vs predicted total variance.

    ``full_grad`` is :math:`\\bar g`; ``sigma2`` the per-example variance (trace);
    ``batch_sizes``/``variance``/``theory`` the measured :math:`E\\|\\hat g - \\bar g\\|^2` and its
    formula; ``cloud`` maps a few batch sizes to ``(n_cloud, p)`` sampled minibatch gradients.
    """

    theta: np.ndarray
    full_grad: np.ndarray
    sigma2: float
    n_samples: int
    replace: bool
    batch_sizes: np.ndarray
    variance: np.ndarray
    theory: np.ndarray
    cloud_batch_sizes: tuple[int, ...]
    cloud: tuple[np.ndarray, ...]


def measure_gradient_noise(
    per_example: np.ndarray,
    *,
    batch_sizes: np.ndarray | None = None,
    cloud_batch_sizes: tuple[int, ...] = (),
    n_draws: int = 1000,
    n_cloud: int = 300,
    replace: bool = False,
    theta: np.ndarray | None = None,
    rng: np.random.Generator,
) -> GradientNoise:
    r"""Measure :math:`E\|\hat g_B - \bar g\|^2` for several :math:`B` and sample gradient clouds.

    The per-example gradients are computed once by the caller. All batch sizes are measured from
    the same ``n_draws`` random orderings of the data (without replacement: a random permutation;
    with: i.i.d. uniform picks): the minibatch of size :math:`B` is the first :math:`B` entries, so
    one cumulative sum gives every minibatch mean at once. Each :math:`B`'s draws are exactly
    distributed as a minibatch (a uniformly random subset, or :math:`B` i.i.d. picks); only the
    estimates for different :math:`B` are correlated. ``batch_sizes`` defaults to about 20
    log-spaced sizes from 1 to N; ``n_draws`` is capped at 5,000 and so that the work array holds at
    most 2e7 numbers. The clouds are independent draws (:func:`sample_minibatch_gradients`).
    """
    g = np.asarray(per_example, dtype=np.float64)
    if g.ndim == 1:
        g = g[:, None]
    N, p = g.shape
    mean = g.mean(axis=0)
    sigma2 = float(np.mean(np.sum((g - mean) ** 2, axis=1)))
    if batch_sizes is None:
        batch_sizes = np.unique(np.rint(np.geomspace(1, N, 20)).astype(np.int64))
    sizes = np.unique(np.clip(np.asarray(batch_sizes, dtype=np.int64), 1, N))
    b_max = int(sizes.max())
    n_draws = int(min(max(n_draws, 2), _MAX_DRAWS, max(2, 20_000_000 // (b_max * p))))
    main, *cloud_rngs = rng.spawn(1 + len(cloud_batch_sizes))
    if replace:
        idx = main.integers(0, N, size=(n_draws, b_max))
    else:
        idx = main.permuted(np.broadcast_to(np.arange(N), (n_draws, N)), axis=1)[:, :b_max]
    prefix = np.cumsum(g[idx], axis=1)                          # (draws, b_max, p)
    means = prefix[:, sizes - 1, :] / sizes[None, :, None]     # (draws, n_sizes, p)
    var = np.mean(np.sum((means - mean) ** 2, axis=2), axis=0)
    if not replace and sizes[-1] == N:
        var[-1] = 0.0  # every draw is the full data set; only summation-order round-off would remain
    clouds = tuple(
        sample_minibatch_gradients(g, batch_size=int(B), n_draws=min(n_cloud, _MAX_DRAWS), replace=replace, rng=r)
        for B, r in zip(cloud_batch_sizes, cloud_rngs)
    )
    return GradientNoise(
        theta=np.zeros(0) if theta is None else np.asarray(theta), full_grad=mean, sigma2=sigma2,
        n_samples=N, replace=bool(replace), batch_sizes=sizes, variance=var,
        theory=minibatch_variance_theory(sigma2, N, sizes, replace=replace),
        cloud_batch_sizes=tuple(int(min(max(b, 1), N)) for b in cloud_batch_sizes), cloud=clouds,
    )


# --------------------------------------------------------------------------------------------
# Noise floor
# --------------------------------------------------------------------------------------------


def stationary_variance(h: float, sigma: float, *, lr: float, batch_size: int = 1) -> float:
    r"""Stationary variance of SGD on :math:`\tfrac12 h\theta^2` with gradient noise of variance :math:`\sigma^2`.

    The iteration :math:`\theta_{t+1} = (1-\eta h)\theta_t - \eta\xi_t`,
    :math:`\operatorname{Var}\xi_t = \sigma^2/B`, is an AR(1) process whose variance settles at

    .. math:: v_\infty = \frac{\eta\sigma^2}{B\,h\,(2-\eta h)}, \qquad 0 < \eta h < 2,

    (Mandt, Hoffman & Blei 2017, Sec. 3; set :math:`v = (1-\eta h)^2 v + \eta^2\sigma^2/B`).
    Returns ``inf`` outside the stable range.
    """
    a = lr * h
    if not 0 < a < 2:
        return math.inf
    return lr * sigma**2 / (batch_size * h * (2 - a))


def noisy_quadratic_sgd(
    h: float,
    sigma: float,
    *,
    lr: float,
    batch_size: int = 1,
    n_steps: int = 1000,
    n_chains: int = 1000,
    theta0: float = 0.0,
    rng: np.random.Generator,
) -> np.ndarray:
    r"""Run ``n_chains`` independent SGD chains on :math:`\tfrac12 h\theta^2` with noisy gradients.

    Each per-example gradient is :math:`h\theta + \xi_i`, :math:`\xi_i \sim \mathcal N(0, \sigma^2)`
    i.i.d.; the minibatch mean of :math:`B` of them has noise :math:`\mathcal N(0, \sigma^2/B)`,
    drawn directly. Vectorized over chains; returns the final :math:`\theta` of every chain.
    """
    theta = np.full(int(n_chains), float(theta0))
    scale = sigma / math.sqrt(batch_size)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(n_steps)):
            theta -= lr * (h * theta + scale * rng.standard_normal(theta.shape))
    return theta


def stationary_excess_loss(objective: LeastSquares, *, lr: float, batch_size: int) -> float:
    r"""Exact stationary :math:`E[L(\theta)] - L(\theta^\star)` of SGD with replacement on least squares.

    With :math:`e = \theta - \theta^\star`, :math:`A_i = x_i x_i^\top`, :math:`c_i = x_i r_i`
    (residuals at :math:`\theta^\star`, :math:`\sum_i c_i = 0`), the second moment
    :math:`S = E[e e^\top]` of the stationary distribution solves the linear equation

    .. math:: S = (I-\eta H) S (I-\eta H) + \frac{\eta^2}{B}\Big(\overline{A S A} - H S H + C\Big),
              \quad C = \frac1N\sum_i c_i c_i^\top,

    (both the additive noise :math:`C` and the parameter-dependent part of the per-example
    Hessians), and the excess loss is :math:`\tfrac12 \operatorname{tr}(HS)`. For small
    :math:`\eta` this is :math:`\approx \eta\operatorname{tr}(C)/(4B)`: linear in :math:`\eta/B`
    (Bottou et al. 2018, Thm. 4.6 for the bound). Returns ``inf`` when the second moment diverges.
    """
    X = objective.X
    N, d = X.shape
    H = objective.hessian()
    r = X @ objective.minimizer() - objective.y
    c = X * r[:, None]
    C = c.T @ c / N
    I = np.eye(d)
    M = I - lr * H
    AA = np.einsum("ni,nj,nk,nl->ikjl", X, X, X, X).reshape(d * d, d * d) / N  # mean A_i (x) A_i
    T = np.kron(M, M) + lr**2 / batch_size * (AA - np.kron(H, H))
    if np.max(np.abs(np.linalg.eigvals(T))) >= 1:
        return math.inf
    S = np.linalg.solve(np.eye(d * d) - T, lr**2 / batch_size * C.reshape(-1)).reshape(d, d)
    return 0.5 * float(np.trace(H @ S))


@dataclass(frozen=True, eq=False)
class NoiseFloor:
    """Measured and predicted stationary excess loss for a grid of (lr, batch size).

    Arrays are flat over the configurations. ``excess_mean`` is the excess loss
    :math:`L(\\theta_t) - L(\\theta^\\star)` averaged over the second half of the run and over the
    replicas; ``final_q10``/``final_q90`` the 10 %/90 % quantiles of the final excess loss across
    replicas; ``theory`` :func:`stationary_excess_loss`; ``slope`` is :math:`\\operatorname{tr}(C)/4`,
    the small-step line ``excess = slope * lr / B``. Diverged configurations hold ``nan``.
    """

    lrs: np.ndarray
    batch_sizes: np.ndarray
    excess_mean: np.ndarray
    final_q10: np.ndarray
    final_q90: np.ndarray
    theory: np.ndarray
    slope: float
    n_steps: int
    n_replicas: int

    @property
    def lr_over_b(self) -> np.ndarray:
        return self.lrs / self.batch_sizes


def measure_noise_floor(
    objective: LeastSquares,
    *,
    lrs: tuple[float, ...] = (0.01, 0.03, 0.1),
    batch_sizes: tuple[int, ...] = (1, 4, 16, 64),
    n_steps: int = 1500,
    n_replicas: int = 64,
    rng: np.random.Generator,
) -> NoiseFloor:
    r"""Run SGD (with replacement) from :math:`\theta^\star` and measure the loss it settles at.

    For each batch size, all learning rates and replicas run together: the parameters form an array
    ``(n_lrs, n_replicas, d)`` and each step gathers an ``(n_lrs, n_replicas, B)`` block of indices,
    so the loop is over steps only. Started at the optimum, the excess loss rises to its stationary
    level within about :math:`1/(2\eta\lambda_{\min})` steps; the second half of the run is averaged.
    Sizes are capped (steps <= 5,000, replicas <= 256).
    """
    X, y = objective.X, objective.y
    N, d = X.shape
    theta_star = objective.minimizer()
    H = objective.hessian()
    r = X @ theta_star - y
    slope = float(np.sum((X * r[:, None]) ** 2) / N) / 4.0
    n_steps = int(min(max(n_steps, 10), 5000))
    R = int(min(max(n_replicas, 2), 256))
    eta = np.asarray(lrs, dtype=np.float64)
    sizes = [int(min(max(b, 1), N)) for b in batch_sizes]
    burn = n_steps // 2
    out_lr, out_b, mean_ex, q10, q90, theory = [], [], [], [], [], []
    children = rng.spawn(len(sizes))
    for B, child in zip(sizes, children):
        e = np.zeros((len(eta), R, d))  # theta - theta_star
        acc = np.zeros((len(eta), R))
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(n_steps):
                idx = child.integers(0, N, size=(len(eta), R, B))
                Xb = X[idx]                                   # (L, R, B, d)
                res = (Xb @ e[..., None]) + r[idx][..., None]  # (L, R, B, 1) residuals
                g = (Xb.swapaxes(-1, -2) @ res)[..., 0]       # (L, R, d) summed gradients
                e -= (eta / B)[:, None, None] * g
                if t >= burn:
                    acc += 0.5 * np.einsum("lri,ij,lrj->lr", e, H, e)
        final = 0.5 * np.einsum("lri,ij,lrj->lr", e, H, e)
        for k, lr in enumerate(eta):
            ok = bool(np.all(np.isfinite(final[k])))
            out_lr.append(lr)
            out_b.append(B)
            mean_ex.append(float(acc[k].mean() / (n_steps - burn)) if ok else math.nan)
            q10.append(float(np.quantile(final[k], 0.1)) if ok else math.nan)
            q90.append(float(np.quantile(final[k], 0.9)) if ok else math.nan)
            theory.append(stationary_excess_loss(objective, lr=float(lr), batch_size=B))
    return NoiseFloor(np.array(out_lr), np.array(out_b), np.array(mean_ex), np.array(q10),
                      np.array(q90), np.array(theory), slope, n_steps, R)


# --------------------------------------------------------------------------------------------
# Critical batch size
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CriticalBatch:
    r"""Best one-step learning rate versus batch size on a quadratic.

    ``eps_max`` :math:`= |G|^2 / G^\top H G`, ``b_noise`` :math:`= \operatorname{tr}(H\Sigma)/G^\top H G`;
    ``theory`` :math:`= \epsilon_{\max}/(1 + B_\mathrm{noise}/B)`; ``measured`` the Monte-Carlo best
    step :math:`\overline{G^\top\hat g} / \overline{\hat g^\top H \hat g}`.
    """

    batch_sizes: np.ndarray
    measured: np.ndarray
    theory: np.ndarray
    eps_max: float
    b_noise: float


def critical_batch(
    objective: LeastSquares,
    theta: np.ndarray,
    *,
    batch_sizes: np.ndarray | None = None,
    n_draws: int = 2000,
    rng: np.random.Generator,
) -> CriticalBatch:
    r"""The step size that most decreases the loss in one SGD step, versus :math:`B` (with replacement).

    On a quadratic, one step :math:`\theta - \epsilon\hat g` changes the loss by
    :math:`-\epsilon G^\top\hat g + \tfrac12\epsilon^2 \hat g^\top H\hat g`. Its expectation is
    maximal at

    .. math:: \epsilon_\mathrm{opt}(B) = \frac{\epsilon_{\max}}{1 + B_\mathrm{noise}/B}, \qquad
              \epsilon_{\max} = \frac{|G|^2}{G^\top H G},\quad
              B_\mathrm{noise} = \frac{\operatorname{tr}(H\Sigma)}{G^\top H G}

    (McCandlish et al. 2018, eq. 2.6-2.8): below :math:`B_\mathrm{noise}` doubling the batch almost
    doubles the usable step; far above it, a larger batch buys nothing.
    """
    G_i = objective.per_example_grads(np.asarray(theta, dtype=np.float64))
    N = G_i.shape[0]
    G = G_i.mean(axis=0)
    H = objective.hessian()
    Sigma = (G_i - G).T @ (G_i - G) / N
    gHg = float(G @ H @ G)
    eps_max = float(G @ G) / gHg
    b_noise = float(np.trace(H @ Sigma)) / gHg
    if batch_sizes is None:
        batch_sizes = np.unique(np.rint(np.geomspace(1, N, 16)).astype(np.int64))
    sizes = np.unique(np.clip(np.asarray(batch_sizes, dtype=np.int64), 1, N))
    n_draws = int(min(max(n_draws, 2), _MAX_DRAWS))
    measured = np.empty(len(sizes))
    for k, child in enumerate(rng.spawn(len(sizes))):
        g = sample_minibatch_gradients(G_i, batch_size=int(sizes[k]), n_draws=n_draws, replace=True, rng=child)
        measured[k] = np.mean(g @ G) / np.mean(np.einsum("ni,ij,nj->n", g, H, g))
    theory = eps_max / (1 + b_noise / sizes)
    return CriticalBatch(sizes, measured, theory, eps_max, b_noise)


# --------------------------------------------------------------------------------------------
# The page's default experiment (shared by the page's cache wrappers and the benchmark)
# --------------------------------------------------------------------------------------------

FULL_BATCH = 1_000_000
"""Batch-size placeholder meaning "all N examples" (clipped to N by every entry point)."""

DEFAULT_BATCH_SIZES = (1, 4, 16, 64, 256, FULL_BATCH)
DEFAULT_EPOCHS = 5
DEFAULT_LR = 0.1
DEFAULT_EQUAL_STEPS = 200


def digits_runs(
    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES,
    *,
    lr: float = DEFAULT_LR,
    scale_lr: bool = False,
    n_epochs: float = DEFAULT_EPOCHS,
    n_steps: int | None = None,
    replace: bool = False,
    lam: float = 1e-3,
    max_steps: int = MAX_STEPS,
    rng: np.random.Generator,
) -> BatchComparison:
    """Softmax regression on the digits training split, one SGD run per batch size, from zero weights.

    Returns the runs with their held-out accuracy (:func:`compare_batch_sizes`).
    """
    sp = digits_split()
    obj = softmax_regression(sp.X_train, sp.y_train, n_classes=sp.n_classes, lam=lam)
    return compare_batch_sizes(obj, np.zeros(obj.shape), batch_sizes, lr=lr, scale_lr=scale_lr,
                               n_epochs=n_epochs, n_steps=n_steps, replace=replace, max_steps=max_steps,
                               n_record=80, test_data=(sp.X_test, sp.y_test), rng=rng)
