"""DESIGN §3 house rules, checked on the source: server config, no user text in raw HTML, no eval/exec."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_FILES = [ROOT / "app.py", *ROOT.glob("pages/**/*.py")]


def test_classroom_config():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["headless"] is True
    assert cfg["server"]["fileWatcherType"] == "none"
    assert cfg["server"]["enableXsrfProtection"] is True and cfg["server"]["enableCORS"] is True
    assert cfg["runner"]["postScriptGC"] is False
    assert cfg["client"]["showErrorDetails"] in ("none", "type"), "no tracebacks or paths in the browser"
    assert cfg["client"]["toolbarMode"] == "viewer"
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["theme"]["base"] == "light" and cfg["theme"]["baseFontSize"] >= 16


def test_no_eval_exec_and_raw_html_only_with_constants():
    for path in APP_FILES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                assert name not in ("eval", "exec"), f"{path}: {name}"
                assert name not in ("st.html", "components.html"), f"{path}: {name} runs arbitrary HTML"
                for kw in node.keywords:
                    if kw.arg in ("unsafe_allow_html", "unsafe_allow_javascript") and getattr(kw.value, "value", False):
                        arg = node.args[0] if node.args else None
                        # only a module-level constant (an ALL_CAPS name) may be rendered as raw HTML
                        assert isinstance(arg, ast.Name) and arg.id.isupper(), \
                            f"{path}:{node.lineno}: raw HTML must be a constant, got {ast.unparse(arg) if arg else None}"


def test_plotly_charts_go_through_the_shared_helper():
    for path in APP_FILES:
        if path.name == "layout.py":
            continue
        src = path.read_text()
        assert "st.plotly_chart(" not in src, f"{path}: use pages._ui.layout.show_figure"
        assert "use_container_width" not in src
