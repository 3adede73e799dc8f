"""Benchmarks of the SGD page's numerics (``python -m regopt_core.bench -k sgd``).

``sgd.default_runs`` is the page's default experiment: softmax regression on the digits training
split (N = 1,438), batch sizes 1, 4, 16, 64, 256 and full, 5 epochs each, cold (no result cache;
the dataset is loaded in ``setup``). The other entries are the page's remaining panels.
"""

from __future__ import annotations

import numpy as np

from regopt_core import sgd
from bench.harness import Case

TRAJECTORY_START = np.array([-1.0, 2.0])


def _load() -> None:
    sgd.digits_split()
    sgd.diabetes_pair()


def entries() -> list[Case]:
    def default_runs() -> dict:
        res = sgd.digits_runs(rng=np.random.default_rng(0))
        return {"n_updates": int(sum(t.nit for t in res.traces)),
                "test_accuracy_b1": res.test_accuracy[0], "test_accuracy_full": res.test_accuracy[-1]}

    def equal_steps() -> dict:
        res = sgd.digits_runs(n_steps=sgd.DEFAULT_EQUAL_STEPS, rng=np.random.default_rng(0))
        return {"n_updates": int(sum(t.nit for t in res.traces))}

    def b1_hundred_epochs() -> dict:  # the most expensive setting the page allows: capped
        res = sgd.digits_runs((1,), n_epochs=100, rng=np.random.default_rng(0))
        return {"n_updates": res.traces[0].nit, "capped": res.traces[0].capped}

    def regression_views() -> dict:
        X, y, _ = sgd.diabetes_pair()
        obj = sgd.least_squares(X, y)
        rng = np.random.default_rng(0)
        a, b, c, d = rng.spawn(4)
        paths = sgd.compare_batch_sizes(obj, TRAJECTORY_START, sgd.DEFAULT_BATCH_SIZES, lr=sgd.DEFAULT_LR,
                                        n_epochs=sgd.DEFAULT_EPOCHS, n_record=None, keep_path=True,
                                        max_steps=3000, rng=a)
        noise = sgd.measure_gradient_noise(obj.per_example_grads(TRAJECTORY_START), n_draws=1000,
                                           cloud_batch_sizes=(1, 4, 16, 64), rng=b)
        floor = sgd.measure_noise_floor(obj, n_steps=800, n_replicas=32, rng=c)
        crit = sgd.critical_batch(obj, TRAJECTORY_START, rng=d)
        return {"path_points": int(sum(len(t.steps) for t in paths.traces)),
                "variance_ratio_b1": float(noise.variance[0] / noise.theory[0]),
                "floor_ratio_median": float(np.median(floor.excess_mean / floor.theory)),
                "b_noise": crit.b_noise}

    return [
        Case("sgd.default_runs", default_runs, repeats=3, warmup=0, budget_s=0.5, setup=_load),
        Case("sgd.equal_steps", equal_steps, repeats=3, warmup=0, budget_s=0.3, setup=_load),
        Case("sgd.b1_100_epochs_capped", b1_hundred_epochs, repeats=1, warmup=0, budget_s=0.6, setup=_load),
        Case("sgd.regression_views", regression_views, repeats=3, warmup=0, budget_s=0.5, setup=_load),
    ]
