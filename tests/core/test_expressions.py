"""A typed f(x, y) (issue 15, item 3): hostile formulas are rejected and nothing they contain runs; valid
formulas give exact derivatives that match the hand-derived built-in surfaces, closed forms and central
differences; evaluation never raises or warns; the Surface works in the race and the gradient check."""

from __future__ import annotations

import ast
import builtins
import math
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from regopt_core import expressions as E
from regopt_core.expressions import (
    MAX_LENGTH,
    ExpressionError,
    compile_expression,
    custom_surface,
    parse,
    suggested_steps,
)
from regopt_core.functions import himmelblau, rosenbrock

ROSENBROCK = "(1-x)**2 + 100*(y-x**2)**2"
HIMMELBLAU = "(x**2+y-11)**2 + (x+y**2-7)**2"


# --------------------------------------------------------------------------------------------- nothing runs
_CANARY_CALLS: list[str] = []
_AUDIT: list[tuple[str, tuple]] | None = None


def _audit_hook(event: str, args: tuple) -> None:  # installed once per process; idle unless recording
    if _AUDIT is not None:
        _AUDIT.append((event, args))


sys.addaudithook(_audit_hook)


class _Flip(Exception):
    pass


def _canary(*args, **kwargs):
    _CANARY_CALLS.append(repr(args))
    return 0


@pytest.fixture
def canary(monkeypatch):
    """A builtin that records its calls, and os.system / subprocess.Popen replaced by recorders."""
    import os
    import subprocess

    _CANARY_CALLS.clear()
    monkeypatch.setattr(builtins, "__regopt_canary__", _canary, raising=False)
    monkeypatch.setattr(builtins, "regopt_canary", _canary, raising=False)
    monkeypatch.setattr(os, "system", _canary)
    monkeypatch.setattr(subprocess, "Popen", _canary)
    yield _CANARY_CALLS


HOSTILE = [
    # attribute access, dunders, introspection escapes
    "x.real",
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "sin.__globals__['__builtins__']['__regopt_canary__']()",
    "(1).__class__.__mro__[-1].__subclasses__()",
    "__import__('os').system('echo pwned')",
    "__import__",
    "__builtins__",
    "__regopt_canary__()",
    "_",
    # calls of names that are not whitelisted
    "regopt_canary()",
    "open('/etc/passwd')",
    "eval('1+1')",
    "exec('x=1')",
    "getattr(x, 'real')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "vars()",
    "input()",
    "breakpoint()",
    "sin(x)(y)",
    "x(y)",
    "pi(2)",
    # lambdas, comprehensions, generators, walrus, comparisons, boolean logic, conditionals
    "lambda: regopt_canary()",
    "(lambda: 1)()",
    "[regopt_canary() for x in (1,)]",
    "sum(regopt_canary() for _ in (1,))",
    "{regopt_canary() for x in (1,)}",
    "{x: regopt_canary() for x in (1,)}",
    "(y := regopt_canary())",
    "x < y",
    "x == 1",
    "x and y",
    "not x",
    "x if y else regopt_canary()",
    # keyword and starred arguments, subscripts, containers
    "sin(x=1)",
    "sin(*[x])",
    "sin(**{'x': 1})",
    "sin(x, y)",
    "sin()",
    "x[0]",
    "[x, y]",
    "(x, y)",
    "{x}",
    "{'a': x}",
    "1,5",
    # strings, bytes, f-strings, other literals
    "'x'",
    "b'x'",
    "f'{regopt_canary()}'",
    "True",
    "None",
    "...",
    "1j",
    # operators that are not allowed
    "x ^ 2",
    "x // 2",
    "x % 2",
    "x @ y",
    "x << 2",
    "x | y",
    "~x",
    # huge numbers and exponents
    "9**9**9",
    "x**99999",
    "x**-11",
    "10**400",
    "1e400",
    "1" + "0" * 40,
    "2**(x**2)",
    "x**x**x",
    "exp(1000)",
    "exp(exp(exp(10)))",
    "(1e15**10*x)*(1e15**10*y)*1e15**10",
    "((((x**2)**2)**2)**2)**2",
    # division by zero, complex constants
    "1/0",
    "x/(1-1)",
    "x/(y-y)",
    "log(-1)",
    "sqrt(-4)",
    "(-8)**(1/3)",
    "0**-1",
    # size, nesting, characters
    "x" * 10_000,
    "(" * 1000 + "x" + ")" * 1000,
    "-" * 60 + "x",
    "sin(" * 40 + "x" + ")" * 40,
    "+".join(["x"] * 101),
    "\U0001d465**2",  # mathematical italic x: Python would normalize it to `x`
    "ｘ + 1",  # full-width x
    "x\u00a0+ 1",  # no-break space
    "x\x00",
    "x\n+1",
    # unknown names and syntax errors
    "z",
    "X + y",
    "os",
    "sin",
    "2x",
    "x +",
    "(x",
    "x)",
    "",
    "   ",
    "import os",
    "x = 1",
    "await x",
    "yield x",
]


