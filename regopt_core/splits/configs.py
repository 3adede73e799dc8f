"""The splits page's settings as frozen configs, and the recipes the page caches: ``fn(config) -> result``.

One config per section (they compute different things). Each has ``DEFAULT`` and ``clamped()``, **the
only place the page's caps live**: sizes, repetitions, K, and the work budget. Repetitions are lowered by
a cost model (seconds per repetition on the project's 2-core machine) so that

* a *live* config (``live=True``, what a control move asks for) computes in at most ``LIVE_SECONDS``;
* a *full* config (``live=False``: the defaults and deep links in the precomputed store, or an explicit
  "compute" button) computes in at most ``FULL_SECONDS``.

``clamped()`` returns the config the server really computes; when the live budget does not bite it
returns the full config (``live=False``), so both share one cache key. The page compares the request
with ``clamped()`` to say what was capped.

Random numbers: one stream per section of the page's seed (:func:`regopt_core.seeding.stream`), so a
section's settings never change another section's numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar

from regopt_core.seeding import stream
from regopt_core.splits.best_of_k import BestOfK, simulate_best_of_k
from regopt_core.splits.early_stopping import EarlyStopping
from regopt_core.splits.early_stopping import early_stopping as _early_stopping
from regopt_core.splits.leakage import LeakResult, patient_leak, preprocessing_leak, selection_leak, stratified_counts
from regopt_core.splits.protocols import (
    PROBLEMS,
    ApproachComparison,
    ErrorCurves,
    approach_cost,
    compare_approaches,
    error_curves,
)

LIVE_SECONDS = 0.03  # a section's control move: compute within this (the page's budget is 250 ms CPU per interaction,
# the section's figures included; the cost models below are within a factor of two). A page-wide move (the seed)
# or a move whose fewest repetitions cost more than 1.25 times this waits for the page's Compute button; the "Compute
# all" button gives the full repetitions
FULL_SECONDS = 3.0  # the store's states and an explicit button (budget 5 s with progress)

MAX_MODELS = 1000  # K, configurations compared
MAX_SAMPLES = 200  # study size n for the kernel-ridge experiments
MAX_BEST_OF_K_REPEATS = 5000
MAX_BEST_OF_K_DRAWS = 2_000_000  # repetitions x K binomial draws (about 0.15 s)
MAX_TEST_POINTS = 100_000
MAX_SPLIT_REPEATS = 400  # repetitions of a full split experiment (each one a new random study)
MAX_FEATURES = 5000  # noise predictors in the ESL experiment
MAX_KEEP = 1000
MAX_EPOCHS = 20000
MAX_WEIGHTS = 200
MAX_PATIENTS = 200
MAX_PER_PATIENT = 20
MAX_FRESH = 20000

#: the stream of the page seed each section draws from
STREAMS = {"one_study": 1, "approaches": 2, "best_of_k": 3, "early": 4, "esl": 5, "prep": 6, "patients": 7}


def _clip(v, lo, hi):
    return min(max(v, lo), hi)


def _int(v, lo: int, hi: int) -> int:
    try:
        f = float(v)
    except (TypeError, ValueError):
        f = lo
    if not math.isfinite(f):
        f = hi if f > 0 else lo
    return int(_clip(int(round(f)), lo, hi))


def _float(v, lo: float, hi: float, default: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if not math.isfinite(f) else float(_clip(f, lo, hi))


def budget_repeats(requested: int, lo: int, hi: int, seconds_per_repeat: float, live: bool) -> tuple[int, bool]:
    """Repetitions within the work budget, and whether the *live* budget (not the full one) set them."""
    r = _int(requested, lo, hi)
    full = min(r, max(lo, int(FULL_SECONDS / max(seconds_per_repeat, 1e-9))))
    fast = min(full, max(lo, int(LIVE_SECONDS / max(seconds_per_repeat, 1e-9))))
    return (fast, True) if live and fast < full else (full, False)


# ====================================================================================== best of K
@dataclass(frozen=True)
class BestOfKConfig:
    """Section "best of K equally good models"."""

    n_test: int = 1000
    accuracy: float = 0.80
    n_models: int = 100
    n_repeats: int = 2000
    seed: int = 0
    DEFAULT: ClassVar[BestOfKConfig]

    def clamped(self) -> BestOfKConfig:
        k = _int(self.n_models, 1, MAX_MODELS)
        r = _int(self.n_repeats, 2, MAX_BEST_OF_K_REPEATS)
        r = max(2, min(r, MAX_BEST_OF_K_DRAWS // k))
        return BestOfKConfig(n_test=_int(self.n_test, 1, MAX_TEST_POINTS), accuracy=_float(self.accuracy, 0.0, 1.0, 0.8),
                             n_models=k, n_repeats=r, seed=_int(self.seed, 0, 2**31 - 1))


BestOfKConfig.DEFAULT = BestOfKConfig()


def best_of_k(cfg: BestOfKConfig) -> BestOfK:
    """The section's simulation for ``cfg`` (pass ``cfg.clamped()``)."""
    return simulate_best_of_k(cfg.n_test, cfg.accuracy, cfg.n_models, n_repeats=cfg.n_repeats,
                              rng=stream(cfg.seed, STREAMS["best_of_k"]))


