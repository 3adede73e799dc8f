r"""Your own :math:`f(x, y)`: a safe parser for a formula typed on the landscapes page, its exact gradient
and Hessian, and a :class:`~regopt_core.functions.Surface` that the race, the gradient check and the
step-size ruler use like any built-in surface.

API for the landscapes page
---------------------------
::

    from regopt_core.expressions import (DEFAULT_EXPRESSION, DEFAULT_BOUNDS, ExpressionError,
                                         custom_surface, suggested_steps)

    try:
        surface = custom_surface(text)                                   # window DEFAULT_BOUNDS, automatic start
        surface = custom_surface(text, bounds=((-2, 2), (-1, 3)), start=(-1.2, 1.0))   # contour range, start
    except ExpressionError as err:        # a ValueError: bad formula, bad window/start, f undefined there
        message = err.message             # one sentence in student words, naming the column when there is one
        caret = err.pointer()             # "the formula\n      ^" (monospace), "" when not about a place
        column = err.column               # 1-based column, or None

    steps = suggested_steps(surface)      # {"gd": ..., "momentum": ..., ...} like landscapes.SUGGESTED_STEPS

* ``custom_surface(text, *, bounds=None, start=None) -> Surface`` takes only hashable arguments (a str and
  tuples of floats), so a page config can hold them; it is cached (LRU, 64 entries) and the Surface it
  returns pickles (its callables re-parse the text on unpickling), so it can travel to a worker process.
  ``surface.key == "custom"``; ``surface.params == (("expr", text),)``; ``surface.lipschitz`` is ``None``
  unless the Hessian is a nonzero constant (a quadratic without ``abs``), then it is the largest
  eigenvalue size :math:`\max|\lambda_i|` and ``mu`` the smallest eigenvalue (when :math:`\ge 0`); ``surface.minimizers``/``f_min`` are the lowest points found
  *numerically in the window* (81 x 81 grid search, then modified Newton from the 12 lowest grid minima) and ``surface.note`` says so
  in one sentence (interior minimum, or lowest value on the window's edge, or constant f).
* ``compile_expression(text) -> CompiledExpression`` gives the sympy expression, its derivatives and their
  LaTeX (``latex``, ``gradient_latex``, ``hessian_latex``) if a page wants to show them.
* ``parse(text) -> ParsedExpression`` only validates and builds the sympy tree.

What a formula may contain (everything else is rejected with an :class:`ExpressionError`)
---------------------------------------------------------------------------------------
* numbers: int or float literals (``2``, ``0.5``, ``1e-3``), finite, :math:`|v| \le 10^{15}` (:data:`MAX_LITERAL`);
* the variables ``x`` and ``y``, the constants ``pi`` and ``e``;
* ``+ - * / **``, unary ``-``/``+``, parentheses;
* calls, by bare name and with exactly one positional argument, of :data:`FUNCTIONS`:
  ``sin cos tan exp log sqrt abs tanh sinh cosh arctan`` (``atan`` is the same as ``arctan``);
  ``log`` is the natural logarithm.

Caps: :data:`MAX_LENGTH` = 200 characters (checked before anything else, so a 10 kB paste is never
parsed), plain printable ASCII only (no Unicode look-alikes such as ``𝑥``, which Python would silently
normalize to ``x``), :data:`MAX_NODES` = 100 numbers/names/operations, :data:`MAX_DEPTH` = 32 levels of
nesting. Powers: a **constant exponent** (no ``x``/``y``; it may be ``-2``, ``1/2``, ``2**3``) must satisfy
:math:`|p| \le 10` (:data:`MAX_EXPONENT`), so ``x**99999`` and ``9**9**9`` are rejected (``9**9`` is the
exponent 387420489); a **variable exponent** (``2**x``, ``x**y``) may not itself contain ``**`` (no power
towers; write ``exp(...)``); and ``**`` may be nested at most :data:`MAX_POWER_NESTING` = 4 deep
(``((x**2+1)**2)**2`` is fine), so no exponent the simplifier combines exceeds :math:`10^4`; functions may
be nested at most :data:`MAX_CALL_NESTING` = 6 deep (``sin(cos(exp(x)))`` is fine): the Hessian of a deep
chain grows with the square of its depth, and 30 nested functions took seconds to differentiate. Every
constant sub-expression is evaluated first in floating point (never by Python's evaluator: by this module's
own arithmetic on the checked tree) and must be finite, real and at most :data:`MAX_CONSTANT` = 1e300 in
size, so ``10**400``, ``exp(1000)``, ``1/0``, ``log(-1)`` and ``(-8)**(1/3)`` get messages at their column.

Why this is safe
----------------
* The text is never given to ``eval``, ``exec`` or ``compile``, nor to ``sympy.sympify``/``parse_expr``
  (they evaluate Python). :func:`ast.parse` only builds the syntax tree (``compile`` with the
  ``PyCF_ONLY_AST`` flag: no code object is made, nothing runs), and only after the length and ASCII checks.
* The whole tree is checked against the whitelist *before* any sympy object is built; the sympy expression
  is then built by this module from the checked nodes: ``sympy.Symbol``\ s ``x``/``y``, ``sympy.Integer``/
  ``sympy.Float`` from the literal's numeric value, and functions taken from a fixed table. No string from
  the user reaches sympy.
* Gradient and Hessian come from ``sympy.diff`` of that tree and are compiled by ``sympy.lambdify(...,
  modules="numpy")``. Lambdify does ``exec`` generated source, but that source is printed by sympy's
  NumPy printer from *our* tree, whose only leaves are the two symbols, numbers (printed from their values)
  and the table's functions: it consists of ``x``, ``y``, numerals, operators and numpy function names,
  whatever the student typed. (A test records Python's audit events and shows that no hostile formula
  triggers an ``exec``, an ``import`` or an ``open``.)
* ``abs`` is a real absolute value whose derivative is ``sign`` (with sign(0) = 0, the subgradient
  convention of the L1-penalized logistic surface) and whose second derivative is 0 (almost everywhere),
  so its Hessian is that of the smooth pieces.

Evaluation
----------
The compiled ``fun``/``grad``/``hess`` take floats or broadcastable arrays (the contour grid, the race's
rows), always compute in float64 numpy under ``np.errstate(all="ignore")`` and return results broadcast
to the inputs' shape (a constant derivative gives a full array, a scalar input gives a Python float).
Overflow, ``log``/``sqrt`` of negative numbers and division by zero give ``inf``/``nan``, never an
exception or a warning: the race's one divergence rule (:func:`regopt_core.iteration.diverged`, used by
:func:`regopt_core.landscapes.race`) turns a non-finite loss or gradient into its usual divergence message.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from regopt_core.functions import Surface
from regopt_core.iteration import DIVERGENCE_LIMIT

__all__ = [
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_POWER_NESTING",
    "MAX_CALL_NESTING",
    "MAX_LITERAL",
    "MAX_CONSTANT",
    "MAX_BOUND",
    "FUNCTIONS",
    "CONSTANTS",
    "DEFAULT_EXPRESSION",
    "DEFAULT_BOUNDS",
    "ExpressionError",
    "ParsedExpression",
    "CompiledExpression",
    "parse",
    "compile_expression",
    "custom_surface",
    "suggested_steps",
]

MAX_LENGTH = 200
MAX_NODES = 100
MAX_DEPTH = 32
MAX_EXPONENT = 10.0
MAX_POWER_NESTING = 4
MAX_CALL_NESTING = 6
MAX_LITERAL = 1e15
MAX_CONSTANT = 1e300
MAX_BOUND = 1e6

DEFAULT_EXPRESSION = "(1-x)**2 + 100*(y-x**2)**2"
DEFAULT_BOUNDS: tuple[tuple[float, float], tuple[float, float]] = ((-5.0, 5.0), (-5.0, 5.0))

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

    def _latex(self, printer, exp=None):
        tex = r"\left|%s\right|" % printer._print(self.args[0])
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _sympystr(self, printer):
        return "abs(%s)" % printer._print(self.args[0])


#: name -> (sympy function, float version used to check constant arguments)
_FUNCTION_TABLE: dict[str, tuple[Callable, Callable[[float], float]]] = {
    "sin": (sympy.sin, math.sin),
    "cos": (sympy.cos, math.cos),
    "tan": (sympy.tan, math.tan),
    "exp": (sympy.exp, math.exp),
    "log": (sympy.log, math.log),
    "sqrt": (sympy.sqrt, math.sqrt),
    "abs": (RealAbs, abs),
    "tanh": (sympy.tanh, math.tanh),
    "sinh": (sympy.sinh, math.sinh),
    "cosh": (sympy.cosh, math.cosh),
    "arctan": (sympy.atan, math.atan),
    "atan": (sympy.atan, math.atan),
}
FUNCTIONS: tuple[str, ...] = tuple(_FUNCTION_TABLE)
#: name -> (sympy constant, float value)
CONSTANTS: dict[str, tuple[sympy.Expr, float]] = {"pi": (sympy.pi, math.pi), "e": (sympy.E, math.e)}

_FUNCTION_LIST = "sin, cos, tan, exp, log, sqrt, abs, tanh, sinh, cosh, arctan (or atan)"


# ------------------------------------------------------------------------------------------ errors
class ExpressionError(ValueError):
    """A formula that cannot be used, with a message in student words.

    Attributes
    ----------
    message : str
        One sentence naming the problem (and its column when it is about a place in the text).
    position : int or None
        0-based character index in ``text`` of the problem, or ``None``.
    text : str or None
        The formula as typed (for :meth:`pointer`).
    """

    def __init__(self, message: str, position: int | None = None, text: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.text = text

    @property
    def column(self) -> int | None:
        """1-based column of the problem, or ``None``."""
        return None if self.position is None else self.position + 1

    def pointer(self) -> str:
        """The formula with a caret under the problem (two lines, for a monospace block), or ``""``."""
        if self.position is None or self.text is None or len(self.text) > MAX_LENGTH:
            return ""
        pos = min(max(self.position, 0), len(self.text))
        return f"{self.text}\n{' ' * pos}^"


# ------------------------------------------------------------------------------------------ checking the tree
@dataclass(frozen=True)
class _Info:
    const: float | None  # value when the subtree has no x, y (computed by this module, in floating point)
    powers: int  # deepest nesting of ** in the subtree


_NOT_ALLOWED: dict[type, str] = {
    ast.Lambda: "`lambda` is not allowed",
    ast.ListComp: "comprehensions (`for` inside brackets) are not allowed",
    ast.SetComp: "comprehensions (`for` inside brackets) are not allowed",
    ast.DictComp: "comprehensions (`for` inside brackets) are not allowed",
    ast.GeneratorExp: "generator expressions (`for` inside parentheses) are not allowed",
    ast.List: "lists (`[...]`) are not allowed: f must be one number",
    ast.Set: "sets (`{...}`) are not allowed: f must be one number",
    ast.Dict: "dictionaries (`{...}`) are not allowed: f must be one number",
    ast.Tuple: "a comma makes several values: f must be one number (write 1.5, not 1,5)",
    ast.Compare: "comparisons (`<`, `==`, ...) are not allowed: f must give a number",
    ast.BoolOp: "`and` / `or` are not allowed: f must give a number",
    ast.IfExp: "`... if ... else ...` is not allowed",
    ast.NamedExpr: "the assignment `:=` is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Await: "`await` is not allowed",
    ast.Yield: "`yield` is not allowed",
    ast.YieldFrom: "`yield` is not allowed",
    ast.Starred: "`*` unpacking is not allowed",
    ast.Slice: "slices (`:`) are not allowed",
}

_OP_SYMBOL: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%",
    ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^",
}


_GROUP: dict[type, str] = {ast.Add: "+", ast.Sub: "+", ast.Mult: "*", ast.Div: "*"}


class _Checker:
    """Walks the parsed tree once, before anything is built, and raises at the first forbidden thing."""

    def __init__(self, text: str, lead: int, body: str) -> None:
        self.text, self.lead, self.body = text, lead, body
        self.nodes = 0
        self.calls = 0  # functions open around the current node

    # -- helpers
    def fail(self, message: str, node: ast.AST | None = None, *, pos: int | None = None) -> None:
        if pos is None and node is not None:
            pos = getattr(node, "col_offset", None)
        if pos is not None:
            pos += self.lead
            message = message.replace("{col}", f"column {pos + 1}")
        else:
            message = message.replace(" at {col}", "").replace(" ({col})", "")
        raise ExpressionError(message, pos, self.text)

    def find(self, symbol: str, start: int | None, stop: int | None, default: int | None) -> int | None:
        if start is None:
            return default
        i = self.body.find(symbol, start, stop if stop is not None else len(self.body))
        return default if i < 0 else i

    def constant(self, value: float, node: ast.AST, what: str = "number") -> float:
        if isinstance(value, complex) or not math.isfinite(value) or abs(value) > MAX_CONSTANT:
            if isinstance(value, complex):
                self.fail(f"this {what} at {{col}} is not a real number", node)
            self.fail(f"number too large at {{col}} (at most {MAX_CONSTANT:.0e} in size)", node)
        return float(value)

    # -- the walk
    def check(self, node: ast.AST, depth: int) -> _Info:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.fail(f"the formula has too many parts (more than {MAX_NODES} numbers, names and operations)")
        if depth > MAX_DEPTH:
            self.fail(f"nested too deeply at {{col}} (more than {MAX_DEPTH} levels)", node)
        if isinstance(node, ast.Constant):
            return self.literal(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Attribute):
            dot = self.find(".", getattr(node.value, "end_col_offset", None), node.end_col_offset, node.col_offset)
            self.fail("attribute access (`.`) is not allowed at {col}", pos=dot)
        if isinstance(node, ast.Tuple) and node.elts:
            comma = self.find(",", getattr(node.elts[0], "end_col_offset", None), node.end_col_offset,
                              node.col_offset)
            self.fail(_NOT_ALLOWED[ast.Tuple] + " ({col})", pos=comma)
        if isinstance(node, ast.Subscript):
            br = self.find("[", getattr(node.value, "end_col_offset", None), node.end_col_offset, node.col_offset)
            self.fail("indexing with `[...]` is not allowed at {col}", pos=br)
        message = _NOT_ALLOWED.get(type(node), f"`{type(node).__name__}` expressions are not allowed")
        self.fail(message + " ({col})", node)
        raise AssertionError("unreachable")

    def literal(self, node: ast.Constant) -> _Info:
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            self.fail(f"`{v!r}` is not allowed at {{col}}: f must be built from numbers, x and y", node)
        if isinstance(v, (str, bytes)):
            self.fail("text in quotes is not allowed at {col}: f is built from numbers, x and y", node)
        if isinstance(v, complex):
            self.fail("complex numbers (`j`) are not allowed at {col}", node)
        if not isinstance(v, (int, float)):
            self.fail("this value is not allowed at {col}", node)
        if not (math.isfinite(v) and abs(v) <= MAX_LITERAL):
            self.fail(f"number too large at {{col}} (at most {MAX_LITERAL:.0e} in size)", node)
        return _Info(float(v), 0)

    def name(self, node: ast.Name) -> _Info:
        n = node.id
        if n in _VARIABLES:
            return _Info(None, 0)
        if n in CONSTANTS:
            return _Info(CONSTANTS[n][1], 0)
        if n in _FUNCTION_TABLE:
            self.fail(f"`{n}` is a function (at {{col}}): write it with its argument, e.g. `{n}(x)`", node)
        if n.startswith("_"):
            self.fail(f"`{n}` is not allowed (at {{col}}): use x, y, pi, e and the functions {_FUNCTION_LIST}",
                      node)
        hint = f" (names are case-sensitive: did you mean `{n.lower()}`?)" if n.lower() in _VARIABLES else ""
        self.fail(f"unknown name `{n}` at {{col}}: use x and y (constants pi, e; functions {_FUNCTION_LIST})"
                  + hint, node)
        raise AssertionError("unreachable")

    def unary(self, node: ast.UnaryOp, depth: int) -> _Info:
        if isinstance(node.op, ast.Not):
            self.fail("`not` is not allowed at {col}", node)
        if isinstance(node.op, ast.Invert):
            self.fail("`~` is not allowed at {col}", node)
        inner = self.check(node.operand, depth + 1)
        if inner.const is None:
            return inner
        return _Info(-inner.const if isinstance(node.op, ast.USub) else inner.const, inner.powers)

    def binop(self, node: ast.BinOp, depth: int) -> _Info:
        sym = _OP_SYMBOL.get(type(node.op), "?")
        op_pos = self.find(sym, getattr(node.left, "end_col_offset", None), getattr(node.right, "col_offset", None),
                           node.col_offset)
        if isinstance(node.op, ast.BitXor):
            self.fail("`^` at {col} is not a power in Python: write `x**2` for x squared", pos=op_pos)
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            self.fail(f"`{sym}` is not allowed at {{col}}: use + - * / and **", pos=op_pos)
        # a chain a + b - c + ... (or a * b / c ...) is one level, however long: only nesting counts
        same = (isinstance(node.left, ast.BinOp) and _GROUP.get(type(node.left.op)) is not None
                and _GROUP.get(type(node.left.op)) == _GROUP.get(type(node.op)))
        left = self.check(node.left, depth if same else depth + 1)
        right = self.check(node.right, depth + 1)
        powers = max(left.powers, right.powers)
        if isinstance(node.op, ast.Pow):
            if right.const is not None:
                if abs(right.const) > MAX_EXPONENT:
                    self.fail(f"exponent too large at {{col}}: {right.const:.6g} (at most {MAX_EXPONENT:g} in size)",
                              pos=op_pos)
            elif right.powers > 0:
                self.fail("a power inside a variable exponent (a power tower) is not allowed at {col}: "
                          "write exp(...) instead", pos=op_pos)
            powers += 1
            if powers > MAX_POWER_NESTING:
                self.fail(f"powers nested too deeply at {{col}} (at most {MAX_POWER_NESTING} levels of **)",
                          pos=op_pos)
        if isinstance(node.op, ast.Div) and right.const == 0.0:
            self.fail("division by zero at {col}", pos=op_pos)
        if left.const is None or right.const is None:
            return _Info(None, powers)
        a, b = left.const, right.const
        try:
            if isinstance(node.op, ast.Add):
                v = a + b
            elif isinstance(node.op, ast.Sub):
                v = a - b
            elif isinstance(node.op, ast.Mult):
                v = a * b
            elif isinstance(node.op, ast.Div):
                v = a / b
            else:
                if a < 0 and b != int(b):
                    self.fail("a negative number to a fractional power at {col} is not a real number", pos=op_pos)
                v = a ** b
        except ZeroDivisionError:
            self.fail("division by zero at {col} (0 to a negative power)", pos=op_pos)
        except OverflowError:
            self.fail(f"number too large at {{col}} (at most {MAX_CONSTANT:.0e} in size)", pos=op_pos)
        return _Info(self.constant(v, node), powers)

    def call(self, node: ast.Call, depth: int) -> _Info:
        func = node.func
        if isinstance(func, ast.Attribute):
            self.check(func, depth + 1)  # raises: attribute access
        if not isinstance(func, ast.Name):
            paren = self.find("(", getattr(func, "end_col_offset", None), node.end_col_offset, node.col_offset)
            self.fail("a product needs `*` at {col}: write `(...)*(...)`, not `(...)(...)`", pos=paren)
        n = func.id
        if n in _VARIABLES or n in CONSTANTS:
            self.fail(f"`{n}` is not a function (at {{col}}): write `{n}*(...)` for a product", func)
        if n not in _FUNCTION_TABLE:
            self.fail(f"`{n}` is not allowed (at {{col}}): the functions you can use are {_FUNCTION_LIST}", func)
        if node.keywords:
            kw = node.keywords[0]
            self.fail("keyword arguments (`name=...`) are not allowed at {col}", kw)
        for a in node.args:
            if isinstance(a, ast.Starred):
                self.fail("`*` unpacking is not allowed at {col}", a)
        if len(node.args) != 1:
            self.fail(f"`{n}` takes exactly one argument (at {{col}}), got {len(node.args)}", func)
        self.calls += 1
        if self.calls > MAX_CALL_NESTING:
            self.fail(f"functions nested too deeply at {{col}} (at most {MAX_CALL_NESTING} inside each other)", func)
        inner = self.check(node.args[0], depth + 1)
        self.calls -= 1
        if inner.const is None:
            return inner
        try:
            v = _FUNCTION_TABLE[n][1](inner.const)
        except ValueError:
            self.fail(f"`{n}({inner.const:.6g})` at {{col}} is not defined (not a real number)", func)
        except OverflowError:
            self.fail(f"number too large at {{col}}: `{n}({inner.const:.6g})` (at most {MAX_CONSTANT:.0e})", func)
        return _Info(self.constant(v, node), inner.powers)


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
        return _FUNCTION_TABLE[node.func.id][0](_build(node.args[0]))
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
    if not isinstance(text, str):
        raise ExpressionError("the formula must be text", None, None)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"too long ({len(text)} characters, at most {MAX_LENGTH})", MAX_LENGTH, text)
    for i, ch in enumerate(text):
        if not (" " <= ch <= "~"):
            shown = f"`{ch}`" if ch.isprintable() else f"U+{ord(ch):04X}"
            raise ExpressionError(f"character {shown} at column {i + 1} is not allowed: use plain ASCII "
                                  "(x, y, digits, + - * / ** and parentheses)", i, text)
    body = text.strip()
    if not body:
        raise ExpressionError(f"type a formula in x and y, for example {DEFAULT_EXPRESSION}", None, text)
    lead = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(body, filename="<formula>", mode="eval")  # only the syntax tree: nothing runs
    except SyntaxError as err:
        raise ExpressionError(*_syntax_message(err, body, lead), text) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the formula is nested too deeply", None, text) from None
    _Checker(text, lead, body).check(tree.body, 1)
    expr = _build(tree.body)
    _check_built(expr, text, "f", MAX_CONSTANT)
    return ParsedExpression(text=text, expr=expr)


def _syntax_message(err: SyntaxError, body: str, lead: int) -> tuple[str, int]:
    off = err.offset if err.offset is not None else len(body) + 1
    pos = min(max(off - 1, 0), len(body)) + lead
    where = f"column {pos + 1}"
    msg = err.msg or "invalid syntax"
    if "decimal literal" in msg:
        return f"a number runs into a name at {where}: write `2*x`, not `2x`", pos
    if "never closed" in msg:
        return f"a `(` or `[` is never closed (syntax error at {where})", pos
    if "unmatched" in msg or "does not match" in msg:
        return f"a closing bracket has no matching opening one (syntax error at {where})", pos
    if "forgot a comma" in msg:
        return f"syntax error at {where}: is an operator (such as `*`) missing?", pos
    if pos - lead >= len(body) or body.rstrip()[-1] in "+-*/(^,":
        pos = lead + len(body)
        where = f"column {pos + 1}"
        return f"the formula ends too early (syntax error at {where}): is something missing after the last operator?", pos
    return f"syntax error at {where}: this is not a formula that can be read ({msg})", pos


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

    Pickles as ``(text, part)`` and re-compiles on loading, so a Surface can go to a worker process.
    """

    __slots__ = ("_text", "_part", "_fn", "_n")

    def __init__(self, text: str, part: str, fn: Callable, n: int) -> None:
        self._text, self._part, self._fn, self._n = text, part, fn, n

    def __call__(self, x, y):
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
    return CompiledExpression(text=text, expr=f, gradient_exprs=(gx, gy), hessian_exprs=(hxx, hxy, hyy),
                              fun=_Numeric(text, "fun", f_np, 1), grad=_Numeric(text, "grad", g_np, 2),
                              hess=_Numeric(text, "hess", h_np, 3))


