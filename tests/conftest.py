"""Shared test configuration: the repository root on sys.path and as the working directory."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
# Servers started by the tests do not build the precomputed store in the background (CPU for the tests).
os.environ.setdefault("REGOPT_PRECOMPUTE_ON_START", "0")
os.environ.setdefault("REGOPT_SKIP_PRECOMPUTE", "1")  # deploy/run_replicas.sh in the proxy test
# Nor do they compute every page's defaults ahead at start: each test opens one or two pages, and dozens of servers
# and AppTest processes each computing every page's defaults in the background slowed the whole suite.
os.environ.setdefault("REGOPT_WARM_ON_START", "0")


def pytest_sessionfinish(session, exitstatus):
    """In CI (REQUIRE_BROWSER=1) a skipped test is a failure: nothing may silently not run."""
    if os.environ.get("REQUIRE_BROWSER") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        if reporter:
            reporter.write_line(f"REQUIRE_BROWSER=1: {len(skipped)} test(s) were skipped; failing the run.", red=True)
        session.exitstatus = 1


_SLOW_LAYERS = ("pages", "e2e", "load")  # AppTest, browser, proxy and load-client tests


def pytest_collection_modifyitems(config, items):
    """The page, browser, proxy and load-client layers are ``slow``: ``pytest -m "not slow"`` is the fast
    lane (math + figures). Marked by folder so that no new test of those layers can escape the marker."""
    import pytest

    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(ROOT).parts
        if len(parts) > 1 and parts[0] == "tests" and parts[1] in _SLOW_LAYERS:
            item.add_marker(pytest.mark.slow)