def test_at_least_thirty_hostile_formulas():
    assert len(HOSTILE) >= 30
    assert len(set(HOSTILE)) == len(HOSTILE)


@pytest.fixture(scope="module")
def warm_sympy():
    """sympy imports some of its own submodules lazily the first time a check runs (e.g. ``expr.has``);
    do that once with formulas of our own, so that a hostile formula must leave sys.modules unchanged."""
    for text in ("sin(x)*y + abs(x) + x**(1/2)", "y/(x-x)", "(1e15**10*y)*(1e15**10*x)*1e15**10"):
        try:
            custom_surface(text)
        except ExpressionError:
            pass


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_formula_is_rejected_and_nothing_runs(text, canary, warm_sympy):
    global _AUDIT
    modules_before = set(sys.modules)
    events: list[tuple[str, tuple]] = []
    _AUDIT = events
    try:
        with pytest.raises(ExpressionError) as info:
            compile_expression(text)
    finally:
        _AUDIT = None
    err = info.value
    assert isinstance(err, ValueError)
    assert err.message and "Traceback" not in err.message
    assert canary == [], f"{text!r} ran code: {canary}"
    assert set(sys.modules) == modules_before, f"{text!r} imported {set(sys.modules) - modules_before}"
    names = [e for e, _ in events]
    # the only compile is ast.parse's syntax-tree-only compile of the formula
    for event, args in events:
        if event == "compile":
            assert args[1] == "<formula>", args
    forbidden = [e for e in names if e in ("exec", "import", "open", "builtins.input", "code.__new__",
                                           "function.__new__", "object.__getattr__")
                 or e.split(".")[0] in ("os", "subprocess", "socket", "ctypes", "shutil", "sys")]
    assert forbidden == [], f"{text!r} triggered {forbidden}"


def test_the_audit_hook_would_see_an_exec(canary):
    """The recording above is not vacuous: evaluating text really is seen (exec event, canary call)."""
    global _AUDIT
    events: list[tuple[str, tuple]] = []
    _AUDIT = events
    try:
        eval(compile("regopt_canary()", "<planted>", "eval"))  # the test's own planted violation
    finally:
        _AUDIT = None
    assert "exec" in [e for e, _ in events]
    assert canary == ["()"]


def test_module_never_evaluates_text():
    """Static check of every module of the package: no eval/exec/compile, no sympify/parse_expr/S(...) of strings."""
    files = sorted(Path(E.__file__).parent.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "validate.py", "symbolic.py", "surface.py"}
    banned = {"eval", "exec", "compile", "sympify", "parse_expr", "S", "__import__", "import_module"}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                assert name not in banned, f"{path.name} line {node.lineno}: call of {name}"


def test_validation_needs_no_sympy():
    """The whitelist and caps are checked by a module that does not even import sympy."""
    src = (Path(E.__file__).parent / "validate.py").read_text()
    assert "sympy" not in {a.name.split(".")[0] for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Import)
                           for a in n.names}
    assert "import sympy" not in src and "from sympy" not in src


def test_normalize_is_the_canonical_spelling_and_validates():
    assert E.normalize(" (1-x)**2 + 100*(y-x**2)**2 ") == "(1 - x) ** 2 + 100 * (y - x ** 2) ** 2"
    assert E.normalize("((x))*y") == E.normalize("x * y")
    for bad in ("x + z", "__import__('os')", "x.real", "9**9**9", "x" * 10_000):
        with pytest.raises(ExpressionError):
            E.normalize(bad)


