"""Numerical failures that a page turns into a readable message instead of a traceback.

Numerics raise :class:`NumericalError` (or a subclass) when a computation cannot give a meaningful
answer; the shared page helper ``pages/_ui/layout.numerical_guard`` catches these (plus numpy's
``LinAlgError`` and ``FloatingPointError``) and shows ``hint`` to the student.
"""

from __future__ import annotations

import numpy as np


class NumericalError(ArithmeticError):
    """A computation that cannot give a meaningful result.

    Parameters
    ----------
    message : str
        What went wrong, in words a student understands.
    hint : str, optional
        What to change on the page to get a result again.
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class DivergenceError(NumericalError):
    """An iteration left every finite bound (overflow, NaN)."""


class IllConditionedError(NumericalError):
    """A linear system too ill-conditioned to solve meaningfully."""


def check_finite(name: str, *arrays: np.ndarray, hint: str = "") -> None:
    """Raise :class:`NumericalError` if any array holds NaN or inf."""
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise NumericalError(f"{name} produced NaN or infinite values.", hint=hint)
