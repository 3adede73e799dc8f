"""Benchmarks of the loss-landscape page (``python -m bench -k landscapes``).

* ``landscapes.race``: 6 optimizers x 1000 steps on Rosenbrock from (-1.2, 1) plus the 101 x 101
  contour grid -- the work behind one uncached race (issue budget: 50 ms). Reference: the same
  6000 gradient steps written as a bare numpy loop (no optimizer state, no history, no checks),
  so the ratio is the cost of the (init, update) pairs and the divergence-safe loop. ``cpu_s`` is
  the process CPU time of the last repeat: on a busy machine (other jobs) it is the fairer figure.
* ``landscapes.race.floor``: the same 6 x 1000 steps with nothing but ``update``, ``x + u`` and
  ``value_and_grad`` (no history, no divergence test), against the same bare loop: the ratio the race
  could reach with a loop that costs nothing (on this machine ~2.0; the optimizers' own array operations
  on 2-vectors, ~0.5 us each, are most of the race).
* ``landscapes.race.figures``: building the animated contour and convergence figures of that race.
* ``landscapes.search.d1000``: random search vs gradient descent, d = 1000, 1000 evaluations.
* ``landscapes.gradient_sweep``: forward/central error vs h (57 steps) on Rosenbrock.
"""

from __future__ import annotations

import time

import numpy as np

from bench.harness import Case

RACE_ENTRIES = (("gd", 1e-3), ("momentum", 1e-3), ("nesterov", 1e-3), ("adagrad", 0.5), ("rmsprop", 0.01),
                ("adam", 0.05))


def entries() -> list[Case]:
    from regopt_core import landscapes
    from regopt_core.figures import landscapes as figs
    from regopt_core.functions import rosenbrock

    surface = rosenbrock()
    specs = [landscapes.RaceEntry(n, lr) for n, lr in RACE_ENTRIES]
    state: dict = {}

    def race_run() -> dict:
        cpu0 = time.process_time()
        res = landscapes.race(surface, specs, surface.start, n_steps=1000)
        grid = landscapes.surface_grid(surface, n=101)
        cpu = time.process_time() - cpu0
        state["race"], state["grid"] = res, grid
        return {"cpu_s": round(cpu, 6), "n_steps_total": int(sum(r.trace.nit for r in res.racers)),
                "best_gap": float(min(r.trace.fun for r in res.racers)),
                "grid_points": int(grid.z.size)}

    def bare_loop() -> dict:
        total = 0
        for _ in RACE_ENTRIES:
            x = np.array(surface.start)
            for _ in range(1000):
                x = x - 1e-3 * surface.value_and_grad(x)[1]
            total += 1000
        return {"n_steps_total": total}

    def floor_run() -> dict:
        for spec in specs:
            opt = spec.optimizer()
            x = np.array(surface.start)
            state = opt.init(x)
            g = surface.value_and_grad(x)[1]
            for _ in range(1000):
                u, state = opt.update(g, state, x)
                x = x + u
                g = surface.value_and_grad(x)[1]
        return {"n_steps_total": 1000 * len(specs)}

    def figures_run() -> dict:
        if "race" not in state:
            race_run()
        fig = figs.fig_race_contour(state["race"], state["grid"], surface)
        figs.fig_convergence(state["race"], surface)
        return {"n_frames": len(fig.frames)}

    def search_run() -> dict:
        c = landscapes.compare_search(1000, n_evals=1000, rng=np.random.default_rng(0))
        return {"random_best": float(c.random[-1]), "gd_best": float(c.gd[-1])}

    def sweep_run() -> dict:
        s = landscapes.gradient_sweep(surface, surface.start)
        return {"slope_forward": round(s.slope_forward, 3), "slope_central": round(s.slope_central, 3)}

    return [
        Case("landscapes.race", race_run, repeats=7, warmup=1, budget_s=0.050,
             reference="bare numpy GD loop, 6 x 1000 steps", reference_run=bare_loop),
        Case("landscapes.race.floor", floor_run, repeats=7, warmup=1,
             reference="bare numpy GD loop, 6 x 1000 steps", reference_run=bare_loop),
        Case("landscapes.race.figures", figures_run, repeats=5, warmup=1),
        Case("landscapes.search.d1000", search_run, repeats=3, warmup=1),
        Case("landscapes.gradient_sweep", sweep_run, repeats=5, warmup=1, budget_s=0.020),
    ]
