"""Losses against the lecture's published numbers, closed forms and finite differences."""

import numpy as np
import pytest
from scipy.special import logsumexp

from regopt_core import losses


def test_lecture_table_hinge_losses():
    li = losses.multiclass_hinge(losses.LECTURE_SCORES, losses.LECTURE_LABELS)
    np.testing.assert_allclose(li, [2.9, 0.0, 12.9], atol=1e-12)
    assert li.mean() == pytest.approx(5.27, abs=0.005)


def test_hinge_by_hand_for_the_cat_image():
    # max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1) = 2.9 + 0
    s = np.array([[3.2, 5.1, -1.7]])
    assert losses.multiclass_hinge(s, np.array([0]))[0] == pytest.approx(2.9)
    assert losses.multiclass_hinge(s, np.array([0]), margin=0.0)[0] == pytest.approx(1.9)


def test_hinge_is_zero_when_true_class_wins_by_margin_and_scaling_keeps_it_zero():
    s = np.array([[3.0, 1.0, 0.5]])
    for c in [1.0, 2.0, 10.0]:
        assert losses.multiclass_hinge(c * s, np.array([0]))[0] == 0.0
    assert losses.multiclass_hinge(0.2 * s, np.array([0]))[0] > 0


def test_softmax_cross_entropy_matches_logsumexp_and_is_stable():
    rng = np.random.default_rng(1)
    s = rng.normal(size=(20, 7)) * 5
    y = rng.integers(0, 7, size=20)
    expected = logsumexp(s, axis=1) - s[np.arange(20), y]
    np.testing.assert_allclose(losses.softmax_cross_entropy(s, y), expected, rtol=1e-12)
    big = np.array([[1000.0, 0.0, -1000.0]])
    assert np.isfinite(losses.softmax_cross_entropy(big, np.array([2])))[0]
    assert losses.softmax_cross_entropy(big, np.array([2]))[0] == pytest.approx(2000.0)


def test_uniform_scores_give_log_k():
    k = 10
    assert losses.softmax_cross_entropy(np.zeros((1, k)), np.array([3]))[0] == pytest.approx(np.log(k))


def _fd_grad(f, s, h=1e-6):
    g = np.zeros_like(s)
    for idx in np.ndindex(s.shape):
        e = np.zeros_like(s)
        e[idx] = h
        g[idx] = (f(s + e) - f(s - e)) / (2 * h)
    return g


def test_softmax_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    s = rng.normal(size=(4, 5))
    y = rng.integers(0, 5, size=4)
    num = _fd_grad(lambda z: losses.softmax_cross_entropy(z, y).sum(), s)
    np.testing.assert_allclose(losses.softmax_cross_entropy_grad(s, y), num, atol=1e-7)


def test_hinge_subgradient_matches_finite_differences_away_from_kinks():
    rng = np.random.default_rng(3)
    s = rng.normal(size=(6, 4)) * 2
    y = rng.integers(0, 4, size=6)
    gaps = s - s[np.arange(6), y][:, None] + 1.0
    gaps[np.arange(6), y] = 1.0
    assert np.min(np.abs(gaps)) > 1e-3, "the test point must be away from the hinge's kinks"
    num = _fd_grad(lambda z: losses.multiclass_hinge(z, y).sum(), s, h=1e-7)
    np.testing.assert_allclose(losses.multiclass_hinge_grad(s, y), num, atol=1e-5)
    assert np.any(losses.multiclass_hinge_grad(s, y) != 0), "some margins are violated at this point"


def test_huber_is_quadratic_inside_linear_outside_and_continuous():
    r = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(losses.huber(r, delta=1.0), [2.5, 0.5, 0.0, 0.125, 0.5, 1.5])
    num = _fd_grad(lambda z: losses.huber(z, delta=1.0).sum(), np.array([-3.0, 0.3, 2.0]))
    np.testing.assert_allclose(losses.huber_grad(np.array([-3.0, 0.3, 2.0])), num, atol=1e-6)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError):
        losses.multiclass_hinge(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
