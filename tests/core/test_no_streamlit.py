"""DESIGN §2.1: the numerical core never reaches Streamlit or the app, by any import route.

Two independent checks, each shown to fail on a planted violation:

* **dynamic** — every ``regopt_core`` module is imported in a fresh interpreter behind an import hook
  that refuses ``streamlit``, ``pages``, ``app`` and ``bench`` (so ``importlib.import_module`` and
  ``__import__`` are caught too, not only ``import`` statements), and ``sys.modules`` is checked after;
* **static** — the source of every module is parsed and any import statement of those packages, or any
  call of ``importlib.import_module`` / ``__import__`` / ``importlib.util`` loaders, is reported (a lazy
  import inside a function that the dynamic check never runs is still caught).
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import regopt_core

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("streamlit", "pages", "app", "bench")


def all_modules(package=regopt_core) -> list[str]:
    names = [package.__name__]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        names.append(info.name)
    return names


# --------------------------------------------------------------------------------------------- dynamic
_GUARD = textwrap.dedent(
    """
    import importlib.abc, sys
    FORBIDDEN = {forbidden!r}

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in FORBIDDEN:
                raise ImportError(f"regopt_core reached {{name}}")
            return None

    sys.meta_path.insert(0, Refuse())
    for name in {names!r}:
        importlib.import_module(name)
    bad = sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)
    print(",".join(bad))
    """
)


def _import_in_fresh_interpreter(names: list[str], cwd: Path) -> subprocess.CompletedProcess:
    code = _GUARD.format(forbidden=FORBIDDEN, names=names)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_there_are_modules_to_check():
    names = all_modules()
    assert "regopt_core.losses" in names and "regopt_core.ct.tv" in names and len(names) > 20


def test_importing_every_regopt_core_module_reaches_neither_streamlit_nor_the_app():
    out = _import_in_fresh_interpreter(all_modules(), ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"regopt_core imported: {out.stdout}"


# ---------------------------------------------------------------------------------------------- static
def _violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in FORBIDDEN:
                found.append(node.module)
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("import_module", "__import__", "spec_from_file_location", "module_from_spec"):
                found.append(f"{name}(...)")
    return found


def test_no_regopt_core_source_imports_the_app_or_imports_by_name():
    bad = {}
    for path in sorted(Path(regopt_core.__file__).parent.rglob("*.py")):
        hits = _violations(path.read_text(encoding="utf-8"))
        if hits:
            bad[str(path.relative_to(ROOT))] = hits
    assert not bad, f"regopt_core must not reach streamlit or the app: {bad}"


# ------------------------------------------------------------------------------ the checks can fail
PLANTED = {
    "plain": "import streamlit as st\n",
    "from_pages": "from pages._ui import registry\n",
    "by_name": "import importlib\n\ndef later():\n    return importlib.import_module('streamlit.testing.v1')\n",
    "dunder": "def later():\n    return __import__('pages._ui.registry')\n",
}


def test_static_check_catches_every_planted_violation():
    for kind, source in PLANTED.items():
        assert _violations(source), kind
    assert not _violations("import numpy as np\nfrom scipy import sparse\nimport importlib.metadata\n")


def test_dynamic_check_catches_an_import_by_name(tmp_path):
    pkg = tmp_path / "fakecore"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sneaky.py").write_text("import importlib\nimportlib.import_module('streamlit')\n")
    out = _import_in_fresh_interpreter(["fakecore", "fakecore.sneaky"], tmp_path)
    assert out.returncode != 0 and "regopt_core reached streamlit" in out.stderr
