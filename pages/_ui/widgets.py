"""Shared controls. Every demo-defining control has a ``key`` and is bound to the URL
(``bind="query-params"``), so the address bar reproduces the screen and a lecturer can prepare links.

Each helper records its key and default in the run's registry (see :func:`begin`), which powers
"Reset to defaults" and the notice shown when a URL value was invalid and fell back to the default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

_REG = "_regopt_run"  # session_state key of the current run's registry
PRESENT_KEY = "present"  # ?present=1 turns on presentation mode (handled in layout / app.py)
SECTION_KEY = "section"  # ?section=3 : the section shown in presentation mode (handled in layout)
TOUR_KEY = "tour"  # ?tour=7 : this page is step 7 of the lecture tour (handled in layout)
GLOBAL_PARAMS = {PRESENT_KEY, SECTION_KEY, TOUR_KEY}


def _page_id() -> str:
    ctx = get_script_run_ctx()
    return getattr(ctx, "page_script_hash", "") if ctx is not None else ""


def begin() -> None:
    """Start a page run: snapshot the raw query string and reset the registry of bound controls.

    Pages share short, link-friendly keys (``lam``, ``steps``, ``n``) with different meanings and
    ranges. When the student arrives from another page, that page's values are dropped from the
    session first, so a value valid there can never reach (or break) a widget here.
    """
    page = _page_id()
    previous = st.session_state.get(_REG)
    if previous and previous.get("page") != page:
        for key in previous.get("defaults", {}):
            st.session_state.pop(key, None)
    st.session_state[_REG] = {
        "page": page,
        "raw": {k: st.query_params.get_all(k) for k in st.query_params},
        "defaults": {},
        "labels": {},
    }


def _registry() -> dict:
    if _REG not in st.session_state:
        begin()
    return st.session_state[_REG]


def _register(key: str, default: Any, label: str) -> None:
    reg = _registry()
    reg["defaults"][key] = default
    reg["labels"][key] = label


def mark_partial() -> None:
    """This run draws only some of the page's sections (presentation mode): unknown keys are not reported."""
    _registry()["partial"] = True


def registered_defaults() -> dict[str, Any]:
    return dict(_registry()["defaults"])


def url_fallbacks() -> list[str]:
    """Human-readable notices for URL values that did not survive: unknown, invalid or out of range.

    Streamlit itself drops an invalid bound value (and clamps some), falling back to the default;
    we compare the raw query string of this run with what the bound widgets kept.
    """
    reg = _registry()
    notices = []
    for key, raw in reg["raw"].items():
        raw_value = raw[-1] if raw else ""
        if key in GLOBAL_PARAMS:
            continue
        if key not in reg["defaults"]:
            if not reg.get("partial"):  # a page drawing only some sections cannot know every key
                notices.append(f"`{key}` is not a setting of this page and was ignored.")
            continue
        kept = st.query_params.get_all(key)
        if kept != raw and not _matches(raw, st.session_state.get(key)):
            label = reg["labels"][key]
            value = st.session_state.get(key)
            if value is None:  # the widget has no value yet: it shows its default
                value = reg["defaults"][key]
            notices.append(
                f"**{label}**: the link's value `{raw_value[:40]}` is not valid here; "
                + (f"using `{_fmt(value)}` instead." if value is not None else "using the default instead.")
            )
    return notices


def _matches(raw: list[str], value: Any) -> bool:
    """Does the widget's value equal what the URL asked for? (Streamlit drops a param equal to the default.)"""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(values) != len(raw):
        return False
    for r, v in zip(raw, values, strict=True):
        if str(v) == r or (isinstance(v, bool) and r.lower() == str(v).lower()):
            continue
        try:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and float(r) == float(v):
                continue
        except ValueError:
            pass
        return False
    return True