# ------------------------------------------------------------------------------------------ the Surface
def _window(bounds) -> tuple[tuple[float, float], tuple[float, float]]:
    if bounds is None:
        return DEFAULT_BOUNDS
    try:
        (x_lo, x_hi), (y_lo, y_hi) = bounds
        vals = [float(v) for v in (x_lo, x_hi, y_lo, y_hi)]
    except (TypeError, ValueError):
        raise ValueError("the window must be ((x_min, x_max), (y_min, y_max))") from None
    if not all(math.isfinite(v) and abs(v) <= MAX_BOUND for v in vals):
        raise ValueError(f"the window's limits must be finite numbers of size at most {MAX_BOUND:g}")
    if not (vals[0] < vals[1] and vals[2] < vals[3]):
        raise ValueError("the window needs x_min < x_max and y_min < y_max")
    return (vals[0], vals[1]), (vals[2], vals[3])


def _finite_at(c: CompiledExpression, x, y) -> np.ndarray:
    f = np.asarray(c.fun(x, y))
    gx, gy = c.grad(x, y)
    with np.errstate(all="ignore"):
        return np.isfinite(f) & np.isfinite(gx) & np.isfinite(gy) & (np.abs(f) <= DIVERGENCE_LIMIT)


def _grid(win, n: int = 81):
    (x_lo, x_hi), (y_lo, y_hi) = win
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    return gx, gy


