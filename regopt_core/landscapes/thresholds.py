r"""The step-size ruler: stability thresholds of the constant-step methods, the curvature that sets them,
and named step sizes on both sides of a threshold (part of :mod:`regopt_core.landscapes`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from regopt_core.functions import Surface
from regopt_core.landscapes.configs import THRESHOLD_CHOICES

__all__ = ["stability_threshold", "threshold_formula", "threshold_choices", "reference_curvature",
           "local_curvature"]


def stability_threshold(name: str, lipschitz: float | None, *, beta: float = 0.9) -> float | None:
    r"""Largest stable constant step size on a quadratic whose largest Hessian eigenvalue is L.

    * gradient descent: :math:`\eta < 2/L` (the steepest mode is multiplied by :math:`1 - \eta L`);
    * heavy ball :math:`v \leftarrow \beta v - \eta\nabla f,\ x \leftarrow x + v`:
      :math:`\eta < 2(1+\beta)/L` (Polyak 1964);
    * Nesterov (constant :math:`\beta`): :math:`\eta < 2(1+\beta)/((1+2\beta)L)`.

    Returns ``None`` for the adaptive methods (their effective step changes as they run) or when
    ``lipschitz`` is unknown.
    """
    if lipschitz is None or not lipschitz > 0:
        return None
    if name == "gd":
        return 2.0 / lipschitz
    if name == "momentum":
        return 2.0 * (1.0 + beta) / lipschitz
    if name == "nesterov":
        return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lipschitz)
    return None


def threshold_formula(name: str) -> str | None:
    """The threshold's formula as plain text, for labels (``"2/L"`` ...)."""
    return {"gd": "2/L", "momentum": "2(1+β)/L", "nesterov": "2(1+β)/((1+2β)L)"}.get(name)


def threshold_choices(threshold: float | None, factors: Sequence[float] = THRESHOLD_CHOICES) -> tuple[float, ...]:
    """Step sizes at ``factors`` times the threshold, rounded to 3 significant digits (so that they
    print exactly in a link); empty without a threshold."""
    if threshold is None or not (threshold > 0 and math.isfinite(threshold)):
        return ()
    return tuple(float(f"{fac * threshold:.3g}") for fac in factors)


def reference_curvature(surface: Surface, start=None) -> tuple[float, str]:
    r"""The curvature that sets the step-size limit, and its kind.

    ``(L, "global")`` when the surface has a global Lipschitz constant of its gradient (quadratic,
    logistic, a typed quadratic). For a typed formula (``surface.key == "custom"``) with a ``start``:
    ``(lambda_0, "at the start")``, the largest Hessian eigenvalue :math:`\lambda_{\max}(\nabla^2 f(x_0))`
    at the start point, when it is positive (else the rule below). Otherwise ``(lambda_star, "at the
    minimum")``, the largest Hessian eigenvalue at the global minimizers: gradient descent converges
    *locally* to a minimizer iff :math:`\eta < 2/\lambda_{\max}(\nabla^2 f(x^*))`. The value may be
    nan or :math:`\le 0` (a typed formula without positive curvature there): then no threshold exists.
    """
    if surface.lipschitz is not None:
        return float(surface.lipschitz), "global"
    if surface.key == "custom" and start is not None:
        lam0 = local_curvature(surface, np.asarray(start, dtype=float).reshape(1, 2))
        if math.isfinite(lam0) and lam0 > 0:
            return lam0, "at the start"
    return local_curvature(surface, np.asarray(surface.minimizers, dtype=float)), "at the minimum"


def local_curvature(surface: Surface, points: np.ndarray) -> float:
    """Largest Hessian eigenvalue over ``points`` (n, 2); nan when the Hessian is not finite there."""
    with np.errstate(over="ignore", invalid="ignore"):
        h = surface.hessian(points)
        if not np.all(np.isfinite(h)):
            return float("nan")
        lam = np.linalg.eigvalsh(h)[..., -1]
    lam = lam[np.isfinite(lam)]
    return float(lam.max()) if lam.size else float("nan")
