r"""The SGD page's experiments: one frozen config, its caps, and the recipes that decide what is computed.

``SGDConfig`` holds every setting a student can change (batch sizes, η, the scaling rule, epochs, the
equal-updates count, the sampling, the point of the noise measurement, the seed);
:meth:`SGDConfig.clamped` is the **only** place the server's caps live (epochs, updates per run,
number of runs, the equal-updates count, learning rate, seed). Each page section computes from its
own small config (:meth:`SGDConfig.digits`, :meth:`~SGDConfig.paths`, :meth:`~SGDConfig.noise`,
:meth:`~SGDConfig.floor`, :meth:`~SGDConfig.critical`), so a setting a section does not use never
changes its cache key, and each section draws from its own random stream
(:func:`regopt_core.seeding.stream`).

**One run serves many settings.** The digits runs are computed once per (batch sizes, η, scaling,
sampling, seed) up to the horizon of the epochs slider (capped updates per run): the run for E epochs
is the first E epochs of that run (same minibatches), so the epochs and equal-updates controls only
cut a stored run (:meth:`DigitsFamily.by_epochs`, :meth:`DigitsFamily.by_updates`). The regression
paths likewise (:meth:`PathsFamily.by_epochs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from regopt_core import datasets
from regopt_core.seeding import stream
from regopt_core.sgd.critical import CriticalBatch, critical_batch
from regopt_core.sgd.floor import NoiseFloor, measure_noise_floor
from regopt_core.sgd.loop import BatchComparison, SGDTrace, compare_batch_sizes, minibatch_sgd, scaled_lr
from regopt_core.sgd.noise import GradientNoise, measure_gradient_noise
from regopt_core.sgd.objectives import (LeastSquares, SoftmaxRegression, accuracy, least_squares,
                                        softmax_regression)

__all__ = [
    "FULL_BATCH", "BATCH_OPTIONS", "DEFAULT_BATCH_SIZES", "DEFAULT_EPOCHS", "DEFAULT_LR", "DEFAULT_EQUAL_STEPS",
    "MAX_EPOCHS", "MAX_STEPS", "MAX_EQUAL_STEPS", "EQUAL_STEPS_GRID", "MAX_BATCH_SIZES", "LR_RANGE",
    "TRAJECTORY_START", "NOISE_FLOOR_LRS", "NOISE_FLOOR_BATCHES", "LAM",
    "SGDConfig", "DEFAULT", "DigitsConfig", "PathsConfig", "NoiseConfig", "FloorConfig", "CriticalConfig",
    "DigitsFamily", "UpdatesView", "PathsFamily", "NoiseResult",
    "digits_problem", "regression_problem", "resolve_batches", "DigitsRunConfig", "digits_run_configs", "digits_run",
    "digits_family", "regression_paths", "gradient_noise", "noise_floor", "critical", "digits_runs",
    "lecture_states", "warm_pairs",
]

FULL_BATCH = 1_000_000
"""Batch-size placeholder meaning "all N examples" (resolved to N per problem by :func:`resolve_batches`)."""

BATCH_OPTIONS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, FULL_BATCH)
DEFAULT_BATCH_SIZES = (1, 4, 16, 64, 256, FULL_BATCH)
DEFAULT_EPOCHS = 5
DEFAULT_LR = 0.1
DEFAULT_EQUAL_STEPS = 200
LAM = 1e-3
"""λ of the digits classifier (λ/2 convention: mean cross-entropy + λ/2 ‖W‖²)."""

MAX_EPOCHS = 100
"""Largest number of epochs (the horizon every stored run reaches, up to :data:`MAX_STEPS`)."""
MAX_STEPS = 10_000
"""Updates per run at most (B = 1 for 100 epochs of digits would be 143,800)."""
MAX_EQUAL_STEPS = 1000
"""Largest equal-updates count of the accuracy comparison."""
EQUAL_STEPS_GRID = 10
"""The equal-updates count moves in steps of this many updates."""
MAX_BATCH_SIZES = 7
"""Runs per comparison at most (one colour each); the smallest batch sizes are kept."""
LR_RANGE = (1e-3, 2.0)
TRAJECTORY_START = (-1.0, 2.0)
NOISE_FLOOR_LRS = (0.01, 0.03, 0.1)
NOISE_FLOOR_BATCHES = (1, 4, 16, 64)
POINTS = ("start", "minimum")

# one random stream per section (regopt_core.seeding)
_STREAM = {"digits": 0, "paths": 1, "noise": 2, "floor": 3, "critical": 4}


def resolve_batches(batch_sizes: tuple[int, ...], n_samples: int) -> tuple[int, ...]:
    """Batch sizes of one problem: :data:`FULL_BATCH` (or anything >= N) becomes N; sorted, distinct."""
    return tuple(sorted({min(int(b), n_samples) for b in batch_sizes}))


@dataclass(frozen=True)
class SGDConfig:
    """Every setting of the SGD page (hashable). Build it from the widgets, then call :meth:`clamped`."""

    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    lr: float = DEFAULT_LR
    scale_lr: bool = False
    epochs: int = DEFAULT_EPOCHS
    steps: int = DEFAULT_EQUAL_STEPS
    replace: bool = False
    at: str = "start"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.at not in POINTS:
            raise ValueError(f"at must be one of {POINTS}, got {self.at!r}")
        if not all(isinstance(b, (int, np.integer)) for b in self.batch_sizes):
            raise ValueError(f"batch sizes must be integers, got {self.batch_sizes}")
        if not math.isfinite(self.lr):
            raise ValueError(f"lr must be finite, got {self.lr}")

    def clamped(self) -> SGDConfig:
        """The config the server computes: THE place of the page's caps.

        Batch sizes: positive, distinct, at most :data:`MAX_BATCH_SIZES` (the smallest kept); η in
        :data:`LR_RANGE`; epochs in [1, :data:`MAX_EPOCHS`]; equal updates in
        [:data:`EQUAL_STEPS_GRID`, :data:`MAX_EQUAL_STEPS`] on the grid of :data:`EQUAL_STEPS_GRID`;
        seed in [0, 2³¹). Each run stops after :data:`MAX_STEPS` updates (its trace says ``capped``).
        """
        sizes = tuple(sorted({min(max(int(b), 1), FULL_BATCH) for b in self.batch_sizes}))[:MAX_BATCH_SIZES]
        steps = int(min(max(int(self.steps), EQUAL_STEPS_GRID), MAX_EQUAL_STEPS))
        return SGDConfig(
            batch_sizes=sizes,
            lr=float(min(max(float(self.lr), LR_RANGE[0]), LR_RANGE[1])),
            scale_lr=bool(self.scale_lr),
            epochs=int(min(max(int(self.epochs), 1), MAX_EPOCHS)),
            steps=steps - steps % EQUAL_STEPS_GRID,
            replace=bool(self.replace),
            at=self.at,
            seed=int(min(max(int(self.seed), 0), 2**31 - 1)),
        )

    # --- the section configs (what each section's cached result depends on) ---------------------
    def digits(self) -> DigitsConfig:
        return DigitsConfig(batch_sizes=self.batch_sizes, lr=self.lr, scale_lr=self.scale_lr, replace=self.replace,
                            seed=self.seed)

    def paths(self) -> PathsConfig:
        return PathsConfig(batch_sizes=self.batch_sizes, lr=self.lr, scale_lr=self.scale_lr, replace=self.replace,
                           seed=self.seed)

    def noise(self) -> NoiseConfig:
        return NoiseConfig(at=self.at, cloud_batch_sizes=self.batch_sizes, replace=self.replace, seed=self.seed)

    def floor(self) -> FloorConfig:
        return FloorConfig(seed=self.seed)

    def critical(self) -> CriticalConfig:
        return CriticalConfig(seed=self.seed)


DEFAULT = SGDConfig()


def _check_sizes(sizes: tuple[int, ...]) -> None:
    if not sizes or len(set(sizes)) != len(sizes) or min(sizes) < 1:
        raise ValueError(f"batch sizes must be distinct positive integers, got {sizes}")


@dataclass(frozen=True)
class DigitsConfig:
    """Softmax regression on the digits, one run per batch size, stored up to the horizon."""

    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    lr: float = DEFAULT_LR
    scale_lr: bool = False
    replace: bool = False
    seed: int = 0
    lam: float = LAM
    horizon_epochs: int = MAX_EPOCHS
    max_steps: int = MAX_STEPS
    max_equal_steps: int = MAX_EQUAL_STEPS
    equal_steps_grid: int = EQUAL_STEPS_GRID
    n_record: int = 40

    def __post_init__(self) -> None:
        _check_sizes(self.batch_sizes)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be positive, got {self.lr}")


@dataclass(frozen=True)
class PathsConfig:
    """Least squares on two diabetes features, every step kept, up to the horizon."""

    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    lr: float = DEFAULT_LR
    scale_lr: bool = False
    replace: bool = False
    seed: int = 0
    horizon_epochs: int = MAX_EPOCHS
    max_steps: int = MAX_STEPS
    start: tuple[float, float] = TRAJECTORY_START

    def __post_init__(self) -> None:
        _check_sizes(self.batch_sizes)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be positive, got {self.lr}")


@dataclass(frozen=True)
class NoiseConfig:
    """Minibatch gradients of the regression at one point, both samplings."""

    at: str = "start"
    cloud_batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    replace: bool = False
    seed: int = 0
    n_draws: int = 1000
    n_cloud: int = 300

    def __post_init__(self) -> None:
        if self.at not in POINTS:
            raise ValueError(f"at must be one of {POINTS}, got {self.at!r}")


@dataclass(frozen=True)
class FloorConfig:
    """Stationary excess loss of SGD with replacement on the regression, a grid of (η, B)."""

    seed: int = 0
    lrs: tuple[float, ...] = NOISE_FLOOR_LRS
    batch_sizes: tuple[int, ...] = NOISE_FLOOR_BATCHES
    n_steps: int = 800
    n_replicas: int = 32


@dataclass(frozen=True)
class CriticalConfig:
    """Best one-step learning rate versus B at the start point of the paths."""

    seed: int = 0
    n_draws: int = 2000
    start: tuple[float, float] = TRAJECTORY_START


# ------------------------------------------------------------------------------------------ problems
@lru_cache(maxsize=2)
def digits_problem(lam: float = LAM) -> tuple[SoftmaxRegression, datasets.ClassificationSplit]:
    """The digits classifier's objective on the training split, and the split (shared, read-only)."""
    sp = datasets.load_digits_split()
    return softmax_regression(sp.X_train, sp.y_train, n_classes=sp.n_classes, lam=lam), sp


