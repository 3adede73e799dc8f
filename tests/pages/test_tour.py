"""Issue 13: every lecture-tour step opens its page cleanly, in presentation mode, with a figure."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._ui import registry, tour

ROOT = Path(__file__).resolve().parents[2]


def test_tour_has_15_to_25_steps_across_every_lecture_page():
    assert 15 <= len(tour.STEPS) <= 25
    pages = {p.url_path for p in registry.PAGES if not p.default and p.url_path != "tour"}
    assert {s.page for s in tour.STEPS} == pages
    for s in tour.STEPS:
        assert s.look.strip() and s.ask.strip().endswith("?"), s


@pytest.mark.parametrize("k", range(1, len(tour.STEPS) + 1))
def test_tour_step_opens_cleanly(k):
    step = tour.step(k)
    spec = registry.by_url_path(step.page)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    for key, value in tour.url_params(k).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(spec.path).run()
    assert not at.exception, [e.message for e in at.exception]
    notices = [w.value for w in at.warning if "link were not used" in w.value]
    assert not notices, notices
    assert any(f"step {k} of {len(tour.STEPS)}" in m.value for m in at.markdown), "the tour bar shows the step"
    assert at.get("plotly_chart"), "the step's section shows a figure"


@pytest.mark.parametrize(("k", "zeros"), [(3, "1"), (4, "0")])
def test_the_l1_and_l2_steps_show_what_their_sentence_says(k, zeros):
    """Step 3 says one weight is exactly zero with L1; step 4 that L2 zeroes none — at the page's state."""
    from tests.pages.helpers import metric_value

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    for key, value in tour.url_params(k).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(registry.by_url_path(tour.step(k).page).path).run()
    assert not at.exception, [e.message for e in at.exception]
    assert metric_value(at, "weights exactly 0") == zeros
