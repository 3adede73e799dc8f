"""Issue 12: the precomputed store is versioned by the core's code; a stale store is never used."""

from __future__ import annotations

import os
import time

import numpy as np

from pages._ui import cached


def _square(cfg):
    return np.arange(cfg) ** 2


def test_store_round_trip_is_fast_and_read_only(tmp_path, monkeypatch):
    monkeypatch.setenv("REGOPT_STORE", str(tmp_path))
    key = cached.key_of(_square, 1000)
    cached.store_put(key, _square(1000))
    t0 = time.perf_counter()
    value = cached.store_get(key)
    assert time.perf_counter() - t0 < 0.020, "a store hit is served within 20 ms"
    assert np.array_equal(value, np.arange(1000) ** 2)
    with cached.isolated():
        got = cached.result(_square, 1000)
        assert not got.flags.writeable and np.array_equal(got, value)


def test_a_store_written_by_other_code_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("REGOPT_STORE", str(tmp_path))
    key = cached.key_of(_square, 7)
    cached.store_put(key, np.array([-1]))  # a wrong value, written under today's code version
    assert cached.store_get(key)[0] == -1
    monkeypatch.setattr(cached, "_VERSION", "0123456789abcdef")  # the code changed
    assert cached.store_get(key) is cached._MISSING  # noqa: SLF001
    with cached.isolated():
        assert cached.result(_square, 7)[-1] == 36, "recomputed, not read from the stale store"


def test_code_version_follows_the_core_source(tmp_path, monkeypatch):
    monkeypatch.setattr(cached, "_VERSION", None)
    v1 = cached.code_version()
    monkeypatch.setattr(cached, "CORE", tmp_path)
    (tmp_path / "x.py").write_text("a = 1\n")
    monkeypatch.setattr(cached, "_VERSION", None)
    v2 = cached.code_version()
    (tmp_path / "x.py").write_text("a = 2\n")
    monkeypatch.setattr(cached, "_VERSION", None)
    v3 = cached.code_version()
    assert len({v1, v2, v3}) == 3
    (tmp_path / "figures").mkdir()  # a figure builder's edit keeps the store: no result comes from there
    (tmp_path / "figures" / "f.py").write_text("def fig_x(): ...\n")
    assert cached.code_version(fresh=True) == v3


def test_a_key_collision_in_the_store_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("REGOPT_STORE", str(tmp_path))
    key = cached.key_of(_square, 3)
    path = cached.store_put(key, np.array([1]))
    other = cached.key_of(_square, 4)
    monkeypatch.setattr(cached, "_store_file", lambda k: path)  # force both keys onto one file
    assert cached.store_get(other) is cached._MISSING  # noqa: SLF001


def test_build_lock_of_a_dead_builder_is_taken_over(tmp_path):
    """A builder killed with its server leaves its lock; the next start must not be blocked by it for good."""
    import subprocess
    import sys

    lock = tmp_path / ".building-x"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(str(dead.pid))
    assert cached._claim_build_lock(lock)  # the dead builder's lock is taken over
    assert lock.read_text() == str(os.getpid())
    assert not cached._claim_build_lock(lock)  # a live builder's lock (ours) is respected
    lock.write_text("garbage")
    assert cached._claim_build_lock(lock)


def test_a_build_for_code_that_changed_meanwhile_stops_and_writes_nothing(tmp_path, monkeypatch):
    """A background build started by an old server must not go on for code that is no longer there."""
    import pytest

    from deploy import precompute

    monkeypatch.setenv("REGOPT_STORE", str(tmp_path))
    for var in ("REGOPT_WORKERS", "REGOPT_MEMO_MB"):  # build() sets them for its own process; restore after
        monkeypatch.setenv(var, os.environ.get(var, ""))
    real = cached.code_version
    monkeypatch.setattr(cached, "code_version", lambda *, fresh=False: "edited-code" if fresh else real())
    monkeypatch.setattr(cached, "warm_pairs", lambda: [(_square, 3)])
    with pytest.raises(precompute.StaleBuild):
        precompute.build(quiet=True)
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("COMPLETE"))


def test_the_store_covers_every_value_of_the_ct_lambda_dose_and_views_sliders_from_the_default_state():
    # the lecturer's first CT moves: each λ, dose and view count of the page's own sliders (read from the page)
    # and the inverse-crime switch, from the default state — their strip and comparison are in the build's list
    from dataclasses import replace
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import registry
    from regopt_core.ct import lab

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "ct.py"), default_timeout=300).run()
    assert not at.exception
    sliders = {s.key: s for s in at.select_slider}
    stored = {cfg for extra in registry.PRECOMPUTE for fn, cfg in extra() if fn is lab.reconstruction}
    moves = [("lam", float(v)) for v in sliders["lam"].options] + [("i0", float(v)) for v in sliders["i0"].options]
    moves += [("views", int(float(v))) for v in sliders["views"].options]
    assert len(moves) > 50
    for field, value in [*moves, ("crime", True)]:
        cfg = replace(lab.DEFAULT, **{field: value}).clamped()
        missing = [k for k in (*cfg.strip_keys(), *cfg.compare_keys()) if k not in stored]
        assert not missing, (field, value, missing[:1])
