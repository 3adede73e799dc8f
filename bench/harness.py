"""The project's benchmark: ``python -m bench [-k SUBSTRING] [--repeats N]``.

Prints one JSON object per line::

    {"name": ..., "median_s": ..., "repeats": ..., "budget_s": ..., "within_budget": ...,
     "reference": ..., "reference_median_s": ..., "ratio": ..., <quality figures>}

Entries come from every module of the :mod:`bench` package that defines ``entries()``. A
``Case`` may carry a reference measured in the same run (``ratio = median_s / reference_median_s``),
so figures from different machines compare as ratios. Budgets are DESIGN §5's.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import pkgutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """One benchmark entry.

    ``run`` is the measured work; it may return a dict of quality figures (e.g. ``{"psnr": 31.2}``)
    that are printed with the timing. ``setup`` runs once, untimed, before any measurement.
    ``warmup=0, repeats=1`` measures a cold call.
    """

    name: str
    run: Callable[[], dict | None]
    repeats: int = 5
    warmup: int = 1
    budget_s: float | None = None
    reference: str | None = None
    reference_run: Callable[[], dict | None] | None = None
    setup: Callable[[], None] | None = None


def _time(fn: Callable[[], dict | None], repeats: int, warmup: int) -> tuple[float, dict]:
    extra: dict = {}
    for _ in range(warmup):
        extra = fn() or {}
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        extra = out or extra
    return statistics.median(times), extra


def measure(case: Case, *, repeats: int | None = None) -> dict:
    """Run one case and return its JSON record."""
    n = max(1, repeats if repeats is not None else case.repeats)
    if case.setup is not None:
        case.setup()
    median_s, extra = _time(case.run, n, case.warmup)
    record: dict = {"name": case.name, "median_s": round(median_s, 6), "repeats": n}
    if case.budget_s is not None:
        record["budget_s"] = case.budget_s
        record["within_budget"] = bool(median_s <= case.budget_s)
    if case.reference_run is not None:
        ref_s, ref_extra = _time(case.reference_run, n, case.warmup)
        record["reference"] = case.reference
        record["reference_median_s"] = round(ref_s, 6)
        record["ratio"] = round(median_s / ref_s, 4) if ref_s > 0 else None
        for k, v in ref_extra.items():
            record[f"reference_{k}"] = v
    record.update(extra)
    return record


def discover() -> list[Case]:
    """All cases from ``bench.<topic>.entries()``, in module order."""
    import bench

    cases: list[Case] = []
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name in ("harness", "__main__"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if hasattr(module, "entries"):
            cases.extend(module.entries())
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("-k", "--select", default="", help="only cases whose name contains this")
    parser.add_argument("--repeats", type=int, default=None, help="override every case's repeats")
    parser.add_argument("--list", action="store_true", help="list the case names and exit")
    args = parser.parse_args(argv)
    cases = [c for c in discover() if args.select in c.name]
    if args.list:
        for c in cases:
            print(c.name)
        return 0
    failed = 0
    for case in cases:
        try:
            record = measure(case, repeats=args.repeats)
        except Exception as exc:  # a broken case must not hide the others
            record = {"name": case.name, "error": f"{type(exc).__name__}: {exc}"}
            failed += 1
        print(json.dumps(record), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