def _fmt(v: Any) -> str:
    """A value as the user sees it on screen (never ``None``: no value is shown as "none")."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def reset_to_defaults() -> None:
    """Callback: put every registered control of this page back to its default."""
    for key, default in registered_defaults().items():
        st.session_state[key] = default


def _drop_if_invalid(key: str, valid: Callable[[Any], bool]) -> None:
    """Forget a value left in the session under ``key`` that this widget cannot hold.

    Pages share short keys with different ranges (``steps`` is up to 3000 on one page, 100 on another). A value
    that another page (or a section drawn in an earlier run) left behind would make Streamlit raise
    (``StreamlitValueAboveMaxError``) when the widget is created; the widget takes its URL value or default instead.
    """
    if key in st.session_state:
        try:
            ok = bool(valid(st.session_state[key]))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            del st.session_state[key]


# --------------------------------------------------------------------------------------------- controls
def slider(
    label: str,
    key: str,
    min_value: float,
    max_value: float,
    default: float,
    *,
    step: float | None = None,
    format: str | None = None,
    help: str | None = None,
) -> float:
    """A linear slider bound to ``?key=value``. Ints give an int slider."""
    _register(key, default, label)
    _drop_if_invalid(key, lambda v: all(min_value <= x <= max_value for x in (v if isinstance(v, (tuple, list)) else (v,))))
    return st.slider(label, min_value=min_value, max_value=max_value, value=default, step=step, format=format,
                     key=key, help=help, bind="query-params")


def log_options(lo: float, hi: float, *, mantissas: Sequence[float] = (1, 2, 5)) -> list[float]:
    """Log-spaced 'nice' values between lo and hi, e.g. 0.01, 0.02, 0.05, 0.1, ... (1-2-5 by default).

    Values are rounded to 12 significant digits so that they print exactly (``0.1``, not
    ``0.10000000000000002``) and match a hand-typed URL.
    """
    out = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in mantissas:
            v = float(f"{m * 10.0**e:.12g}")
            if lo * (1 - 1e-12) <= v <= hi * (1 + 1e-12):
                out.append(v)
    return sorted(set(out))


def fmt_g(v: float) -> str:
    return f"{v:g}"


def log_slider(
    label: str,
    key: str,
    lo: float,
    hi: float,
    default: float,
    *,
    mantissas: Sequence[float] = (1, 2, 5),
    extra: Sequence[float] = (),
    help: str | None = None,
) -> float:
    """A slider on a log scale: a select-slider over nice values, shown and linked with ``%g``.

    ``?key=5`` or ``?key=0.1`` select those values; ``extra`` adds values (e.g. ``0``) at the ends.
    """
    options = sorted(set(log_options(lo, hi, mantissas=mantissas)) | set(float(e) for e in extra))
    if default not in options:
        options = sorted(set(options) | {float(default)})
    _register(key, float(default), label)
    _drop_if_invalid(key, lambda v: float(v) in options)
    return float(st.select_slider(label, options=options, value=float(default), format_func=fmt_g, key=key,
                                  help=help, bind="query-params"))


def select(
    label: str,
    key: str,
    options: Sequence[str] | Mapping[str, str],
    default: str,
    *,
    horizontal_radio: bool = False,
    help: str | None = None,
) -> str:
    """Choose one of ``options``: a list of values, or a mapping value -> short display label.

    The widget shows the labels and the URL holds the label (Streamlit binds the displayed option),
    so keep labels short and link-friendly (``"L1"``, ``"Huber"``). Returns the *value*.
    """
    labels = dict(options) if isinstance(options, Mapping) else {o: str(o) for o in options}
    by_label = {v: k for k, v in labels.items()}
    shown = list(by_label)
    _register(key, labels[default], label)
    _drop_if_invalid(key, lambda v: v in by_label)
    if horizontal_radio:
        choice = st.radio(label, shown, index=shown.index(labels[default]), key=key, help=help, horizontal=True,
                          bind="query-params")
    else:
        choice = st.selectbox(label, shown, index=shown.index(labels[default]), key=key, help=help,
                              bind="query-params")
    return by_label[choice]


def multiselect(label: str, key: str, options: Sequence[Any], default: Sequence[Any], *,
                format_func: Callable[[Any], str] = str, help: str | None = None) -> list:
    """Choose several; may return an empty list (pages must handle that with a message)."""
    _register(key, list(default), label)
    _drop_if_invalid(key, lambda v: all(x in list(options) for x in v))
    return list(st.multiselect(label, list(options), default=list(default), format_func=format_func, key=key,
                               help=help, bind="query-params"))


def toggle(label: str, key: str, default: bool = False, *, help: str | None = None) -> bool:
    _register(key, bool(default), label)
    return bool(st.toggle(label, value=default, key=key, help=help, bind="query-params"))


def text(label: str, key: str, default: str = "", *, help: str | None = None, placeholder: str | None = None,
         max_chars: int | None = None) -> str:
    """A one-line text box bound to ``?key=...`` (e.g. a typed formula). The page validates what it gets."""
    _register(key, str(default), label)
    value = st.text_input(label, value=default, key=key, help=help, placeholder=placeholder, max_chars=max_chars,
                          bind="query-params")
    return "" if value is None else str(value)


def number(label: str, key: str, min_value: float, max_value: float, default: float, *,
           step: float | None = None, help: str | None = None) -> float:
    """A number box bound to the URL. Integer inputs return an ``int``.

    Integers are entered through a float box shown with ``%.0f``: Streamlit 1.67's *int* number_input
    raises ``OverflowError`` when a link carries ``?key=inf`` (``int(float("inf"))`` in its URL
    deserializer is not guarded), while the float box resets non-finite values to the default.
    """
    integer = all(isinstance(v, int) for v in (min_value, max_value, default)) and (step is None or isinstance(step, int))
    _register(key, float(default) if integer else default, label)
    _drop_if_invalid(key, lambda v: min_value <= v <= max_value)
    if integer:
        value = st.number_input(label, min_value=float(min_value), max_value=float(max_value), value=float(default),
                                step=float(step or 1), format="%.0f", key=key, help=help, bind="query-params")
        return int(round(value))
    return st.number_input(label, min_value=min_value, max_value=max_value, value=default, step=step, key=key,
                           help=help, bind="query-params")


def seed(key: str = "seed", default: int = 0, *, help: str | None = None) -> int:
    """The random seed of the page's experiment (same seed = same numbers, for everyone)."""
    return int(number("Random seed", key, 0, 2**31 - 1, default, step=1,
                      help=help or "Same seed, same data and the same results on every screen."))