def _start(c: CompiledExpression, win, start, text: str) -> tuple[float, float]:
    if start is not None:
        x0, y0 = start
        if not (math.isfinite(x0) and math.isfinite(y0) and max(abs(x0), abs(y0)) <= MAX_BOUND):
            raise ValueError(f"the start must have finite coordinates of size at most {MAX_BOUND:g}")
        if not bool(_finite_at(c, x0, y0)):
            raise ExpressionError(f"f or its gradient is not finite at the start ({x0:g}, {y0:g}) (or |f| > "
                                  f"{DIVERGENCE_LIMIT:.0e}): e.g. log or sqrt of a negative number, or a division "
                                  "by zero there; pick another start", None, text)
        return x0, y0
    (x_lo, x_hi), (y_lo, y_hi) = win
    want = np.array([x_lo + 0.25 * (x_hi - x_lo), y_lo + 0.75 * (y_hi - y_lo)])
    if bool(_finite_at(c, *want)):
        return float(want[0]), float(want[1])
    gx, gy = _grid(win, 41)
    ok = _finite_at(c, gx, gy)
    if not ok.any():
        raise ExpressionError(f"f or its gradient is not finite (or |f| > {DIVERGENCE_LIMIT:.0e}) anywhere in the "
                              "window: change the formula or the contour range", None, text)
    d = np.where(ok, np.hypot(gx - want[0], gy - want[1]), np.inf)
    i = np.unravel_index(int(np.argmin(d)), d.shape)
    return float(gx[i]), float(gy[i])


