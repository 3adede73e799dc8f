r"""The sympy side of a typed formula: the expression built by hand from the checked tree, its exact gradient
and Hessian, and their numpy versions (part of :mod:`regopt_core.expressions`).

No string from the user reaches sympy: :func:`parse` first runs :func:`~regopt_core.expressions.validate.validate`
(the whitelist and caps), then builds the expression from the checked nodes (symbols ``x``/``y``, numbers from
the literals' values, functions from a fixed table). :func:`compile_expression` differentiates it twice and
compiles value, gradient and Hessian with ``sympy.lambdify(..., modules="numpy")`` -- source printed by sympy
from *our* tree, never the text typed.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from regopt_core.expressions.validate import MAX_CONSTANT, MAX_LENGTH, ExpressionError, validate

__all__ = ["X", "Y", "CONSTANTS", "RealAbs", "RealSign", "ParsedExpression", "CompiledExpression", "parse",
           "compile_expression"]

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)
_VARIABLES = {"x": X, "y": Y}


# ------------------------------------------------------------------------------------------ abs for real arguments
class RealSign(sympy.Function):
    """sign(u) of a real u (sign(0) = 0); its derivative is taken as 0 (true away from u = 0)."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            return sympy.sign(arg)
        return None

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _numpycode(self, printer):
        return printer._print(sympy.sign(self.args[0]))

    def _pythoncode(self, printer):
        return printer._print(sympy.sign(self.args[0]))

    def _latex(self, printer, exp=None):
        tex = r"\operatorname{sign}\left(%s\right)" % printer._print(self.args[0])
        return tex if exp is None else r"%s^{%s}" % (tex, exp)


class RealAbs(sympy.Function):
    """|u| of a real u: derivative sign(u), so the Hessian is that of the smooth pieces.

    (sympy's own ``Abs`` differentiates through ``re``/``im`` when it cannot prove its argument real,
    e.g. ``Abs(log(x))``, which numpy cannot evaluate.)
    """

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            return sympy.Abs(arg)
        return None

    def fdiff(self, argindex=1):
        return RealSign(self.args[0])

    def _numpycode(self, printer):
        return printer._print(sympy.Abs(self.args[0]))

    def _pythoncode(self, printer):
        return printer._print(sympy.Abs(self.args[0]))

    def _latex(self, printer, exp=None):
        tex = r"\left|%s\right|" % printer._print(self.args[0])
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _sympystr(self, printer):
        return "abs(%s)" % printer._print(self.args[0])



#: name -> sympy function (the names are those of ``validate.FUNCTIONS``)
_FUNCTION_TABLE: dict[str, Callable] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt,
    "abs": RealAbs, "tanh": sympy.tanh, "sinh": sympy.sinh, "cosh": sympy.cosh, "arctan": sympy.atan,
    "atan": sympy.atan,
}
#: name -> (sympy constant, float value)
CONSTANTS: dict[str, tuple[sympy.Expr, float]] = {"pi": (sympy.pi, math.pi), "e": (sympy.E, math.e)}


# ------------------------------------------------------------------------------------------ building the sympy tree
def _build(node: ast.AST) -> sympy.Expr:
    """The sympy expression of a tree that :class:`_Checker` accepted (only the whitelisted node kinds)."""
    if isinstance(node, ast.Constant):
        v = node.value
        return sympy.Integer(int(v)) if isinstance(v, int) else sympy.Float(float(v))
    if isinstance(node, ast.Name):
        if node.id in _VARIABLES:
            return _VARIABLES[node.id]
        return CONSTANTS[node.id][0]
    if isinstance(node, ast.UnaryOp):
        inner = _build(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        a, b = _build(node.left), _build(node.right)
        op = node.op
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return a / b
        return a ** b
    if isinstance(node, ast.Call):
        return _FUNCTION_TABLE[node.func.id](_build(node.args[0]))
    raise ExpressionError("internal error: unchecked node")  # pragma: no cover


_BAD_ATOMS = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I)
_BAD_FUNCS = (sympy.re, sympy.im, sympy.arg, sympy.Derivative, sympy.Subs, sympy.Heaviside, sympy.DiracDelta)


