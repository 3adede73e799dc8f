r"""The gradient check on a landscape: a central difference at one step and the error-vs-h sweep, with an
optional planted bug (part of :mod:`regopt_core.landscapes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from regopt_core.functions import Surface
from regopt_core.gradients import GradientCheck, StepSweep, check_gradient, finite_difference_sweep
from regopt_core.landscapes.configs import GradientCheckConfig, build_surface

__all__ = ["planted_bug_gradient", "gradient_sweep", "GradientResult", "gradient_experiment"]


def planted_bug_gradient(surface: Surface):
    """The surface's gradient with a typical hand-derivation bug: df/dx off by a factor 2."""

    def grad(p: np.ndarray) -> np.ndarray:
        g = np.array(surface.gradient(p), dtype=float)
        g[..., 0] *= 0.5
        return g

    return grad


def gradient_sweep(surface: Surface, point: Sequence[float], *, n_h: int = 57, bug: bool = False) -> StepSweep:
    r"""Forward/central finite-difference errors against the surface's analytic gradient at ``point``.

    With ``bug`` the reference is :func:`planted_bug_gradient` (:math:`\partial f/\partial x` halved):
    for small h the relative error then stops falling and plateaus at
    :math:`\tfrac12|\partial_x f| / \|g_{\text{bug}}\|` (the sweep divides by the gradient it checks),
    i.e. 77.5 % at Rosenbrock's start (-1.2, 1), where :math:`\nabla f = (-215.6, -88)`.
    """
    grad = planted_bug_gradient(surface) if bug else surface.gradient
    return finite_difference_sweep(surface.value, grad, np.asarray(point, dtype=float), n_h=n_h)


@dataclass(frozen=True)
class GradientResult:
    config: GradientCheckConfig
    point: np.ndarray
    check: GradientCheck
    sweep: StepSweep


def gradient_experiment(cfg: GradientCheckConfig) -> GradientResult:
    """Central-difference check at ``cfg.h`` and the error-vs-h sweep at one point (clamped config)."""
    if cfg != cfg.clamped():
        raise ValueError("gradient_experiment needs a clamped config (GradientCheckConfig.clamped())")
    surface = build_surface(cfg.surface)
    p = np.asarray(surface.start if cfg.point is None else cfg.point, dtype=float)
    grad = planted_bug_gradient(surface) if cfg.bug else surface.gradient
    check = check_gradient(lambda q: float(surface.value(q)), grad, p, h=cfg.h)
    return GradientResult(config=cfg, point=p, check=check,
                          sweep=gradient_sweep(surface, p, n_h=cfg.n_h, bug=cfg.bug))