@dataclass(frozen=True)
class _Minima:
    points: tuple[tuple[float, float], ...]
    f_min: float
    interior: bool
    note: str


def _refine(c: CompiledExpression, p: np.ndarray, win, iters: int = 200) -> tuple[np.ndarray, np.ndarray]:
    r"""Local minimization of f from the rows of ``p`` (k, 2) at once, kept inside the window.

    Modified Newton: the step solves :math:`(H + \tau I)\,d = -g` with :math:`\tau \ge 0` just large
    enough to make the (2 x 2) matrix positive definite, shortened by halving until f decreases
    sufficiently (Armijo), and projected onto the window. Near a minimum with a positive definite Hessian
    this is Newton's method (quadratic convergence, so minimizers come out to rounding error).
    """
    lo = np.array([win[0][0], win[1][0]])
    hi = np.array([win[0][1], win[1][1]])
    p = np.clip(np.array(p, dtype=float), lo, hi)
    with np.errstate(all="ignore"):
        f = np.asarray(c.fun(p[:, 0], p[:, 1]), dtype=float)
        active = np.isfinite(f)
        for _ in range(iters):
            if not active.any():
                break
            gx, gy = c.grad(p[:, 0], p[:, 1])
            a, b, d = c.hess(p[:, 0], p[:, 1])
            g = np.stack([gx, gy], axis=-1)
            m, r = 0.5 * (a + d), np.hypot(0.5 * (a - d), b)
            lmin, lmax = m - r, m + r
            tau = np.where(lmin > 1e-12 * (1.0 + np.abs(lmax)), 0.0, -lmin + 1e-3 * (1.0 + np.abs(lmax)))
            a2, d2 = a + tau, d + tau
            det = a2 * d2 - b * b
            step = -np.stack([(d2 * gx - b * gy) / det, (a2 * gy - b * gx) / det], axis=-1)
            bad = ~np.all(np.isfinite(step), axis=-1)
            step[bad] = -g[bad] / (1.0 + np.linalg.norm(g[bad], axis=-1, keepdims=True))
            active &= np.all(np.isfinite(g), axis=-1) & np.all(np.isfinite(step), axis=-1)
            t = np.ones(len(p))
            accepted = np.zeros(len(p), dtype=bool)
            q_acc, f_acc = p.copy(), f.copy()
            for _ in range(50):
                q = np.clip(p + t[:, None] * step, lo, hi)
                fq = np.asarray(c.fun(q[:, 0], q[:, 1]), dtype=float)
                slope = np.minimum(np.sum(g * (q - p), axis=-1), 0.0)
                ok = active & ~accepted & np.isfinite(fq) & (fq <= f + 1e-4 * slope)
                q_acc[ok], f_acc[ok] = q[ok], fq[ok]
                accepted |= ok
                if np.all(accepted | ~active):
                    break
                t = np.where(accepted, t, 0.5 * t)
            moved = np.linalg.norm(q_acc - p, axis=-1)
            p, f = np.where(accepted[:, None], q_acc, p), np.where(accepted, f_acc, f)
            active &= accepted & (moved > 1e-15 * (1.0 + np.linalg.norm(p, axis=-1)))
    return p, f