def _check_built(expr: sympy.Expr, text: str, what: str, limit: float) -> None:
    if expr.has(*_BAD_ATOMS):
        if expr.has(sympy.I):
            raise ExpressionError(f"{what} is not a real number (e.g. a root or log of a negative constant)", None,
                                  text)
        raise ExpressionError(f"{what} is undefined everywhere (a division by zero after simplifying)", None, text)
    if expr.has(*_BAD_FUNCS):
        raise ExpressionError(f"{what} cannot be written with the allowed functions", None, text)
    for num in expr.atoms(sympy.Number):
        v = abs(float(num))
        if not (math.isfinite(v) and v <= limit):
            size = f"about {v:.1e}" if math.isfinite(v) else "beyond 1e308"
            raise ExpressionError(f"the numbers in {what} are too large ({size}; at most {limit:.0e})", None, text)


@dataclass(frozen=True)
class ParsedExpression:
    """A formula that passed every check, and the sympy expression built from its tree."""

    text: str
    expr: sympy.Expr

    @property
    def latex(self) -> str:
        return sympy.latex(self.expr)



def parse(text: str) -> ParsedExpression:
    """Check ``text`` against the whitelist and build its sympy expression (raises :class:`ExpressionError`)."""
    body = validate(text)
    expr = _build(body)
    _check_built(expr, text, "f", MAX_CONSTANT)
    return ParsedExpression(text=text, expr=expr)


# ------------------------------------------------------------------------------------------ derivatives and numpy
def _as_shape(value, shape: tuple[int, ...]):
    a = np.asarray(value, dtype=float)
    if shape == ():
        return float(a.reshape(-1)[0]) if a.size else float("nan")
    if a.shape != shape:
        a = np.broadcast_to(a, shape).copy()
    return a


class _Numeric:
    """One compiled part (value, gradient or Hessian) of a formula: float64, errors to inf/nan, broadcast.

    Two compiled versions of the same sympy expression: ``fn`` (numpy, for arrays and for any point where
    the scalar one fails) and ``fn_scalar`` (Python's ``math``, for one point given as two Python floats: a
    race step costs microseconds instead of a dozen numpy calls). The scalar version's exceptions
    (overflow, ``log``/``sqrt`` of a negative number, division by zero) and non-float results (a negative
    base to a fractional power gives a complex number) send the point to the numpy version, which returns
    inf/nan there -- so both give the same answers, up to the last bits of the library functions.

    Pickles as ``(text, part)`` and re-compiles on loading, so a Surface can go to a worker process.
    """

    __slots__ = ("_text", "_part", "_fn", "_fs", "_n")

    def __init__(self, text: str, part: str, fn: Callable, n: int, fn_scalar: Callable | None = None) -> None:
        self._text, self._part, self._fn, self._n, self._fs = text, part, fn, n, fn_scalar

    def __call__(self, x, y):
        if self._fs is not None and type(x) is float and type(y) is float:
            try:
                out = self._fs(x, y)
            except (ArithmeticError, ValueError, TypeError):
                out = None
            if self._n == 1:
                if type(out) is float:
                    return out
                if type(out) is int:
                    return float(out)
            elif out is not None and all(type(o) is float or type(o) is int for o in out):
                return tuple(float(o) for o in out)
        with np.errstate(all="ignore"):
            try:
                xa = np.asarray(x, dtype=float)
                ya = np.asarray(y, dtype=float)
                shape = np.broadcast_shapes(xa.shape, ya.shape)
                out = self._fn(xa, ya)
                if self._n == 1:
                    return _as_shape(out, shape)
                return tuple(_as_shape(o, shape) for o in out)
            except (ArithmeticError, ValueError, TypeError):
                # not expected (every operation is a numpy ufunc on float64), but never a traceback
                try:
                    shape = np.broadcast_shapes(np.shape(x), np.shape(y))
                except ValueError:
                    raise ValueError("x and y must have broadcastable shapes") from None
                nan = _as_shape(np.nan, shape)
                return nan if self._n == 1 else tuple(_as_shape(np.nan, shape) for _ in range(self._n))

    def __reduce__(self):
        return (_numeric_part, (self._text, self._part))

    def __repr__(self) -> str:
        return f"<{self._part} of f(x, y) = {self._text}>"


