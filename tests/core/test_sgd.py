"""Minibatch SGD, gradient noise and noise floor, checked against closed forms and oracles."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime

from regopt_core import sgd


@pytest.fixture(scope="module")
def diabetes():
    X, y, _ = sgd.diabetes_pair()
    return sgd.least_squares(X, y)


@pytest.fixture(scope="module")
def digits():
    sp = sgd.digits_split()
    return sp, sgd.softmax_regression(sp.X_train, sp.y_train, n_classes=sp.n_classes, lam=1e-3)


# ----------------------------------------------------------------------------- gradient noise


def test_without_replacement_halves_variance_at_half_the_data():
    # N = 1000 per-example gradients; at B = 500 the finite-population factor (N-B)/(N-1) = 0.5005.
    g = np.random.default_rng(0).standard_normal(1000) * 3.0 + 1.0
    sigma2 = g.var()
    draws_with = sgd.sample_minibatch_gradients(g, batch_size=500, n_draws=20000, replace=True,
                                                rng=np.random.default_rng(1))
    draws_without = sgd.sample_minibatch_gradients(g, batch_size=500, n_draws=20000, replace=False,
                                                   rng=np.random.default_rng(2))
    v_with = np.mean((draws_with - g.mean()) ** 2)
    v_without = np.mean((draws_without - g.mean()) ** 2)
    assert v_with == pytest.approx(sigma2 / 500, rel=0.04)
    assert v_without == pytest.approx(sigma2 / 500 * 500 / 999, rel=0.04)
    assert v_with / v_without == pytest.approx(999 / 500, rel=0.05)  # "differ by 2x"


@pytest.mark.parametrize("replace", [True, False])
def test_measured_variance_follows_theory_for_all_batch_sizes(replace):
    g = np.random.default_rng(3).exponential(size=(1000, 3))  # skewed, 3-D gradients
    noise = sgd.measure_gradient_noise(g, batch_sizes=np.array([1, 10, 100, 500, 900]), n_draws=5000,
                                       replace=replace, rng=np.random.default_rng(4))
    sigma2 = np.sum(g.var(axis=0))  # trace of the per-example covariance
    B = noise.batch_sizes
    expected = sigma2 / B * ((1000 - B) / 999 if not replace else 1.0)
    np.testing.assert_allclose(noise.theory, expected, rtol=1e-12)
    np.testing.assert_allclose(noise.variance, expected, rtol=0.07)


def test_full_batch_without_replacement_has_no_noise():
    g = np.random.default_rng(5).standard_normal((50, 2))
    draws = sgd.sample_minibatch_gradients(g, batch_size=50, n_draws=10, replace=False,
                                           rng=np.random.default_rng(0))
    np.testing.assert_allclose(draws, np.broadcast_to(g.mean(axis=0), draws.shape), atol=1e-14)
    assert sgd.minibatch_variance_theory(1.0, 50, 50, replace=False) == 0.0


def test_finite_population_formula_matches_enumeration_of_all_subsets():
    # Cochran's formula checked against the exact variance over all C(7, 3) = 35 subsets.
    values = np.array([0.3, -1.2, 2.5, 0.0, 4.1, -0.7, 1.9])
    N, B = len(values), 3
    means = np.array([values[list(s)].mean() for s in itertools.combinations(range(N), B)])
    exact = np.mean((means - values.mean()) ** 2)
    assert sgd.minibatch_variance_theory(values.var(), N, B, replace=False) == pytest.approx(exact, rel=1e-12)
    # and the sampler draws the subsets uniformly
    g = np.eye(N)  # a minibatch mean of one-hot rows reveals the subset
    draws = sgd.sample_minibatch_gradients(g, batch_size=B, n_draws=35000, replace=False,
                                           rng=np.random.default_rng(6))
    keys, counts = np.unique(np.rint(draws * B).astype(int), axis=0, return_counts=True)
    assert len(keys) == 35 and np.all(keys.sum(axis=1) == B)
    assert counts.min() > 0.85 * 1000 and counts.max() < 1.15 * 1000


def test_real_data_gradient_noise(diabetes):
    g = diabetes.per_example_grads(np.array([-1.0, 2.0]))
    noise = sgd.measure_gradient_noise(g, n_draws=4000, replace=False, rng=np.random.default_rng(7))
    keep = noise.batch_sizes < diabetes.n_samples
    np.testing.assert_allclose(noise.variance[keep], noise.theory[keep], rtol=0.1)
    assert 0 <= noise.variance[-1] <= 1e-25 * noise.sigma2  # B = N: measured, zero up to round-off
    # the mean of the per-example gradients is the full-batch gradient X^T (X theta - y) / N
    X, y = diabetes.X, diabetes.y
    np.testing.assert_allclose(noise.full_grad, X.T @ (X @ np.array([-1.0, 2.0]) - y) / len(y))


# ----------------------------------------------------------------------------- noise floor


@pytest.mark.parametrize(("h", "sigma", "lr", "B"), [(1.0, 1.0, 0.1, 4), (2.0, 0.5, 0.75, 1), (0.5, 2.0, 0.2, 16)])
def test_stationary_variance_on_noisy_quadratic(h, sigma, lr, B):
    theta = sgd.noisy_quadratic_sgd(h, sigma, lr=lr, batch_size=B, n_steps=400, n_chains=40000,
                                    rng=np.random.default_rng(8))
    expected = lr * sigma**2 / (B * h * (2 - lr * h))
    assert sgd.stationary_variance(h, sigma, lr=lr, batch_size=B) == pytest.approx(expected, rel=1e-12)
    assert np.var(theta) == pytest.approx(expected, rel=0.04)
    assert abs(np.mean(theta)) < 4 * math.sqrt(expected / 40000)


def test_noisy_quadratic_is_unstable_beyond_two_over_h():
    assert sgd.stationary_variance(1.0, 1.0, lr=2.0) == math.inf
    theta = sgd.noisy_quadratic_sgd(1.0, 1.0, lr=2.1, n_steps=300, n_chains=10, rng=np.random.default_rng(0))
    assert np.all(np.abs(theta) > 1e5)


def test_least_squares_floor_reduces_to_the_scalar_formula():
    # x_i = 1: every per-example Hessian equals H = 1, so only additive noise remains and the exact
    # least-squares floor must equal 1/2 h v_inf with v_inf = eta sigma^2 / (B h (2 - eta h)).
    y = np.random.default_rng(9).standard_normal(200)
    obj = sgd.least_squares(np.ones((200, 1)), y)
    for lr, B in [(0.1, 1), (0.5, 4), (1.5, 2)]:
        v = lr * y.var() / (B * (2 - lr))
        assert sgd.stationary_excess_loss(obj, lr=lr, batch_size=B) == pytest.approx(0.5 * v, rel=1e-10)
    assert sgd.stationary_excess_loss(obj, lr=2.0, batch_size=1) == math.inf


def test_measured_floor_on_real_data_matches_exact_theory_and_scales_as_lr_over_b(diabetes):
    floor = sgd.measure_noise_floor(diabetes, lrs=(0.02, 0.1), batch_sizes=(1, 8), n_steps=1200, n_replicas=96,
                                    rng=np.random.default_rng(10))
    np.testing.assert_allclose(floor.excess_mean, floor.theory, rtol=0.12)
    # small-step law: excess = tr(C)/4 * eta/B, within a few % at eta = 0.02
    small = floor.lrs == 0.02
    np.testing.assert_allclose(floor.theory[small], floor.slope * floor.lr_over_b[small], rtol=0.05)
    assert np.all(floor.final_q10 <= floor.excess_mean) and np.all(floor.excess_mean <= floor.final_q90 * 1.5)


# ----------------------------------------------------------------------------- objectives and the SGD loop


def test_softmax_objective_matches_oracles(digits):
    sp, obj = digits
    rng = np.random.default_rng(11)
    theta = 0.1 * rng.standard_normal(obj.shape)
    from sklearn.metrics import log_loss

    scores = obj.Xa @ theta
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = log_loss(obj.y, p, labels=np.arange(10)) + 0.5e-3 * np.sum(theta[:-1] ** 2)
    assert obj.loss(theta) == pytest.approx(expected, rel=1e-10)
    idx = np.arange(40)
    sub = sgd.softmax_regression(sp.X_train[idx], sp.y_train[idx], n_classes=10, lam=1e-3)
    numeric = approx_fprime(theta.ravel(), lambda t: sub.loss(t.reshape(obj.shape)), 1e-6)
    np.testing.assert_allclose(obj.grad(theta, idx).ravel(), numeric, atol=1e-6)
    # the inlined score gradient equals the shared losses.softmax_cross_entropy_grad
    from regopt_core.losses import softmax_cross_entropy_grad

    b = np.array([3, 17, 17, 250])
    Xb = obj.Xa[b]
    expected = Xb.T @ softmax_cross_entropy_grad(Xb @ theta, obj.y[b]) / 4
    expected[:-1] += 1e-3 * theta[:-1]
    np.testing.assert_allclose(obj.grad(theta, b), expected, rtol=1e-12, atol=1e-15)
    # the loop's hot path and the fast loss equal the definitions
    for rows in (np.array([7]), b, np.arange(obj.n_samples)):
        Xr, yr = (obj.Xa, obj.y) if len(rows) == obj.n_samples else (obj.Xa[rows], obj.y[rows])
        np.testing.assert_allclose(obj.sgd_step(theta, Xr, yr, 0.3), theta - 0.3 * obj.grad(theta, rows),
                                   rtol=1e-12, atol=1e-15)
    assert obj.loss(theta) == pytest.approx(obj.reference_loss(theta), rel=1e-13)
    # per-example gradients average to the full gradient
    np.testing.assert_allclose(obj.per_example_grads(theta).mean(axis=0),
                               obj.grad(theta, np.arange(obj.n_samples)).ravel(), atol=1e-12)


def test_full_batch_sgd_is_gradient_descent(diabetes):
    # GD on least squares: theta_k - theta* = (I - eta H)^k (theta_0 - theta*)
    theta0 = np.array([-1.0, 2.0])
    tr = sgd.minibatch_sgd(diabetes, theta0, batch_size=diabetes.n_samples, lr=0.3, n_epochs=25, n_record=None,
                           keep_path=True, rng=np.random.default_rng(0))
    star = np.linalg.lstsq(diabetes.X, diabetes.y, rcond=None)[0]
    M = np.eye(2) - 0.3 * diabetes.X.T @ diabetes.X / diabetes.n_samples
    expected = np.array([star + np.linalg.matrix_power(M, k) @ (theta0 - star) for k in range(26)])
    assert tr.nit == 25 and not tr.diverged
    np.testing.assert_allclose(tr.path, expected, atol=1e-12)
    np.testing.assert_array_equal(tr.grad_evals, np.arange(26) * diabetes.n_samples)


def test_gd_diverges_exactly_above_two_over_lmax(diabetes):
    lmax = np.linalg.eigvalsh(diabetes.X.T @ diabetes.X / diabetes.n_samples).max()
    # the one divergence rule (regopt_core.iteration.diverged: |theta| > 1e12) needs ~500 steps at 1.03 x 2/L
    kw = dict(batch_size=diabetes.n_samples, n_epochs=1500, n_record=None, rng=np.random.default_rng(0))
    stable = sgd.minibatch_sgd(diabetes, np.array([-1.0, 2.0]), lr=0.97 * 2 / lmax, **kw)
    unstable = sgd.minibatch_sgd(diabetes, np.array([-1.0, 2.0]), lr=1.03 * 2 / lmax, **kw)
    assert not stable.diverged and stable.nit == 1500
    assert unstable.diverged and unstable.message.startswith(f"diverged at step {unstable.diverged_at}")
    assert unstable.nit == unstable.diverged_at - 1
    assert np.all(np.isfinite(unstable.losses))


def test_sgd_b1_with_large_step_reports_divergence_without_warnings(diabetes):
    with np.errstate(all="raise"):
        tr = sgd.minibatch_sgd(diabetes, np.zeros(2), batch_size=1, lr=2.0, n_epochs=5,
                               rng=np.random.default_rng(0))
    assert tr.diverged and "diverged at step" in tr.message


def test_same_seed_same_run_different_seed_different_run(digits):
    _, obj = digits
    theta0 = np.zeros(obj.shape)
    for replace in (False, True):
        runs = [sgd.minibatch_sgd(obj, theta0, batch_size=16, lr=0.1, n_epochs=1, replace=replace,
                                  rng=np.random.default_rng(s)) for s in (1, 1, 2)]
        np.testing.assert_array_equal(runs[0].x, runs[1].x)
        np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
        assert not np.allclose(runs[0].x, runs[2].x)
    a = sgd.compare_batch_sizes(obj, theta0, (1, 64), lr=0.1, n_epochs=1, rng=np.random.default_rng(3))
    b = sgd.compare_batch_sizes(obj, theta0, (1, 64), lr=0.1, n_epochs=1, rng=np.random.default_rng(3))
    for ta, tb in zip(a.traces, b.traces):
        np.testing.assert_array_equal(ta.x, tb.x)


class _Counting:
    """Wraps an objective (without its fast paths) and records the rows of every gradient call."""

    def __init__(self, obj):
        self.obj, self.calls = obj, []
        self.n_samples = obj.n_samples
        self.data = obj.data

    def loss(self, theta):
        return self.obj.loss(theta)

    def rows_grad(self, theta, Xb, yb):
        self.calls.append(np.array(yb))
        return self.obj.rows_grad(theta, Xb, yb)


def test_one_vectorized_gradient_call_per_step_and_epochs_visit_every_example(diabetes):
    c = _Counting(diabetes)
    tr = sgd.minibatch_sgd(c, np.zeros(2), batch_size=64, lr=0.1, n_epochs=2, rng=np.random.default_rng(0))
    per_epoch = math.ceil(442 / 64)
    assert tr.nit == len(c.calls) == 2 * per_epoch  # one call per step, not one per example
    assert [len(i) for i in c.calls[:per_epoch]] == [64] * 6 + [442 - 6 * 64]
    # every example exactly once per epoch: the targets seen are a permutation of y
    np.testing.assert_array_equal(np.sort(np.concatenate(c.calls[:per_epoch])), np.sort(diabetes.y))
    assert tr.grad_evals[-1] == 2 * 442 and tr.epochs[-1] == pytest.approx(2.0)
    c2 = _Counting(diabetes)
    sgd.minibatch_sgd(c2, np.zeros(2), batch_size=64, lr=0.1, n_epochs=1, replace=True, rng=np.random.default_rng(0))
    assert all(len(i) == 64 for i in c2.calls)
    assert any(len(np.unique(i)) < 64 for i in c2.calls)  # repeats happen with replacement (birthday problem)


def test_step_cap_and_epoch_limits(diabetes):
    tr = sgd.minibatch_sgd(diabetes, np.zeros(2), batch_size=1, lr=0.01, n_epochs=100, max_steps=3000,
                           rng=np.random.default_rng(0))
    assert tr.capped and tr.nit == 3000 and "cap" in tr.message
    assert tr.steps[-1] == 3000 and len(tr.steps) <= 102
    assert np.all(np.diff(tr.steps) > 0)
    # invalid input raises instead of being clipped silently
    for bad in (dict(batch_size=0), dict(batch_size=443), dict(lr=0.0), dict(lr=float("nan")), dict(n_epochs=-1.0)):
        kw = dict(batch_size=16, lr=0.1, n_epochs=1.0) | bad
        with pytest.raises(ValueError):
            sgd.minibatch_sgd(diabetes, np.zeros(2), rng=np.random.default_rng(0), **kw)
    with pytest.raises(ValueError):
        sgd.sample_minibatch_gradients(np.ones(5), batch_size=6, n_draws=3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        sgd.compare_batch_sizes(diabetes, np.zeros(2), (1, 1000), lr=0.1, rng=np.random.default_rng(0))


def test_softmax_sgd_reaches_the_accuracy_of_a_reference_solver(digits):
    from sklearn.linear_model import LogisticRegression

    sp, obj = digits
    res = sgd.compare_batch_sizes(obj, np.zeros(obj.shape), (16,), lr=0.1, n_epochs=15,
                                  test_data=(sp.X_test, sp.y_test), rng=np.random.default_rng(0))
    ref = LogisticRegression(C=1 / (1e-3 * obj.n_samples), max_iter=2000).fit(sp.X_train, sp.y_train)
    assert res.test_accuracy[0] >= ref.score(sp.X_test, sp.y_test) - 0.03
    assert res.test_accuracy[0] > 0.9


def test_linear_scaling_rule():
    assert sgd.scaled_lr(0.01, 64) == pytest.approx(0.64)
    assert sgd.scaled_lr(0.1, 32, reference_batch=32) == pytest.approx(0.1)


def test_record_schedule():
    s = sgd.record_schedule(10_000, 100)
    assert s[0] == 0 and s[-1] == 10_000 and np.all(np.diff(s) > 0) and len(s) <= 102
    np.testing.assert_array_equal(sgd.record_schedule(7, 100), np.arange(8))


# ----------------------------------------------------------------------------- critical batch size


def test_critical_batch_formula(diabetes):
    theta = np.array([-1.0, 2.0])
    cb = sgd.critical_batch(diabetes, theta, n_draws=5000, rng=np.random.default_rng(12))
    # exact at B = 1: E[g^T H g] over a uniformly drawn example, by enumeration
    G_i = diabetes.per_example_grads(theta)
    G = G_i.mean(axis=0)
    H = diabetes.hessian()
    exact_b1 = (G @ G) / np.mean(np.einsum("ni,ij,nj->n", G_i, H, G_i))
    assert cb.theory[0] == pytest.approx(exact_b1, rel=1e-10)
    np.testing.assert_allclose(cb.measured, cb.theory, rtol=0.06)
    assert cb.theory[-1] < cb.eps_max and np.all(np.diff(cb.theory) > 0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100, allow_nan=False, allow_infinity=False), min_size=2, max_size=8),
       st.integers(1, 8))
def test_finite_population_correction_for_any_small_population(values, B):
    values = np.asarray(values)
    N = len(values)
    B = min(B, N)
    means = np.array([values[list(s)].mean() for s in itertools.combinations(range(N), B)])
    exact = np.mean((means - values.mean()) ** 2)
    theory = sgd.minibatch_variance_theory(values.var(), N, B, replace=False)
    assert theory == pytest.approx(exact, rel=1e-9, abs=1e-9 * (1 + values.var()))
    # with replacement: all N^B ordered draws (B <= 3 keeps it small)
    if B <= 3:
        draws = np.array([values[list(s)].mean() for s in itertools.product(range(N), repeat=B)])
        assert sgd.minibatch_variance_theory(values.var(), N, B, replace=True) == pytest.approx(
            np.mean((draws - values.mean()) ** 2), rel=1e-9, abs=1e-9 * (1 + values.var()))


# ----------------------------------------------------------------------------- issue 14: B = N, convergence, claims


def test_full_batch_without_replacement_is_measured_not_written():
    # Values whose sum depends on the order (1e16 + 1 - 1e16): the mean of a reshuffled full batch carries
    # round-off, and the measurement must report it. The old code wrote 0.0 at B = N instead of measuring.
    g = np.array([1e16, 1.0, -1e16, 3.0, 2.0, -1.0])
    noise = sgd.measure_gradient_noise(g, batch_sizes=np.array([1, 6]), n_draws=50, rng=np.random.default_rng(0))
    main = np.random.default_rng(0).spawn(1)[0]
    idx = main.permuted(np.broadcast_to(np.arange(6), (50, 6)), axis=1)
    means = np.cumsum(g[idx], axis=1)[:, -1] / 6
    expected = np.mean((means - g.mean()) ** 2)
    assert expected > 0  # the round-off is real
    assert noise.variance[-1] == expected


def test_full_batch_variance_is_zero_up_to_round_off_on_real_data(diabetes):
    g = diabetes.per_example_grads(np.array([-1.0, 2.0]))
    noise = sgd.measure_gradient_noise(g, n_draws=2000, replace=False, rng=np.random.default_rng(1))
    assert noise.batch_sizes[-1] == diabetes.n_samples
    assert 0 <= noise.variance[-1] <= 1e-25 * noise.sigma2
    assert noise.theory[-1] == 0.0


def test_every_trace_states_its_convergence(diabetes):
    star_loss = diabetes.loss(diabetes.minimizer())
    long = sgd.minibatch_sgd(diabetes, np.array([-1.0, 2.0]), batch_size=442, lr=0.5, n_epochs=200,
                             rng=np.random.default_rng(0))
    short = sgd.minibatch_sgd(diabetes, np.array([-1.0, 2.0]), batch_size=442, lr=0.05, n_epochs=3,
                              rng=np.random.default_rng(0))
    bad = sgd.minibatch_sgd(diabetes, np.zeros(2), batch_size=1, lr=2.5, n_epochs=1, rng=np.random.default_rng(0))
    for tr in (long, short, bad):
        c = tr.convergence
        assert c.criterion == sgd.CRITERION and c.tol == sgd.PLATEAU_TOL and c.nit == tr.nit
        assert c.converged == (c.value <= c.tol)
    assert long.convergence.converged and long.fun == pytest.approx(star_loss, rel=1e-9)
    assert not short.convergence.converged
    # recomputed by hand: the loss at the last recorded step <= 0.9 n against the final loss
    k = np.searchsorted(short.steps, 0.9 * short.nit, side="right") - 1
    assert short.convergence.value == pytest.approx(abs(short.losses[-1] - short.losses[k]) / short.losses[k])
    assert bad.diverged and not bad.convergence.converged and "did not" not in bad.message
    assert "without converging" in bad.convergence.sentence("SGD")


def test_prefix_of_a_long_run_is_the_short_run(digits):
    _, obj = digits
    kw = dict(batch_size=16, lr=0.1, record_at=90 * np.arange(1, 4), monitor=lambda th: float(th.sum()),
              monitor_at=90 * np.arange(1, 4))
    long = sgd.minibatch_sgd(obj, np.zeros(obj.shape), n_epochs=3, rng=np.random.default_rng(5), **kw)
    short = sgd.minibatch_sgd(obj, np.zeros(obj.shape), n_epochs=2, rng=np.random.default_rng(5), **kw)
    cut = long.prefix(2 * 90)
    assert cut.nit == short.nit == 180 and cut.fun == pytest.approx(short.fun, rel=1e-12)
    assert cut.monitor[-1] == pytest.approx(short.monitor[-1], rel=1e-12)


def _small_family(**kw):
    cfg = sgd.DigitsConfig(batch_sizes=(4, 64, sgd.FULL_BATCH), horizon_epochs=3, max_steps=600,
                           max_equal_steps=100, **kw)
    return sgd.digits_family(cfg)


@pytest.mark.parametrize(("lr", "scale_lr", "replace"), [(0.01, False, False), (0.1, False, True), (1.0, False, False),
                                                         (2.0, False, False), (0.005, True, False), (0.05, True, True)])
def test_sentences_follow_their_numbers(lr, scale_lr, replace):
    import re

    fam = _small_family(lr=lr, scale_lr=scale_lr, replace=replace)
    for epochs in (1, 3):
        runs = fam.by_epochs(epochs)
        for steps in (10, 100):
            view = fam.by_updates(steps)
            text = sgd.claims.what_a_bigger_batch_buys(runs, view, epochs)
            for clock, d in (("equal updates", 100 * (view.accuracy[-1] - view.accuracy[0])),
                             ("equal epochs", 100 * (runs.test_accuracy[-1] - runs.test_accuracy[0]))):
                part = re.search(rf"{clock} \(\d+\) B = \S+ (?:\(full\) )?is (.*?) B = ", text, re.I).group(1)
                if d > sgd.claims.ACCURACY_TIE_PP:
                    assert part == f"{abs(d):.1f} points more accurate than", text
                elif d < -sgd.claims.ACCURACY_TIE_PP:
                    assert part == f"{abs(d):.1f} points less accurate than", text
                else:
                    assert part.startswith("about as accurate as"), text
        sentence = sgd.claims.loss_at_equal_epochs(runs, epochs)
        ok = [t for t in runs.traces if not t.diverged]
        losses = [t.fun for t in ok]
        if max(losses) - min(losses) <= sgd.claims.LOSS_TIE * abs(min(losses)):
            assert "about the same training loss" in sentence
        else:
            best = ok[int(np.argmin(losses))]
            assert sentence.split(" reaches the lowest")[0].endswith(sgd.claims.label(best.batch_size, best.n_samples))
            assert f"({best.fun:.3g})" in sentence


def test_noise_and_floor_sentences_follow_their_numbers(diabetes):
    g = diabetes.per_example_grads(np.array([-1.0, 2.0]))
    for seed in range(3):
        noise = sgd.measure_gradient_noise(g, n_draws=300, rng=np.random.default_rng(seed))
        s = sgd.claims.noise_falls(noise)
        i = list(noise.batch_sizes).index(1)
        j = int(np.flatnonzero(noise.batch_sizes < 442).max())
        r = noise.variance[i] / noise.variance[j]
        assert ("falls" if r > 1 else "rises") in s and f"factor of {r:.3g}" in s
    fl = sgd.measure_noise_floor(diabetes, lrs=(0.01, 0.1), batch_sizes=(1, 16), n_steps=200, n_replicas=8,
                                 rng=np.random.default_rng(0))
    s = sgd.claims.floor_rises(fl)
    lo, hi = np.argmin(fl.lr_over_b), np.argmax(fl.lr_over_b)
    r = fl.excess_mean[hi] / fl.excess_mean[lo]
    assert f"{r:.3g}×" in s and ("higher" if r > 1 else "lower") in s


def test_full_batch_run_without_replacement_is_one_cached_run_for_every_seed():
    """Issue 12: a new seed must not retrain the full-batch run, which draws nothing: its run config is the same
    for every seed (seed 0), and the run computed from another seed's stream is the same numbers bit for bit.
    With replacement the full batch is a random draw, so its seed is kept."""
    from dataclasses import replace

    base = sgd.DigitsConfig(batch_sizes=(16, sgd.FULL_BATCH), horizon_epochs=2, max_steps=200, max_equal_steps=100)
    runs = {s: sgd.digits_run_configs(replace(base, seed=s)) for s in (0, 7)}
    full = [rc for rc in runs[7] if rc.batch_size > 16][0]
    assert full == [rc for rc in runs[0] if rc.batch_size > 16][0] and full.seed == 0
    assert [rc.seed for rc in runs[7] if rc.batch_size == 16] == [7]
    a, b = sgd.digits_run(full), sgd.digits_run(replace(full, seed=7))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.monitor, b.monitor)
    with_repl = sgd.digits_run_configs(replace(base, seed=7, replace=True))
    assert all(rc.seed == 7 for rc in with_repl)