# --------------------------------------------------------------------------------------------- messages
@pytest.mark.parametrize(("text", "needle", "column"), [
    ("x + z", "unknown name `z` at column 5: use x and y", 5),
    ("__import__('os')", "`__import__` is not allowed", 1),
    ("x.real", "attribute access (`.`) is not allowed at column 2", 2),
    ("sin(x).real", "attribute access (`.`) is not allowed at column 7", 7),
    ("x" * 10_000, "too long (10000 characters, at most 200)", MAX_LENGTH + 1),
    ("9**9**9", "exponent too large", 2),
    ("x**99999", "exponent too large at column 2: 99999", 2),
    ("x^2", "`^` at column 2 is not a power", 2),
    ("open('f')", "`open` is not allowed", 1),
    ("2x", "write `2*x`", 1),
    ("(x+1)(x-1)", "a product needs `*` at column 6", 6),
    ("1,5", "write 1.5, not 1,5", 2),
    ("x/0", "division by zero at column 2", 2),
    ("  x + q", "unknown name `q` at column 7", 7),
    ("x*(y+", "never closed", None),
    ("X", "did you mean `x`?", 1),
    ("sin(x, y)", "`sin` takes exactly one argument", 1),
    ("\U0001d465 + 1", "character `\U0001d465` at column 1 is not allowed", 1),
])
def test_messages_point_at_the_problem(text, needle, column):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert needle in err.message
    if column is not None:
        assert err.column == column
    if err.position is not None and len(text) <= MAX_LENGTH:
        line, caret = err.pointer().split("\n")
        assert line == text and caret.index("^") == err.position


def test_non_text_is_rejected():
    for bad in (None, 3, b"x", ["x"]):
        with pytest.raises(ExpressionError):
            custom_surface(bad)


# --------------------------------------------------------------------------------------------- valid formulas
def _grid_points():
    g = np.linspace(-3.0, 3.0, 25)
    return np.meshgrid(g, g + 0.37)


@pytest.mark.parametrize(("text", "builtin"), [(ROSENBROCK, rosenbrock()), (HIMMELBLAU, himmelblau())])
def test_typed_surface_matches_builtin(text, builtin):
    c = compile_expression(text)
    x, y = _grid_points()
    tol = dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(c.fun(x, y), builtin.fun(x, y), **tol)
    for a, b in zip(c.grad(x, y), builtin.grad(x, y), strict=True):
        np.testing.assert_allclose(a, np.broadcast_to(b, x.shape), **tol)
    for a, b in zip(c.hess(x, y), builtin.hess(x, y), strict=True):
        np.testing.assert_allclose(a, np.broadcast_to(b, x.shape), **tol)
    surf = custom_surface(text)
    xy = np.stack([x, y], axis=-1)
    np.testing.assert_allclose(surf.value(xy), builtin.value(xy), **tol)
    np.testing.assert_allclose(surf.gradient(xy), builtin.gradient(xy), **tol)
    np.testing.assert_allclose(surf.hessian(xy), builtin.hessian(xy), **tol)


@pytest.mark.parametrize(("text", "builtin"), [(ROSENBROCK, rosenbrock()), (HIMMELBLAU, himmelblau())])
def test_minimizers_found_match_published(text, builtin):
    surf = custom_surface(text)
    found = np.array(sorted(surf.minimizers))
    known = np.array(sorted(builtin.minimizers))
    assert found.shape == known.shape
    np.testing.assert_allclose(found, known, atol=2e-6)  # Himmelblau's published values have 6 decimals
    assert abs(surf.f_min) < 1e-20
    assert "Lowest point found numerically" in surf.note


def test_race_and_gradient_check_on_typed_rosenbrock_and_himmelblau():
    from regopt_core.landscapes import RaceEntry, gradient_sweep, race

    entries = [RaceEntry("gd", 0.001), RaceEntry("momentum", 0.001), RaceEntry("adam", 0.05)]
    for text, builtin in ((ROSENBROCK, rosenbrock()), (HIMMELBLAU, himmelblau())):
        surf = custom_surface(text, bounds=builtin.bounds, start=builtin.start)
        a = race(surf, entries, builtin.start, n_steps=300)
        b = race(builtin, entries, builtin.start, n_steps=300)
        for ra, rb in zip(a.racers, b.racers, strict=True):
            assert ra.trace.diverged == rb.trace.diverged
            np.testing.assert_allclose(ra.trace.xs, rb.trace.xs, rtol=1e-9, atol=1e-9)
            # the built-in Himmelblau minima are published to 6 decimals; ours are exact to rounding
            np.testing.assert_allclose(ra.distance, rb.distance, atol=2e-6)
        sw = gradient_sweep(surf, builtin.start)
        ref = gradient_sweep(builtin, builtin.start)
        np.testing.assert_allclose(sw.err_central, ref.err_central, rtol=1e-6, atol=1e-12)
        assert sw.min_err_central < 1e-8


