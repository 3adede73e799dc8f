"""Every ``st.cache_data`` / ``st.cache_resource`` wrapper of the app, one module per page.

Rules (DESIGN §3): primitive arguments only (an ``int`` seed, never a Generator); every cache is
bounded (``max_entries`` and, for large results, a byte cap); ``cache_resource`` only for large
read-only objects. ``warm_defaults()`` runs once per server process (from ``app.py``) and computes
what a lecture needs at its first click.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

import streamlit as st

SMALL = dict(max_entries=256, show_spinner=False)  # light results (a few KB each)
LARGE = dict(max_entries=32, show_spinner=False)  # images, big sweeps

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
