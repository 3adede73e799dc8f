"""Smoke test of the interaction profile (``python -m tests.load.profile``, issue 12 item 1) on one light page:
it discovers the page's controls from the server's messages (sidebar and fragments), reruns each with one new
value, and writes the Markdown table and the JSON. Runtime < 60 s on the e2e server."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.load import profile


def test_profile_discovers_controls_and_writes_the_table(app_server, tmp_path):
    out = tmp_path / "interaction-profile.md"
    args = ["--url", app_server, "--pages", "losses", "--values", "1", "--settle", "10", "--idle-wait", "1",
            "--timeout", "60", "--out", str(out)]
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds the main thread's event loop
        pool.submit(profile.main, args).result()
    data = json.loads(out.with_suffix(".json").read_text())
    rows = data["rows"]
    keys = {r["key"] for r in rows if r["scope"] != "open"}
    assert len(keys) > 5, keys  # a real page shows more than a few controls
    assert any(r["scope"] == "fragment" for r in rows), "no control inside a fragment was found"
    assert any(r["scope"] == "open" for r in rows)
    measured = [r for r in rows if r["wall_ms"]]
    assert len(measured) >= len(keys) // 2, [(r["key"], r["errors"]) for r in rows]
    text = out.read_text()
    assert "| page | control |" in text and "losses" in text
    assert len([ln for ln in text.splitlines() if ln.startswith("| losses |")]) == len(rows)
