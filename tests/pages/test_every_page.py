"""DESIGN §4.3: every page in the navigation runs under AppTest — with defaults, with every control at its
extremes, every option of every choice, from its prepared deep links, and from a hostile URL.

Pages are taken from ``pages/_ui/registry.py``, which is what ``app.py`` builds ``st.navigation`` from, so a
page cannot be registered without being tested here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._ui import registry

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 240
# The tour page only opens another page in a prepared state (tests/pages/test_tour.py tests every step).
PAGES = [p for p in registry.PAGES if p.url_path != "tour"]
IDS = [p.url_path for p in PAGES]


def open_app(spec: registry.PageSpec, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if spec.default:
        return at.run()
    return at.switch_page(spec.path).run()


def assert_clean(at: AppTest, what: str) -> None:
    assert not at.exception, f"{what}: {[e.message for e in at.exception]}"


def test_navigation_is_built_from_the_registry_and_every_page_file_is_registered():
    app_source = (ROOT / "app.py").read_text()
    assert "registry.sections()" in app_source and "st.navigation" in app_source
    registered = {p.path for p in registry.PAGES}
    on_disk = {f"pages/{f.name}" for f in (ROOT / "pages").glob("*.py")}
    unregistered = on_disk - registered
    assert not unregistered, f"page files not in the navigation (register or remove them): {unregistered}"
    assert len({p.url_path for p in registry.PAGES}) == len(registry.PAGES), "url_path must be unique"
    assert sum(p.default for p in registry.PAGES) == 1
    # Streamlit resolves the first request of a fresh server against the file names in pages/ before app.py
    # builds the navigation: a url_path that differs from its file stem shows a spurious "Page not found".
    for p in registry.PAGES:
        if not p.default:
            assert Path(p.path).stem == p.url_path, f"name {p.path} after its url_path {p.url_path!r}"


@pytest.mark.parametrize("spec", PAGES, ids=IDS)
def test_page_runs_with_defaults(spec):
    at = open_app(spec)
    assert_clean(at, "defaults")
    assert not at.error, f"an error box at default settings: {[e.value for e in at.error]}"
    assert at.title and at.title[0].value, "every page starts with a header"


def _numeric_widgets(at: AppTest):
    return [*at.slider, *at.number_input]


@pytest.mark.parametrize("end", ["min", "max"])
@pytest.mark.parametrize("spec", PAGES, ids=IDS)
def test_page_survives_every_control_at_its_extreme(spec, end):
    at = open_app(spec)
    touched = 0
    for wdg in _numeric_widgets(at):
        if wdg.key is None or wdg.key.startswith("_"):
            continue
        value = wdg.min if end == "min" else wdg.max
        if isinstance(wdg.value, (tuple, list)):
            value = (wdg.min, wdg.max)
        wdg.set_value(value)
        touched += 1
    for wdg in at.select_slider:
        if wdg.key is None or wdg.key.startswith("_"):
            continue
        opts = wdg.options
        wdg.set_value(type(wdg.value)(opts[0] if end == "min" else opts[-1]) if not isinstance(wdg.value, str) else
                      (opts[0] if end == "min" else opts[-1]))
        touched += 1
    if not spec.default:  # every lecture page has numeric controls; the home page has none
        assert touched > 0, f"{spec.url_path}: no slider or number input found, nothing was pushed to an extreme"
    at.run()
    assert_clean(at, f"all controls at {end}")


@pytest.mark.parametrize("spec", PAGES, ids=IDS)
def test_page_survives_every_option_of_every_choice(spec):
    at = open_app(spec)
    choices = [(w.key, list(w.options)) for w in [*at.selectbox, *at.radio] if w.key and not w.key.startswith("_")]
    for key, options in choices:
        for option in options:
            at = open_app(spec, {key: option})
            assert_clean(at, f"{key}={option}")
    for wdg in at.multiselect:
        if wdg.key and not wdg.key.startswith("_"):
            wdg.set_value([])
            at.run()
            assert_clean(at, f"{wdg.key} emptied")
    for wdg in at.toggle:
        if wdg.key and not wdg.key.startswith("_"):
            wdg.set_value(not wdg.value)
    at.run()
    assert_clean(at, "every toggle flipped")


@pytest.mark.parametrize("spec", PAGES, ids=IDS)
def test_deep_links_reproduce_their_settings(spec):
    for link in spec.deep_links:
        at = open_app(spec, link)
        assert_clean(at, f"deep link {link}")
        assert not at.warning or all("not used" not in w.value for w in at.warning), \
            f"a prepared link was rejected: {[w.value for w in at.warning]}"
        for key, value in link.items():
            got = at.session_state[key]
            if isinstance(got, bool):
                assert str(got).lower() == value.lower(), key
            elif isinstance(got, (int, float)):
                assert got == pytest.approx(float(value)), key
            else:
                assert str(got) == value, key


HOSTILE = ["nan", "-inf", "1e308", "-1e308", "%00", "<script>alert(1)</script>", "" , "x" * 500, "0x1F", "[]"]


@pytest.mark.parametrize("spec", PAGES, ids=IDS)
def test_hostile_url_values_fall_back_with_a_notice(spec):
    at = open_app(spec)
    keys = [w.key for w in [*at.slider, *at.number_input, *at.select_slider, *at.selectbox, *at.radio,
                            *at.toggle, *at.multiselect] if w.key and not w.key.startswith("_")]
    for i, bad in enumerate(HOSTILE):
        query = {k: bad for k in keys}
        query["no_such_setting"] = "1"
        at2 = open_app(spec, query)
        assert_clean(at2, f"hostile value {bad!r}")
        if i == 0:
            assert any("not used" in w.value for w in at2.warning), "an invalid link must be reported on the page"


def test_pages_import_streamlit_only_through_pages_and_ui():
    """Numerics stay in regopt_core: a page may not define functions that do heavy math loops itself."""
    for spec in PAGES:
        tree = ast.parse((ROOT / spec.path).read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = getattr(node, "module", None) or ""
                assert not mod.startswith("sklearn"), f"{spec.path}: pages get data through regopt_core"


def _keyed(at: AppTest) -> list:
    kinds = ("slider", "select_slider", "selectbox", "radio", "number_input", "multiselect")
    return [w for kind in kinds for w in getattr(at, kind) if w.key and not w.key.startswith("_")]


LECTURE = [p for p in PAGES if not p.default]  # the home page has no value controls


@pytest.mark.parametrize("spec", LECTURE, ids=[p.url_path for p in LECTURE])
def test_values_left_in_the_session_by_another_page_never_break_a_page(spec):
    """Pages share short keys with other ranges (``steps`` is up to 3000 on one page and 100 on another): a value
    another page left in the session is dropped by the widget, not raised (a load run saw
    ``StreamlitValueAboveMaxError: The value 3000 is greater than the max_value 100`` on the SGD page)."""
    keys = [w.key for w in _keyed(open_app(spec))]
    assert keys, f"{spec.url_path}: no keyed value controls found"
    for junk in (10**9, -(10**9), "not an option", ["nope"]):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        for key in keys:
            at.session_state[key] = junk
        at = at.run() if spec.default else at.switch_page(spec.path).run()
        assert_clean(at, f"every control's session value set to {junk!r}")