# ====================================================================================== the approaches
@dataclass(frozen=True)
class StudyConfig:
    """One study's error curves (section "three ways to measure the error", the top figure).
    ``n_folds >= n_samples`` is leave-one-out."""

    problem: str = "sine"
    n_samples: int = 40
    n_models: int = 30
    n_folds: int = 5
    seed: int = 0
    DEFAULT: ClassVar[StudyConfig]

    def clamped(self) -> StudyConfig:
        if self.problem not in PROBLEMS:
            raise ValueError(f"unknown problem {self.problem!r} (one of {PROBLEMS})")
        n = _int(self.n_samples, 8, MAX_SAMPLES)
        return StudyConfig(problem=self.problem, n_samples=n, n_models=_int(self.n_models, 1, MAX_MODELS),
                           n_folds=_int(self.n_folds, 2, n), seed=_int(self.seed, 0, 2**31 - 1))


StudyConfig.DEFAULT = StudyConfig()


@dataclass(frozen=True)
class ApproachesConfig:
    """Every protocol over many random studies (same settings as :class:`StudyConfig` plus repetitions)."""

    problem: str = "sine"
    n_samples: int = 40
    n_models: int = 30
    n_folds: int = 5
    n_repeats: int = 100
    seed: int = 0
    live: bool = True
    DEFAULT: ClassVar[ApproachesConfig]

    def study(self) -> StudyConfig:
        return StudyConfig(self.problem, self.n_samples, self.n_models, self.n_folds, self.seed).clamped()

    def full(self) -> ApproachesConfig:
        return replace(self, live=False)

    def seconds(self) -> float:
        """Estimated seconds of one repetition (:func:`~regopt_core.splits.protocols.approach_cost`)."""
        s = self.study()
        return approach_cost(s.n_samples, s.n_folds, s.n_models)

    def clamped(self) -> ApproachesConfig:
        s = self.study()
        r, live = budget_repeats(self.n_repeats, 2, MAX_SPLIT_REPEATS, self.seconds(), self.live)
        return ApproachesConfig(s.problem, s.n_samples, s.n_models, s.n_folds, r, s.seed, live)


ApproachesConfig.DEFAULT = ApproachesConfig(live=False)


def one_study(cfg: StudyConfig) -> ErrorCurves:
    """One random study's error curves against λ."""
    return error_curves(cfg.problem, n_samples=cfg.n_samples, n_models=cfg.n_models, n_folds=cfg.n_folds,
                        rng=stream(cfg.seed, STREAMS["one_study"]))


