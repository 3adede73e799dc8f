"""Benchmarks of the dataset-splits page (``python -m regopt_core.bench -k splits``).

- ``splits.best_of_k.k100``: 2,000 repetitions of "best of K = 100 equally good models on 1,000 test
  points", one array draw; reports the mean best accuracy next to the exact and normal-theory values.
- ``splits.loo.n200``: leave-one-out CV of kernel ridge for 5 λ at n = 200 by the linear-smoother
  shortcut; reference: scikit-learn ``KernelRidge`` refitted n times per λ (the brute force).
- ``splits.approaches.sine`` / ``.cancer``: the page's repeated-split experiment with its default
  settings (cold: no cache), all five protocols; reports the mean optimism of approaches 1-3.
- ``splits.esl``: ESL §7.10.2 (50 x 5000 noise, 20 repetitions); reports wrong-/right-way CV error.
- ``splits.leak.patients`` / ``splits.leak.preprocessing``, ``splits.early_stopping``: the other
  cached computations of the page at their defaults.
- ``page.splits.rerun`` comes from ``regopt_core/benchmarks/pages.py`` (every registered page).

The cold computations have no DESIGN §5 budget of their own: the page caches them, and a warm
rerun is what ``page.splits.rerun`` measures against the 150 ms light-page budget.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from regopt_core import splits as S
from bench.harness import Case

ROOT = Path(__file__).resolve().parents[1]


def _best_of_k() -> Case:
    def run() -> dict:
        r = S.simulate_best_of_k(1000, 0.80, 100, n_repeats=2000, rng=np.random.default_rng(0))
        return {"mean_best": round(float(r.best.mean()), 4), "exact": round(r.expected_best_exact, 4),
                "normal_theory": round(r.expected_best_normal, 4), "fresh": round(float(r.fresh.mean()), 4)}

    return Case("splits.best_of_k.k100", run, repeats=5)


def _loo() -> Case:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 1))
    y = np.sin(2 * np.pi * X[:, 0]) + 0.5 * rng.standard_normal(200)
    lams = S.lambda_grid(5)

    def run() -> dict:
        cv = S.cv_errors(X, y, lams, n_folds=200, length_scale=S.SINE_LENGTH_SCALE)
        return {"best_lam": float(lams[np.argmin(cv)]), "min_loo_mse": round(float(cv.min()), 4)}

    def brute() -> dict:
        from sklearn.gaussian_process.kernels import Matern
        from sklearn.kernel_ridge import KernelRidge
        from sklearn.model_selection import LeaveOneOut, cross_val_predict

        K = Matern(length_scale=S.SINE_LENGTH_SCALE, nu=0.5)(X)
        errs = [np.mean((y - cross_val_predict(KernelRidge(alpha=lam, kernel="precomputed"), K, y,
                                               cv=LeaveOneOut())) ** 2) for lam in lams]
        return {"min_loo_mse": round(float(np.min(errs)), 4)}

    return Case("splits.loo.n200", run, repeats=3, warmup=0, reference="sklearn KernelRidge, 200 refits x 5 lambdas",
                reference_run=brute)


def _approaches(problem: str) -> Case:
    def run() -> dict:
        r = S.compare_approaches(problem, rng=np.random.default_rng(0))
        gap = r.optimism.mean(axis=1)
        return {"n_repeats": r.n_repeats, "optimism_train": round(float(gap[0]), 4),
                "optimism_test_tuned": round(float(gap[1]), 4), "optimism_tvt": round(float(gap[2]), 4)}

    return Case(f"splits.approaches.{problem}", run, repeats=1, warmup=0)


def _esl() -> Case:
    def run() -> dict:
        r = S.selection_leak(rng=np.random.default_rng(0))
        wrong, right = r.estimates.mean(axis=1)
        return {"wrong_way_cv_error": round(float(wrong), 3), "right_way_cv_error": round(float(right), 3)}

    return Case("splits.esl", run, repeats=1, warmup=0)


def _patients() -> Case:
    def run() -> dict:
        r = S.patient_leak(rng=np.random.default_rng(0))
        rand, group = r.estimates.mean(axis=1)
        return {"random_split": round(float(rand), 3), "group_split": round(float(group), 3),
                "true": round(float(r.true.mean()), 3)}

    return Case("splits.leak.patients", run, repeats=1, warmup=0)


def _preprocessing() -> Case:
    def run() -> dict:
        r = S.preprocessing_leak(rng=np.random.default_rng(0))
        m = r.estimates.mean(axis=1)
        return {"oversample_first": round(float(m[2]), 3), "oversample_in_fold": round(float(m[3]), 3),
                "true": round(float(r.true[2].mean()), 3)}

    return Case("splits.leak.preprocessing", run, repeats=1, warmup=1)


def _early_stopping() -> Case:
    def run() -> dict:
        r = S.early_stopping(rng=np.random.default_rng(0))
        return {"stop_epoch": r.stop_epoch, "true_at_stop": round(float(r.true[r.stop_epoch]), 3),
                "true_final": round(float(r.true[-1]), 3)}

    return Case("splits.early_stopping", run, repeats=3)


def entries() -> list[Case]:
    return [_best_of_k(), _loo(), _approaches("sine"), _approaches("cancer"), _esl(), _patients(),
            _preprocessing(), _early_stopping()]
