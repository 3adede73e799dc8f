"""``cache.*``: what a student pays for a result somebody already computed (DESIGN §5: <= 20 ms).

* ``cache.store_hit`` — ``cached.result(fn, cfg)`` served from the precomputed on-disk store (read, unpickle,
  arrays made read-only, entered into the shared memo), the memo and pins empty as on a just-started replica;
* ``cache.memo_hit`` — the same result from the shared in-process memo (every later student);

both for the bias–variance page's main result (the fits at 19 spreads behind the in-figure slider, ~1 MB), with
its computation measured in the same run as the reference, so the ratio says how much of the work a hit saves.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench.harness import Case

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 0.020


def _subject():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from regopt_core import bias_variance as bv

    return bv.fits_family, bv.DEFAULT.clamped().family_key()


def entries() -> list[Case]:
    state: dict = {}

    def setup() -> None:
        if "key" in state:
            return
        from pages._ui import cached

        fn, cfg = _subject()
        state["dir"] = tempfile.mkdtemp(prefix="regopt-bench-store-")
        os.environ["REGOPT_STORE"] = state["dir"]
        state.update(fn=fn, cfg=cfg, key=cached.key_of(fn, cfg))
        cached.store_put(state["key"], fn(cfg))

    def store_hit() -> dict:
        from pages._ui import cached

        cached.RESULTS.clear()  # a just-started replica: nothing in memory, the store on disk
        value = cached.result(state["fn"], state["cfg"])
        return {"result_mb": round(cached.nbytes(value) / 1e6, 2)}

    def memo_hit() -> dict:
        from pages._ui import cached

        cached.result(state["fn"], state["cfg"])
        return {}

    def compute() -> dict:
        state["fn"](state["cfg"])
        return {}

    return [
        Case("cache.store_hit", store_hit, repeats=9, warmup=1, budget_s=BUDGET_S, reference="computing it",
             reference_run=compute, setup=setup),
        Case("cache.memo_hit", memo_hit, repeats=9, warmup=1, budget_s=BUDGET_S, reference="computing it",
             reference_run=compute, setup=setup),
    ]