@lru_cache(maxsize=1)
def regression_problem() -> LeastSquares:
    """The two-weight least-squares problem on the diabetes data (shared, read-only)."""
    d = datasets.load_diabetes_pair()
    return least_squares(d.X, d.y)


# ------------------------------------------------------------------------------------------ digits
@dataclass(frozen=True, eq=False)
class UpdatesView:
    """Held-out accuracy of each run after the same number of updates."""

    n_steps: int
    batch_sizes: tuple[int, ...]
    lrs: tuple[float, ...]
    accuracy: tuple[float, ...]
    diverged: tuple[bool, ...]


@dataclass(frozen=True, eq=False)
class DigitsFamily:
    """The digits runs up to the horizon; every epochs / equal-updates setting is a cut of them."""

    config: DigitsConfig
    runs: BatchComparison
    n_train: int
    n_test: int

    def wanted_steps(self, trace: SGDTrace, epochs: int) -> int:
        return int(epochs) * trace.per_epoch

    def by_epochs(self, epochs: int) -> BatchComparison:
        """The runs stopped after ``epochs`` passes (capped at the config's ``max_steps``)."""
        if not 1 <= int(epochs) <= self.config.horizon_epochs:
            raise ValueError(f"epochs must lie in [1, {self.config.horizon_epochs}], got {epochs}")
        traces, acc = [], []
        for tr in self.runs.traces:
            wanted = self.wanted_steps(tr, epochs)
            cut = tr.prefix(min(wanted, tr.nit), wanted=wanted)
            traces.append(cut)
            acc.append(tr.monitor_at(cut.nit))
        return BatchComparison(tuple(traces), self.runs.batch_sizes, self.runs.lrs, tuple(acc))

    def by_updates(self, n_steps: int) -> UpdatesView:
        """Held-out accuracy after ``n_steps`` updates of every run (a diverged run: at its last good step)."""
        n = int(n_steps)
        if not 1 <= n <= self.config.max_equal_steps or n % self.config.equal_steps_grid:
            raise ValueError(f"n_steps must be a multiple of {self.config.equal_steps_grid} in "
                             f"[1, {self.config.max_equal_steps}], got {n_steps}")
        return UpdatesView(n, self.runs.batch_sizes, self.runs.lrs,
                           tuple(tr.monitor_at(n) for tr in self.runs.traces),
                           tuple(tr.diverged and tr.nit < n for tr in self.runs.traces))