def _find_minima(c: CompiledExpression, win, start: tuple[float, float]) -> _Minima:
    if not any(g.free_symbols for g in c.gradient_exprs) and all(g == 0 for g in c.gradient_exprs):
        v = float(c.fun(*start))
        return _Minima(((start[0], start[1]),), v, True, "f is constant: every point is a minimizer.")
    (x_lo, x_hi), (y_lo, y_hi) = win
    gx, gy = _grid(win)
    with np.errstate(all="ignore"):
        z = np.asarray(c.fun(gx, gy), dtype=float)
        z = np.where(np.isfinite(z), z, np.inf)
    if not np.isfinite(z).any():
        raise ExpressionError("f is not finite anywhere in the window: change the formula or the contour range",
                              None, c.text)
    pad = np.pad(z, 1, constant_values=np.inf)
    n0, n1 = z.shape
    local = np.isfinite(z)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                local &= z <= pad[1 + di:1 + di + n0, 1 + dj:1 + dj + n1]
    idx = np.flatnonzero(local.ravel())
    idx = idx[np.argsort(z.ravel()[idx], kind="stable")][:12]
    idx = np.union1d(idx, [int(np.argmin(z))])

    cand = np.stack([gx.ravel()[idx], gy.ravel()[idx]], axis=-1)
    pts_ref, f_ref = _refine(c, cand, win)
    z0 = z.ravel()[idx]
    found: list[tuple[float, np.ndarray]] = []
    for k in range(len(idx)):
        if np.isfinite(f_ref[k]) and f_ref[k] <= z0[k]:
            found.append((float(f_ref[k]), pts_ref[k]))
        else:
            found.append((float(z0[k]), cand[k]))
    f_min = min(f for f, _ in found)
    tol = 1e-9 * max(1.0, abs(f_min))
    span = max(x_hi - x_lo, y_hi - y_lo)

    def on_edge(p: np.ndarray) -> bool:
        return bool(min(p[0] - x_lo, x_hi - p[0], p[1] - y_lo, y_hi - p[1]) <= 1e-9 * span)

    pts: list[np.ndarray] = []
    ties = sorted((t for t in found if t[0] <= f_min + tol), key=lambda t: (on_edge(t[1]), t[0]))
    for _, p in ties:  # interior points first
        if all(np.hypot(*(p - q)) > 1e-6 * span for q in pts):
            pts.append(p)
    pts = pts[:8]
    p = pts[0]
    where = f"({p[0]:.4g}, {p[1]:.4g})"
    more = f" (and {len(pts) - 1} more with the same value)" if len(pts) > 1 else ""
    g = np.hypot(*c.grad(*p))
    hxx, hxy, hyy = c.hess(*p)
    lam = np.linalg.eigvalsh(np.array([[hxx, hxy], [hxy, hyy]])) if np.all(np.isfinite([hxx, hxy, hyy])) else None
    stationary = bool(np.isfinite(g) and g * span <= 1e-6 * (1.0 + abs(f_min)))
    if on_edge(p):
        note = (f"The lowest value found in the window, f = {f_min:.4g}, is on its edge at {where}{more}: f may keep "
                "decreasing outside the window (the race measures distances to that point).")
    elif not stationary:
        note = (f"No minimum found in the window: f decreases without bound near {where} (f = {f_min:.4g} there, "
                f"|∇f| = {g:.3g}); the race measures distances to that point.")
    else:
        note = (f"Lowest point found numerically in the window (grid search, then Newton's method): "
                f"f = {f_min:.4g} at {where}{more}; other local minima may exist outside the window.")
        if lam is not None and not c.expr.has(RealAbs, sympy.Abs) and lam[0] <= 1e-9 * max(1.0, abs(lam[1])):
            note += " The minimum is not isolated: f is flat along a direction there (a zero Hessian eigenvalue)."
    return _Minima(tuple((float(q[0]), float(q[1])) for q in pts), f_min, not on_edge(p), note)


