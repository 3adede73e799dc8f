"""Installing the bench references (``requirements-bench.txt``: ODL) must not break the test suite (issue 11.4).

ODL registers a pytest plugin named ``odl_plugins`` through a ``pytest11`` entry point, and its
``pytest_ignore_collect(path)`` hook crashes pytest 9 at start-up. This test plants a package that does exactly
that (a dist-info with the same entry point and the same old-style hook) on ``PYTHONPATH`` and runs pytest in a
subprocess: with the project's configuration (``-p no:odl_plugins``) collection works; with the configuration's
``addopts`` emptied, the same run crashes — so the planted plugin really is the breaking kind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _plant(tmp: Path) -> dict[str, str]:
    (tmp / "fake_odl_plugin.py").write_text("def pytest_ignore_collect(path):\n    return None\n")
    info = tmp / "fake_odl-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-odl\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\nodl_plugins = fake_odl_plugin\n")
    (info / "RECORD").write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)])}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def _collect(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra,
                           "tests/core/test_metrics.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_an_odl_style_pytest_plugin_does_not_break_the_suite(tmp_path):
    env = _plant(tmp_path)
    ours = _collect(env)
    assert ours.returncode == 0, ours.stdout[-2000:] + ours.stderr[-2000:]
    bare = _collect(env, "-o", "addopts=")
    assert bare.returncode != 0 and "odl_plugins" in (bare.stdout + bare.stderr), \
        "without -p no:odl_plugins the planted plugin must break pytest (else this test proves nothing)"
