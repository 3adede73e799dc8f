"""Fuzz every registered page (issue 8): random and hostile query strings plus random widget values.

Hypothesis draws the cases deterministically (``derandomize=True``) and a bounded number per page, so the
default test command stays fast and reproducible. A case passes when the page raises nothing and finishes
within the AppTest timeout.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st_

from pages._ui import registry
from tests.pages.test_every_page import open_app

RUN_LIMIT_S = 60.0
PAGES = [p for p in registry.PAGES if p.url_path != "tour"]  # the tour only redirects (test_tour.py)

hostile_text = st_.one_of(
    st_.sampled_from(["nan", "inf", "-inf", "1e400", "-0", "0", "1", "-1", "999999999999", "true", "[]", "{}",
                      "%", "&", "=", "../../etc/passwd", "<img src=x>", "🙂", " ", "\x00"]),
    st_.text(max_size=30),
    st_.floats(allow_nan=True, allow_infinity=True).map(repr),
    st_.integers(min_value=-10**12, max_value=10**12).map(str),
)


def _keys(spec) -> list[str]:
    at = open_app(spec)
    widgets = [*at.slider, *at.number_input, *at.select_slider, *at.selectbox, *at.radio, *at.toggle, *at.multiselect]
    return sorted({w.key for w in widgets if w.key and not w.key.startswith("_")})


_KEYS: dict[str, list[str]] = {}


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])
@given(data=st_.data())
def test_random_and_hostile_urls(spec, data):
    keys = _KEYS.setdefault(spec.url_path, _keys(spec))
    chosen = data.draw(st_.lists(st_.sampled_from(keys + ["present", "zzz"]), max_size=6, unique=True)) if keys else []
    query = {k: data.draw(hostile_text) for k in chosen}
    t0 = time.perf_counter()
    at = open_app(spec, query)
    assert not at.exception, f"{query}: {[e.message for e in at.exception]}"
    assert time.perf_counter() - t0 < RUN_LIMIT_S


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])
@given(data=st_.data())
def test_random_widget_values(spec, data):
    at = open_app(spec)
    for w in at.slider:
        if w.key and not w.key.startswith("_") and not isinstance(w.value, (tuple, list)):
            lo, hi = w.min, w.max
            if isinstance(w.value, int) and isinstance(lo, int):
                w.set_value(data.draw(st_.integers(lo, hi)))
            else:
                w.set_value(data.draw(st_.floats(float(lo), float(hi), allow_nan=False)))
    for w in at.select_slider:
        if w.key and not w.key.startswith("_") and w.options:
            option = data.draw(st_.sampled_from(list(w.options)))  # AppTest lists options formatted
            w.set_value(option if isinstance(w.value, str) else type(w.value)(option))
    for w in [*at.selectbox, *at.radio]:
        if w.key and not w.key.startswith("_") and w.options:
            w.set_value(data.draw(st_.sampled_from(list(w.options))))
    t0 = time.perf_counter()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert time.perf_counter() - t0 < RUN_LIMIT_S
