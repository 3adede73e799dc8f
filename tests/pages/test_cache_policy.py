"""Every cache is bounded, and pinned defaults survive a client's "clear cache" message."""

import ast
from pathlib import Path

import numpy as np
import streamlit as st

from pages._ui import cached

ROOT = Path(__file__).resolve().parents[2]


def test_every_cache_decorator_in_the_app_is_bounded():
    offenders = []
    for path in [*ROOT.glob("pages/**/*.py"), ROOT / "app.py"]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for dec in node.decorator_list:
                src = ast.unparse(dec)
                if "cache_data" in src:
                    bounded = "SMALL" in src or "LARGE" in src or "max_entries" in src
                    if not bounded:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert not offenders, f"unbounded st.cache_data: {offenders}"
    assert cached.SMALL["max_entries"] and cached.SMALL["max_size"] and cached.LARGE["max_size"]


def test_pinned_results_survive_clearing_every_streamlit_cache():
    calls = []

    @cached.pinned
    @st.cache_data(max_entries=4)
    def square(x: int, power: int = 2) -> np.ndarray:
        calls.append(x)
        return np.array([x**power])

    first = square.pin(7)
    assert not first.flags.writeable, "shared pinned results are read-only"
    st.cache_data.clear()
    st.cache_resource.clear()
    again = square(7, power=2)  # same arguments, spelled differently
    assert again is first and calls == [7], "a pinned default is not recomputed after a clear"
    square(8)
    assert calls == [7, 8], "other arguments go to the ordinary cache"