def approaches(cfg: ApproachesConfig) -> ApproachComparison:
    """All five protocols on the same random studies."""
    return compare_approaches(cfg.problem, n_samples=cfg.n_samples, n_models=cfg.n_models, n_folds=cfg.n_folds,
                              n_repeats=cfg.n_repeats, rng=stream(cfg.seed, STREAMS["approaches"]))


# ====================================================================================== early stopping
@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Section "early stopping"."""

    n_features: int = 40
    sigma: float = 0.3
    n_epochs: int = 3000
    n_train: int = 40
    n_val: int = 40
    n_test: int = 200
    step_fraction: float = 0.5
    seed: int = 0
    DEFAULT: ClassVar[EarlyStoppingConfig]

    def clamped(self) -> EarlyStoppingConfig:
        return EarlyStoppingConfig(
            n_features=_int(self.n_features, 1, MAX_WEIGHTS), sigma=_float(self.sigma, 0.0, 5.0, 0.3),
            n_epochs=_int(self.n_epochs, 1, MAX_EPOCHS), n_train=_int(self.n_train, 2, 2000),
            n_val=_int(self.n_val, 1, 2000), n_test=_int(self.n_test, 1, 10000),
            step_fraction=_float(self.step_fraction, 0.01, 4.0, 0.5), seed=_int(self.seed, 0, 2**31 - 1))


EarlyStoppingConfig.DEFAULT = EarlyStoppingConfig()


def early(cfg: EarlyStoppingConfig) -> EarlyStopping:
    return _early_stopping(n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test, n_features=cfg.n_features,
                           sigma=cfg.sigma, step_fraction=cfg.step_fraction, n_epochs=cfg.n_epochs,
                           rng=stream(cfg.seed, STREAMS["early"]))


# ====================================================================================== leakage
@dataclass(frozen=True)
class SelectionLeakConfig:
    """Section "selecting predictors before cross-validating" (ESL §7.10.2)."""

    n_samples: int = 50
    n_features: int = 5000
    n_keep: int = 100
    n_folds: int = 5
    n_repeats: int = 20
    seed: int = 0
    live: bool = True
    DEFAULT: ClassVar[SelectionLeakConfig]

    def full(self) -> SelectionLeakConfig:
        return replace(self, live=False)

    def seconds(self) -> float:
        """Estimated seconds of one repetition on the project's 2-core machine."""
        return 1e-3 + 5.5e-8 * _int(self.n_samples, 4, 500) * _int(self.n_features, 1, MAX_FEATURES)

    def clamped(self) -> SelectionLeakConfig:
        n = _int(self.n_samples, 4, 500)
        p = _int(self.n_features, 1, MAX_FEATURES)
        r, live = budget_repeats(self.n_repeats, 2, 200, self.seconds(), self.live)
        return SelectionLeakConfig(n, p, _int(self.n_keep, 1, min(MAX_KEEP, p)), _int(self.n_folds, 2, n), r,
                                   _int(self.seed, 0, 2**31 - 1), live)


SelectionLeakConfig.DEFAULT = SelectionLeakConfig(live=False)


def esl(cfg: SelectionLeakConfig) -> LeakResult:
    return selection_leak(cfg.n_samples, cfg.n_features, cfg.n_keep, n_folds=cfg.n_folds, n_repeats=cfg.n_repeats,
                          rng=stream(cfg.seed, STREAMS["esl"]))


@dataclass(frozen=True)
class PreprocessingLeakConfig:
    """Section "preprocessing fitted before the split" (breast cancer)."""

    n_samples: int = 100
    n_folds: int = 5
    n_repeats: int = 100
    seed: int = 0
    live: bool = True
    DEFAULT: ClassVar[PreprocessingLeakConfig]

    def full(self) -> PreprocessingLeakConfig:
        return replace(self, live=False)

    def seconds(self) -> float:
        """Estimated seconds of one repetition (from the k-NN distances it computes)."""
        n = _int(self.n_samples, 10, 400)
        pairs = 2 * n * (569 - n) + 4 * 0.8 * n * n  # k-NN distances per repetition
        return 5e-4 + 1.5e-8 * pairs

    def clamped(self) -> PreprocessingLeakConfig:
        n = _int(self.n_samples, 10, 400)
        r, live = budget_repeats(self.n_repeats, 2, MAX_SPLIT_REPEATS, self.seconds(), self.live)
        return PreprocessingLeakConfig(n, _int(self.n_folds, 2, min(stratified_counts(n))), r,
                                       _int(self.seed, 0, 2**31 - 1), live)


