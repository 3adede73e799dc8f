"""Shared test configuration: the repository root on sys.path and as the working directory."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.chdir(ROOT)


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