SMOOTH = [
    "sin(x)*cos(y)",
    "exp(-x**2 - y**2/2)",
    "log(1 + x**2 + y**2)",
    "sqrt(1 + x**2 + 3*y**2)",
    "tanh(x - 2*y) + sinh(x/3)*cosh(y/4)",
    "arctan(x*y) + atan(x)",
    "tan(x/4) + x**3*y - y**-2",
    "x**y + 2**x",
    "e**(x/2) + pi*y**2",
    "abs(x - 0.3) + abs(y)**3",
    "(x**2+1)**(1/2) * y**0.5",
]


@pytest.mark.parametrize("text", SMOOTH)
def test_derivatives_agree_with_central_differences(text):
    c = compile_expression(text)
    rng = np.random.default_rng(7)
    pts = rng.uniform([0.6, 0.6], [2.0, 2.0], size=(12, 2))  # positive: y**0.5, x**y, away from kinks
    h = 1e-5
    for x, y in pts:
        gx, gy = c.grad(x, y)
        fx = (c.fun(x + h, y) - c.fun(x - h, y)) / (2 * h)
        fy = (c.fun(x, y + h) - c.fun(x, y - h)) / (2 * h)
        np.testing.assert_allclose([gx, gy], [fx, fy], rtol=1e-6, atol=1e-7)
        hxx, hxy, hyy = c.hess(x, y)
        gxp, gyp = c.grad(x + h, y)
        gxm, gym = c.grad(x - h, y)
        gxq, gyq = c.grad(x, y + h)
        gxr, gyr = c.grad(x, y - h)
        np.testing.assert_allclose([hxx, hxy, hyy], [(gxp - gxm) / (2 * h), (gyp - gym) / (2 * h),
                                                     (gyq - gyr) / (2 * h)], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(hxy, (gxq - gxr) / (2 * h), rtol=1e-6, atol=1e-6)


def test_closed_forms():
    x, y = _grid_points()
    c = compile_expression("sin(x)*exp(y)")
    np.testing.assert_allclose(c.fun(x, y), np.sin(x) * np.exp(y), rtol=1e-14)
    gx, gy = c.grad(x, y)
    np.testing.assert_allclose(gx, np.cos(x) * np.exp(y), rtol=1e-14)
    np.testing.assert_allclose(gy, np.sin(x) * np.exp(y), rtol=1e-14)
    hxx, hxy, hyy = c.hess(x, y)
    np.testing.assert_allclose(hxx, -np.sin(x) * np.exp(y), rtol=1e-14)
    np.testing.assert_allclose(hxy, np.cos(x) * np.exp(y), rtol=1e-14)
    c = compile_expression("abs(x) + 3*abs(y)")  # |x|' = sign(x), sign(0) = 0, second derivative 0
    gx, gy = c.grad(np.array([-2.0, 0.0, 1.5]), np.array([1.0, -1.0, 0.0]))
    np.testing.assert_array_equal(gx, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(gy, [3.0, -3.0, 0.0])
    assert all(np.all(h == 0.0) for h in c.hess(np.array([-2.0, 0.0]), np.array([1.0, 0.0])))
    c = compile_expression("x**2 + 3*x*y + 10*y**2")  # a quadratic: constant Hessian, known L and mu
    s = custom_surface("x**2 + 3*x*y + 10*y**2")
    lam = np.linalg.eigvalsh(np.array([[2.0, 3.0], [3.0, 20.0]]))
    assert s.lipschitz == pytest.approx(lam[1], rel=1e-14) and s.mu == pytest.approx(lam[0], rel=1e-14)
    np.testing.assert_allclose(s.minimizers, [(0.0, 0.0)], atol=1e-12)


def test_constants_and_linear_functions_broadcast_over_grids():
    x, y = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 5))
    for text, value in (("3", 3.0), ("pi", math.pi), ("-e", -math.e), ("2**3 - 1/2", 7.5)):
        c = compile_expression(text)
        v = c.fun(x, y)
        assert v.shape == x.shape and np.all(v == value)
        assert all(g.shape == x.shape and np.all(g == 0.0) for g in c.grad(x, y))
        assert all(h.shape == x.shape and np.all(h == 0.0) for h in c.hess(x, y))
        assert isinstance(c.fun(0.5, 0.25), float)
    c = compile_expression("2*x - y")
    gx, gy = c.grad(x, y)
    assert gx.shape == gy.shape == x.shape and np.all(gx == 2.0) and np.all(gy == -1.0)
    gx, gy = c.grad(x[0], 0.3)  # row times scalar broadcasts too
    assert gx.shape == (7,)
    s = custom_surface("3")
    assert s.value(np.zeros((4, 3, 2))).shape == (4, 3)
    assert s.hessian(np.zeros((4, 2))).shape == (4, 2, 2)
    f, g = s.value_and_grad(np.array([0.1, 0.2]))
    assert f == 3.0 and g.tolist() == [0.0, 0.0]
    assert "constant" in s.note


