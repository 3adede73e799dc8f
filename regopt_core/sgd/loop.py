r"""The one minibatch SGD loop, its trace, and a comparison of batch sizes.

.. math:: \theta_{t+1} = \theta_t - \eta\,\hat g_t, \qquad
          \hat g_t = \frac1B \sum_{i \in \mathcal B_t} \nabla L_i(\theta_t)

Without replacement the training set is reshuffled every epoch and cut into :math:`\lceil N/B\rceil`
consecutive minibatches (the last one shorter when :math:`B \nmid N`, as PyTorch's ``DataLoader``
does); with replacement every minibatch is :math:`B` independent uniform draws and an epoch is
:math:`\lceil N/B\rceil` steps (Bottou, Curtis & Nocedal 2018, Alg. 4.1).

Shared rules (:mod:`regopt_core.iteration`): divergence is the one rule
:func:`~regopt_core.iteration.diverged` (a non-finite iterate or loss, or one above 1e12), recorded in
the trace (``diverged``, ``diverged_at``), never raised; the callback is
``callback(Intermediate)`` at every recorded step (StopIteration stops the run); every trace carries a
:class:`~regopt_core.iteration.Convergence` whose criterion is the **relative change of the full
training loss over the last 10 % of the updates**, :math:`|L(\theta_n) - L(\theta_m)| / |L(\theta_m)|`
with :math:`m` the last recorded step :math:`\le 0.9\,n`, compared with ``tol`` (SGD with a constant
step never stops moving; this asks whether the loss has levelled off).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace as dc_replace

import numpy as np

from regopt_core.iteration import DIVERGENCE_LIMIT, Callback, Convergence, diverged, notify
from regopt_core.sgd.objectives import LeastSquares, SoftmaxRegression, accuracy

__all__ = ["SGDTrace", "record_schedule", "scaled_lr", "minibatch_sgd", "loss_plateau", "BatchComparison",
           "compare_batch_sizes", "PLATEAU_TOL", "CRITERION"]

PLATEAU_TOL = 1e-3
"""Default tolerance of the convergence criterion (relative loss change over the last 10 % of updates)."""

CRITERION = "relative change of the training loss over the last 10 % of updates"


@dataclass(frozen=True, eq=False)
class SGDTrace:
    """One minibatch SGD run (or the first ``nit`` updates of a longer one, see :meth:`prefix`).

    Attributes
    ----------
    x : ndarray or None
        Last accepted parameters (``None`` for a prefix view of a longer run).
    fun : float
        Full training loss at the last accepted step.
    nit : int
        Number of accepted updates.
    message : str
        Why the run stopped (``"diverged at step k: ..."`` when it diverged).
    batch_size, lr : int, float
    n_samples : int
        :math:`N`.
    replace : bool
        Minibatches drawn with replacement (i.i.d.) or by reshuffling every epoch.
    steps, grad_evals, losses : ndarray
        Update counts at which the full loss was recorded (starts with 0), the per-example gradients
        computed by then, and the full training loss there.
    path : ndarray or None
        Parameters (flattened) at ``steps`` when kept.
    diverged : bool
    diverged_at : int or None
        The update whose result was rejected.
    capped : bool
        True when the requested work needed more than ``max_steps`` updates.
    convergence : Convergence
        The plateau test of the module docstring.
    monitor_steps, monitor : ndarray
        Steps at which ``monitor(theta)`` was evaluated (e.g. held-out accuracy) and its values.
    """

    x: np.ndarray | None
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
    convergence: Convergence
    monitor_steps: np.ndarray
    monitor: np.ndarray

    @property
    def epochs(self) -> np.ndarray:
        """Passes over the data at ``steps`` (examples seen / N)."""
        return self.grad_evals / self.n_samples

    @property
    def success(self) -> bool:
        return not self.diverged

    @property
    def per_epoch(self) -> int:
        return -(-self.n_samples // self.batch_size)

    def prefix(self, n_steps: int, *, wanted: int | None = None, tol: float = PLATEAU_TOL) -> SGDTrace:
        """The same run stopped after ``n_steps`` updates: every update before is identical, so a long
        run serves every shorter one. ``n_steps`` must be a recorded step (or ``>= nit``).
        ``wanted`` (the updates asked for) sets ``capped`` when it exceeds what the run holds."""
        n = int(n_steps)
        if n >= self.nit:
            capped = self.capped or (wanted is not None and wanted > self.nit)
            return self if capped == self.capped else dc_replace(self, capped=capped)
        k = np.searchsorted(self.steps, n)
        if k >= len(self.steps) or self.steps[k] != n:
            raise ValueError(f"step {n} was not recorded in this run")
        keep = slice(0, k + 1)
        mkeep = self.monitor_steps <= n
        steps, losses = self.steps[keep], self.losses[keep]
        return SGDTrace(
            x=None, fun=float(losses[-1]), nit=n, message=f"finished {n} updates ({n / self.per_epoch:.3g} epochs)",
            batch_size=self.batch_size, lr=self.lr, n_samples=self.n_samples, replace=self.replace, steps=steps,
            grad_evals=self.grad_evals[keep], losses=losses, path=None if self.path is None else self.path[keep],
            diverged=False, diverged_at=None, capped=wanted is not None and wanted > n,
            convergence=loss_plateau(steps, losses, n, diverged=False, tol=tol),
            monitor_steps=self.monitor_steps[mkeep], monitor=self.monitor[mkeep])

    def monitor_at(self, n_steps: int) -> float:
        """The monitored value after ``min(n_steps, nit)`` updates (it must have been monitored there)."""
        n = min(int(n_steps), self.nit)
        k = np.searchsorted(self.monitor_steps, n)
        if k >= len(self.monitor_steps) or self.monitor_steps[k] != n:
            raise ValueError(f"the monitor was not evaluated at step {n}")
        return float(self.monitor[k])


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


def loss_plateau(steps: np.ndarray, losses: np.ndarray, nit: int, *, diverged: bool,
                 tol: float = PLATEAU_TOL) -> Convergence:
    """The convergence test of the module docstring on a recorded loss curve."""
    if diverged or nit == 0:
        return Convergence(False, CRITERION, math.inf if diverged else math.nan, tol, int(nit))
    k = int(np.searchsorted(steps, 0.9 * nit, side="right")) - 1
    ref, end = float(losses[max(k, 0)]), float(losses[-1])
    value = abs(end - ref) / max(abs(ref), 1e-300)
    return Convergence(bool(value <= tol), CRITERION, value, tol, int(nit))


def _validate(N: int, batch_size: int, lr: float, n_epochs: float, n_steps: int | None,
              max_steps: int | None) -> None:
    if not 1 <= int(batch_size) <= N or int(batch_size) != batch_size:
        raise ValueError(f"batch_size must be an integer in [1, N = {N}], got {batch_size}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite positive number, got {lr}")
    if n_steps is None and not (math.isfinite(n_epochs) and n_epochs >= 0):
        raise ValueError(f"n_epochs must be finite and >= 0, got {n_epochs}")
    if n_steps is not None and int(n_steps) < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    if max_steps is not None and int(max_steps) < 0:
        raise ValueError(f"max_steps must be >= 0, got {max_steps}")


def minibatch_sgd(
    objective: LeastSquares | SoftmaxRegression,
    theta0: np.ndarray,
    *,
    batch_size: int,
    lr: float,
    n_epochs: float = 1.0,
    n_steps: int | None = None,
    replace: bool = False,
    max_steps: int | None = None,
    n_record: int | None = 100,
    record_at: np.ndarray | tuple = (),
    keep_path: bool = False,
    monitor=None,
    monitor_at: np.ndarray | tuple = (),
    tol: float = PLATEAU_TOL,
    callback: Callback | None = None,
    rng: np.random.Generator,
) -> SGDTrace:
    r"""Minibatch SGD with a constant step size (see the module docstring for sampling and rules).

    Parameters
    ----------
    objective : LeastSquares or SoftmaxRegression
        Provides ``data`` (rows, targets), ``rows_grad(theta, X_rows, y_rows)`` (mean over the rows),
        ``loss(theta)`` and ``n_samples``.
    theta0 : ndarray
        Starting parameters (copied).
    batch_size : int
        :math:`B \in [1, N]` (ValueError outside).
    lr : float
        Step size :math:`\eta > 0`.
    n_epochs : float, default 1.0
        Passes over the data, :math:`\mathrm{round}(n_\mathrm{epochs}\lceil N/B\rceil)` updates; ignored when
        ``n_steps`` is given.
    n_steps : int, optional
        Number of updates instead of epochs.
    replace : bool, default False
        Draw minibatches with replacement.
    max_steps : int, optional
        Cap on the updates (the caller's work budget); ``capped`` tells whether it cut the run short.
    n_record : int or None, default 100
        About how many full-loss evaluations to record (:func:`record_schedule`); ``None`` records every step.
    record_at : array of int
        Extra steps at which to record (e.g. every epoch boundary, so :meth:`SGDTrace.prefix` can cut there).
    keep_path : bool
        Store the parameters at every recorded step.
    monitor : callable ``theta -> float``, optional, and ``monitor_at`` (steps)
        A quantity evaluated along the run (e.g. held-out accuracy); step 0 and the last step always.
    tol : float
        Tolerance of the convergence test.
    callback : callable, optional
        ``callback(Intermediate)`` at every recorded step; raising StopIteration stops the run.
    rng : numpy.random.Generator
        Source of the minibatch indices.
    """
    X, y = objective.data
    N = objective.n_samples
    _validate(N, batch_size, lr, n_epochs, n_steps, max_steps)
    B = int(batch_size)
    per_epoch = -(-N // B)
    wanted = int(round(float(n_epochs) * per_epoch)) if n_steps is None else int(n_steps)
    total = wanted if max_steps is None else min(wanted, int(max_steps))
    capped = wanted > total
    sched = record_schedule(total, n_record) if n_record is not None else np.arange(total + 1)
    extra = np.asarray(record_at, dtype=np.int64)
    record = np.unique(np.concatenate([sched, extra[(extra >= 0) & (extra <= total)], [0, total]]))
    is_recorded = np.zeros(total + 1, dtype=bool)
    is_recorded[record] = True
    mon = np.asarray(monitor_at, dtype=np.int64)
    is_monitored = np.zeros(total + 1, dtype=bool)
    if monitor is not None:
        is_monitored[mon[(mon >= 0) & (mon <= total)]] = True
        is_monitored[[0, total]] = True

    theta = np.array(theta0, dtype=np.float64)
    f0 = objective.loss(theta)
    if not math.isfinite(f0):
        raise ValueError("the starting point has a non-finite loss")
    if isinstance(objective, LeastSquares) and n_record is None and monitor is None and callback is None:
        return _least_squares_every_step(objective, theta, B, float(lr), total, wanted, per_epoch, replace,
                                         keep_path, tol, rng)
    limit_sq = DIVERGENCE_LIMIT**2
    steps, evals, losses = [0], [0], [f0]
    path = [theta.ravel().copy()] if keep_path else None
    mon_steps, mon_vals = ([0], [monitor(theta)]) if monitor is not None else ([], [])
    n_evals = 0
    diverged_at = None
    stopped = False
    t = 0
    step_fn = getattr(objective, "sgd_step", None)
    if step_fn is None:
        rows_grad = objective.rows_grad

        def step_fn(theta, Xb, yb, lr):
            return theta - lr * rows_grad(theta, Xb, yb)

    full = B == N and not replace
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        while t < total and diverged_at is None and not stopped:
            take = min(per_epoch, total - t)
            if full:
                Xe, ye = X, y
            elif replace:
                idx = rng.integers(0, N, size=take * B)
                Xe, ye = X[idx], y[idx]
            else:
                perm = rng.permutation(N)
                Xe, ye = X[perm], y[perm]
            for k in range(take):
                lo = k * B
                Xb, yb = (Xe, ye) if full else (Xe[lo:lo + B], ye[lo:lo + B])
                new = step_fn(theta, Xb, yb, lr)
                step = t + 1
                f = None
                if is_recorded[step]:
                    f = objective.loss(new)
                if not float(np.vdot(new, new)) <= limit_sq or f is not None:  # cheap pre-test, then the rule
                    if diverged(new, f):
                        diverged_at = step
                        break
                theta = new
                t = step
                n_evals += len(yb)
                if f is not None:
                    steps.append(t)
                    evals.append(n_evals)
                    losses.append(f)
                    if path is not None:
                        path.append(theta.ravel().copy())
                    if notify(callback, theta, t, total, f):
                        stopped = True
                        break
                if is_monitored[t]:
                    mon_steps.append(t)
                    mon_vals.append(monitor(theta))
    if steps[-1] != t:  # diverged or stopped between records: keep the last accepted point
        steps.append(t)
        evals.append(n_evals)
        losses.append(objective.loss(theta))
        if path is not None:
            path.append(theta.ravel().copy())
    if monitor is not None and (not mon_steps or mon_steps[-1] != t):
        mon_steps.append(t)
        mon_vals.append(monitor(theta))
    return _trace(theta, t, total, wanted, per_epoch, B, float(lr), N, replace, steps, evals, losses, path,
                  diverged_at, capped and diverged_at is None and not stopped, stopped, tol, mon_steps, mon_vals)


def _trace(theta, t, total, wanted, per_epoch, B, lr, N, replace, steps, evals, losses, path, diverged_at,
           capped, stopped, tol, mon_steps, mon_vals) -> SGDTrace:
    if diverged_at is not None:
        message = f"diverged at step {diverged_at}: the update left the bounded region (|θ| > 1e12 or not finite)"
    elif stopped:
        message = f"stopped by the callback after {t} updates"
    elif capped:
        message = f"stopped at the cap of {t} updates ({t / per_epoch:.3g} of {wanted / per_epoch:.3g} epochs)"
    else:
        message = f"finished {t} updates ({t / per_epoch:.3g} epochs)"
    steps = np.asarray(steps, dtype=np.int64)
    losses = np.asarray(losses, dtype=np.float64)
    return SGDTrace(
        x=theta, fun=float(losses[-1]), nit=int(t), message=message, batch_size=B, lr=lr, n_samples=N,
        replace=bool(replace), steps=steps, grad_evals=np.asarray(evals, dtype=np.int64), losses=losses,
        path=None if path is None else np.asarray(path), diverged=diverged_at is not None, diverged_at=diverged_at,
        capped=bool(capped), convergence=loss_plateau(steps, losses, t, diverged=diverged_at is not None, tol=tol),
        monitor_steps=np.asarray(mon_steps, dtype=np.int64), monitor=np.asarray(mon_vals, dtype=np.float64))


def _least_squares_every_step(obj: LeastSquares, theta: np.ndarray, B: int, lr: float, total: int, wanted: int,
                              per_epoch: int, replace: bool, keep_path: bool, tol: float,
                              rng: np.random.Generator) -> SGDTrace:
    """The same loop for least squares recorded at every step, vectorized over each epoch's batches.

    A minibatch gradient of least squares is :math:`A_t\\theta - c_t` with :math:`A_t`, :math:`c_t` the batch
    means of :math:`x_i x_i^\\top` and :math:`x_i y_i`; those are summed for a whole epoch at once
    (``np.add.reduceat``), then the recurrence :math:`\\theta \\leftarrow \\theta - \\eta(A_t\\theta - c_t)` runs.
    The minibatches are the generic loop's (same generator calls); the losses of the whole path are
    evaluated at once afterwards and the one divergence rule is applied to every step.
    """
    X, y = obj.X, obj.y
    N, d = X.shape
    F = np.concatenate([(X[:, :, None] * X[:, None, :]).reshape(N, d * d), X * y[:, None]], axis=1)
    out = np.empty((total + 1, d))
    out[0] = theta
    th = theta.copy()
    t = 0
    bad = None
    starts = np.arange(0, N, B)
    with np.errstate(over="ignore", invalid="ignore"):
        while t < total and bad is None:
            take = min(per_epoch, total - t)
            if B == N and not replace:
                sums = np.broadcast_to(F.sum(axis=0), (take, F.shape[1]))
                counts = np.full(take, N)
            elif replace:
                sums = F[rng.integers(0, N, size=take * B)].reshape(take, B, -1).sum(axis=1)
                counts = np.full(take, B)
            else:
                sums = np.add.reduceat(F[rng.permutation(N)], starts, axis=0)[:take]
                counts = np.minimum(B, N - starts)[:take]
            means = sums / counts[:, None]
            if d == 2:  # plain floats: ~0.5 µs per step instead of ~5 µs of numpy calls
                a11, a12, a21, a22, c1, c2 = (means * lr).T.tolist()
                x1, x2 = float(th[0]), float(th[1])
                row = []
                for k in range(take):
                    x1, x2 = (x1 - (a11[k] * x1 + a12[k] * x2) + c1[k], x2 - (a21[k] * x1 + a22[k] * x2) + c2[k])
                    row.append((x1, x2))
                    if not (abs(x1) <= DIVERGENCE_LIMIT and abs(x2) <= DIVERGENCE_LIMIT):
                        bad = t + len(row)
                        break
                out[t + 1:t + 1 + len(row)] = row
                t += len(row)
                th = out[t].copy()
                continue
            A = means[:, : d * d].reshape(take, d, d)
            c = means[:, d * d:]
            for k in range(take):
                th = th - lr * (A[k] @ th - c[k])
                t += 1
                out[t] = th
                if not np.all(np.abs(th) <= DIVERGENCE_LIMIT):
                    bad = t
                    break
    out = out[: t + 1]
    losses = obj.losses_along(out)
    with np.errstate(over="ignore", invalid="ignore"):
        ok = np.isfinite(losses) & (np.abs(losses) <= DIVERGENCE_LIMIT) & np.all(np.abs(out) <= DIVERGENCE_LIMIT, axis=1)
    diverged_at = None
    if not np.all(ok):
        first = int(np.argmin(ok))
        if diverged(out[first], float(losses[first])):  # the rule itself decides
            diverged_at = first
            out, losses = out[:first], losses[:first]
    n = len(out) - 1
    counts_all = np.minimum(B, N - (np.arange(n) % per_epoch) * B) if not replace else np.full(n, B)
    evals = np.concatenate([[0], np.cumsum(counts_all)])
    return _trace(out[-1].copy(), n, total, wanted, per_epoch, B, lr, N, replace, np.arange(n + 1), evals, losses,
                  out if keep_path else None, diverged_at, wanted > total and diverged_at is None, False, tol, [], [])


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
    max_steps: int | None = None,
    n_record: int | None = 100,
    record_at: np.ndarray | tuple = (),
    keep_path: bool = False,
    test_data: tuple[np.ndarray, np.ndarray] | None = None,
    monitor_at: np.ndarray | tuple = (),
    rng: np.random.Generator,
) -> BatchComparison:
    r"""Run :func:`minibatch_sgd` once per batch size, each with its own child generator.

    ``batch_sizes`` must be distinct integers in ``[1, N]`` (ValueError otherwise); runs come out sorted
    by batch size. With ``scale_lr`` the step size follows the linear scaling rule
    :math:`\eta_B = \eta\,B` (reference batch 1, :func:`scaled_lr`), otherwise every run uses :math:`\eta`.
    ``test_data`` (softmax only) adds each run's held-out accuracy (and monitors it at ``monitor_at``).
    """
    N = objective.n_samples
    sizes = tuple(sorted(int(b) for b in batch_sizes))
    if len(set(sizes)) != len(sizes) or not sizes or sizes[0] < 1 or sizes[-1] > N:
        raise ValueError(f"batch sizes must be distinct integers in [1, {N}], got {batch_sizes}")
    children = rng.spawn(len(sizes))
    monitor = None
    if test_data is not None:
        Xt, yt = test_data

        def monitor(theta):
            return accuracy(objective, theta, Xt, yt)

    traces, lrs = [], []
    for B, child in zip(sizes, children):
        eta = scaled_lr(lr, B) if scale_lr else float(lr)
        lrs.append(eta)
        traces.append(minibatch_sgd(objective, theta0, batch_size=B, lr=eta, n_epochs=n_epochs, n_steps=n_steps,
                                    replace=replace, max_steps=max_steps, n_record=n_record, record_at=record_at,
                                    keep_path=keep_path, monitor=monitor, monitor_at=monitor_at, rng=child))
    acc = None
    if test_data is not None:
        acc = tuple(float(tr.monitor[-1]) for tr in traces)
    return BatchComparison(tuple(traces), sizes, tuple(lrs), acc)