@dataclass(frozen=True)
class DigitsRunConfig:
    """One digits run: its batch size (resolved), its effective step size, sampling, seed and horizon.

    Runs are cached one by one, so changing the set of batch sizes computes only the new ones, and the
    run of a batch size draws from a stream of its own (``seeding.stream(seed, 2_000_000 * section + B)``),
    whatever the other batch sizes are.
    """

    batch_size: int
    lr: float
    replace: bool = False
    seed: int = 0
    lam: float = LAM
    horizon_epochs: int = MAX_EPOCHS
    max_steps: int = MAX_STEPS
    max_equal_steps: int = MAX_EQUAL_STEPS
    equal_steps_grid: int = EQUAL_STEPS_GRID
    n_record: int = 40

    def __post_init__(self) -> None:
        if int(self.batch_size) != self.batch_size or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be positive, got {self.lr}")


def _run_stream(seed: int, section: str, batch_size: int) -> np.random.Generator:
    return stream(seed, 2_000_000 * _STREAM[section] + int(batch_size))


def digits_run_configs(cfg: DigitsConfig) -> tuple[DigitsRunConfig, ...]:
    """The runs of a digits comparison (batch sizes resolved to the training set, linear scaling applied)."""
    obj, _ = digits_problem(cfg.lam)
    N = obj.n_samples
    # the full batch without replacement draws nothing (every step uses all N rows in order): its run is the
    # same for every seed, so it is keyed (and cached, and precomputed) once, as seed 0
    return tuple(DigitsRunConfig(batch_size=B, lr=scaled_lr(cfg.lr, B) if cfg.scale_lr else float(cfg.lr),
                                 replace=cfg.replace, seed=0 if (B == N and not cfg.replace) else cfg.seed,
                                 lam=cfg.lam, horizon_epochs=cfg.horizon_epochs,
                                 max_steps=cfg.max_steps, max_equal_steps=cfg.max_equal_steps,
                                 equal_steps_grid=cfg.equal_steps_grid, n_record=cfg.n_record)
                 for B in resolve_batches(cfg.batch_sizes, obj.n_samples))


