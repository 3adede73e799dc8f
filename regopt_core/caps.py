"""The two helpers every ``Config.clamped()`` uses: refuse a non-finite setting, clip a finite one to its range."""

from __future__ import annotations

import math


def finite(name: str, v: float) -> float:
    """``v`` as a float; ``ValueError`` naming the setting when it is not finite (nan, ±inf)."""
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}")
    return v


def clip(v: float, lo: float, hi: float) -> float:
    """``v`` clipped to ``[lo, hi]``, as a float."""
    return float(min(max(float(v), lo), hi))
