"""Helpers shared by the page-specific AppTest modules."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def run_page(page_file: str, query: dict | None = None, *, timeout: float = 240) -> AppTest:
    """Run one page script under AppTest (optionally from a deep link) and assert it raised nothing."""
    at = AppTest.from_file(page_file, default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric_value(at: AppTest, label_start: str) -> str:
    """The value of the first metric whose label starts with ``label_start``."""
    hits = [m.value for m in at.metric if m.label.startswith(label_start)]
    assert hits, f"no metric starting with {label_start!r}: {[m.label for m in at.metric]}"
    return hits[0]
