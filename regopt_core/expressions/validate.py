r"""Checking a typed formula before anything is built from it: the whitelist, the caps, and messages that
point at the problem (part of :mod:`regopt_core.expressions`; no sympy here).

:func:`validate` returns the checked syntax tree (``ast.Expression.body``) or raises :class:`ExpressionError`;
:func:`normalize` returns the canonical spelling of a valid formula (``ast.unparse`` of its checked tree), the
key under which a page caches its results. The text is never evaluated: :func:`ast.parse` only builds the
syntax tree, after the length and ASCII checks.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "MAX_LENGTH", "MAX_NODES", "MAX_DEPTH", "MAX_EXPONENT", "MAX_POWER_NESTING", "MAX_CALL_NESTING", "MAX_LITERAL",
    "MAX_CONSTANT", "MAX_BOUND", "FUNCTIONS", "VARIABLES", "DEFAULT_EXPRESSION", "DEFAULT_BOUNDS",
    "ExpressionError", "validate", "normalize",
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

VARIABLES: tuple[str, ...] = ("x", "y")
_VARIABLE_NAMES = frozenset(VARIABLES)
#: name -> float version of each allowed function (used to check constant arguments; the sympy versions are
#: in :mod:`regopt_core.expressions.symbolic`)
_FLOAT_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log, "sqrt": math.sqrt,
    "abs": abs, "tanh": math.tanh, "sinh": math.sinh, "cosh": math.cosh, "arctan": math.atan, "atan": math.atan,
}
FUNCTIONS: tuple[str, ...] = tuple(_FLOAT_FUNCTIONS)
#: name -> value of the allowed constants
_CONSTANT_VALUES: dict[str, float] = {"pi": math.pi, "e": math.e}

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
        if n in _VARIABLE_NAMES:
            return _Info(None, 0)
        if n in _CONSTANT_VALUES:
            return _Info(_CONSTANT_VALUES[n], 0)
        if n in _FLOAT_FUNCTIONS:
            self.fail(f"`{n}` is a function (at {{col}}): write it with its argument, e.g. `{n}(x)`", node)
        if n.startswith("_"):
            self.fail(f"`{n}` is not allowed (at {{col}}): use x, y, pi, e and the functions {_FUNCTION_LIST}",
                      node)
        hint = f" (names are case-sensitive: did you mean `{n.lower()}`?)" if n.lower() in _VARIABLE_NAMES else ""
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
        if n in _VARIABLE_NAMES or n in _CONSTANT_VALUES:
            self.fail(f"`{n}` is not a function (at {{col}}): write `{n}*(...)` for a product", func)
        if n not in _FLOAT_FUNCTIONS:
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
            v = _FLOAT_FUNCTIONS[n](inner.const)
        except ValueError:
            self.fail(f"`{n}({inner.const:.6g})` at {{col}} is not defined (not a real number)", func)
        except OverflowError:
            self.fail(f"number too large at {{col}}: `{n}({inner.const:.6g})` (at most {MAX_CONSTANT:.0e})", func)
        return _Info(self.constant(v, node), inner.powers)



def validate(text: str) -> ast.AST:
    """Check ``text`` against the whitelist and the caps; return its syntax tree's body (raises
    :class:`ExpressionError` with the column of the problem)."""
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
    return tree.body


def normalize(text: str) -> str:
    """The canonical spelling of a valid formula (``ast.unparse`` of its checked tree: one space around binary
    operators, redundant parentheses dropped), e.g. ``"(1-x)**2"`` -> ``"(1 - x) ** 2"``. Raises
    :class:`ExpressionError` (columns refer to ``text`` as typed)."""
    return ast.unparse(validate(text))


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

