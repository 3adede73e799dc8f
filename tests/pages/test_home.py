"""Issue 13 item 6: the home page shows one static thumbnail per lecture page once its default result is ready,
and never computes one itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def _home() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()


@pytest.mark.slow
def test_thumbnails_appear_once_the_defaults_are_ready_and_are_static(tmp_path, monkeypatch):
    import importlib

    home = importlib.import_module("pages.home")
    from pages._ui import cached, figures, layout

    figures.SPECS.clear()
    monkeypatch.setenv("REGOPT_STORE", str(tmp_path))  # no precomputed store: nothing is ready at first
    with cached.isolated():
        at = _home()
        assert not at.exception
        assert len(at.get("plotly_chart")) == 0, "the home page computed a result itself"
        for build in home.THUMBS.values():  # what warm_defaults does at start: the default results get ready
            original = cached.ready
            cached.ready = lambda fn, config: True
            try:
                assert build() is not None
            finally:
                cached.ready = original
        figures.SPECS.clear()
        at = _home()
        assert not at.exception
        charts = at.get("plotly_chart")
        assert len(charts) == len(home.THUMBS), [c.proto.spec[:80] for c in charts]
        for c in charts:
            config = json.loads(c.proto.config)
            assert config.get("staticPlot") is True
            spec = json.loads(c.proto.spec)
            assert spec["layout"]["height"] <= 200 and spec["layout"].get("showlegend") is False
        # the thumbnails are built once per process, not on every visit (the page script's globals are new on
        # every rerun, so a dict there rebuilt all six on each visit: ~230 ms of server CPU per home rerun)
        built = []
        original_thumbnail = layout.thumbnail
        monkeypatch.setattr(layout, "thumbnail", lambda fig, **kw: built.append(1) or original_thumbnail(fig, **kw))
        at = _home()
        assert not at.exception and len(at.get("plotly_chart")) == len(home.THUMBS)
        assert built == [], f"the home page rebuilt {len(built)} thumbnails on a second visit"
    figures.SPECS.clear()
