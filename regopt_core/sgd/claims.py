"""The SGD page's sentences about its results, worded from the numbers they sit next to.

Each function takes the result a section shows and returns one sentence whose verbs follow the sign and
size of the numbers (a difference smaller than the stated tolerance reads "about the same"). Tests sweep
settings and check each sentence against the numbers.
"""

from __future__ import annotations

import numpy as np

from regopt_core.sgd.floor import NoiseFloor
from regopt_core.sgd.loop import BatchComparison
from regopt_core.sgd.noise import GradientNoise
from regopt_core.sgd.page import UpdatesView

__all__ = ["ACCURACY_TIE_PP", "LOSS_TIE", "label", "compare_word", "loss_at_equal_epochs", "what_a_bigger_batch_buys",
           "noise_falls", "floor_rises"]

ACCURACY_TIE_PP = 0.5
"""Accuracy differences below this many percentage points read as "about as accurate"."""
LOSS_TIE = 0.01
"""Relative loss differences below this read as "about the same loss"."""


def label(batch_size: int, n_samples: int) -> str:
    return f"B = {batch_size} (full)" if batch_size >= n_samples else f"B = {batch_size}"


def compare_word(diff: float, tie: float, more: str, less: str, same: str) -> str:
    """``more`` when diff > tie, ``less`` when diff < -tie, else ``same``."""
    if diff > tie:
        return more
    if diff < -tie:
        return less
    return same


def loss_at_equal_epochs(runs: BatchComparison, epochs: int) -> str:
    """Which batch size ends with the lowest training loss after the same epochs, and by how much."""
    ok = [t for t in runs.traces if not t.diverged]
    if not ok:
        return f"Every run diverged within {epochs} epochs."
    best = min(ok, key=lambda t: t.fun)
    if len(ok) == 1:
        return f"After {epochs} epochs {label(best.batch_size, best.n_samples)} ends at a training loss of {best.fun:.3g}."
    worst = max(ok, key=lambda t: t.fun)
    rel = (worst.fun - best.fun) / max(abs(best.fun), 1e-300)
    if rel <= LOSS_TIE:
        return (f"After {epochs} epochs every batch size ends at about the same training loss "
                f"({best.fun:.3g}–{worst.fun:.3g}).")
    return (f"After {epochs} epochs {label(best.batch_size, best.n_samples)} reaches the lowest training loss "
            f"({best.fun:.3g}), {label(worst.batch_size, worst.n_samples)} the highest ({worst.fun:.3g}, "
            f"{worst.fun / best.fun:.2g}× as high).")


def what_a_bigger_batch_buys(by_epochs: BatchComparison, by_updates: UpdatesView, epochs: int) -> str:
    """The largest against the smallest batch size, at equal epochs and at equal updates (held-out accuracy)."""
    sizes = by_epochs.batch_sizes
    if len(sizes) < 2:
        return "Pick at least two batch sizes to compare them."
    N = by_epochs.traces[0].n_samples
    small, big = label(sizes[0], N), label(sizes[-1], N)
    d_e = 100 * (by_epochs.test_accuracy[-1] - by_epochs.test_accuracy[0])
    d_u = 100 * (by_updates.accuracy[-1] - by_updates.accuracy[0])

    def part(d: float, clock: str) -> str:
        word = compare_word(d, ACCURACY_TIE_PP, f"{abs(d):.1f} points more accurate than",
                            f"{abs(d):.1f} points less accurate than", "about as accurate as")
        if word == "about as accurate as" and d != 0:
            word += f" ({d:+.1f} points)"
        return f"at {clock} {big} is {word} {small}"

    return (part(d_u, f"equal updates ({by_updates.n_steps})").capitalize() + "; "
            + part(d_e, f"equal epochs ({epochs})") + ".")


def noise_falls(noise: GradientNoise, b_small: int = 1, b_large: int | None = None) -> str:
    """How much the measured minibatch-gradient variance falls from ``b_small`` to ``b_large`` (default:
    the largest measured size below N), next to the formula's factor."""
    B = noise.batch_sizes
    below = B[B < noise.n_samples]
    if b_large is None:
        b_large = int(below.max()) if len(below) else int(B.max())
    i, j = list(B).index(b_small), list(B).index(b_large)
    m = noise.variance[i] / noise.variance[j] if noise.variance[j] > 0 else np.inf
    t = noise.theory[i] / noise.theory[j] if noise.theory[j] > 0 else np.inf
    word = compare_word(m, 1.0, "falls", "rises", "stays")
    return (f"From B = {b_small} to B = {b_large} the measured variance {word} by a factor of {m:.3g} "
            f"(the formula: {t:.3g}).")


def floor_rises(fl: NoiseFloor) -> str:
    """The measured floor at the largest against the smallest η/B, next to the small-step law."""
    ok = np.isfinite(fl.excess_mean)
    if ok.sum() < 2:
        return "Too few stable (η, B) pairs to compare floors."
    x, y = fl.lr_over_b[ok], fl.excess_mean[ok]
    lo, hi = int(np.argmin(x)), int(np.argmax(x))
    r = y[hi] / y[lo]
    word = compare_word(r - 1.0, 0.0, "higher", "lower", "equal")
    return (f"The measured floor at the largest η/B ({x[hi]:.2g}) is {r:.3g}× the one at the smallest "
            f"({x[lo]:.2g}), {word}; the small-step law tr(C)/4 · η/B predicts {x[hi] / x[lo]:.3g}×.")