def _numeric_part(text: str, part: str) -> _Numeric:
    return compile_expression(text).parts[part]


@dataclass(frozen=True, eq=False)
class CompiledExpression:
    """A checked formula, its exact derivatives (sympy) and their numpy versions.

    ``fun(x, y)``, ``grad(x, y) -> (f_x, f_y)``, ``hess(x, y) -> (f_xx, f_xy, f_yy)`` have the calling
    convention of :class:`~regopt_core.functions.Surface`.
    """

    text: str
    expr: sympy.Expr
    gradient_exprs: tuple[sympy.Expr, sympy.Expr]
    hessian_exprs: tuple[sympy.Expr, sympy.Expr, sympy.Expr]
    fun: _Numeric
    grad: _Numeric
    hess: _Numeric

    @property
    def parts(self) -> dict[str, _Numeric]:
        return {"fun": self.fun, "grad": self.grad, "hess": self.hess}

    @property
    def latex(self) -> str:
        return sympy.latex(self.expr)

    @property
    def gradient_latex(self) -> tuple[str, str]:
        return tuple(sympy.latex(g) for g in self.gradient_exprs)

    @property
    def hessian_latex(self) -> tuple[str, str, str]:
        return tuple(sympy.latex(h) for h in self.hessian_exprs)

    @property
    def constant_hessian(self) -> bool:
        return not any(h.free_symbols for h in self.hessian_exprs)

    def __reduce__(self):
        return (compile_expression, (self.text,))


def _no_delta(e: sympy.Expr) -> sympy.Expr:
    """Derivatives of sympy's own Abs/sign (which simplification can create, e.g. sqrt(x**2) = Abs(x))
    contain DiracDelta: drop it (zero away from the kink, as for :class:`RealAbs`)."""
    return e.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero) if e.has(sympy.DiracDelta) else e


def _scalar(expr) -> Callable | None:
    """``expr`` compiled for two Python floats (sympy's printer for the ``math`` module), or None if it cannot be."""
    try:
        return sympy.lambdify((X, Y), expr, modules="math", cse=True)
    except (NameError, TypeError, ValueError, NotImplementedError):  # a function math lacks: numpy only
        return None


def compile_expression(text: str) -> CompiledExpression:
    """Parse ``text``, differentiate it twice exactly and compile value, gradient and Hessian to numpy.

    Cached (LRU, 128 formulas). Raises :class:`ExpressionError`.
    """
    if not isinstance(text, str):
        raise ExpressionError("the formula must be text", None, None)
    if len(text) > MAX_LENGTH:  # before the cache: do not keep huge strings as keys
        return parse(text)  # raises
    return _compile_cached(text)


@lru_cache(maxsize=128)
def _compile_cached(text: str) -> CompiledExpression:
    parsed = parse(text)
    f = parsed.expr
    gx, gy = (_no_delta(sympy.diff(f, v)) for v in (X, Y))
    hxx, hxy, hyy = (_no_delta(sympy.diff(g, v)) for g, v in ((gx, X), (gx, Y), (gy, Y)))
    limit = float(np.finfo(float).max)
    for what, e in (("the gradient", gx), ("the gradient", gy), ("the Hessian", hxx), ("the Hessian", hxy),
                    ("the Hessian", hyy)):
        _check_built(e, text, what, limit)
    # code generated by sympy's NumPy printer from the tree above (symbols x, y, numbers, numpy functions)
    # (cse: common subexpressions computed once -- the chain rule repeats them)
    f_np = sympy.lambdify((X, Y), f, modules="numpy", cse=True)
    g_np = sympy.lambdify((X, Y), (gx, gy), modules="numpy", cse=True)
    h_np = sympy.lambdify((X, Y), (hxx, hxy, hyy), modules="numpy", cse=True)
    # the same expressions printed for Python's math module: the fast path for one point (a race step)
    f_py, g_py = _scalar(f), _scalar((gx, gy))
    return CompiledExpression(text=text, expr=f, gradient_exprs=(gx, gy), hessian_exprs=(hxx, hxy, hyy),
                              fun=_Numeric(text, "fun", f_np, 1, f_py), grad=_Numeric(text, "grad", g_np, 2, g_py),
                              hess=_Numeric(text, "hess", h_np, 3))

