"""DESIGN §2.1: numerics never import streamlit — checked in a fresh interpreter over every module."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import regopt_core

ROOT = Path(__file__).resolve().parents[2]


def all_modules() -> list[str]:
    names = ["regopt_core"]
    for info in pkgutil.walk_packages(regopt_core.__path__, prefix="regopt_core."):
        names.append(info.name)
    return names


def test_there_are_modules_to_check():
    names = all_modules()
    assert "regopt_core.losses" in names and "regopt_core.bench" in names and len(names) > 8


def test_importing_every_regopt_core_module_does_not_import_streamlit():
    code = (
        "import importlib, sys\n"
        f"for name in {all_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"streamlit imported by regopt_core: {out.stdout}"
