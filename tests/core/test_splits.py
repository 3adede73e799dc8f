"""Dataset-split pitfalls, checked against closed forms, published values and scikit-learn oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from regopt_core import splits as S
from regopt_core.splits import configs as C

# ------------------------------------------------------------------ expected max of K normals


def test_expected_max_normal_closed_forms_and_published_values():
    # K = 2: 1/sqrt(pi); K = 3: 3/(2 sqrt(pi)) (order statistics of the normal, closed forms)
    assert S.expected_max_normal(1) == 0.0
    assert S.expected_max_normal(2) == pytest.approx(1 / math.sqrt(math.pi), abs=1e-9)
    assert S.expected_max_normal(3) == pytest.approx(3 / (2 * math.sqrt(math.pi)), abs=1e-9)
    # Harter (1961), Biometrika 48, table of expected normal order statistics
    assert S.expected_max_normal(10) == pytest.approx(1.53875, abs=1e-5)
    assert S.expected_max_normal(100) == pytest.approx(2.50759, abs=1e-5)
    assert S.expected_max_normal(1000) == pytest.approx(3.24144, abs=1e-5)


@pytest.mark.parametrize("k", [4, 7, 50, 333, 999])
def test_expected_max_normal_matches_the_order_statistic_sum_of_scipy(k):
    # a different formula: E[max] = int_0^inf (1 - Phi(z)^K) dz - int_-inf^0 Phi(z)^K dz, with scipy.stats.norm
    from scipy import integrate

    upper, _ = integrate.quad(lambda z: -math.expm1(k * stats.norm.logcdf(z)), 0, np.inf, limit=200)
    lower, _ = integrate.quad(lambda z: math.exp(k * stats.norm.logcdf(z)), -np.inf, 0, limit=200)
    assert S.expected_max_normal(k) == pytest.approx(upper - lower, abs=1e-7)


def test_expected_best_binomial_matches_enumeration_of_the_max_distribution():
    # P(max <= x) = F(x)^K, so E[max] = sum_x x (F(x)^K - F(x-1)^K): a different formula
    n, p = 60, 0.7
    x = np.arange(n + 1)
    F = stats.binom.cdf(x, n, p)
    for K in (1, 2, 7, 50):
        pmf_max = F**K - np.concatenate([[0.0], F[:-1]]) ** K
        assert S.expected_best_binomial(n, p, K) == pytest.approx(np.sum(x * pmf_max) / n, abs=1e-12)
    assert S.expected_best_binomial(n, p, 1) == pytest.approx(p, abs=1e-12)


def test_best_of_100_equally_good_models_reports_083_and_a_fresh_test_set_gives_080():
    # issue example: K = 100 models, all of accuracy 0.80, 1000 test points
    r = S.simulate_best_of_k(1000, 0.80, 100, n_repeats=4000, rng=np.random.default_rng(0))
    assert r.se == pytest.approx(math.sqrt(0.8 * 0.2 / 1000))
    assert r.expected_best_normal == pytest.approx(0.8 + r.se * 2.50759, abs=1e-6)
    assert round(r.expected_best_normal, 2) == 0.83
    # Monte-Carlo mean of the best within 4 standard errors of the exact expectation
    assert abs(r.best.mean() - r.expected_best_exact) < 4 * r.mc_error
    # and the normal theory s * E[max Z] is right to within a small fraction of s
    assert abs(r.best.mean() - r.expected_best_normal) < 0.1 * r.se
    fresh_se = r.fresh.std(ddof=1) / math.sqrt(r.fresh.size)
    assert abs(r.fresh.mean() - 0.80) < 4 * fresh_se


def test_optimism_grows_with_k_and_vanishes_for_one_model():
    rng = np.random.default_rng(1)
    means = [S.simulate_best_of_k(500, 0.7, K, n_repeats=3000, rng=rng).optimism.mean() for K in (1, 10, 100, 1000)]
    se = math.sqrt(0.7 * 0.3 / 500)
    assert abs(means[0]) < 4 * se / math.sqrt(3000)
    assert means[0] < means[1] < means[2] < means[3]
    for K, m in zip((10, 100, 1000), means[1:]):
        assert m == pytest.approx(se * S.expected_max_normal(K), rel=0.05)


def test_best_of_k_caps_live_only_in_clamped_and_solver_raises():
    assert C.BestOfKConfig(n_models=10**6).clamped().n_models == C.MAX_MODELS
    with pytest.raises(ValueError):
        S.simulate_best_of_k(100, 0.8, 0, n_repeats=10, rng=np.random.default_rng(2))


def test_normal_approximation_above_one_is_flagged_and_clipped():
    r = S.simulate_best_of_k(10, 0.99, 1000, n_repeats=50, rng=np.random.default_rng(0))
    assert r.normal_approximation > 1 and r.normal_exceeds_one and r.expected_best_normal == 1.0


# ------------------------------------------------------------------ kernel ridge and CV


def _toy(n=25, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 + 0.2 * rng.standard_normal(n)
    return X, y


def _sk_kernel(ls):
    # the exponential kernel is scikit-learn's Matern kernel with nu = 1/2
    from sklearn.gaussian_process.kernels import Matern

    return Matern(length_scale=ls, nu=0.5)


def test_kernel_ridge_matches_sklearn_for_every_lambda():
    from sklearn.kernel_ridge import KernelRidge

    X, y = _toy()
    Xn = np.random.default_rng(1).uniform(-1, 1, size=(7, 2))
    lams = np.array([1e-6, 1e-3, 0.1, 10.0])
    ls = 0.4
    pred = S.kernel_ridge_path(X, y, length_scale=ls).predict(Xn, lams)
    for j, lam in enumerate(lams):
        k = _sk_kernel(ls)
        ref = KernelRidge(alpha=lam, kernel="precomputed").fit(k(X), y).predict(k(Xn, X))
        np.testing.assert_allclose(pred[:, j], ref, rtol=1e-6, atol=1e-8)


def test_small_lambda_interpolates_training_data():
    X, y = _toy(n=15)
    fit = S.kernel_ridge_path(X, y, length_scale=0.3)
    np.testing.assert_allclose(fit.fitted(np.array([1e-10]))[:, 0], y, atol=1e-7)


def test_loo_shortcut_equals_brute_force_refits():
    X, y = _toy(n=20, seed=3)
    lams = np.logspace(-6, 1, 8)
    fit = S.kernel_ridge_path(X, y, length_scale=0.5)
    shortcut = S.loo_residuals(fit, y, lams)
    brute = np.empty_like(shortcut)
    for i in range(20):
        rest = np.delete(np.arange(20), i)
        refit = S.kernel_ridge_path(X[rest], y[rest], length_scale=0.5)
        brute[i] = y[i] - refit.predict(X[i : i + 1], lams)[0]
    np.testing.assert_allclose(shortcut, brute, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_loo_cv_shortcut_equals_brute_force_cv(kind):
    X, y = _toy(n=18, seed=4)
    if kind == "classification":
        y = np.where(y > np.median(y), 1.0, -1.0)
    lams = np.logspace(-5, 1, 6)
    a = S.cv_errors(X, y, lams, n_folds=18, length_scale=0.5, kind=kind, shortcut=True)
    b = S.cv_errors(X, y, lams, n_folds=18, length_scale=0.5, kind=kind, shortcut=False)
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


def test_loo_matches_sklearn_leave_one_out():
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import LeaveOneOut, cross_val_predict

    X, y = _toy(n=16, seed=5)
    lam, ls = 1e-2, 0.5
    e = S.loo_residuals(S.kernel_ridge_path(X, y, length_scale=ls), y, np.array([lam]))[:, 0]
    ref = cross_val_predict(KernelRidge(alpha=lam, kernel=_sk_kernel(ls)), X, y, cv=LeaveOneOut())
    np.testing.assert_allclose(y - e, ref, rtol=1e-6, atol=1e-8)


def test_kfold_cv_matches_sklearn_on_the_same_folds():
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import cross_val_predict

    X, y = _toy(n=23, seed=6)
    lam, ls = 1e-3, 0.5
    folds = S.fold_slices(23, 5)
    cv = [(np.setdiff1d(np.arange(23), f), f) for f in folds]
    pred = cross_val_predict(KernelRidge(alpha=lam, kernel=_sk_kernel(ls)), X, y, cv=cv)
    ours = S.cv_errors(X, y, np.array([lam]), n_folds=5, length_scale=ls)[0]
    assert ours == pytest.approx(np.mean((y - pred) ** 2), rel=1e-6)


def test_batched_cv_equals_one_problem_at_a_time():
    Xs = np.stack([_toy(n=12, seed=s)[0] for s in range(3)])
    ys = np.stack([_toy(n=12, seed=s)[1] for s in range(3)])
    lams = np.logspace(-4, 0, 5)
    batched = S.cv_errors(Xs, ys, lams, n_folds=4, length_scale=0.5, scale=True)
    for r in range(3):
        np.testing.assert_allclose(batched[r], S.cv_errors(Xs[r], ys[r], lams, n_folds=4, length_scale=0.5, scale=True))


def test_fold_slices_partition_and_are_balanced():
    for n, k in [(10, 2), (23, 5), (7, 7), (5, 50)]:
        folds = S.fold_slices(n, k)
        assert len(folds) == min(k, n)
        np.testing.assert_array_equal(np.sort(np.concatenate(folds)), np.arange(n))
        sizes = [f.size for f in folds]
        assert max(sizes) - min(sizes) <= 1


def test_point_loss():
    y = np.array([1.0, -1.0, 1.0])
    np.testing.assert_array_equal(S.point_loss(y, np.array([0.3, 0.2, -2.0]), "classification"), [0, 1, 1])
    np.testing.assert_allclose(S.point_loss(y, np.array([0.5, 0.0, 1.0]), "regression"), [0.25, 1.0, 0.0])


def test_sine_quadrature_gives_the_true_error_of_a_known_fit():
    # a fit f_hat = 0 has true MSE sigma^2 + mean of sin^2 over [-1, 1] = sigma^2 + 1/2
    st = S.make_sine_studies(10, n_repeats=1, rng=np.random.default_rng(0))
    assert np.mean(st.y_pop**2) + st.noise_var == pytest.approx(S.SINE_SIGMA**2 + 0.5, abs=1e-9)


# ------------------------------------------------------------------ the approaches


@pytest.fixture(scope="module")
def cancer_comparison():
    return S.compare_approaches("cancer", n_samples=40, n_models=20, n_folds=5, n_repeats=150,
                                rng=np.random.default_rng(11))


@pytest.fixture(scope="module")
def sine_comparison():
    return S.compare_approaches("sine", n_samples=60, n_models=20, n_folds=5, n_repeats=150,
                                rng=np.random.default_rng(12))


@pytest.mark.parametrize("which", ["cancer_comparison", "sine_comparison"])
def test_train_validation_test_is_unbiased_and_training_error_is_not(which, request):
    r = request.getfixturevalue(which)
    gap = r.optimism
    se = gap.std(axis=1, ddof=1) / math.sqrt(gap.shape[1])
    i1, i3 = r.names.index(S.APPROACHES[0]), r.names.index(S.APPROACHES[2])
    assert abs(gap[i3].mean()) < 3 * se[i3]  # approach 3: unbiased within Monte-Carlo error
    assert gap[i1].mean() > 5 * se[i1]  # approach 1: optimistic
    assert np.median(r.reported[i1]) < 1e-3 * np.median(r.true[i1]) + 1e-6  # interpolation: ~0 training error


def test_tuning_on_the_test_set_is_optimistic(cancer_comparison):
    r = cancer_comparison
    gap = r.optimism[1]
    assert gap.mean() > 3 * gap.std(ddof=1) / math.sqrt(gap.size)


def test_compare_approaches_extremes_do_not_fail():
    rng = np.random.default_rng(0)
    for problem in ("sine", "cancer"):
        for n, K, k in [(8, 1, 2), (8, 1000, 8), (12, 3, 100)]:
            r = S.compare_approaches(problem, n_samples=n, n_models=K, n_folds=k, n_repeats=3, rng=rng)
            assert r.reported.shape == (5, r.n_repeats)
            assert np.all(np.isfinite(r.reported)) and np.all(np.isfinite(r.true))
            assert r.lams.size == K


def test_error_curves_are_consistent_with_training_error_falling_as_lambda_shrinks():
    c = S.error_curves("sine", n_samples=40, n_models=25, rng=np.random.default_rng(3))
    assert c.train[0] < c.train[-1]
    assert np.all(np.diff(c.train) >= -1e-12)  # ridge training error is monotone in lambda
    assert np.all(c.true >= S.SINE_SIGMA**2 - 1e-12)  # nothing beats the noise
    assert c.fits_plot.shape == (201, 25)


# ------------------------------------------------------------------ early stopping


def test_gd_loop_equals_its_closed_form_spectral_filter():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 20))
    y = rng.standard_normal(30)
    step = S.gd_step_size(X, fraction=0.9)
    W = S.gd_least_squares(X, y, step=step, n_epochs=200).W
    epochs = np.array([0, 1, 5, 50, 200])
    np.testing.assert_allclose(W[epochs], S.gd_closed_form(X, y, step=step, epochs=epochs), rtol=1e-9, atol=1e-12)


def test_gd_converges_below_2_over_L_and_diverges_above():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 10))
    y = rng.standard_normal(40)
    path = S.gd_least_squares(X, y, step=S.gd_step_size(X, fraction=1.9), n_epochs=5000)
    np.testing.assert_allclose(path.W[-1], np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-8)
    assert path.convergence.converged and not path.diverged
    bad = S.gd_least_squares(X, y, step=S.gd_step_size(X, fraction=2.2), n_epochs=5000)
    assert bad.diverged and bad.diverged_at is not None and not bad.convergence.converged


def test_ridge_path_matches_sklearn():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(2)
    X = rng.standard_normal((25, 8))
    y = rng.standard_normal(25)
    lams = np.array([1e-3, 0.1, 2.0])
    W = S.ridge_path(X, y, lams)
    for j, lam in enumerate(lams):  # sklearn minimizes ||Xw-y||^2 + alpha ||w||^2, alpha = n lam
        ref = Ridge(alpha=25 * lam, fit_intercept=False).fit(X, y).coef_
        np.testing.assert_allclose(W[j], ref, rtol=1e-8)


def test_early_stopping_picks_the_validation_minimum_and_true_error_is_exact():
    r = S.early_stopping(n_test=20000, rng=np.random.default_rng(5))
    assert r.stop_epoch == int(np.argmin(r.validation))
    assert r.train[-1] < r.train[0]
    # GD keeps lowering the training error while the true error rises again past its minimum
    assert np.all(np.diff(r.train) <= 1e-12)
    assert r.true[-1] > r.true.min() + 0.1
    # ||w - w*||^2 + sigma^2 agrees with a 20,000-point fresh test set (within its sampling error)
    for t in (0, r.stop_epoch, len(r.epochs) - 1):
        assert r.test[t] == pytest.approx(r.true[t], rel=0.05)
    # ridge at lambda = 1/(eta t) reaches about the same best true error as early stopping
    assert r.ridge_true.min() == pytest.approx(r.true.min(), rel=0.15)


# ------------------------------------------------------------------ leakage


def test_knn_matches_sklearn():
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = np.where(rng.random(40) < 0.5, 1.0, -1.0)
    Xn = rng.standard_normal((15, 3))
    for k in (1, 3, 7):
        ref = KNeighborsClassifier(n_neighbors=k).fit(X, y).predict(Xn)
        np.testing.assert_array_equal(S.knn_predict(X, y, Xn, k=k), ref)


def test_esl_7_10_2_wrong_way_cv_is_near_zero_and_right_way_near_half():
    # ESL 2nd ed. §7.10.2: N = 50, p = 5000, keep 100 predictors, 1-NN, pure noise (true error 50 %)
    for seed in (0, 1, 2):
        r = S.selection_leak(50, 5000, 100, n_folds=5, k=1, n_repeats=10, rng=np.random.default_rng(seed))
        wrong, right = r.estimates.mean(axis=1)
        assert wrong < 0.15
        assert 0.40 < right < 0.60
        np.testing.assert_array_equal(r.true, 0.5)


def test_patient_leak_random_split_is_optimistic_group_split_is_not():
    r = S.patient_leak(30, 5, n_repeats=60, rng=np.random.default_rng(0))
    rand, group = r.estimates
    true = r.true[0]
    gap = group - true
    assert rand.mean() < 0.5 * true.mean()
    assert abs(gap.mean()) < 3 * gap.std(ddof=1) / math.sqrt(gap.size) + 0.02  # group CV: honest
    # with one sample per patient the two splits are the same random split of patients
    one = S.patient_leak(60, 1, n_repeats=60, rng=np.random.default_rng(1))
    assert abs(one.estimates[0].mean() - one.estimates[1].mean()) < 0.05


def test_oversampling_before_the_split_leaks_standardization_hardly():
    r = S.preprocessing_leak(100, n_repeats=80, rng=np.random.default_rng(0))
    std_all, std_fold, over_all, over_fold = r.estimates
    d = over_fold - over_all
    assert d.mean() > 3 * d.std(ddof=1) / math.sqrt(d.size)  # oversampling first: too optimistic
    assert abs(std_all.mean() - std_fold.mean()) < 0.01  # unsupervised scaling: small effect here
