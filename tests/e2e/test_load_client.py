"""Smoke test of the load-test tools (tests/load/) against the e2e server: the headless protocol client opens
every registered page and moves a control on it, and the load runner completes a tiny run with no error.
The real load figures come from ``python -m tests.load.run_load`` (deploy/CLASSROOM.md)."""

from __future__ import annotations

import asyncio
import json
import random
from concurrent.futures import ThreadPoolExecutor

from tests.load.run_load import registry  # pages/_ui/registry.py by path (pure data)
from tests.load import run_load  # noqa: I001
from tests.load.streamlit_client import StreamlitClient


def _in_thread(fn, *args):
    """Run ``fn`` in a fresh thread: Playwright's sync API (other e2e tests, same session) keeps an event loop
    running in the main thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def test_protocol_client_opens_every_page_and_moves_a_control(app_server):
    async def scenario():
        rng = random.Random(0)
        out = []
        async with StreamlitClient(app_server, timeout=180) as client:
            for spec in registry.PAGES:
                opened = await client.open_page(run_load.page_name(spec))
                moved = None
                controls = [w for w in client.movable() if w.kind != "button" and not w.key.startswith("_")]
                if controls:
                    moved = await client.move(controls[0], rng)
                out.append((spec, opened, moved, len(client.widgets)))
        return out

    for spec, opened, moved, n_widgets in _in_thread(asyncio.run, scenario()):
        assert opened.status == "ok" and not opened.page_not_found, (spec.url_path, opened.status,
                                                                     opened.page_not_found, opened.exceptions)
        assert not opened.exceptions, (spec.url_path, opened.exceptions)
        assert opened.n_msgs > 0 and n_widgets > 0, spec.url_path  # every page has at least the sidebar controls
        if moved is not None:
            assert moved.status == "ok" and not moved.exceptions, (spec.url_path, moved)


def test_the_client_keeps_large_messages_as_a_browser_does(app_server):
    """Like a browser tab, the client lists the large messages it holds with every rerun request, so the server sends
    an unchanged figure as a short reference: the second open of a page receives a fraction of the bytes and the
    client still sees every control."""
    async def scenario():
        async with StreamlitClient(app_server, timeout=180) as client:
            first = await client.open_page("bias-variance")
            keys = sorted(w.key for w in client.widgets.values())
            held = len(client.cache.hashes())
            again = await client.open_page("bias-variance")
            return first, again, keys, sorted(w.key for w in client.widgets.values()), held

    first, again, keys, keys_again, held = _in_thread(asyncio.run, scenario())
    assert first.status == again.status == "ok" and not again.exceptions
    assert held >= 1, "the bias-variance figures are large messages"
    assert again.n_bytes < 0.5 * first.n_bytes, (first.n_bytes, again.n_bytes)
    assert keys_again == keys


def test_load_runner_small_run(app_server, capsys):
    code = _in_thread(run_load.main, ["--url", app_server, "--students", "3", "--duration", "8", "--think", "0.5",
                          "--ramp", "1", "--max-moves", "3", "--min-moves", "1", "--timeout", "120"])
    out = capsys.readouterr().out
    summary = json.loads(out[: out.index("\n\n| date")])
    assert code == 0, summary["error_examples"]
    assert summary["errors"] == 0 and summary["reruns"] >= 3
    assert summary["latency"]["p95_s"] is not None
    assert "| 3 |" in out.splitlines()[-1]  # the markdown row


def test_a_compute_button_press_is_told_from_a_move():
    """The runner reports presses of a Compute button (explicit heavy work, its own 5 s budget) apart from moves:
    it knows them by the gate's button icon, not by a list of keys."""
    from streamlit.proto.Button_pb2 import Button

    from pages._ui.gate import COMPUTE_ICON
    from tests.load.streamlit_client import Widget

    def button(icon: str) -> Widget:
        proto = Button(id="$$ID-abc-run_x", label="Compute", icon=icon)
        return Widget(proto.id, "button", proto.label, "", proto, None)

    assert button(COMPUTE_ICON).compute and not button(":material/looks_one:").compute
    slider = Widget("$$ID-abc-lam", "slider", "λ", "", None, None)
    assert not slider.compute