def custom_surface(text: str, *, bounds=None, start=None) -> Surface:
    """The :class:`~regopt_core.functions.Surface` of a typed formula ``f(x, y)``.

    Parameters
    ----------
    text : str
        The formula, e.g. ``"(1-x)**2 + 100*(y-x**2)**2"`` (see the module docstring for what it may contain).
    bounds : ((x_min, x_max), (y_min, y_max)), optional
        Plot window (contour range) and the region where minimizers are searched; default :data:`DEFAULT_BOUNDS`.
        Limits must be finite, of size at most :data:`MAX_BOUND`, with min < max.
    start : (x, y), optional
        Start of the race; default: the point a quarter across and three quarters up the window, or the
        nearest grid point where f and its gradient are finite.

    Raises
    ------
    ExpressionError
        Bad formula; f or its gradient not finite at ``start`` or anywhere in the window.
    ValueError
        Malformed window or start.
    """
    if not isinstance(text, str):
        raise ExpressionError("the formula must be text", None, None)
    compile_expression(text)  # errors first, and no huge strings in the cache below
    win = _window(bounds)
    if start is not None:
        try:
            x0, y0 = (float(v) for v in start)
        except (TypeError, ValueError):
            raise ValueError("the start must be a point (x, y)") from None
        start = (x0, y0)
    return _surface_cached(text, win, start)


