"""The one seeding scheme of the app: a page's integer seed, split into independent streams.

A page has one ``seed`` (an int in the URL). Each independent use of randomness on that page (a panel,
a data set, the noise of a scan, the trials of a Monte-Carlo study) draws from its own stream, made by
``numpy.random.SeedSequence(seed).spawn`` — so changing how much one panel draws never changes the
numbers of another, and the same seed gives the same numbers on every screen.

    rng_data, rng_noise = streams(seed, 2)
    rng = stream(seed, 3)          # the fourth stream of the same seed (same as streams(seed, 4)[3])
"""

from __future__ import annotations

import numpy as np


def streams(seed: int, n: int) -> list[np.random.Generator]:
    """``n`` independent generators for one integer seed (``SeedSequence(seed).spawn(n)``)."""
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(int(n))]


def stream(seed: int, index: int, *sub: int) -> np.random.Generator:
    """Stream number ``index`` of ``seed``: the same generator as ``streams(seed, index + 1)[index]``.

    ``sub`` picks a child of that stream (``stream(seed, 1, 40)``: child 40 of stream 1), for a family of draws
    keyed by a setting — e.g. the photon noise of a scan with 40 views — without a fixed count of siblings.
    """
    if int(seed) < 0 or int(index) < 0 or any(int(i) < 0 for i in sub):
        raise ValueError(f"seed and indices must be non-negative integers, got {seed}, {index}, {sub}")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(index), *map(int, sub))))