def digits_run(cfg: DigitsRunConfig) -> SGDTrace:
    """Softmax regression on the digits training split from zero weights, one batch size, to
    ``max(horizon_epochs epochs, max_equal_steps updates)`` capped at ``max_steps``; the full loss is
    recorded at every epoch boundary (and ~``n_record`` more points), the held-out accuracy (``monitor``)
    at every epoch boundary and every ``equal_steps_grid`` updates."""
    obj, sp = digits_problem(cfg.lam)
    N = obj.n_samples
    B = int(cfg.batch_size)
    if B > N:
        raise ValueError(f"batch_size {B} exceeds N = {N}")
    per_epoch = -(-N // B)
    epochs_at = per_epoch * np.arange(1, cfg.horizon_epochs + 1)
    grid = np.arange(cfg.equal_steps_grid, cfg.max_equal_steps + 1, cfg.equal_steps_grid)
    horizon = min(max(cfg.horizon_epochs * per_epoch, cfg.max_equal_steps), cfg.max_steps)
    Xt, yt = sp.X_test, sp.y_test
    return minibatch_sgd(obj, np.zeros(obj.shape), batch_size=B, lr=cfg.lr, n_steps=horizon, replace=cfg.replace,
                         n_record=cfg.n_record, record_at=epochs_at, monitor=lambda th: accuracy(obj, th, Xt, yt),
                         monitor_at=np.union1d(epochs_at, grid), rng=_run_stream(cfg.seed, "digits", B))


def digits_family(cfg: DigitsConfig, traces: tuple[SGDTrace, ...] | None = None) -> DigitsFamily:
    """The digits comparison of ``cfg``: its runs (:func:`digits_run`, or the ``traces`` a cache already
    holds, in the order of :func:`digits_run_configs`), ready to be cut by epochs or updates."""
    runs = digits_run_configs(cfg)
    if traces is None:
        traces = tuple(digits_run(rc) for rc in runs)
    if len(traces) != len(runs):
        raise ValueError("one trace per run config is needed")
    obj, sp = digits_problem(cfg.lam)
    cmp = BatchComparison(tuple(traces), tuple(rc.batch_size for rc in runs), tuple(rc.lr for rc in runs),
                          tuple(float(t.monitor[-1]) for t in traces))
    return DigitsFamily(cfg, cmp, obj.n_samples, len(sp.y_test))


def digits_runs(cfg: SGDConfig = DEFAULT) -> BatchComparison:
    """The digits runs of a page config at its epochs (the table and the three clocks)."""
    c = cfg.clamped()
    return digits_family(c.digits()).by_epochs(c.epochs)


# ------------------------------------------------------------------------------------------ regression
@dataclass(frozen=True, eq=False)
class PathsFamily:
    """The regression runs (every step kept) up to the horizon, and the loss surface behind them."""

    config: PathsConfig
    runs: BatchComparison
    w1: np.ndarray
    w2: np.ndarray
    grid: np.ndarray
    theta_star: np.ndarray
    f_star: float
    lmax: float
    names: tuple[str, str]

    def by_epochs(self, epochs: int) -> BatchComparison:
        if not 1 <= int(epochs) <= self.config.horizon_epochs:
            raise ValueError(f"epochs must lie in [1, {self.config.horizon_epochs}], got {epochs}")
        traces = []
        for tr in self.runs.traces:
            wanted = int(epochs) * tr.per_epoch
            traces.append(tr.prefix(min(wanted, tr.nit), wanted=wanted))
        return BatchComparison(tuple(traces), self.runs.batch_sizes, self.runs.lrs, None)


def regression_paths(cfg: PathsConfig) -> PathsFamily:
    """SGD paths of every batch size on the two-weight regression from ``start``, every step kept, up to
    ``horizon_epochs`` epochs (at most ``max_steps`` updates per run); the loss contours behind them."""
    obj = regression_problem()
    sizes = resolve_batches(cfg.batch_sizes, obj.n_samples)
    traces, lrs = [], []
    for B in sizes:
        eta = scaled_lr(cfg.lr, B) if cfg.scale_lr else float(cfg.lr)
        traces.append(minibatch_sgd(obj, np.array(cfg.start), batch_size=B, lr=eta, n_epochs=cfg.horizon_epochs,
                                    replace=cfg.replace, max_steps=cfg.max_steps, n_record=None, keep_path=True,
                                    rng=_run_stream(cfg.seed, "paths", B)))
        lrs.append(eta)
    star = obj.minimizer()
    w1 = np.linspace(-1.6, 2.6, 121)
    w2 = np.linspace(-1.6, 2.6, 121)
    names = datasets.load_diabetes_pair().feature_names
    return PathsFamily(cfg, BatchComparison(tuple(traces), sizes, tuple(lrs), None), w1, w2, obj.loss_grid(w1, w2),
                       star, obj.loss(star), float(np.linalg.eigvalsh(obj.hessian()).max()), (names[0], names[1]))


@dataclass(frozen=True, eq=False)
class NoiseResult:
    """Gradient noise at one point: the page's sampling (with clouds) and both samplings' variance curves."""

    point: str
    theta: np.ndarray
    main: GradientNoise
    without: GradientNoise
    with_: GradientNoise


def gradient_noise(cfg: NoiseConfig) -> NoiseResult:
    """Per-example gradients at the start point or the minimum, clouds at the page's batch sizes, and the
    variance against B for both samplings (independent streams)."""
    obj = regression_problem()
    theta = np.array(TRAJECTORY_START) if cfg.at == "start" else obj.minimizer()
    G = obj.per_example_grads(theta)
    a, b = stream(cfg.seed, _STREAM["noise"]).spawn(2)
    clouds = resolve_batches(cfg.cloud_batch_sizes, obj.n_samples)
    main = measure_gradient_noise(G, cloud_batch_sizes=clouds, n_draws=cfg.n_draws, n_cloud=cfg.n_cloud,
                                  replace=cfg.replace, theta=theta, rng=a)
    other = measure_gradient_noise(G, n_draws=cfg.n_draws, replace=not cfg.replace, theta=theta, rng=b)
    without, with_ = (other, main) if cfg.replace else (main, other)
    return NoiseResult(cfg.at, theta, main, without, with_)


def noise_floor(cfg: FloorConfig) -> NoiseFloor:
    """Stationary excess loss for the config's (η, B) grid, with replacement, from the minimum."""
    return measure_noise_floor(regression_problem(), lrs=cfg.lrs, batch_sizes=cfg.batch_sizes, n_steps=cfg.n_steps,
                               n_replicas=cfg.n_replicas, rng=stream(cfg.seed, _STREAM["floor"]))


def critical(cfg: CriticalConfig) -> CriticalBatch:
    """Best one-step learning rate vs B at the start point of the paths."""
    return critical_batch(regression_problem(), np.array(cfg.start), n_draws=cfg.n_draws,
                          rng=stream(cfg.seed, _STREAM["critical"]))


# ------------------------------------------------------------------------------------------ warm-up
LR_GRID = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
"""The learning rates the page's η slider offers (1-2-5 per decade): each is precomputed at the defaults."""


def lecture_states() -> tuple[SGDConfig, ...]:
    """The page's prepared states: the defaults, the defaults with the sampling or the scaling switch flipped,
    the registry's deep links (same settings) and every η of the slider at otherwise default settings (so a
    move of η or of a switch from the lecture's state is a stored result)."""
    return (
        DEFAULT,
        SGDConfig(replace=True),  # the page's switches, flipped from the defaults
        SGDConfig(scale_lr=True),
        SGDConfig(at="minimum"),
        SGDConfig(lr=2.0, epochs=5),
        SGDConfig(lr=1.0, replace=True, at="minimum"),
        SGDConfig(epochs=100, steps=1000),
        SGDConfig(scale_lr=True, lr=0.005),
    ) + tuple(SGDConfig(lr=lr) for lr in LR_GRID if lr != DEFAULT_LR)


def warm_pairs(states: tuple[SGDConfig, ...] | None = None) -> list[tuple]:
    """``(function, config)`` of every cached result the given page states show (default: the lecture's),
    without duplicates — what the server pins at start and the precompute step stores."""
    pairs, seen = [], set()
    for state in lecture_states() if states is None else states:
        c = state.clamped()
        items = [(digits_run, rc) for rc in digits_run_configs(c.digits())]
        items += [(regression_paths, c.paths()), (gradient_noise, c.noise()), (noise_floor, c.floor()),
                  (critical, c.critical())]
        for fn, cfg in items:
            if (fn.__name__, cfg) not in seen:
                seen.add((fn.__name__, cfg))
                pairs.append((fn, cfg))
    return pairs