@lru_cache(maxsize=64)
def _surface_cached(text: str, win, start) -> Surface:
    c = compile_expression(text)
    x0, y0 = _start(c, win, start, text)
    minima = _find_minima(c, win, (x0, y0))
    lipschitz = mu = None
    if c.constant_hessian and not c.expr.has(RealAbs, sympy.Abs):  # a quadratic: global curvature known
        h = np.array([[float(c.hessian_exprs[0]), float(c.hessian_exprs[1])],
                      [float(c.hessian_exprs[1]), float(c.hessian_exprs[2])]])
        lam = np.linalg.eigvalsh(h)
        if np.max(np.abs(lam)) > 0:
            lipschitz = float(np.max(np.abs(lam)))
            mu = float(lam[0]) if lam[0] >= 0 else None
    short = text.strip() if len(text.strip()) <= 40 else text.strip()[:39] + "…"
    return Surface(
        key="custom",
        name=f"Custom: {short}",
        latex=f"f(x,y) = {c.latex}",
        fun=c.fun,
        grad=c.grad,
        hess=c.hess,
        minimizers=minima.points,
        f_min=float(minima.f_min),
        bounds=win,
        start=(x0, y0),
        lipschitz=lipschitz,
        mu=mu,
        note=minima.note,
        params=(("expr", text),),
    )


