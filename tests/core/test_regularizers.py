"""Regularizers: values per the lecture's definitions; prox operators checked against scipy.optimize."""

import numpy as np
import pytest
from scipy.optimize import minimize

from regopt_core import regularizers as R


def test_values_follow_the_lecture_definitions():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert R.l2(1.0).value(w) == pytest.approx(1 + 4 + 0.25)
    assert R.l1(1.0).value(w) == pytest.approx(3.5)
    assert R.elastic_net(2.0, 0.25).value(w) == pytest.approx(2 * (0.25 * 3.5 + 0.75 * 5.25))


@pytest.mark.parametrize("reg", [R.l2(0.7), R.l1(0.7), R.elastic_net(0.7, 0.3)], ids=["l2", "l1", "enet"])
def test_prox_is_the_argmin_of_the_prox_problem(reg):
    rng = np.random.default_rng(0)
    for _ in range(5):
        v = rng.normal(size=3) * 2
        t = 0.6
        obj = lambda w: 0.5 * np.sum((w - v) ** 2) + t * reg.value(w)  # noqa: E731
        best = minimize(obj, v, method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-12, maxiter=20000)).x
        assert obj(reg.prox(v, t)) <= obj(best) + 1e-8


def test_l1_prox_sets_small_entries_exactly_to_zero():
    out = R.l1(1.0).prox(np.array([0.3, -0.9, 2.0]), 1.0)
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0])


def test_l2_gradient_and_prox_consistency():
    w = np.array([1.0, -3.0])
    np.testing.assert_allclose(R.l2(0.5).grad(w), [1.0, -3.0])
    np.testing.assert_allclose(R.l2(0.5).prox(w, 1.0), w / 2.0)


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError):
        R.l2(-1.0)
    with pytest.raises(ValueError):
        R.elastic_net(1.0, 1.5)
    with pytest.raises(ValueError):
        R.make("l3", 1.0)