def test_accepted_spellings():
    for text in ("+x - -y", "1_000*x", "0.5e-3*x*y", "  x*y  ", "((x))", "sin(x)**2 + cos(x)**2",
                 "x**(1/3)", "x**-2", "2**x", "x**y", "abs(x)", "e**x", "atan(x) - arctan(x)"):
        parse(text)
    assert compile_expression("atan(x) - arctan(x)").expr == 0


# --------------------------------------------------------------------------------------------- safety of evaluation
def test_overflow_and_domain_errors_give_inf_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = compile_expression("exp(x**2) + y")
        assert c.fun(1e3, 0.0) == math.inf
        assert not np.isfinite(c.grad(1e3, 0.0)[0])
        assert math.isnan(compile_expression("sqrt(x)").fun(-1.0, 0.0))
        assert compile_expression("log(x)").fun(0.0, 0.0) == -math.inf
        assert math.isnan(compile_expression("log(x)").fun(-1.0, 0.0))
        v = compile_expression("x**(1/3)").fun(-8.0, 0.0)  # a Python float would give a complex number
        assert isinstance(v, float) and (math.isnan(v) or v == pytest.approx(-2.0))
        assert math.isnan(compile_expression("x**y").fun(-2.0, 0.5))
        assert compile_expression("1/x").fun(0.0, 0.0) == math.inf
        assert np.all(~np.isfinite(compile_expression("x**10*y**10").fun(np.full(3, 1e200), 1e200)))


