"""The shared iteration protocol and seeding scheme (regopt_core.iteration, regopt_core.seeding)."""

import numpy as np
import pytest

from regopt_core.iteration import DIVERGENCE_LIMIT, Convergence, diverged, notify
from regopt_core.seeding import stream, streams


def test_stream_k_is_the_kth_spawned_child():
    for seed in (0, 7, 2**31 - 1):
        kids = streams(seed, 5)
        for k in range(5):
            assert stream(seed, k).random() == kids[k].random()


def test_streams_are_independent_of_how_many_are_spawned():
    assert streams(3, 2)[1].random() == streams(3, 9)[1].random()
    assert streams(3, 2)[0].random() != streams(3, 2)[1].random()


def test_negative_seed_is_refused():
    with pytest.raises(ValueError):
        streams(-1, 2)


def test_divergence_rule():
    assert not diverged(np.array([1.0, -2.0]))
    assert diverged(np.array([1.0, np.nan]))
    assert diverged(np.array([np.inf]))
    assert diverged(np.array([2 * DIVERGENCE_LIMIT]))
    assert not diverged(np.array([0.5 * DIVERGENCE_LIMIT]))
    assert diverged(np.zeros(2), fun=float("inf"))


def test_callback_stop_and_payload():
    seen = []

    def cb(r):
        seen.append((r.nit, r.max_iter, r.fun))
        if r.nit == 2:
            raise StopIteration

    assert notify(None, np.zeros(1), 1, 5) is False
    assert notify(cb, np.zeros(1), 1, 5, fun=3.0) is False
    assert notify(cb, np.zeros(1), 2, 5) is True
    assert seen == [(1, 5, 3.0), (2, 5, None)]


def test_convergence_sentence_follows_its_numbers():
    ok = Convergence(True, "relative change", 1e-9, 1e-6, 40)
    bad = Convergence(False, "relative change", 1e-3, 1e-6, 500)
    assert "converged" in ok.sentence() and "without" not in ok.sentence()
    assert "without converging" in bad.sentence() and "500" in bad.sentence()


def test_a_child_of_a_stream_is_that_streams_spawned_child():
    """``stream(seed, i, j)`` is child ``j`` of stream ``i`` as numpy's own spawn makes it (one seeding scheme for
    keyed families of draws, e.g. the photon noise of a scan per view count)."""
    import numpy as np

    from regopt_core.seeding import stream

    children = np.random.SeedSequence(7).spawn(2)[1].spawn(41)
    want = np.random.default_rng(children[40]).standard_normal(5)
    assert np.array_equal(stream(7, 1, 40).standard_normal(5), want)
    assert not np.array_equal(stream(7, 1, 40).standard_normal(5), stream(7, 1, 39).standard_normal(5))
