r"""Regularizers :math:`\lambda R(W)`: each carries its value, a (sub)gradient and its proximal operator.

Conventions follow the lecture: :math:`R_{L2}(W) = \sum_{k,l} W_{kl}^2` (no factor ½) and
:math:`R_{L1}(W) = \sum_{k,l} |W_{kl}|`. Elastic net mixes them (Zou & Hastie 2005):
:math:`R = \alpha \|W\|_1 + (1-\alpha)\|W\|_2^2`.

The proximal operator of :math:`t\lambda R` is

.. math:: \operatorname{prox}_{t\lambda R}(v) = \arg\min_w \tfrac12\|w - v\|^2 + t\lambda R(w),

which proximal solvers use instead of the gradient (Parikh & Boyd 2014, *Proximal Algorithms*, §6.5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Regularizer:
    """``lam * R``: ``value(w)``, ``grad(w)`` (a subgradient where R is not differentiable) and
    ``prox(v, t)`` = prox of ``t * lam * R`` evaluated at ``v``."""

    name: str
    lam: float
    value: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    prox: Callable[[np.ndarray, float], np.ndarray]


def soft_threshold(v: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    r""":math:`\operatorname{sign}(v)\max(|v| - \tau, 0)`: the prox of :math:`\tau\|\cdot\|_1`."""
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


def _lam(lam: float) -> float:
    lam = float(lam)
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be a finite number >= 0, got {lam}")
    return lam


def none() -> Regularizer:
    """No regularization (lam = 0)."""
    return Regularizer("none", 0.0, lambda w: 0.0, np.zeros_like, lambda v, t: np.array(v, dtype=float))


def l2(lam: float) -> Regularizer:
    r""":math:`\lambda\|w\|_2^2`; prox :math:`v / (1 + 2t\lambda)` (weight decay)."""
    lam = _lam(lam)
    return Regularizer(
        "l2",
        lam,
        value=lambda w: lam * float(np.sum(np.square(w))),
        grad=lambda w: 2.0 * lam * np.asarray(w, dtype=float),
        prox=lambda v, t: np.asarray(v, dtype=float) / (1.0 + 2.0 * t * lam),
    )


def l1(lam: float) -> Regularizer:
    r""":math:`\lambda\|w\|_1`; prox = soft thresholding at :math:`t\lambda` (exact zeros: sparsity)."""
    lam = _lam(lam)
    return Regularizer(
        "l1",
        lam,
        value=lambda w: lam * float(np.sum(np.abs(w))),
        grad=lambda w: lam * np.sign(w),
        prox=lambda v, t: soft_threshold(np.asarray(v, dtype=float), t * lam),
    )


def elastic_net(lam: float, alpha: float = 0.5) -> Regularizer:
    r""":math:`\lambda(\alpha\|w\|_1 + (1-\alpha)\|w\|_2^2)`, :math:`0 \le \alpha \le 1`.

    Prox: soft-threshold at :math:`t\lambda\alpha`, then shrink by :math:`1 + 2t\lambda(1-\alpha)`.
    """
    lam = _lam(lam)
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    return Regularizer(
        "elastic_net",
        lam,
        value=lambda w: lam * (alpha * float(np.sum(np.abs(w))) + (1 - alpha) * float(np.sum(np.square(w)))),
        grad=lambda w: lam * (alpha * np.sign(w) + 2.0 * (1 - alpha) * np.asarray(w, dtype=float)),
        prox=lambda v, t: soft_threshold(np.asarray(v, dtype=float), t * lam * alpha) / (1.0 + 2.0 * t * lam * (1 - alpha)),
    )


def make(name: str, lam: float, *, alpha: float = 0.5) -> Regularizer:
    """Factory by name: ``"none"``, ``"l2"``, ``"l1"`` or ``"elastic_net"``."""
    if name == "none" or lam == 0:
        return none()
    if name == "l2":
        return l2(lam)
    if name == "l1":
        return l1(lam)
    if name == "elastic_net":
        return elastic_net(lam, alpha)
    raise ValueError(f"unknown regularizer {name!r}")