PreprocessingLeakConfig.DEFAULT = PreprocessingLeakConfig(live=False)


def preprocessing(cfg: PreprocessingLeakConfig) -> LeakResult:
    return preprocessing_leak(cfg.n_samples, n_folds=cfg.n_folds, n_repeats=cfg.n_repeats,
                              rng=stream(cfg.seed, STREAMS["prep"]))


@dataclass(frozen=True)
class PatientLeakConfig:
    """Section "several samples per patient"."""

    n_patients: int = 40
    n_per_patient: int = 5
    n_folds: int = 5
    n_repeats: int = 100
    n_fresh: int = 1000
    seed: int = 0
    live: bool = True
    DEFAULT: ClassVar[PatientLeakConfig]

    def full(self) -> PatientLeakConfig:
        return replace(self, live=False)

    def seconds(self) -> float:
        """Estimated seconds of one repetition (from the k-NN distances it computes)."""
        n = _int(self.n_patients, 4, MAX_PATIENTS) * _int(self.n_per_patient, 1, MAX_PER_PATIENT)
        pairs = 2 * 0.8 * n * n + n * _int(self.n_fresh, 200, MAX_FRESH)
        return 3e-4 + 4e-9 * pairs

    def clamped(self) -> PatientLeakConfig:
        pat = _int(self.n_patients, 4, MAX_PATIENTS)
        per = _int(self.n_per_patient, 1, MAX_PER_PATIENT)
        fresh = _int(self.n_fresh, 200, MAX_FRESH)
        r, live = budget_repeats(self.n_repeats, 2, MAX_SPLIT_REPEATS, self.seconds(), self.live)
        return PatientLeakConfig(pat, per, _int(self.n_folds, 2, pat), r, fresh, _int(self.seed, 0, 2**31 - 1), live)


PatientLeakConfig.DEFAULT = PatientLeakConfig(live=False)


def patients(cfg: PatientLeakConfig) -> LeakResult:
    return patient_leak(cfg.n_patients, cfg.n_per_patient, n_folds=cfg.n_folds, n_repeats=cfg.n_repeats,
                        n_fresh=cfg.n_fresh, rng=stream(cfg.seed, STREAMS["patients"]))


# ====================================================================================== warm-up
def warm_pairs() -> list[tuple]:
    """The page's default results and its registry deep links' results, as (function, clamped config)."""
    dl_cancer = ApproachesConfig(problem="cancer", n_samples=30, n_models=10, n_folds=30, live=False)
    pairs = [
        (one_study, StudyConfig.DEFAULT.clamped()),
        (approaches, ApproachesConfig.DEFAULT.clamped()),
        (best_of_k, BestOfKConfig.DEFAULT.clamped()),
        (early, EarlyStoppingConfig.DEFAULT.clamped()),
        (esl, SelectionLeakConfig.DEFAULT.clamped()),
        (preprocessing, PreprocessingLeakConfig.DEFAULT.clamped()),
        (patients, PatientLeakConfig.DEFAULT.clamped()),
        # the registry's deep links
        (best_of_k, BestOfKConfig(n_models=1000).clamped()),
        (one_study, dl_cancer.study()),
        (approaches, dl_cancer.clamped()),
        (patients, PatientLeakConfig(n_patients=80, n_per_patient=1, live=False).clamped()),
        (esl, SelectionLeakConfig(n_features=1000, n_keep=20, live=False).clamped()),
    ]
    return pairs
