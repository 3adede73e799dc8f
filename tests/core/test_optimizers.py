"""Optimizers against closed forms: stability thresholds, contraction rates, Adam's invariances.

References: GD on a quadratic converges iff eta < 2/L and eta = 2/(mu+L) contracts by
(kappa-1)/(kappa+1) (Nesterov 2004, Thm 2.1.15); heavy ball v <- beta v - eta grad is stable iff
eta < 2(1+beta)/L (Polyak 1964); Nesterov with constant beta iff eta < 2(1+beta)/((1+2beta)L);
Adam's first step is -alpha sign(g) (Kingma & Ba 2015, Sec. 2.1).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regopt_core.iteration import DIVERGENCE_LIMIT, Intermediate, diverged
from regopt_core.optimizers import (
    OPTIMIZER_NAMES,
    Optimizer,
    adagrad,
    adam,
    gd,
    make_optimizer,
    momentum,
    nesterov,
    rmsprop,
    run,
)

H = np.diag([1.0, 100.0])  # mu = 1, L = 100, kappa = 100
X0 = np.array([1.0, 1.0])


def quad_vg(hess: np.ndarray):
    def value_and_grad(x):
        g = hess @ x
        return 0.5 * float(x @ g), g

    return value_and_grad


def rosenbrock_vg(x):
    # f = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1) (Rosenbrock 1960)
    a, b = x
    f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    return f, np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


# ---------------------------------------------------------------- gradient descent thresholds
def test_gd_converges_just_below_2_over_L_and_diverges_just_above():
    below = run(gd(0.0199), quad_vg(H), X0, n_steps=5000)
    above = run(gd(0.0201), quad_vg(H), X0, n_steps=5000)
    assert not below.diverged
    assert np.linalg.norm(below.x) < 1e-12
    # the stiff coordinate grows by |1 - 0.0201 * 100| = 1.01 per step, so f_k = 50 * 1.01^(2k)
    # (+ a vanishing term): the loss passes the bound 1e12 at k = ln(1e12/50) / (2 ln 1.01) ~ 1192
    assert above.diverged
    expected = np.log(1e12 / 50.0) / (2 * np.log(1.01))
    assert abs(above.diverged_at - np.ceil(expected)) <= 1
    assert "diverged at step" in above.message
    assert above.nit == above.diverged_at - 1
    assert len(above.fs) == above.nit + 1 and np.all(np.isfinite(above.fs))


def test_gd_optimal_step_contracts_by_kappa_ratio():
    kappa = 100.0
    eta = 2.0 / (1.0 + 100.0)
    tr = run(gd(eta), quad_vg(H), np.array([3.0, -2.0]), n_steps=50)
    dist = np.linalg.norm(tr.xs, axis=1)
    ratios = dist[1:] / dist[:-1]
    np.testing.assert_allclose(ratios, (kappa - 1) / (kappa + 1), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    eig=st.lists(st.floats(0.1, 10.0), min_size=2, max_size=5),
    frac=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**16),
)
def test_gd_converges_on_any_spd_quadratic_below_threshold(eig, frac, seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((len(eig), len(eig))))
    hess = q @ np.diag(eig) @ q.T
    eta = frac * 2.0 / max(eig)
    x0 = rng.standard_normal(len(eig))
    tr = run(gd(eta), quad_vg(hess), x0, n_steps=3000)
    # the slowest mode contracts by max|1 - eta*lambda| < 1
    rate = max(abs(1 - eta * e) for e in eig)
    assert np.linalg.norm(tr.x) <= rate**3000 * np.linalg.norm(x0) * (1 + 1e-6) + 1e-300


# ---------------------------------------------------------------- momentum thresholds
@pytest.mark.parametrize(
    ("factory", "threshold"),
    [
        (momentum, 2 * (1 + 0.9) / 100),  # heavy ball: 2(1+beta)/L = 0.038
        (nesterov, 2 * (1 + 0.9) / ((1 + 2 * 0.9) * 100)),  # Nesterov: 2(1+beta)/((1+2beta)L)
    ],
)
def test_momentum_stable_below_and_unstable_above_threshold(factory, threshold):
    below = run(factory(0.99 * threshold, beta=0.9), quad_vg(H), X0, n_steps=4000)
    above = run(factory(1.01 * threshold, beta=0.9), quad_vg(H), X0, n_steps=4000)
    assert not below.diverged
    assert np.linalg.norm(below.x) < 1e-6
    assert above.diverged


def test_heavy_ball_matches_two_step_recurrence():
    # x_{k+1} = x_k - eta grad f(x_k) + beta (x_k - x_{k-1}), x_{-1} = x_0
    eta, beta = 0.01, 0.8
    tr = run(momentum(eta, beta), quad_vg(H), X0, n_steps=30)
    prev, x = X0.copy(), X0.copy()
    for k in range(1, 31):
        prev, x = x, x - eta * (H @ x) + beta * (x - prev)
        np.testing.assert_allclose(tr.xs[k], x, rtol=1e-12, atol=1e-15)


def test_nesterov_iterates_are_textbook_look_ahead_points():
    # textbook NAG: y_k = x_k + beta (x_k - x_{k-1}); x_{k+1} = y_k - eta grad f(y_k); y_0 = x_0.
    # The (init, update) form tracks y_k (Sutskever et al. 2013, Sec. 2).
    eta, beta = 1e-3, 0.9
    tr = run(nesterov(eta, beta), rosenbrock_vg, np.array([-1.2, 1.0]), n_steps=40)
    x_prev = x = np.array([-1.2, 1.0])
    for k in range(40):
        y = x + beta * (x - x_prev)
        np.testing.assert_allclose(tr.xs[k], y, rtol=1e-12, atol=1e-14)
        x_prev, x = x, y - eta * rosenbrock_vg(y)[1]


# ---------------------------------------------------------------- Adam
def test_adam_first_step_is_minus_alpha_sign_g():
    g = np.array([3e-6, -250.0, 0.7, -1e4])
    opt = adam(0.05, eps=0.0)
    updates, state = opt.update(g, opt.init(np.zeros(4)), np.zeros(4))
    np.testing.assert_allclose(updates, -0.05 * np.sign(g), rtol=1e-12)
    assert state.count == 1
    # with the default eps the first step is -alpha g/(|g| + eps): sign(g) up to eps/|g|
    updates_eps, _ = adam(0.05).update(g, adam(0.05).init(np.zeros(4)), np.zeros(4))
    np.testing.assert_allclose(updates_eps, -0.05 * np.sign(g), rtol=1e-2)


def test_adam_with_eps_zero_is_invariant_to_loss_scale():
    opt = adam(0.1, eps=0.0)
    base = run(opt, rosenbrock_vg, np.array([-1.2, 1.0]), n_steps=300)

    def scaled(x):
        f, g = rosenbrock_vg(x)
        return 1000.0 * f, 1000.0 * g

    tr = run(opt, scaled, np.array([-1.2, 1.0]), n_steps=300)
    np.testing.assert_allclose(tr.xs, base.xs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tr.fs, 1000.0 * base.fs, rtol=1e-9, atol=1e-12)


def test_adam_with_eps_zero_and_zero_gradient_takes_no_step():
    opt = adam(0.1, eps=0.0)
    updates, _ = opt.update(np.array([0.0, 2.0]), opt.init(np.zeros(2)), np.zeros(2))
    np.testing.assert_allclose(updates, [0.0, -0.1], rtol=1e-12, atol=0)


def test_adagrad_and_rmsprop_first_steps():
    g = np.array([4.0, -0.01])
    u, _ = adagrad(0.3, eps=0.0).update(g, adagrad(0.3).init(g), g)
    np.testing.assert_allclose(u, -0.3 * np.sign(g))  # g / sqrt(g^2)
    u, _ = rmsprop(0.3, decay=0.9, eps=0.0).update(g, rmsprop(0.3).init(g), g)
    np.testing.assert_allclose(u, -0.3 * np.sign(g) / np.sqrt(0.1))  # g / sqrt(0.1 g^2)


# ---------------------------------------------------------------- every optimizer, parabola and Rosenbrock
PARABOLA_SETTINGS = {
    "gd": (0.01, 0.9),
    "momentum": (0.005, 0.9),
    "nesterov": (0.005, 0.9),
    "adagrad": (0.5, 0.9),
    "rmsprop": (0.01, 0.9),
    "adam": (0.05, 0.9),
}

ROSENBROCK_SETTINGS = {  # (learning rate, beta, steps); start (-1.2, 1), the classic one
    "gd": (1e-3, 0.9, 20000),
    "momentum": (2e-4, 0.9, 10000),
    "nesterov": (2e-4, 0.9, 10000),
    "adagrad": (0.5, 0.9, 10000),
    "rmsprop": (2e-4, 0.9, 20000),  # constant-step RMSProp hovers ~eta around the minimum
    "adam": (2e-2, 0.9, 10000),
}


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_every_optimizer_reaches_the_parabola_minimum(name):
    lr, beta = PARABOLA_SETTINGS[name]
    minimizer = np.array([2.0, -1.0])

    def vg(x):
        d = x - minimizer
        g = H @ d
        return 0.5 * float(d @ g), g

    tr = run(make_optimizer(name, lr, beta=beta), vg, np.array([-3.0, 2.0]), n_steps=5000)
    assert not tr.diverged
    assert np.linalg.norm(tr.x - minimizer) < 1e-3
    assert tr.fun < 1e-6


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_every_optimizer_reaches_the_rosenbrock_minimum(name):
    lr, beta, n = ROSENBROCK_SETTINGS[name]
    tr = run(make_optimizer(name, lr, beta=beta), rosenbrock_vg, np.array([-1.2, 1.0]), n_steps=n)
    assert not tr.diverged
    assert np.linalg.norm(tr.x - 1.0) < 1e-2
    assert tr.fun < 1e-4


# ---------------------------------------------------------------- the loop
def test_run_stops_on_overflow_without_raising():
    def explode(x):
        return float(np.exp(x @ x)), 2 * x * np.exp(x @ x)

    tr = run(gd(10.0), explode, np.array([1.0, 1.0]), n_steps=100)
    assert tr.diverged and tr.diverged_at is not None
    assert np.all(np.isfinite(tr.xs)) and np.all(np.isfinite(tr.fs))


def test_run_callback_is_scipy_style_and_stops_with_stop_iteration():
    # old code: callback(k, x, f, g) -- now the one signature of regopt_core.iteration
    seen = []

    def stop_at_5(im: Intermediate):
        seen.append((im.nit, im.max_iter, im.fun, im.x.copy()))
        if im.nit == 5:
            raise StopIteration

    tr = run(gd(0.01), quad_vg(H), X0, n_steps=100, callback=stop_at_5)
    assert tr.nit == 5 and not tr.diverged and "callback" in tr.message and not tr.success
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5] and seen[0][1] == 100
    np.testing.assert_array_equal(seen[-1][3], tr.x)
    assert seen[-1][2] == tr.fun


def test_tol_stops_early_and_convergence_reports_the_gradient_norm():
    tr = run(gd(0.01), quad_vg(H), X0, n_steps=100_000, tol=1e-8)
    assert tr.grad_norms[-1] <= 1e-8 < tr.grad_norms[-2]
    assert tr.success
    c = tr.convergence
    assert c.converged and c.criterion.startswith("gradient norm") and c.tol == 1e-8 and c.nit == tr.nit
    assert c.value == tr.grad_norms[-1]
    # not converged: the step limit comes first; GD eta = 0.01 on diag(1, 100): slow mode shrinks 0.99x per step
    short = run(gd(0.01), quad_vg(H), X0, n_steps=50, tol=1e-8).convergence
    assert not short.converged and short.value == pytest.approx(np.hypot(0.99**50, 0.0), rel=1e-9)


def test_run_raises_on_invalid_arguments_instead_of_clipping():
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError):
            run(gd(0.01), quad_vg(H), X0, n_steps=bad)
    with pytest.raises(ValueError):
        run(gd(0.01), quad_vg(H), X0, tol=-1.0)


def test_a_diverged_start_is_recorded_at_step_0():
    # old code raised ValueError; loops record divergence, they do not raise
    tr = run(gd(0.01), quad_vg(H), np.array([np.inf, 0.0]), n_steps=10)
    assert tr.diverged and tr.diverged_at == 0 and tr.nit == 0 and "at the start" in tr.message


def test_the_divergence_rule_is_iteration_diverged():
    # an iterate just past the bound is diverged, one just inside is not (regopt_core.iteration.diverged)
    def flat(x):
        return 0.0, np.array([-1.0, 0.0])  # constant slope: x moves by eta per step

    tr = run(gd(1.0), flat, np.array([DIVERGENCE_LIMIT - 3.0, 0.0]), n_steps=10, bound=DIVERGENCE_LIMIT)
    assert tr.diverged_at == 4 and tr.x[0] == DIVERGENCE_LIMIT  # 3 steps stay <= limit, the 4th leaves
    assert diverged(tr.x + [1.0, 0.0]) and not diverged(tr.x)


def test_each_hyper_parameter_means_one_thing():
    # old code: make_optimizer's one beta was momentum's beta, RMSProp's rho and Adam's beta1 at once
    g = np.array([1.0, -2.0])
    p = np.zeros(2)
    for name in ("rmsprop", "adam"):
        a, b = make_optimizer(name, 0.1, beta=0.1), make_optimizer(name, 0.1, beta=0.9)
        ua, sa = a.update(g, a.init(p), p)
        ub, sb = b.update(g, b.init(p), p)
        ua2, _ = a.update(g, sa, p)
        ub2, _ = b.update(g, sb, p)
        np.testing.assert_array_equal(ua2, ub2)  # beta (momentum) does not touch RMSProp or Adam
    # rho is RMSProp's: s_1 = (1 - rho) g^2, step -eta g / sqrt(s_1)
    u, _ = make_optimizer("rmsprop", 0.1, rho=0.5).update(g, rmsprop(0.1).init(p), p)
    np.testing.assert_allclose(u, -0.1 * g / np.sqrt(0.5 * g * g), rtol=1e-6)
    # beta1/beta2 are Adam's: two steps with beta1 = 0 are plain RMS-normalised steps of the last gradient
    opt = make_optimizer("adam", 0.1, beta1=0.0, beta2=0.5)
    u1, st = opt.update(g, opt.init(p), p)
    u2, _ = opt.update(2 * g, st, p)
    v2 = (0.5 * 0.5 * g**2 + 0.5 * 4 * g**2) / (1 - 0.25)
    np.testing.assert_allclose(u2, -0.1 * 2 * g / (np.sqrt(v2) + 1e-8), rtol=1e-6)
    assert make_optimizer("momentum", 0.1, beta=0.5, rho=0.1, beta1=0.2).update(g, momentum(0.1).init(p), p)[0] \
        .tolist() == (-0.1 * g).tolist()


def test_run_keeps_path_only_for_small_problems_and_pair_is_pure():
    hess = np.eye(650)
    tr = run(gd(0.5), quad_vg(hess), np.ones(650), n_steps=10)
    assert tr.xs is None and tr.fs.shape == (11,) and tr.grad_norms.shape == (11,)
    np.testing.assert_allclose(tr.fs, 0.5 * 650 * 0.25 ** np.arange(11))
    tr = run(gd(0.5), quad_vg(hess), np.ones(650), n_steps=10, keep_path=True)
    assert tr.xs.shape == (11, 650)
    # every factory returns an (init, update) pair; updates do not mutate their inputs
    for name in OPTIMIZER_NAMES:
        opt = make_optimizer(name, 0.1)
        assert isinstance(opt, Optimizer)
        p, g = np.ones(3), np.array([1.0, -2.0, 3.0])
        state = opt.init(p)
        opt.update(g, state, p)
        np.testing.assert_array_equal(g, [1.0, -2.0, 3.0])
    with pytest.raises(ValueError):
        make_optimizer("lbfgs", 0.1)


def test_run_treats_python_float_overflow_as_divergence():
    def pyfloat(x):  # Python floats raise OverflowError on 1e200 ** 2 instead of returning inf
        a, b = float(x[0]), float(x[1])
        return a**2 + b**2, np.array([2 * a, 2 * b])

    tr = run(gd(1e100), pyfloat, np.array([1.0, 1.0]), n_steps=10, bound=1e300)
    assert tr.diverged and tr.diverged_at == 2 and "overflowed" in tr.message


@pytest.mark.parametrize("lr", [0.5, 2.5])  # 2.5 > 2/L = 2: the run diverges
def test_small_vector_fast_path_gives_the_general_loop_s_results(lr):
    """Up to SMALL_DIM parameters ``run`` takes norms with math.hypot of Python floats; a (2, 1)-shaped start takes
    the general numpy path: same iterates, same divergence step, grad norms equal to rounding."""
    from regopt_core.optimizers import SMALL_DIM

    h = np.array([1.0, 0.25])

    def vg(x):
        return 0.5 * float(np.sum(h * np.ravel(x) ** 2)), h.reshape(np.shape(x)) * x

    assert SMALL_DIM >= 2
    a = run(gd(lr), vg, np.array([3.0, -2.0]), n_steps=400)
    b = run(gd(lr), vg, np.array([[3.0], [-2.0]]), n_steps=400)
    assert a.diverged == b.diverged and a.diverged_at == b.diverged_at and a.nit == b.nit
    np.testing.assert_array_equal(a.xs, b.xs)
    np.testing.assert_allclose(a.grad_norms, b.grad_norms, rtol=1e-15)
