r"""Data losses of a linear classifier, per example, with their gradients with respect to the scores.

All functions take ``scores`` of shape ``(n_examples, n_classes)`` — row :math:`i` holds
:math:`s = f(x_i, W) = W x_i + b` — and integer ``labels`` of shape ``(n_examples,)``, and return one
loss per example; the data term of the objective is their mean,
:math:`L = \frac1N \sum_i L_i`.

References: Weston & Watkins (1999) for the multiclass hinge loss in the form used here; Bishop,
*Pattern Recognition and Machine Learning* (2006) §4.3.4 for softmax cross-entropy; Huber (1964).
"""

from __future__ import annotations

import numpy as np


def _check(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_examples, n_classes), got shape {scores.shape}")
    if labels.shape != (scores.shape[0],):
        raise ValueError(f"labels must have shape ({scores.shape[0]},), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError("labels must index a column of scores")
    return scores, labels.astype(np.intp)


def hinge_margins(scores: np.ndarray, labels: np.ndarray, *, margin: float = 1.0) -> np.ndarray:
    r"""Per-class hinge terms :math:`\max(0, s_j - s_{y_i} + \Delta)` with the true class set to 0."""
    scores, labels = _check(scores, labels)
    rows = np.arange(scores.shape[0])
    correct = scores[rows, labels][:, None]
    terms = np.maximum(0.0, scores - correct + margin)
    terms[rows, labels] = 0.0
    return terms


def multiclass_hinge(scores: np.ndarray, labels: np.ndarray, *, margin: float = 1.0) -> np.ndarray:
    r"""Multiclass SVM (hinge) loss of every example.

    .. math:: L_i = \sum_{j \ne y_i} \max\left(0,\; s_j - s_{y_i} + \Delta\right)

    Parameters
    ----------
    scores : (n_examples, n_classes) array
    labels : (n_examples,) int array
    margin : float
        :math:`\Delta`, the required gap between the true class's score and every other.

    Returns
    -------
    (n_examples,) array of per-example losses.
    """
    return hinge_margins(scores, labels, margin=margin).sum(axis=1)


def multiclass_hinge_grad(scores: np.ndarray, labels: np.ndarray, *, margin: float = 1.0) -> np.ndarray:
    r"""A subgradient :math:`\partial L_i / \partial s` of :func:`multiclass_hinge`, shape like ``scores``.

    Each violated class :math:`j` (positive hinge term) contributes +1 to :math:`s_j` and -1 to
    :math:`s_{y_i}`. At a kink (term exactly 0) the zero subgradient is chosen.
    """
    scores, labels = _check(scores, labels)
    active = (hinge_margins(scores, labels, margin=margin) > 0).astype(np.float64)
    rows = np.arange(scores.shape[0])
    active[rows, labels] = -active.sum(axis=1)
    return active


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax, stable for any finite scores (shift by the row maximum)."""
    scores = np.asarray(scores, dtype=np.float64)
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise class probabilities :math:`p_j = e^{s_j} / \\sum_k e^{s_k}`."""
    return np.exp(log_softmax(scores))


def softmax_cross_entropy(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    r"""Softmax cross-entropy (negative log-likelihood of the true class) of every example.

    .. math:: L_i = -\log \frac{e^{s_{y_i}}}{\sum_j e^{s_j}} = \log\sum_j e^{s_j} - s_{y_i}

    Equals the Kullback–Leibler divergence between the one-hot label and the softmax
    distribution, since the one-hot distribution has zero entropy.
    """
    scores, labels = _check(scores, labels)
    return -log_softmax(scores)[np.arange(scores.shape[0]), labels]


def softmax_cross_entropy_grad(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    r"""Gradient :math:`\partial L_i / \partial s = p - \mathbb 1_{y_i}`, shape like ``scores``."""
    scores, labels = _check(scores, labels)
    g = softmax(scores)
    g[np.arange(scores.shape[0]), labels] -= 1.0
    return g


def huber(residuals: np.ndarray, *, delta: float = 1.0) -> np.ndarray:
    r"""Huber loss of each residual (Huber 1964): quadratic near 0, linear in the tails.

    .. math:: \rho_\delta(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\
              \delta\,(|r| - \tfrac12\delta) & |r| > \delta \end{cases}
    """
    r = np.abs(np.asarray(residuals, dtype=np.float64))
    return np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))


def huber_grad(residuals: np.ndarray, *, delta: float = 1.0) -> np.ndarray:
    """Derivative of :func:`huber`: the residual clipped to [-delta, delta]."""
    return np.clip(np.asarray(residuals, dtype=np.float64), -delta, delta)


def squared(residuals: np.ndarray) -> np.ndarray:
    r"""Squared error :math:`\tfrac12 r^2` of each residual."""
    r = np.asarray(residuals, dtype=np.float64)
    return 0.5 * r**2


# The lecture's example: three images (cat, car, bird) scored by a fixed W. Row i = example i,
# column j = class j, i.e. the transpose of the slide's table (classes are the slide's rows).
LECTURE_CLASSES = ("cat", "car", "bird")
LECTURE_SCORES = np.array(
    [
        [3.2, 5.1, -1.7],  # a cat image
        [1.3, 4.9, 2.0],  # a car image
        [2.2, 2.5, -3.1],  # a bird image
    ]
)
LECTURE_LABELS = np.array([0, 1, 2])
