"""Benchmarks of the SGD page's numerics (``python -m bench -k sgd``).

``sgd.default_runs`` is the page's default digits comparison computed cold (no result cache): softmax
regression on the digits training split (N = 1,438), batch sizes 1, 4, 16, 64, 256 and full, each run
to the horizon (100 epochs or 1,000 updates, at most 10,000 updates), from which every epochs and
equal-updates setting of the page is a cut. ``sgd.view_from_cache`` is what an epochs or
equal-updates move costs once the runs are cached (the cut, no SGD). The rest are the page's other
sections at their defaults.
"""

from __future__ import annotations

import numpy as np

from bench.harness import Case
from regopt_core import sgd


def _load() -> None:
    sgd.digits_problem()
    sgd.regression_problem()


def entries() -> list[Case]:
    cfg = sgd.DEFAULT.clamped()
    state: dict = {}

    def default_runs() -> dict:
        fam = sgd.digits_family(cfg.digits())
        state["fam"] = fam
        res = fam.by_epochs(cfg.epochs)
        return {"n_updates_stored": int(sum(t.nit for t in fam.runs.traces)),
                "test_accuracy_b1": res.test_accuracy[0], "test_accuracy_full": res.test_accuracy[-1]}

    def one_new_batch_size() -> dict:  # adding B = 8 to the comparison computes one run
        tr = sgd.digits_run(sgd.DigitsRunConfig(batch_size=8, lr=cfg.lr))
        return {"n_updates": tr.nit}

    def view_from_cache() -> dict:
        fam = state.get("fam") or sgd.digits_family(cfg.digits())
        state["fam"] = fam
        a = fam.by_epochs(57)
        b = fam.by_updates(730)
        return {"accuracy_b1_57_epochs": a.test_accuracy[0], "accuracy_full_730_updates": b.accuracy[-1]}

    def regression_views() -> dict:
        paths = sgd.regression_paths(cfg.paths())
        noise = sgd.gradient_noise(cfg.noise())
        floor = sgd.noise_floor(cfg.floor())
        crit = sgd.critical(cfg.critical())
        return {"path_points": int(sum(len(t.steps) for t in paths.runs.traces)),
                "variance_ratio_b1": float(noise.main.variance[0] / noise.main.theory[0]),
                "floor_ratio_median": float(np.median(floor.excess_mean / floor.theory)),
                "b_noise": crit.b_noise}

    def paths_only() -> dict:
        paths = sgd.regression_paths(cfg.paths())
        return {"path_points": int(sum(len(t.steps) for t in paths.runs.traces))}

    return [
        Case("sgd.default_runs", default_runs, repeats=3, warmup=0, budget_s=2.0, setup=_load),
        Case("sgd.one_new_batch_size", one_new_batch_size, repeats=3, warmup=0, budget_s=0.25, setup=_load),
        Case("sgd.view_from_cache", view_from_cache, repeats=5, warmup=1, budget_s=0.02, setup=_load),
        Case("sgd.paths", paths_only, repeats=3, warmup=0, budget_s=0.25, setup=_load),
        Case("sgd.regression_views", regression_views, repeats=3, warmup=0, budget_s=0.5, setup=_load),
    ]
