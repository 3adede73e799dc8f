"""Test surfaces: analytic gradients and Hessians against central differences, published minima,
and the regularized logistic loss against scikit-learn's solver (test oracle)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regopt_core.functions import (
    SURFACE_NAMES,
    beale,
    himmelblau,
    logistic,
    make_logistic_data,
    make_surface,
    quadratic,
    rosenbrock,
    saddle,
    six_hump_camel,
)
from regopt_core.gradients import numerical_gradient


def all_surfaces():
    out = [make_surface(k, lam=0.02, rng=np.random.default_rng(3)) for k in SURFACE_NAMES]
    out.append(make_surface("logistic", lam=0.02, penalty="l1", rng=np.random.default_rng(3)))
    out.append(quadratic(1e3, 70.0, l_max=5.0, center=(1.0, -2.0)))
    return out


SURFACES = all_surfaces()
IDS = [f"{s.key}-{i}" for i, s in enumerate(SURFACES)]


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_analytic_gradient_passes_central_difference_check(surface):
    rng = np.random.default_rng(0)
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    pts = np.column_stack([rng.uniform(x_lo, x_hi, 20), rng.uniform(y_lo, y_hi, 20)])
    for p in pts:
        if surface.key == "logistic" and "L1" in surface.name:
            p = np.where(np.abs(p) < 1e-3, 0.5, p)  # stay off the kinks of |w|
        g = surface.gradient(p)
        g_num = numerical_gradient(lambda q: float(surface.value(q)), p, h=1e-6 * max(1.0, np.abs(p).max()))
        assert np.linalg.norm(g_num - g) <= 1e-6 * max(1.0, np.linalg.norm(g))
        f, g2 = surface.value_and_grad(p)
        assert f == pytest.approx(float(surface.value(p)), rel=1e-14, abs=1e-14)
        np.testing.assert_allclose(g2, g, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_analytic_hessian_matches_differences_of_the_gradient(surface):
    rng = np.random.default_rng(1)
    (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
    for p in np.column_stack([rng.uniform(x_lo, x_hi, 10), rng.uniform(y_lo, y_hi, 10)]):
        if surface.key == "logistic" and "L1" in surface.name:
            p = np.where(np.abs(p) < 1e-3, 0.5, p)
        h = 1e-6 * max(1.0, np.abs(p).max())
        hess_num = np.array([(surface.gradient(p + h * e) - surface.gradient(p - h * e)) / (2 * h) for e in np.eye(2)])
        hess = surface.hessian(p)
        np.testing.assert_allclose(hess, hess.T)
        assert np.abs(hess_num - hess).max() <= 1e-5 * max(1.0, np.abs(hess).max())


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_listed_minimizers_are_stationary_with_the_published_value(surface):
    mins = np.array(surface.minimizers)
    np.testing.assert_allclose(surface.value(mins), surface.f_min, atol=1e-9)
    assert np.abs(surface.gradient(mins)).max() < 1e-4
    # a minimum, not a saddle: positive semi-definite Hessian (smooth part for L1)
    assert np.all(np.linalg.eigvalsh(surface.hessian(mins)) > -1e-9)
    # no grid point of the window is lower than the published minimum
    g = np.linspace(*surface.bounds[0], 201)[None, :], np.linspace(*surface.bounds[1], 201)[:, None]
    assert np.min(surface.fun(*g)) >= surface.f_min - 1e-9


def test_published_minima():
    # Jamil & Yang (2013): Rosenbrock (1,1); Beale (3, 0.5); Himmelblau four zeros; camel -1.0316
    assert rosenbrock().value([1.0, 1.0]) == 0.0
    assert beale().value([3.0, 0.5]) == 0.0
    assert himmelblau().value([3.0, 2.0]) == 0.0
    np.testing.assert_allclose(himmelblau().value(np.array(himmelblau().minimizers)), 0.0, atol=1e-9)
    assert six_hump_camel().f_min == pytest.approx(-1.0316, abs=1e-4)
    s = saddle()
    np.testing.assert_allclose(s.hessian([0.0, 0.0]), np.diag([2.0, -1.0]))  # a saddle at the origin
    np.testing.assert_allclose(s.gradient([0.0, 0.0]), [0.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(kappa=st.floats(1.0, 1e6), theta=st.floats(-180, 180), l_max=st.floats(0.1, 100.0))
def test_quadratic_hessian_has_eigenvalues_L_over_kappa_and_L(kappa, theta, l_max):
    s = quadratic(kappa, theta, l_max=l_max)
    eig = np.linalg.eigvalsh(s.hessian([0.3, -0.2]))
    np.testing.assert_allclose(eig, [l_max / kappa, l_max], rtol=1e-9, atol=1e-12 * l_max)
    assert s.lipschitz == pytest.approx(l_max) and s.mu == pytest.approx(l_max / kappa)
    # f(p) = 1/2 p^T H p exactly
    p = np.array([1.5, -0.7])
    assert float(s.value(p)) == pytest.approx(0.5 * p @ s.hessian(p) @ p, rel=1e-12)


def test_quadratic_rotation_zero_is_diagonal_with_steep_y():
    s = quadratic(100.0, 0.0, l_max=100.0)
    np.testing.assert_allclose(s.hessian([0.0, 0.0]), np.diag([1.0, 100.0]), atol=1e-12)
    with pytest.raises(ValueError):
        quadratic(0.5)


# ---------------------------------------------------------------- logistic regression
def data():
    return make_logistic_data(60, rng=np.random.default_rng(0))


def sklearn_coef(X, y, lam, penalty):
    from sklearn.linear_model import LogisticRegression

    n = len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if lam == 0:
            clf = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12, max_iter=10000)
        elif penalty == "l2":  # (1/N) sum + lam ||w||^2  <=>  C sum + 1/2 ||w||^2 with C = 1/(2 lam N)
            clf = LogisticRegression(C=1 / (2 * lam * n), fit_intercept=False, tol=1e-12, max_iter=10000)
        else:  # (1/N) sum + lam ||w||_1  <=>  C sum + ||w||_1 with C = 1/(lam N)
            clf = LogisticRegression(C=1 / (lam * n), l1_ratio=1.0, solver="liblinear", fit_intercept=False,
                                     tol=1e-12, max_iter=10000)
        clf.fit(X, y)
    return clf.coef_.ravel()


@pytest.mark.parametrize(("lam", "penalty"), [(0.0, "l2"), (0.01, "l2"), (0.2, "l2"), (0.02, "l1"), (0.1, "l1")])
def test_logistic_minimizer_matches_sklearn(lam, penalty):
    X, y = data()
    s = logistic(X, y, lam=lam, penalty=penalty)
    np.testing.assert_allclose(s.minimizers[0], sklearn_coef(X, y, lam, penalty), atol=2e-5)


def test_logistic_value_is_the_mean_log_loss_plus_penalty():
    X, y = data()
    from sklearn.metrics import log_loss

    w = np.array([0.7, -1.3])
    p = 1 / (1 + np.exp(-(X @ w)))
    data_term = log_loss((y > 0).astype(int), p)
    assert float(logistic(X, y).value(w)) == pytest.approx(data_term, rel=1e-12)
    assert float(logistic(X, y, lam=0.3, penalty="l2").value(w)) == pytest.approx(data_term + 0.3 * (w @ w), rel=1e-12)
    assert float(logistic(X, y, lam=0.3, penalty="l1").value(w)) == pytest.approx(data_term + 0.3 * 2.0, rel=1e-12)


def test_l2_adds_curvature_and_pulls_the_minimizer_to_zero():
    X, y = data()
    norms, mins_eig = [], []
    for lam in (0.0, 0.01, 0.05, 0.2, 1.0):
        s = logistic(X, y, lam=lam, penalty="l2")
        w = np.array(s.minimizers[0])
        norms.append(np.linalg.norm(w))
        eig = np.linalg.eigvalsh(s.hessian(w))
        assert eig[0] >= 2 * lam - 1e-12  # the penalty's curvature 2*lam in every direction
        mins_eig.append(eig[0])
        assert s.mu == pytest.approx(2 * lam)
        # global bound: Hessian <= X^T X/(4N) + 2 lam I everywhere
        assert np.linalg.eigvalsh(s.hessian(np.array([0.0, 0.0])))[-1] <= s.lipschitz + 1e-12
    assert np.all(np.diff(norms) < 0)  # the minimizer moves towards 0 as lam grows
    assert np.all(np.diff(mins_eig) > 0)


def test_l1_zeroes_a_weight_for_large_lam():
    X, y = data()
    w = np.array(logistic(X, y, lam=0.2, penalty="l1").minimizers[0])
    ref = sklearn_coef(X, y, 0.2, "l1")
    np.testing.assert_allclose(w, ref, atol=2e-5)
    assert np.sum(np.abs(w) < 1e-10) >= 1  # sparsity: at least one exact zero


def test_logistic_input_validation_and_make_surface():
    X, y = data()
    with pytest.raises(ValueError):
        logistic(X, y, lam=-1.0)
    with pytest.raises(ValueError):
        logistic(X, y, penalty="l3")
    with pytest.raises(ValueError):
        make_surface("logistic")  # needs an rng for its data
    with pytest.raises(ValueError):
        make_surface("nope")
    a = make_surface("logistic", rng=np.random.default_rng(5))
    b = make_surface("logistic", rng=np.random.default_rng(5))
    assert a.minimizers == b.minimizers  # same seed, same data
