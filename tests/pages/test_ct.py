"""The CT page under AppTest: the lecture's claim appears in the numbers, deep links, extremes, caps.

Runs at the page's default 128² grid (and 64² for the extremes) to keep the suite fast.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pages._ui.cached import ct as cached
from tests.pages.helpers import run_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "ct.py")


def run(query: dict | None = None) -> AppTest:
    return run_page(PAGE, query)


def metric(at: AppTest, label: str) -> float:
    hits = [m.value for m in at.metric if m.label == label]
    assert hits, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return float(hits[0].split()[0])


def test_defaults_show_tv_beating_fbp():
    at = run()
    assert at.title[0].value.startswith("Sparse-view CT")
    assert not at.error
    tv20, tv40, fbp40 = metric(at, "TV · 20 views"), metric(at, "TV · 40 views"), metric(at, "FBP · 40 views")
    assert tv40 >= fbp40 + 8.0  # the margin (checked at 256² by the bench)
    assert tv20 > fbp40
    assert metric(at, "TV (PDHG) PSNR") == pytest.approx(tv40, abs=0.05)  # same settings, same result
    assert metric(at, "SART PSNR") > metric(at, "FBP PSNR")
    assert len(at.get("plotly_chart")) >= 6
    # the view slider moves the comparison
    at.slider(key="views").set_value(20).run()
    assert not at.exception
    assert metric(at, "TV (PDHG) PSNR") == pytest.approx(tv20, abs=0.05)
    assert metric(at, "FBP PSNR") < fbp40


def test_deep_link_fan_asd_pocs():
    at = run({"views": "30", "method": "asd-pocs", "geom": "Fan", "lam": "2", "n": "64", "iters": "40"})
    assert at.session_state["views"] == 30
    labels = [m.label for m in at.metric]
    assert "FDK · 40 views" in labels and "TV (ASD-POCS) PSNR" in labels
    assert not [w.value for w in at.warning if "not used" in w.value]


def test_extremes_give_messages_not_tracebacks():
    at = run({"n": "64", "views": "720", "lam": "0", "i0": "100", "iters": "20"})
    text = " ".join(i.value for i in at.info) + " ".join(w.value for w in at.warning)
    assert "capped at 180 views" in text
    assert "non-negative least squares" in text
    assert "very low dose" in text
    at = run({"n": "64", "views": "1", "lam": "1000", "iters": "20"})
    text = " ".join(i.value for i in at.info) + " ".join(w.value for w in at.warning)
    assert "One view cannot determine an image" in text and "flattens" in text


def test_inverse_crime_switch_reports_the_inflation():
    at = run({"n": "64", "views": "30", "lam": "0.2", "crime": "true", "iters": "300"})
    text = [w.value for w in at.warning if w.value.startswith("Inverse crime inflates")]
    assert text, [w.value for w in at.warning]
    crime_db = metric(at, "TV (PDHG) PSNR")
    honest_db = float(text[0].split("**")[1].split()[0])
    assert crime_db > honest_db + 3.0  # same margin as tests/core (64², 30 views, small lambda)


def test_hostile_sizes_are_capped_server_side():
    s = cached.settings("nope", "cone", 10**9, float("nan"), -5.0, float("inf"), True, -3, float("nan"), 10**9)
    assert s.phantom == "shepp_logan" and s.kind == "parallel" and s.n == 256
    assert s.n_iter == cached.MAX_ITERS and s.i0 == 0.0 and s.lam == cached.DEFAULTS["lam"]
    assert cached.iterative_views(720, 256) == 90 and cached.iterative_views(720, 128) == 180
    big = cached.settings("shepp_logan", "parallel", 256, 3.0, 6.0, 0.0, False, 0, 2.0, 500)
    assert cached.recon_iterations("tv", big, 90) * 256 * 256 * 90 <= cached.WORK_CAP


def test_projector_resource_is_read_only():
    proj = cached.projector("parallel", 32, 8, 3.0, 6.0)
    assert not proj.matrix.data.flags.writeable and not proj.matrix_t.data.flags.writeable


def test_memo_computes_each_key_once_for_concurrent_callers():
    memo = cached._Memo(max_entries=2, max_bytes=10**6)
    calls = []
    gate = threading.Event()

    def slow():
        gate.wait(5)
        calls.append(1)
        return {"x": np.ones(3)}

    out = []
    threads = [threading.Thread(target=lambda: out.append(memo.compute(("k",), slow))) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(o is out[0] for o in out)
    assert not out[0]["x"].flags.writeable
    memo.compute(("a",), lambda: 1)
    memo.compute(("b",), lambda: 2)
    assert ("k",) not in memo and ("b",) in memo  # LRU bound


def test_sweep_button_computes_quality_against_views():
    at = run({"n": "64", "iters": "10"})
    assert not cached.sweep_cached(cached.settings("shepp_logan", "parallel", 64, 3.0, 6.0, 0.0, False, 0, 2.0, 10))
    at.button(key="run_sweep").click().run()
    assert not at.exception, [e.message for e in at.exception]
    sweep = cached.sweep(cached.settings("shepp_logan", "parallel", 64, 3.0, 6.0, 0.0, False, 0, 2.0, 10))
    fbp = sweep["scores"]["fbp"]["psnr"]
    assert fbp[-1] > fbp[0] + 5  # FBP needs views: 180 views far better than 10
    assert len(sweep["scores"]) == 4 and all(len(v["psnr"]) == len(cached.SWEEP_VIEWS) for v in sweep["scores"].values())
