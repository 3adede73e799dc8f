"""Finite differences against Taylor's theorem: O(h) forward, O(h^2) central, then the round-off rise
(Nocedal & Wright 2006, Sec. 8.1)."""

from __future__ import annotations

import numpy as np
import pytest

from regopt_core.functions import rosenbrock, six_hump_camel
from regopt_core.gradients import EPS, check_gradient, finite_difference_sweep, numerical_gradient


def test_numerical_gradient_on_a_cubic_has_the_taylor_error_terms():
    # f(x) = sum x_i^3: forward error = 3 x_i h + h^2 exactly, central error = h^2 exactly
    x = np.array([0.5, -2.0, 1.5])
    h = 1e-3

    def f(v):
        return float(np.sum(v**3))

    g = 3 * x**2
    # (up to round-off, eps |f| / h ~ 1e-11)
    np.testing.assert_allclose(numerical_gradient(f, x, h=h, scheme="forward") - g, 3 * x * h + h * h, atol=1e-10)
    np.testing.assert_allclose(numerical_gradient(f, x, h=h, scheme="central") - g, h * h, atol=1e-10)


def test_numerical_gradient_counts_evaluations():
    calls = []

    def f(v):
        calls.append(1)
        return float(v @ v)

    numerical_gradient(f, np.ones(7), scheme="forward")
    assert len(calls) == 8  # d + 1
    calls.clear()
    res = check_gradient(f, lambda v: 2 * v, np.ones(7), scheme="central")
    assert len(calls) == 14 and res.n_evals == 14  # 2 d
    assert res.passed and res.rel_error < 1e-9


def test_check_gradient_catches_a_wrong_gradient():
    s = rosenbrock()

    def wrong(p):  # a typical bug: a factor 2 dropped in df/dx
        g = s.gradient(p)
        return np.array([g[0] / 2, g[1]])

    bad = check_gradient(lambda p: float(s.value(p)), wrong, np.array([-1.2, 1.0]))
    good = check_gradient(lambda p: float(s.value(p)), s.gradient, np.array([-1.2, 1.0]))
    assert not bad.passed and bad.rel_error > 1e-2
    assert good.passed and good.rel_error < 1e-8
    with pytest.raises(ValueError):
        numerical_gradient(float, np.ones(2), scheme="backward")


@pytest.mark.parametrize("surface", [rosenbrock(), six_hump_camel()], ids=["rosenbrock", "camel"])
def test_error_falls_as_h_and_h_squared_then_rises_with_roundoff(surface):
    sweep = finite_difference_sweep(surface.value, surface.gradient, np.array([-1.2, 0.8]))
    assert sweep.slope_forward == pytest.approx(1.0, abs=0.1)
    assert sweep.slope_central == pytest.approx(2.0, abs=0.1)
    # the best steps sit near sqrt(eps) ~ 1e-8 (forward) and eps^(1/3) ~ 6e-6 (central), within ~2 decades
    assert 1e-10 <= sweep.h_best_forward <= 1e-6
    assert 1e-7 <= sweep.h_best_central <= 1e-4
    # central differences reach a smaller error than forward ones
    assert sweep.min_err_central < sweep.min_err_forward
    # below the optimum round-off dominates: the error grows again, roughly like eps |f| / h
    tiny = sweep.hs < 1e-12
    assert np.all(sweep.err_central[tiny] > 10 * sweep.min_err_central)
    ratio = sweep.err_central[tiny] / sweep.roundoff[tiny]
    assert np.all((ratio > 1e-2) & (ratio < 1e2))
    np.testing.assert_allclose(sweep.roundoff, EPS * sweep.f_abs / (sweep.hs * sweep.g_norm))


def test_slope_window_adapts_when_round_off_invades_at_f_of_a_million():
    # f = 1e6 + e^x + e^y at 0: grad = (1, 1), f'' = f''' = 1, so forward error = h/2 and central = h^2/6 per
    # coordinate, while round-off is ~ eps * 1e6 / h. The old fixed window [1e-4, 1e-2] gave a central slope of
    # 1.26 here (round-off dominates its lower half); the window chosen from the data gives 2.
    def f(p):
        return 1e6 + np.exp(p[..., 0]) + np.exp(p[..., 1])

    sweep = finite_difference_sweep(f, lambda p: np.exp(np.asarray(p)), np.zeros(2))
    assert sweep.f_abs == pytest.approx(1e6 + 2)
    assert sweep.slope_forward == pytest.approx(1.0, abs=0.05)
    assert sweep.slope_central == pytest.approx(2.0, abs=0.05)
    # inside each window the error is truncation: within 5 % of the Taylor term
    lo, hi = sweep.window_central
    inside = (sweep.hs >= lo) & (sweep.hs <= hi)
    np.testing.assert_allclose(sweep.err_central[inside], sweep.hs[inside] ** 2 / 6, rtol=0.05)
    lo, hi = sweep.window_forward
    inside = (sweep.hs >= lo) & (sweep.hs <= hi)
    np.testing.assert_allclose(sweep.err_forward[inside], sweep.hs[inside] / 2, rtol=0.05)
    assert lo >= 1e-5  # below ~2e-5 round-off meets truncation for forward differences


def test_no_slope_where_truncation_never_beats_round_off():
    # a quadratic has f''' = 0: central differences are exact up to rounding, so there is no power law to fit
    def f(p):
        return 0.5 * (p[..., 0] ** 2 + 3 * p[..., 1] ** 2)

    sweep = finite_difference_sweep(f, lambda p: np.array([p[0], 3 * p[1]]), np.array([1.0, -1.0]))
    assert sweep.window_central is None and np.isnan(sweep.slope_central)
    assert sweep.slope_forward == pytest.approx(1.0, abs=0.05)
