"""The one cache layer (``pages/_ui/cached.py``): every cache is bounded, results are shared read-only, and
pinned defaults and memoized results survive a client's "clear cache" message."""

import ast
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st

from pages._ui import cached

ROOT = Path(__file__).resolve().parents[2]
CALLS: list[int] = []


def _square(cfg: int) -> np.ndarray:
    CALLS.append(cfg)
    return np.array([cfg**2])


def _slow_square(cfg: int) -> np.ndarray:
    CALLS.append(cfg)
    time.sleep(0.2)
    return np.array([cfg**2])


def test_the_cache_layer_is_one_module_and_every_streamlit_cache_is_bounded():
    assert (ROOT / "pages/_ui/cached.py").is_file() and not (ROOT / "pages/_ui/cached").exists()
    offenders = []
    for path in [*ROOT.glob("pages/**/*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for dec in node.decorator_list:
                    src = ast.unparse(dec)
                    if "cache_data" in src and "max_entries" not in src:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert not offenders, f"unbounded st.cache_data: {offenders}"


def test_pinned_and_memoized_results_survive_clearing_every_streamlit_cache():
    CALLS.clear()
    with cached.isolated():
        pinned = cached.pin(_square, 7)
        memo = cached.result(_square, 8)
        assert not pinned.flags.writeable and not memo.flags.writeable, "shared results are read-only"
        st.cache_data.clear()
        st.cache_resource.clear()
        assert cached.result(_square, 7) is pinned and cached.result(_square, 8) is memo
        assert CALLS == [7, 8], "nothing was recomputed after a client's clear"


def test_the_memo_is_bounded_by_entries_and_bytes():
    memo = cached.Memo(max_entries=3, max_bytes=10_000)
    for k in range(5):
        memo.put(k, np.zeros(10))
    assert len(memo) == 3 and 0 not in memo and 4 in memo, "least recently used entries go first"
    memo.put("big", np.zeros(1_000))  # 8 kB: the older ones are dropped to stay under 10 kB
    assert "big" in memo and sum(cached.nbytes(v) for _, v in memo.items()) <= 10_000


def test_the_memo_keeps_its_byte_count_through_replacements_evictions_and_clear():
    # the memo keeps a running total instead of summing every entry on each put (that sum was a quarter of
    # the server's GIL time under 60 students); it must equal the true sum at every step
    memo = cached.Memo(max_entries=4, max_bytes=20_000)
    rng = np.random.default_rng(0)
    for step in range(200):
        memo.put(int(rng.integers(0, 8)), np.zeros(int(rng.integers(1, 1_500))))
        true = sum(cached.nbytes(v) for _, v in memo.items())
        assert memo._bytes == true <= 20_000 and len(memo) <= 4, step
    memo.clear()
    assert memo._bytes == 0 and len(memo) == 0


def test_two_students_asking_for_the_same_result_compute_it_once():
    CALLS.clear()
    with cached.isolated():
        out = []
        threads = [threading.Thread(target=lambda: out.append(cached.result(_slow_square, 5))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert CALLS == [5] and all(o is out[0] for o in out)


def _counted(cfg: tuple, start=None) -> tuple:
    """A toy resumable computation: ``cfg = (name, n)`` counts to ``n``, continuing from ``start`` if given."""
    name, n = cfg
    first = 0 if start is None else start[1]
    CALLS.append((name, first, n))
    return (name, n, first)


_counted.warm_from = lambda cfg: [(cfg[0], k) for k in range(cfg[1] - 1, 0, -1)]


def test_a_miss_starts_from_the_nearest_cached_candidate_and_never_computes_a_candidate():
    import functools
    import pickle

    CALLS.clear()
    with cached.isolated():
        assert cached.result(_counted, ("a", 3)) == ("a", 3, 0)  # nothing cached: from scratch
        assert cached.result(_counted, ("a", 7)) == ("a", 7, 3)  # continues the cached n = 3
        assert cached.result(_counted, ("a", 5)) == ("a", 5, 3)  # nearest cached below 5 is 3 (7 is above)
        assert cached.result(_counted, ("b", 4)) == ("b", 4, 0)  # another key's results are no candidates
        assert CALLS == [("a", 0, 3), ("a", 3, 7), ("a", 3, 5), ("b", 0, 4)]
        assert cached.result(_counted, ("a", 7)) == ("a", 7, 3) and len(CALLS) == 4  # a hit computes nothing
        # what a worker process receives is picklable and is called as fn(config), like any heavy job
        compute = cached.warm_start(_counted, ("a", 9))
        assert isinstance(compute, functools.partial)
        assert pickle.loads(pickle.dumps(compute))(("a", 9)) == ("a", 9, 7)
    assert cached.warm_start(_square, 3) is _square  # a function without warm_from is called as it is


def test_results_of_several_configs_are_each_computed_once_and_shared():
    # cached.results: outside a server (no worker pool) each missing result is computed once, in order
    CALLS.clear()
    with cached.isolated():
        first = cached.results(_slow_square, [2, 3, 2], heavy=True)
        again = cached.results(_slow_square, [3, 2])
        assert first == [4, 9, 4] and again == [9, 4] and sorted(CALLS) == [2, 3]


def _part(cfg: int) -> int:
    CALLS.append(cfg)
    return cfg * 10


def _groups(cfg: int) -> tuple:
    return tuple(tuple(range(g * 3, g * 3 + 3)) for g in range(cfg))


def _assemble(cfg: int, get) -> tuple:
    return tuple(get(k) for group in _groups(cfg) for k in group)


def _whole(cfg: int) -> tuple:
    return _assemble(cfg, _part)


_whole.parts = (_part, _groups, _assemble)


def test_a_composite_result_is_computed_group_by_group_as_separate_jobs(monkeypatch):
    """A long result made of parts (the CT sweep) never holds a worker for seconds: each group of parts is its own
    heavy job, with its own turn in the queue; the parts are shared results, and the whole equals fn(config)."""
    from pages._ui import jobs

    runs = []
    real = jobs.run
    monkeypatch.setattr(jobs, "run", lambda fn, config, key, label, **kw: runs.append(label) or real(fn, config, key,
                                                                                                      label, **kw))
    CALLS.clear()
    with cached.isolated():
        cached.result(_part, 4)  # one part is already cached: it is not computed again
        CALLS.clear()
        value = cached.result(_whole, 3, heavy=True, label="Sweep")
        assert value == tuple(k * 10 for k in range(9))
        assert sorted(CALLS) == [0, 1, 2, 3, 5, 6, 7, 8]  # every part once, the cached one not at all
        assert [label for label in runs if "part" in label] == ["Sweep (part 1 of 3)", "Sweep (part 1 of 3)",
                                                                 "Sweep (part 1 of 3)", "Sweep (part 2 of 3)",
                                                                 "Sweep (part 2 of 3)", "Sweep (part 3 of 3)",
                                                                 "Sweep (part 3 of 3)", "Sweep (part 3 of 3)"]
        assert cached.ready(_whole, 3) and all(cached.ready(_part, k) for k in range(9))
        CALLS.clear()
        assert cached.result(_whole, 3, heavy=True) == value and CALLS == []  # now a hit


def test_the_ct_family_computed_in_parts_equals_the_one_computed_in_one_go():
    from dataclasses import replace

    from regopt_core.ct import lab

    key = lab.family_key(replace(lab.DEFAULT, n=64, phantom="smooth", seed=11).clamped())
    lab._SCORED._items.clear()
    whole = lab.views_family(key)
    with cached.isolated():
        parts = cached.result(lab.views_family, key, heavy=True, label="The family")
        assert all(cached.ready(lab.reconstruction, k) for group in lab.family_parts(key) for k in group)
    assert parts.views == whole.views == tuple(v for v in lab.FAMILY_VIEWS if v <= lab.iterative_max_views(64))
    for name in ("tv", "fbp", "tv_psnr", "fbp_psnr"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name), err_msg=name)


@pytest.mark.slow
def test_the_ct_sweep_computed_in_parts_equals_the_one_computed_in_one_go():
    from dataclasses import replace

    from regopt_core.ct import lab

    key = replace(lab.DEFAULT, n=64, phantom="piecewise", seed=3, i0=1e4).clamped().sweep_key()
    lab._SCORED._items.clear()
    whole = lab.sweep(key)
    with cached.isolated():
        parts = cached.result(lab.sweep, key, heavy=True, label="The sweep")
    assert parts.views == whole.views == lab.SWEEP_VIEWS
    for m in ("fbp", "sart", "tv", "asd_pocs"):
        for name in ("psnr", "ssim", "rmse"):
            np.testing.assert_array_equal(getattr(parts, name)[m], getattr(whole, name)[m], err_msg=f"{m} {name}")