def test_race_on_an_overflowing_function_reports_divergence():
    from regopt_core.landscapes import RaceEntry, race

    surf = custom_surface("exp(x**2 + y**2)", bounds=((-2, 2), (-2, 2)), start=(1.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = race(surf, [RaceEntry("gd", 1.0), RaceEntry("adam", 0.01)], surf.start, n_steps=200)
    gd_run, adam_run = r.racers
    assert gd_run.trace.diverged and "diverged at step" in gd_run.verdict
    assert not adam_run.trace.diverged


# --------------------------------------------------------------------------------------------- the Surface
def test_surface_fields_window_and_start():
    s = custom_surface(ROSENBROCK, bounds=((-2, 2), (-1, 3)), start=(-1.2, 1.0))
    assert s.key == "custom" and s.params == (("expr", ROSENBROCK),)
    assert s.bounds == ((-2.0, 2.0), (-1.0, 3.0)) and s.start == (-1.2, 1.0)
    assert s.latex.startswith("f(x,y) = ") and "100" in s.latex
    assert s.lipschitz is None
    d = custom_surface(ROSENBROCK)
    assert d.bounds == E.DEFAULT_BOUNDS
    (x_lo, x_hi), (y_lo, y_hi) = d.bounds
    assert x_lo < d.start[0] < x_hi and y_lo < d.start[1] < y_hi
    # default start moves to where f is defined
    s = custom_surface("log(x) + y**2", bounds=((-2, 2), (-2, 2)))
    assert s.start[0] > 0
    assert "No minimum found" in s.note  # f -> -inf as x -> 0+
    edge = custom_surface("x + y", bounds=((-1, 1), (-1, 1)))
    assert edge.minimizers == ((-1.0, -1.0),) and "edge" in edge.note


@pytest.mark.parametrize("bounds", [((1, -1), (0, 1)), ((0, 1), (0, 0)), ((0, math.inf), (0, 1)),
                                    ((0, 1e9), (0, 1)), ("abc", None), ((0, 1),)])
def test_bad_windows_are_value_errors(bounds):
    with pytest.raises(ValueError):
        custom_surface("x*y", bounds=bounds)


def test_bad_starts():
    with pytest.raises(ExpressionError, match="not finite at the start"):
        custom_surface("log(x)", start=(-1.0, 0.0))
    with pytest.raises(ValueError):
        custom_surface("x", start=(math.nan, 0.0))
    with pytest.raises(ValueError):
        custom_surface("x", start="ab")
    with pytest.raises(ExpressionError, match="anywhere in the window"):
        custom_surface("sqrt(-1 - x**2)")


def test_surface_pickles_and_is_cached():
    s = custom_surface(HIMMELBLAU)
    assert custom_surface(HIMMELBLAU) is s
    t = pickle.loads(pickle.dumps(s))
    xy = np.array([[0.3, -1.2], [2.0, 1.0]])
    np.testing.assert_array_equal(t.value(xy), s.value(xy))
    np.testing.assert_array_equal(t.hessian(xy), s.hessian(xy))
    c = pickle.loads(pickle.dumps(compile_expression(HIMMELBLAU)))
    assert c.text == HIMMELBLAU


def test_derivative_latex_for_the_page():
    c = compile_expression("x**2*y")
    assert c.gradient_latex == ("2 x y", "x^{2}")
    assert c.hessian_latex == ("2 y", "2 x", "0")


def test_suggested_steps():
    for text, builtin in ((ROSENBROCK, rosenbrock()), (HIMMELBLAU, himmelblau())):
        s = custom_surface(text, bounds=builtin.bounds, start=builtin.start)
        steps = suggested_steps(s)
        assert set(steps) == {"gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}
        assert all(v > 0 and math.isfinite(v) for v in steps.values())
        lam = np.linalg.eigvalsh(builtin.hessian(np.array(builtin.minimizers)))[..., -1].max()
        assert steps["gd"] < 2.0 / lam  # inside the local stability limit at the minimizers


def _random_formula(rng, depth=0):
    funcs = ["sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh", "atan"]
    r = rng.random()
    if depth > 5 or r < 0.25:
        return rng.choice(["x", "y", "2", "0.5", "3", "pi", "x*y", "(x+1)"])
    if r < 0.5:
        return f"{rng.choice(funcs)}({_random_formula(rng, depth + 1)})"
    if r < 0.65:
        return f"({_random_formula(rng, depth + 1)})**{rng.choice(['2', '3', '-1', '0.5', '(1/3)', '10', 'y', 'x'])}"
    return f"{_random_formula(rng, depth + 1)} {rng.choice('+-*/')} {_random_formula(rng, depth + 1)}"


def test_random_formulas_either_work_or_get_a_message():
    """Random well-formed formulas: an ExpressionError or a Surface whose evaluation on a grid never
    raises or warns (found a LaTeX crash for powers of abs before the fix)."""
    import random

    rng = random.Random(5)
    g = np.linspace(-4.0, 4.0, 41)
    worked = 0
    for _ in range(120):
        text = _random_formula(rng)
        if len(text) > MAX_LENGTH:
            continue
        try:
            surf = custom_surface(text)
        except ExpressionError:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            surf.fun(g[None, :], g[:, None])
            surf.grad(g[None, :], g[:, None])
            surf.hess(g[None, :], g[:, None])
            surf.value_and_grad(np.array(surf.start))
        assert isinstance(surf.latex, str)
        worked += 1
    assert worked > 80
    assert compile_expression("abs(x)**3").latex == r"\left|x\right|^{3}"


@pytest.mark.parametrize("text", [*SMOOTH, "exp(x**2) + 1/y", "log(x) + sqrt(y)", "x**(1/3) + y"])
def test_one_point_fast_path_agrees_with_the_numpy_version(text):
    """A point given as two Python floats is computed with the math module; overflow, domain errors and complex
    results fall back to numpy (inf/nan), so both paths give the same numbers."""
    c = compile_expression(text)
    assert c.fun._fs is not None and c.grad._fs is not None  # the fast path exists for every allowed function
    rng = np.random.default_rng(3)
    pts = [*map(tuple, rng.uniform(-3, 3, size=(20, 2))), (0.0, 0.0), (30.0, 0.0), (-8.0, 2.0), (0.0, -1.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x, y in pts:
            f1, g1 = c.fun(float(x), float(y)), c.grad(float(x), float(y))
            f2, g2 = c.fun(np.array([x]), np.array([y])), c.grad(np.array([x]), np.array([y]))
            assert type(f1) is float and all(type(v) is float for v in g1)
            np.testing.assert_allclose([f1, *g1], [f2[0], g2[0][0], g2[1][0]], rtol=1e-12, atol=1e-300)
