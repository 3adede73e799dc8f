"""``interaction.<page>.<key>``: the costliest interactions of the interaction profile, one cold move each.

The rows are not listed by hand: they are the ``N_ROWS`` costliest controls (p95 server CPU) of the last
interaction profile committed to the repository (``docs/interaction-profile.json``, written by
``python -m tests.load.profile --out docs/interaction-profile.md``). Each entry opens the page under AppTest
(through ``app.py``, caches warm from the page's defaults), then times one move of that control to the value the
profile found costliest — a value nobody asked for before, so the work is really done. The reference, measured in
the same run, is a plain rerun of the same page. AppTest runs the whole page (no fragment-only reruns) and heavy
work in its own thread, so a figure here is an upper bound of what the server spends on the move.
Budgets are DESIGN §5's: 250 ms on a non-CT page, 800 ms on the CT page (128²).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bench.harness import Case

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "docs" / "interaction-profile.json"
N_ROWS = 8
BUDGET_S = {"ct": 0.800}
DEFAULT_BUDGET_S = 0.250
MOVABLE = {"slider", "select_slider", "selectbox", "radio", "number_input", "checkbox", "toggle"}


def _rows() -> list[dict]:
    if not PROFILE.exists():
        return []
    rows = json.loads(PROFILE.read_text())["rows"]
    rows = [r for r in rows if r.get("kind") in MOVABLE and r.get("key") and not str(r["key"]).startswith("_")
            and r.get("values") and len(r.get("cpu_ms") or []) == len(r["values"])]
    for r in rows:  # the value whose move cost the most CPU in the profile
        r["costliest_value"] = max(zip(r["cpu_ms"], r["values"], strict=True), key=lambda cv: cv[0])[1]
    rows.sort(key=lambda r: -(r.get("p95_cpu_ms") or 0.0))
    return rows[:N_ROWS]


def _widget(at, key: str):
    for kind in ("slider", "select_slider", "selectbox", "radio", "number_input", "checkbox", "toggle"):
        for w in getattr(at, kind):
            if w.key == key:
                return w
    raise KeyError(f"no widget with key {key!r} on the page")


def _case(row: dict) -> Case:
    from pages._ui import registry

    spec = next(p for p in registry.PAGES if p.url_path == row["page"])
    state: dict = {}

    def setup() -> None:
        from streamlit.testing.v1 import AppTest

        os.chdir(ROOT)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.run()
        if not spec.default:
            at.switch_page(spec.path).run()
        at.run()
        state["at"] = at

    def run() -> dict:
        at = state["at"]
        w = _widget(at, row["key"])
        value = row["costliest_value"]
        if isinstance(w.value, bool):
            value = str(value).lower() in ("1", "true")
        elif isinstance(w.value, (int, float)) and not isinstance(value, (int, float)):
            value = float(value)
        w.set_value(value)
        at.run()
        if at.exception:
            raise RuntimeError(f"{row['page']}.{row['key']}={value!r} raised: {at.exception[0].message}")
        return {"value": value, "profile_cpu_p95_ms": row.get("p95_cpu_ms")}

    def reference() -> dict:
        state["at"].run()
        return {}

    return Case(f"interaction.{row['page']}.{row['key']}", run, repeats=1, warmup=0,
                budget_s=BUDGET_S.get(row["page"], DEFAULT_BUDGET_S), reference="a plain rerun of the page",
                reference_run=reference, setup=setup)


def entries() -> list[Case]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return [_case(r) for r in _rows()]
