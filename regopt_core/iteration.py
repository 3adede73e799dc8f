"""What every iterative solver of the core shares: one callback signature, one divergence rule, one
convergence report.

* **Callback** (scipy style, as ``scipy.optimize.minimize(callback=...)`` since SciPy 1.11): a solver calls
  ``callback(intermediate)`` with an :class:`Intermediate` after each iteration it reports; raising
  ``StopIteration`` inside the callback stops the solver, which then returns what it has.
* **Divergence**: an iterate is diverged when it is not finite or its size exceeds
  :data:`DIVERGENCE_LIMIT` (:func:`diverged`). Loops *record* divergence in their result
  (``diverged``, ``diverged_at``); they do not raise. A page turns a diverged result into its message.
* **Convergence**: a result states whether it met a stated tolerance (:class:`Convergence`:
  ``converged``, the criterion's name, its final value and the tolerance), so a page can say so when
  it did not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: an iterate whose largest entry (or objective value) exceeds this is called diverged
DIVERGENCE_LIMIT = 1e12


@dataclass(frozen=True)
class Intermediate:
    """What a solver hands its callback after iteration ``nit`` (of at most ``max_iter``)."""

    x: np.ndarray
    nit: int
    max_iter: int
    fun: float | None = None


Callback = Callable[[Intermediate], None]


def notify(callback: Callback | None, x: np.ndarray, nit: int, max_iter: int, fun: float | None = None) -> bool:
    """Call ``callback`` (if any); return True when it asked the solver to stop (raised StopIteration)."""
    if callback is None:
        return False
    try:
        callback(Intermediate(x=x, nit=nit, max_iter=max_iter, fun=fun))
    except StopIteration:
        return True
    return False


def diverged(x: np.ndarray | float, fun: float | None = None, *, limit: float = DIVERGENCE_LIMIT) -> bool:
    """The one divergence rule: a non-finite iterate or value, or one whose magnitude exceeds ``limit``."""
    a = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        if a.size and not (np.all(np.isfinite(a)) and float(np.max(np.abs(a))) <= limit):
            return True
        if fun is not None and not (np.isfinite(fun) and abs(float(fun)) <= limit):
            return True
    return False


@dataclass(frozen=True)
class Convergence:
    """Did an iterative solver meet its stopping rule?

    ``criterion`` names the quantity in words (e.g. ``"relative change of x"``, ``"KKT residual"``,
    ``"duality gap"``); ``value`` is its final value and ``tol`` the tolerance it was compared with.
    """

    converged: bool
    criterion: str
    value: float
    tol: float
    nit: int

    def sentence(self, what: str = "The solver") -> str:
        """One sentence worded from the numbers (for a page)."""
        if self.converged:
            return f"{what} converged: {self.criterion} {self.value:.2g} ≤ {self.tol:.2g} after {self.nit} iterations."
        return (f"{what} stopped after {self.nit} iterations without converging: {self.criterion} "
                f"{self.value:.2g} > tolerance {self.tol:.2g}.")
