"""The landscapes page under AppTest: key numbers, divergence messages, extremes, deep links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "landscapes.py")


def run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label.startswith(label):
            return m.value
    raise KeyError(label)


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_defaults_show_the_thresholds_and_no_divergence():
    at = run()
    # quadratic bowl, L = 1: GD limit 2/L = 2, heavy ball 2(1 + 0.9)/L = 3.8
    assert metric(at, "L (largest curvature)") == "1"
    assert metric(at, "GD limit 2/L") == "2"
    assert metric(at, "Heavy-ball limit") == "3.8"
    assert metric(at, "Condition number κ") == "10"
    assert not any("diverged" in w for w in warnings(at))
    # the gradient check passes on Rosenbrock at (-1.2, 1): grad = (-215.6, -88)
    grad_table = next(d.value for d in at.dataframe if "component" in d.value.columns)
    assert list(grad_table["analytic (your derivation)"]) == ["-215.6", "-88"]
    assert float(metric(at, "Relative error")) < 1e-7
    assert metric(at, "Evaluations of f").startswith("4")
    assert len(at.get("plotly_chart")) >= 6


def test_gd_step_past_two_over_L_reports_the_divergence_step():
    at = run()
    at.select_slider(key="lr_gd").set_value(5.0).run()
    assert not at.exception
    msgs = [w for w in warnings(at) if "diverged at step" in w]
    assert len(msgs) == 1
    assert "η = 5 > 2/L = 2" in msgs[0]
    # |1 - 5 * 1| = 4 per step along the steep axis: the loss passes 1e12 within ~20 steps
    step = int(msgs[0].split("diverged at step ")[1].split(":")[0])
    assert 5 <= step <= 25


def test_heavy_ball_threshold_follows_beta():
    at = run({"beta": "0.5"})
    assert metric(at, "Heavy-ball limit") == "3"  # 2 (1 + 0.5) / 1
    at = run({"lr_momentum": "5", "beta": "0.9"})  # 5 > 3.8
    assert any("Momentum" in w and "diverged at step" in w and "2(1+β)/L = 3.8" in w for w in warnings(at))


def test_deep_link_rosenbrock_with_all_optimizers_and_many_steps():
    at = run({"surface": "Rosenbrock", "opts": ["GD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"],
              "steps": "10000"})
    assert metric(at, "λ* (curvature at the minimum)") == "1002"  # Hessian at (1, 1): [[802, -400], [-400, 200]]
    assert metric(at, "GD limit 2/λ*") == "0.001997"
    table = next(d.value for d in at.dataframe if "optimizer" in d.value.columns)
    assert len(table) == 6


def test_deep_link_logistic_l2_moves_the_minimizer():
    small = run({"surface": "Logistic", "lam": "0"})
    big = run({"surface": "Logistic", "lam": "1", "pen": "L2"})
    w_small = metric(small, "Minimizer w*(λ)")
    w_big = metric(big, "Minimizer w*(λ)")
    norm = lambda s: sum(float(v) ** 2 for v in s.split(","))  # noqa: E731
    assert norm(w_big) < norm(w_small)
    # L2 adds 2 lam of curvature: L grows by 2 between lam = 0 and lam = 1
    assert float(metric(big, "L (largest curvature)")) == pytest.approx(float(metric(small, "L (largest curvature)")) + 2, abs=2e-3)


@pytest.mark.parametrize("query", [
    {"kappa": "1e+06", "lr_gd": "10", "lr_momentum": "10", "lr_adam": "10", "steps": "10000"},
    {"surface": "Beale", "lr_gd": "10", "steps": "10000", "opts": ["GD", "Adam"]},
    {"surface": "Saddle", "sx": "-2", "sy": "0"},
    {"surface": "Camel", "view3d": "true"},
    {"gsurf": "Logistic", "bug": "true", "gpx": "0", "gpy": "0"},
    {"dim": "5000", "evals": "5000"},
])
def test_extremes_run_without_traceback(query):
    at = run(query)
    if query.get("surface") == "Beale":
        assert any("diverged at step" in w for w in warnings(at))
    if query.get("bug"):
        assert any("FAILS" in e.value for e in at.error)


def test_empty_optimizer_selection_asks_for_one():
    at = run()
    at.multiselect(key="opts").set_value([]).run()
    assert not at.exception
    assert any("Pick at least one optimizer" in w for w in warnings(at))


def test_hostile_url_falls_back_with_a_notice():
    at = run({"surface": "Mars", "lr_gd": "banana", "sx": "inf", "steps": "-3"})
    assert any("Some settings in the link were not used" in w for w in warnings(at))
    assert metric(at, "GD limit 2/L") == "2"


def test_click_on_the_contour_sets_the_start_point():
    at = run()
    at.session_state["race_click"] = {"selection": {"points": [{"curve_number": 1, "x": 2.5, "y": -1.5}]}}
    at.run()
    assert not at.exception
    assert at.number_input(key="sx").value == 2.5 and at.number_input(key="sy").value == -1.5
    chart = next(c for c in at.get("plotly_chart") if '"start picker"' in c.proto.spec)
    spec = json.loads(chart.proto.spec)
    start = next(t for t in spec["data"] if t.get("name") == "start")
    assert start["x"] == [2.5] and start["y"] == [-1.5]


def test_switching_surface_loads_its_suggested_step_sizes():
    at = run({"lr_gd": "0.5"})  # a value from the link wins on the first visit
    assert at.select_slider(key="lr_gd").value == 0.5
    at.selectbox(key="surface").select("Rosenbrock").run()
    assert not at.exception
    assert at.select_slider(key="lr_gd").value == 0.001  # Rosenbrock: 2/lambda* = 0.002, so 0.001 is stable
    assert not any("diverged" in w for w in warnings(at))


# ------------------------------------------------------------------------------------------- your own f(x, y)
ROSENBROCK_TEXT = "(1-x)**2 + 100*(y-x**2)**2"
HIMMELBLAU_TEXT = "(x**2+y-11)**2 + (x+y**2-7)**2"


def race_table(at: AppTest):
    return next(d.value for d in at.dataframe if "optimizer" in d.value.columns)


def grad_table(at: AppTest):
    return next(d.value for d in at.dataframe if "component" in d.value.columns)


def test_custom_formula_races_with_the_hessian_at_the_start():
    at = run({"surface": "Custom", "expr": ROSENBROCK_TEXT, "sx": "-1.2", "sy": "1"})
    assert not at.error
    # Hessian of Rosenbrock at (-1.2, 1) = [[1330, 480], [480, 200]]: largest eigenvalue 765 + hypot(565, 480) = 1506.4
    assert metric(at, "λ₀ (curvature at the start)") == "1506"
    assert metric(at, "GD limit 2/λ₀") == "0.001328"
    assert len(race_table(at)) == 3
    assert any(c.value.startswith("f{\\left(x,y \\right)}") or "f(x,y)" in c.value for c in at.latex)


def test_custom_race_table_matches_the_builtin_surface_typed_as_text():
    common = {"opts": ["GD", "Momentum", "Nesterov", "AdaGrad", "Adam"], "lr_gd": "0.001", "lr_momentum": "0.001",
              "lr_nesterov": "0.001", "lr_adagrad": "0.5", "lr_adam": "0.05", "steps": "1000", "sx": "-1.2",
              "sy": "1"}
    typed = run({**common, "surface": "Custom", "expr": ROSENBROCK_TEXT, "xmin": "-2", "xmax": "2", "ymin": "-1",
                 "ymax": "3"})
    builtin = run({**common, "surface": "Rosenbrock"})
    a, b = race_table(typed), race_table(builtin)
    assert list(a["outcome"]) == list(b["outcome"])
    assert list(a["final f − f*"]) == list(b["final f − f*"])
    assert list(a["steps to f − f* < 1e-6"]) == list(b["steps to f − f* < 1e-6"])


def test_typing_a_formula_reruns_the_race_and_loads_its_steps():
    at = run({"surface": "Custom"})
    at.text_input(key="expr").input("x**2 + 10*y**2").run()
    assert not at.exception and not at.error
    assert metric(at, "L (largest curvature)") == "20"  # a typed quadratic: its global L
    assert metric(at, "GD limit 2/L") == "0.1"
    assert at.select_slider(key="lr_gd").value == 0.05  # the suggested step 1/L, below 2/L
    assert not any("diverged" in w for w in warnings(at))


@pytest.mark.parametrize(("text", "needle", "caret"), [
    ("(1-x", "is never closed (syntax error at column 1)", 0),
    ("x + z", "unknown name `z` at column 5", 4),
    ("x.real", "attribute access (`.`) is not allowed at column 2", 1),
    ("__import__('os')", "`__import__` is not allowed", 0),
    ("__import__('os').system('ls')", "attribute access (`.`) is not allowed at column 17", 16),
    ("x" * 10_000, "too long (10000 characters, at most 200)", None),
    ("9**9**9", "exponent too large", 1),
])
def test_bad_formulas_get_a_message_that_points_at_the_problem(text, needle, caret):
    at = run({"surface": "Custom", "expr": text})  # run() asserts: no exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and needle in errors[0] and errors[0].startswith("This formula cannot be used")
    carets = [c.value for c in at.code if "^" in c.value.split("\n")[-1]]
    if caret is None:
        assert not carets
    else:
        line, mark = carets[0].split("\n")
        assert line == text and mark.index("^") == caret
    assert not at.get("plotly_chart") or all('"start picker"' not in c.proto.spec for c in at.get("plotly_chart"))
    # every control of the race is still there, so fixing the formula keeps the other settings
    assert at.multiselect(key="opts").value == ["GD", "Momentum", "Adam"]
    at.text_input(key="expr").input(HIMMELBLAU_TEXT).run()
    assert not at.exception and not at.error and len(race_table(at)) == 3


def test_bad_contour_range_and_an_f_undefined_everywhere_get_messages():
    at = run({"surface": "Custom", "xmin": "3", "xmax": "1"})
    assert any("the contour range needs x min < x max, got 3 and 1" in e.value for e in at.error)
    at = run({"surface": "Custom", "expr": "log(-1 - x**2)"})
    assert any("cannot be used" in e.value for e in at.error)


def test_overflow_during_a_custom_race_is_the_usual_divergence_message():
    at = run({"surface": "Custom", "expr": "exp(x**2) + y**2", "sx": "2", "sy": "1", "opts": ["GD"], "lr_gd": "1"})
    msgs = [w for w in warnings(at) if "diverged at step" in w]
    assert len(msgs) == 1 and "Gradient descent" in msgs[0]


def test_gradient_check_on_a_typed_formula_matches_the_builtin():
    typed = run({"gsurf": "Custom", "gexpr": ROSENBROCK_TEXT, "gpx": "-1.2", "gpy": "1"})
    builtin = run({"gsurf": "Rosenbrock"})
    a, b = grad_table(typed), grad_table(builtin)
    assert list(a["analytic (your derivation)"]) == list(b["analytic (your derivation)"]) == ["-215.6", "-88"]
    assert list(a.iloc[:, 2]) == list(b.iloc[:, 2])  # the central differences, to 10 digits
    bugged = run({"gsurf": "Custom", "gexpr": HIMMELBLAU_TEXT, "bug": "true"})
    assert any("FAILS" in e.value for e in bugged.error)
    bad = run({"gsurf": "Custom", "gexpr": "sin(x"})
    assert any("This formula cannot be used" in e.value for e in bad.error)


def test_custom_deep_link_reproduces_formula_range_and_start():
    link = {"surface": "Custom", "expr": HIMMELBLAU_TEXT, "xmin": "-6", "xmax": "6", "ymin": "-6", "ymax": "6",
            "sx": "0", "sy": "0", "opts": ["GD", "Adam"], "lr_gd": "0.01"}
    at = run(link)
    assert not at.error and not any("not used" in w for w in warnings(at))
    assert at.text_input(key="expr").value == HIMMELBLAU_TEXT
    assert at.number_input(key="xmin").value == -6 and at.number_input(key="ymax").value == 6
    table = race_table(at)
    assert len(table) == 2 and all("reached the minimizer" in v or "converged" in v for v in table["outcome"])
    chart = next(c for c in at.get("plotly_chart") if '"start picker"' in c.proto.spec)
    spec = json.loads(chart.proto.spec)
    assert spec["layout"]["xaxis"]["range"][0] == pytest.approx(-6, abs=0.5)
