"""``page.<url_path>.rerun``: a full AppTest run of every registered page with default settings.

Each page is opened through ``app.py`` (navigation included). The reference is an empty page run
through the same AppTest machinery in the same process, so the
ratio shows what the page itself costs above Streamlit's own per-run overhead. Caches are warm (the
first run is the warm-up), which is what a student sees on a slider move after the first visitor.
The bench lives outside ``regopt_core``, so it imports the app and AppTest directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bench.harness import Case

ROOT = Path(__file__).resolve().parents[1]
PAGE_BUDGET_S = 0.150  # DESIGN §5: any light page, full rerun with default settings
HEAVY_PAGES = {"ct"}  # cached heavy pages: a warm rerun is a cache hit, budget is the light-page one too


def _apptest():
    from streamlit.testing.v1 import AppTest

    return AppTest


def _page_case(spec) -> Case:
    state = {}

    def setup() -> None:
        os.chdir(ROOT)
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        # Through app.py, as a student gets it: navigation, warm-up check, then the page.
        at = _apptest().from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        if not spec.default:
            at.switch_page(spec.path)
        state["at"] = at

    def run() -> dict:
        at = state["at"]
        at.run()
        if at.exception:
            raise RuntimeError(f"{spec.path} raised: {at.exception[0].message}")
        return {}

    def reference() -> dict:
        at = state.setdefault("ref", _apptest().from_string("import streamlit as st\nst.write('')"))
        at.run()
        return {}

    return Case(
        f"page.{spec.url_path}.rerun",
        run,
        repeats=7,
        warmup=1,
        budget_s=PAGE_BUDGET_S,
        reference="empty page",
        reference_run=reference,
        setup=setup,
    )


def entries() -> list[Case]:
    sys.path.insert(0, str(ROOT))
    from pages._ui import registry

    return [_page_case(p) for p in registry.PAGES]