def _round1(v: float) -> float:
    """One significant digit (for step sizes shown on a page)."""
    if not (v > 0 and math.isfinite(v)):
        return 0.01
    e = math.floor(math.log10(v))
    return float(f"{round(v / 10 ** e) * 10 ** e:.1g}")


def suggested_steps(surface: Surface) -> dict[str, float]:
    r"""Step sizes for a race on any surface, in the format of ``landscapes.SUGGESTED_STEPS``.

    The curvature scale :math:`\lambda` is the largest Hessian eigenvalue over the start and the minimizers
    found (``surface.lipschitz`` when known); gradient descent gets :math:`1/\lambda` (half the local
    stability limit :math:`2/\lambda`), momentum and Nesterov :math:`0.5/\lambda`; the adaptive methods,
    whose steps are about :math:`\eta` per coordinate, get a fraction of the window's size ``s``
    (AdaGrad s/20, RMSProp s/400, Adam s/100), the ratios of the hand-picked built-in values. A
    heuristic, rounded to one significant digit; the race still reports any divergence.
    """
    if surface.lipschitz is not None and surface.lipschitz > 0:
        lam = float(surface.lipschitz)
    else:
        pts = np.array([surface.start, *surface.minimizers], dtype=float)
        with np.errstate(all="ignore"):
            h = surface.hessian(pts)
            ok = np.all(np.isfinite(h), axis=(-2, -1))
            ev = np.linalg.eigvalsh(h[ok])[..., -1] if ok.any() else np.array([])
        ev = ev[np.isfinite(ev) & (ev > 0)]
        lam = float(ev.max()) if ev.size else 1.0
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    s = max(x_hi - x_lo, y_hi - y_lo)
    return dict(gd=_round1(1.0 / lam), momentum=_round1(0.5 / lam), nesterov=_round1(0.5 / lam),
                adagrad=_round1(s / 20.0), rmsprop=_round1(s / 400.0), adam=_round1(s / 100.0))
