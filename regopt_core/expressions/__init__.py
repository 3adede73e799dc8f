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

from regopt_core.expressions.validate import (
    DEFAULT_BOUNDS,
    DEFAULT_EXPRESSION,
    FUNCTIONS,
    MAX_BOUND,
    MAX_CALL_NESTING,
    MAX_CONSTANT,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_LITERAL,
    MAX_NODES,
    MAX_POWER_NESTING,
    ExpressionError,
    normalize,
    validate,
)

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
    "validate",
    "normalize",
    "compile_expression",
    "custom_surface",
    "suggested_steps",
]

#: names of the sympy side, imported on first use (PEP 562): checking a formula (``validate``, ``normalize``)
#: does not import sympy, which costs ~0.3 s of start-up
_SYMBOLIC = ("CONSTANTS", "CompiledExpression", "ParsedExpression", "compile_expression", "parse")
_SURFACE = ("custom_surface", "suggested_steps")


def __getattr__(name: str):
    if name in _SYMBOLIC:
        from regopt_core.expressions import symbolic

        return getattr(symbolic, name)
    if name in _SURFACE:
        from regopt_core.expressions import surface

        return getattr(surface, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SYMBOLIC, *_SURFACE})
