"""Every ``st.cache_data`` / ``st.cache_resource`` wrapper of the app, one module per page.

Rules (DESIGN §3): primitive arguments only (an ``int`` seed, never a Generator); every cache is
bounded (``max_entries`` and, for large results, a byte cap); ``cache_resource`` only for large
read-only objects. ``warm_defaults()`` runs once per server process (from ``app.py``) and computes
what a lecture needs at its first click.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

import streamlit as st

SMALL = dict(max_entries=256, max_size="64MB", show_spinner=False)  # light results (a few KB each)
LARGE = dict(max_entries=32, max_size="256MB", show_spinner=False)  # images, big sweeps

_warm_lock = threading.Lock()


@st.cache_resource(show_spinner=False)
def _warm_once() -> dict[str, str]:
    """Call ``warm_defaults()`` of every cached module once per process; record what happened."""
    report = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        warm = getattr(module, "warm_defaults", None)
        if warm is None:
            continue
        try:
            warm()
            report[info.name] = "ok"
        except Exception as exc:  # a failed warm-up must not take the app down; the page recomputes
            report[info.name] = f"{type(exc).__name__}: {exc}"
    return report


def warm_defaults() -> dict[str, str]:
    with _warm_lock:
        return _warm_once()


# ---------------------------------------------------------------------------------------------------
# Pinned defaults: what a lecture needs at its first click survives a client's "clear cache" message
# ---------------------------------------------------------------------------------------------------
# Any websocket client can send BackMsg(clear_cache=True), which empties every st.cache_data and
# st.cache_resource of the process for everyone. Results pinned here live in plain process memory that
# no client message reaches; only the default settings are pinned, so the store stays small and bounded.
_PINNED: dict[tuple, Any] = {}
_PIN_LOCK = threading.Lock()


def _freeze(obj: Any) -> Any:
    """Make numpy arrays inside a shared result read-only (shallow walk of dataclasses, dicts, tuples)."""
    if isinstance(obj, np.ndarray):
        obj.setflags(write=False)
    elif isinstance(obj, dict):
        for v in obj.values():
            _freeze(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _freeze(v)
    elif hasattr(obj, "__dataclass_fields__"):
        for name in obj.__dataclass_fields__:
            _freeze(getattr(obj, name))
    return obj


def pinned(func: Callable) -> Callable:
    """Wrap a cached function so that ``func.pin(*args)`` computes a result once and keeps it for good.

    Calls with pinned arguments are answered from the pin store (shared, read-only); all other calls go
    to ``func`` (normally an ``st.cache_data`` function). Use for the default view of a page, from its
    module's ``warm_defaults()``.
    """
    signature = inspect.signature(getattr(func, "__wrapped__", func))

    def key_of(args: tuple, kwargs: dict) -> tuple:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return (func.__module__, func.__qualname__, tuple(bound.arguments.items()))

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        hit = _PINNED.get(key_of(args, kwargs), _MISSING)
        return func(*args, **kwargs) if hit is _MISSING else hit

    def pin(*args, **kwargs):
        key = key_of(args, kwargs)
        with _PIN_LOCK:
            if key not in _PINNED:
                _PINNED[key] = _freeze(func(*args, **kwargs))
            return _PINNED[key]

    wrapper.pin = pin
    wrapper.clear = getattr(func, "clear", None)
    return wrapper


_MISSING = object()


# ---------------------------------------------------------------------------------------------------
# Cached figures
# ---------------------------------------------------------------------------------------------------
# Building a plotly Figure validates every property, which costs more than the rest of a warm rerun on
# the heavier pages. Pages may therefore cache a figure as ``fig.to_dict()`` (the builders stay pure and
# are tested with validation on in tests/figures) and reopen it here without re-validation.
def thaw(fig_dict: dict):
    """A ``go.Figure`` from a cached ``to_dict()``, without re-validating it.

    Dicts and lists are copied first (arrays are shared, read-only): plotly rearranges the dicts it is
    given, and a pinned default is shared by every session.
    """
    import plotly.graph_objects as go

    return go.Figure(_copy_tree(fig_dict), _validate=False)


def _copy_tree(obj):
    if isinstance(obj, dict):
        return {k: _copy_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_copy_tree(v) for v in obj]
    return obj


def n_pinned() -> int:
    return len(_PINNED)
