"""Bias–variance numerics against closed forms, independent solvers and published facts.

References: ESL (Hastie, Tibshirani & Friedman, 2nd ed.) §5.4.1 (df = tr S), §7.3 (decomposition),
§7.4 eq. 7.21–7.22 (optimism 2σ²df/n); Bishop PRML §3.2 Fig. 3.6 (min of bias²+variance near
ln λ = −0.31, close to the test-error minimum); Belkin et al. PNAS 2019 (double descent, peak at
the interpolation threshold p = n).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, Ridge

from regopt_core import bias_variance as bv

SIGMA = 0.3


def _lecture(spread: float, **kw):
    exp = replace(bv.LECTURE, spread=spread, **kw)
    x, x_eval, centres, f_tr, f_ev = bv.inputs(exp)
    return exp, x, x_eval, centres, f_tr, f_ev


# ---------------------------------------------------------------------------------------------
# The smoother is the ridge fit (oracle: scikit-learn, numpy lstsq)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spread, lam", [(0.1, 1e-3), (0.3, 0.5), (5.0, 1e-2), (0.05, 10.0)])
def test_smoother_reproduces_sklearn_ridge(spread, lam):
    rng = np.random.default_rng(1)
    x = bv.sample_design(25)
    x_eval = np.linspace(0, 1, 57)
    y = np.sin(2 * np.pi * x) + 0.3 * rng.standard_normal(25)
    sm = bv.rbf_smoother(x, x_eval, spread=spread, lam=lam)
    # sklearn Ridge: min ||y - Xw - b||² + alpha ||w||², intercept not penalized — the same objective
    model = Ridge(alpha=lam, fit_intercept=True, solver="svd").fit(bv.rbf_features(x, x, spread=spread), y)
    expected = model.predict(bv.rbf_features(x_eval, x, spread=spread))
    np.testing.assert_allclose(sm.S @ y, expected, atol=1e-7 * (1 + np.abs(expected).max()))
    np.testing.assert_allclose(sm.S_train @ y, model.predict(bv.rbf_features(x, x, spread=spread)), atol=1e-7)


def test_df_is_trace_of_sklearn_hat_matrix():
    x = bv.sample_design(20)
    lam, spread = 0.05, 0.15
    phi = bv.rbf_features(x, x, spread=spread)
    # column j of the hat matrix = fit of the j-th unit vector (multi-output ridge)
    hat = Ridge(alpha=lam, solver="svd").fit(phi, np.eye(20)).predict(phi)
    sm = bv.rbf_smoother(x, x, spread=spread, lam=lam)
    assert sm.df == pytest.approx(np.trace(hat), rel=1e-8)
    np.testing.assert_allclose(sm.S_train, hat.T, atol=1e-8)


def test_df_of_unpenalized_regression_counts_parameters():
    # OLS with p linearly independent columns + intercept: df = p + 1 (ESL §7.6)
    x = bv.sample_design(30)
    sm = bv.rbf_smoother(x, x, spread=0.15, lam=0.0, centres=np.linspace(0, 1, 7))
    assert sm.df == pytest.approx(8.0, abs=1e-9)
    # and huge λ leaves only the intercept
    sm_inf = bv.rbf_smoother(x, x, spread=0.15, lam=1e12, centres=np.linspace(0, 1, 7))
    assert sm_inf.df == pytest.approx(1.0, abs=1e-6)


def test_lam_zero_is_min_norm_least_squares():
    x = bv.sample_design(15)
    centres = np.linspace(0, 1, 40)  # p > n: many interpolants, lstsq picks the min-norm one
    y = np.cos(3 * x)
    sm = bv.rbf_smoother(x, x, spread=0.08, lam=0.0, centres=centres)
    phi = bv.rbf_features(x, centres, spread=0.08)
    ref = LinearRegression().fit(phi, y).predict(phi)  # scipy lstsq on centred data
    np.testing.assert_allclose(sm.S_train @ y, ref, atol=1e-6)
    np.testing.assert_allclose(sm.S_train @ y, y, atol=1e-6)  # it interpolates


# ---------------------------------------------------------------------------------------------
# Monte Carlo versus closed form (issue "Done when" 1)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spread", [5.0, 0.3, 0.1])
def test_monte_carlo_matches_closed_form(spread):
    exp = replace(bv.LECTURE, spread=spread)
    res = bv.experiment(replace(exp, n_draws=10_000, seed=7))
    exact, mc = res.exact, res.mc
    assert mc.n_draws == 10_000
    assert mc.var == pytest.approx(exact.var, rel=0.03)
    # bias² of the mean of K fits is inflated by var/K; at 10^4 draws that is far below 3 %
    if exact.bias2 > 0.2 * exact.var:
        assert mc.bias2 == pytest.approx(exact.bias2, rel=0.03)
    else:  # tiny bias: compare on the scale of the total error instead
        assert abs(mc.bias2 - exact.bias2) < 0.01 * exact.mse
    # the Monte-Carlo test error is measured against fresh noisy targets, not defined as a sum
    assert mc.mse == pytest.approx(exact.mse, rel=0.03)


@pytest.mark.parametrize("spread", [5.0, 0.1])
def test_exact_mse_matches_an_independent_test_error_from_sklearn(spread):
    """bias² + variance + σ² against sklearn Ridge refitted on 4000 fresh training sets, scored on fresh
    noisy targets at uniform test inputs (nothing of the smoother code is used for the reference)."""
    exp = replace(bv.LECTURE, spread=spread)
    x, x_eval, _, f_tr, f_ev = bv.inputs(exp)
    rng = np.random.default_rng(99)
    phi, phi_ev = bv.rbf_features(x, x, spread=spread), bv.rbf_features(x_eval, x, spread=spread)
    Y = f_tr[None, :] + SIGMA * rng.standard_normal((4000, x.size))
    model = Ridge(alpha=exp.lam, solver="svd").fit(phi, Y.T)  # multi-output: one fit per training set
    preds = model.predict(phi_ev)  # (m, K)
    y_new = f_ev[:, None] + SIGMA * rng.standard_normal(preds.shape)
    test_err = float(np.mean((preds - y_new) ** 2))
    d = bv.decompose(bv.rbf_smoother(x, x_eval, spread=spread, lam=exp.lam), f_tr, f_ev, sigma=SIGMA)
    assert d.mse == pytest.approx(test_err, rel=0.02)


def test_pointwise_variance_band_matches_simulation():
    res = bv.experiment(replace(replace(bv.LECTURE, spread=0.1), n_draws=10_000, seed=3))
    # sample variance of 10^4 normals: relative sd sqrt(2/9999) ≈ 1.4 %, so 6 % is > 4 sd
    np.testing.assert_allclose(res.mc.var_x, res.exact.var_x, rtol=0.06)


def test_convergence_path_ends_at_final_estimate_and_improves():
    res = bv.experiment(replace(replace(bv.LECTURE, spread=0.1), n_draws=4000, seed=11))
    mc = res.mc
    assert mc.k_path[-1] == mc.n_draws
    assert mc.var_path[-1] == pytest.approx(mc.var, rel=1e-9)
    assert mc.bias2_path[-1] == pytest.approx(mc.bias2, rel=1e-9)
    early = abs(mc.var_path[0] - res.exact.var)
    assert abs(mc.var_path[-1] - res.exact.var) < early


# ---------------------------------------------------------------------------------------------
# Monotonicity in λ and the lecture's two pictures (issue "Done when" 2)
# ---------------------------------------------------------------------------------------------


def test_bias_rises_and_variance_falls_with_lambda():
    exp, x, x_eval, centres, f_tr, f_ev = _lecture(0.1)
    lams = np.geomspace(1e-6, 1e3, 60)
    sw = bv.sweep_lam(x, x_eval, f_tr, f_ev, lams=lams, spread=0.1, sigma=SIGMA)
    assert np.all(np.diff(sw.bias2) >= -1e-12)
    assert np.all(np.diff(sw.var) <= 1e-12)
    assert np.all(np.diff(sw.df) < 0)
    assert sw.bias2[-1] > 10 * sw.bias2[0] and sw.var[0] > 10 * sw.var[-1]


def test_lecture_pictures_spread_5_is_bias_spread_01_is_variance():
    for spread, biased in [(5.0, True), (0.1, False)]:
        exp, x, x_eval, centres, f_tr, f_ev = _lecture(spread)
        d = bv.decompose(bv.rbf_smoother(x, x_eval, spread=spread, lam=exp.lam), f_tr, f_ev, sigma=exp.sigma)
        assert (d.bias2 > d.var) is biased, (spread, d.bias2, d.var)


def test_sweeps_agree_with_direct_smoothers():
    exp, x, x_eval, centres, f_tr, f_ev = _lecture(0.1)
    spreads = np.geomspace(0.01, 10, 9)
    sw = bv.sweep_spread(x, x_eval, f_tr, f_ev, spreads=spreads, lam=1e-3, sigma=SIGMA)
    lams = np.geomspace(1e-5, 10, 7)
    sl = bv.sweep_lam(x, x_eval, f_tr, f_ev, lams=lams, spread=0.2, sigma=SIGMA)
    for i, s in enumerate(spreads):
        d = bv.decompose(bv.rbf_smoother(x, x_eval, spread=s, lam=1e-3), f_tr, f_ev, sigma=SIGMA)
        assert sw.bias2[i] == pytest.approx(d.bias2, rel=1e-6, abs=1e-12)
        assert sw.var[i] == pytest.approx(d.var, rel=1e-6)
        assert sw.df[i] == pytest.approx(d.df, rel=1e-8)
    for i, lam in enumerate(lams):
        d = bv.decompose(bv.rbf_smoother(x, x_eval, spread=0.2, lam=lam), f_tr, f_ev, sigma=SIGMA)
        assert sl.mse[i] == pytest.approx(d.mse, rel=1e-8)
    assert sw.mse[sw.best] == sw.mse.min()


# ---------------------------------------------------------------------------------------------
# Optimism (issue "Done when" 3, ESL §7.4)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spread, lam", [(0.1, 1e-3), (0.03, 1e-3), (0.2, 1.0)])
def test_simulated_optimism_is_2_sigma2_df_over_n(spread, lam):
    exp = replace(bv.LECTURE, spread=spread, lam=lam)
    res = bv.experiment(replace(exp, n_draws=20_000, seed=5))
    expected = 2 * SIGMA**2 * res.smoother.df / exp.n_samples
    assert res.exact.optimism == pytest.approx(expected, rel=1e-12)
    assert res.mc.optimism == pytest.approx(expected, rel=0.05)


def test_sweep_training_and_in_sample_errors_match_simulation():
    exp, x, x_eval, centres, f_tr, f_ev = _lecture(0.5)
    sl = bv.sweep_lam(x, x_eval, f_tr, f_ev, lams=np.array([1e-3]), spread=0.5, sigma=SIGMA)
    res = bv.experiment(replace(replace(exp, spread=0.5), n_draws=20_000, seed=2))
    assert res.mc.train_err == pytest.approx(sl.train_err[0], rel=0.02)
    assert res.mc.test_err_in == pytest.approx(sl.test_in[0], rel=0.02)
    assert sl.test_in[0] - sl.train_err[0] == pytest.approx(2 * SIGMA**2 * sl.df[0] / exp.n_samples, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Bishop PRML §3.2 (issue "Done when" 4)
# ---------------------------------------------------------------------------------------------


def test_bishop_fig_3_6_bias_variance_minimum_near_test_error_minimum():
    rng = np.random.default_rng(2006)
    n, sigma, n_sets = 25, 0.3, 100
    x = bv.sample_design(n)
    h = bv.true_function("sine")
    centres = np.linspace(0, 1, 24)  # 24 Gaussians (+ the intercept = Bishop's bias w0)
    spread = 0.1 * np.sqrt(2 * np.log(2))  # Gaussian of standard deviation 0.1, as half-width
    ln_lam = np.linspace(-3, 2, 26)
    x_test = rng.uniform(0, 1, 1000)
    t_test = h(x_test) + sigma * rng.standard_normal(1000)
    Y = h(x)[:, None] + sigma * rng.standard_normal((n, n_sets))  # 100 data sets, one matrix
    bias_var, test_err = [], []
    for ll in ln_lam:
        sm = bv.rbf_smoother(x, x_test, spread=spread, lam=float(np.exp(ll)), centres=centres)
        fits = sm.S_train @ Y  # (N, L)
        # Bishop eqs. 3.45–3.47: averages over the L data sets, then over the N inputs
        ybar = fits.mean(axis=1)
        bias_var.append(np.mean((ybar - h(x)) ** 2) + np.mean((fits - ybar[:, None]) ** 2))
        test_err.append(np.mean((sm.S @ Y - t_test[:, None]) ** 2))
    best_bv, best_test = ln_lam[np.argmin(bias_var)], ln_lam[np.argmin(test_err)]
    assert abs(best_bv - best_test) <= 1.0
    # Bishop reports the minimum of bias² + variance near ln λ = −0.31
    assert abs(best_bv - (-0.31)) <= 1.0


# ---------------------------------------------------------------------------------------------
# Double descent (issue "Done when" 5)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, seed", [(20, 0), (25, 1), (30, 2)])
def test_double_descent_peaks_at_interpolation_threshold(n, seed):
    x = bv.sample_design(n)
    x_eval = np.linspace(0, 1, 200)
    f = bv.true_function("sine")
    p = np.unique(np.r_[np.round(np.geomspace(2, 10 * n, 30)).astype(int), np.arange(n - 3, n + 4)])
    dd = bv.double_descent(x, x_eval, f(x), f(x_eval), n_features=p, sigma=SIGMA, rng=np.random.default_rng(seed))
    assert abs(dd.peak - n) <= 2
    at_n = int(np.flatnonzero(dd.n_features == n)[0])
    classical_best = dd.mse_min_norm[dd.n_features < n].min()
    assert dd.mse_min_norm[at_n] > 3 * classical_best
    # past the threshold the error comes down again (the second descent)
    assert dd.mse_min_norm[-1] < dd.mse_min_norm[at_n] / 3
    # the shown parts add up to the shown total (median draw with its own bias² and variance)
    np.testing.assert_allclose(dd.bias2_min_norm + dd.var_min_norm + dd.noise, dd.mse_min_norm, rtol=1e-12)
    np.testing.assert_allclose(dd.bias2_ridge + dd.var_ridge + dd.noise, dd.mse_ridge, rtol=1e-12)
    assert dd.bump_min_norm > 3


def test_double_descent_default_lambda_has_no_peak_and_wording_follows():
    """Issue 14: the page's default ridge λ sits past the computed smallest λ without a peak; 1e-3 does not."""
    dd = bv.double_descent_experiment(bv.DD_DEFAULT)
    assert dd.bump_ridge <= bv.PEAK_TOL and dd.lam >= dd.lam_no_peak
    assert "no peak" in bv.describe(dd)
    small = bv.double_descent_experiment(replace(bv.DD_DEFAULT, lam=1e-3))
    assert small.bump_ridge > bv.PEAK_TOL and "smaller but not gone" in bv.describe(small)


def test_bump_ratio_of_shapes():
    p = np.arange(1, 41)
    assert bv.bump_ratio(p, 1.0 / p, 20) <= 1.0  # monotone: no peak
    peak = np.ones(40)
    peak[19] = 5.0
    assert bv.bump_ratio(p, peak, 20) == pytest.approx(5.0)


def test_min_norm_random_features_interpolate_past_threshold():
    n = 12
    x = bv.sample_design(n)
    rng = np.random.default_rng(0)
    omega, phase = rng.uniform(-np.pi * n, np.pi * n, 40), rng.uniform(0, 2 * np.pi, 40)
    phi = bv.random_cosine_features(x, omega, phase)
    y = np.sin(2 * np.pi * x)
    w, *_ = np.linalg.lstsq(phi, y, rcond=None)
    from regopt_core.bias_variance.sweeps import _sweep_features

    sw = _sweep_features("lam", np.array([0.0]), phi, phi, y, y, lams=np.array([0.0]), sigma=0.0, fit_intercept=False)
    assert sw.train_err[0] == pytest.approx(0.0, abs=1e-12)  # an interpolant
    assert np.allclose(phi @ w, y)


# ---------------------------------------------------------------------------------------------
# Extremes and numerical safety
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spread, lam, centres",
    [(0.005, 0.0, np.linspace(0, 1, 24)), (10.0, 0.0, None), (0.3, 0.0, None), (0.01, 0.0, None), (10.0, 1e3, None)],
)
def test_extremes_stay_finite_and_flag_ill_conditioning(spread, lam, centres):
    x = bv.sample_design(25)
    x_eval = np.linspace(0, 1, 100)
    sm = bv.rbf_smoother(x, x_eval, spread=spread, lam=lam, centres=centres)
    assert np.all(np.isfinite(sm.S)) and np.isfinite(sm.df)
    d = bv.decompose(sm, np.sin(2 * np.pi * x), np.sin(2 * np.pi * x_eval), sigma=SIGMA)
    assert np.isfinite(d.mse)
    if lam == 0.0 and spread in (0.005, 10.0, 0.3):
        # narrow bumps between grid centres, or nearly flat bumps: a (near-)singular system
        assert sm.ill_conditioned and "ill-conditioned" in sm.message
        assert sm.rank < sm.n_basis or sm.cond > 1e8
    if lam == 1e3:
        assert not sm.ill_conditioned


def test_sizes_are_capped_and_inputs_validated():
    sm = bv.rbf_smoother(bv.sample_design(10), np.linspace(0, 1, 20), spread=0.1, lam=1e-3)
    f = np.zeros(10)
    with pytest.raises(ValueError):
        bv.simulate_bias_variance(sm, f, np.zeros(20), sigma=1.0, n_draws=10**9, rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        bv.sample_design(10**6)
    assert bv.Experiment(n_samples=10**6, n_draws=10**9).clamped().n_samples == bv.CAPS["n_samples"][1]
    with pytest.raises(ValueError):
        bv.Experiment(sigma=float("nan")).clamped()
    with pytest.raises(ValueError):
        bv.rbf_smoother(np.zeros(3), np.zeros(3), spread=0.0)
    with pytest.raises(ValueError):
        bv.rbf_smoother(np.zeros(3), np.zeros(3), spread=0.1, lam=-1.0)
    with pytest.raises(ValueError):
        bv.true_function("nope")


def test_spread_is_half_width_at_half_height():
    phi = bv.rbf_features(np.array([0.3, 0.3 + 0.7, 0.3 - 0.7]), np.array([0.3]), spread=0.7)
    np.testing.assert_allclose(phi[:, 0], [1.0, 0.5, 0.5])


def test_family_and_sweep_describe_the_same_random_design_as_the_experiment():
    exp = replace(bv.LECTURE, design="uniform", spread=0.2, lam=0.01, n_draws=10, seed=42)
    res = bv.experiment(exp)
    fam = bv.fits_family(exp.family_key())
    i = bv.SPREADS.index(0.2)
    assert fam.sweep.mse[i] == pytest.approx(res.exact.mse, rel=1e-8)
    np.testing.assert_allclose(fam.fits[i][: res.mc.fits.shape[0]], res.mc.fits[: bv.N_SHOWN], atol=1e-10)
    other = bv.experiment(replace(exp, seed=43))
    assert not np.allclose(other.x_train, res.x_train)  # the seed does move a random design


def test_lambda_u_curve_is_a_u_at_the_page_default():
    """Issue 13: the U-curve over λ at the section's default spread has an interior minimum."""
    sw = bv.lam_sweep(replace(bv.DEFAULT, spread=bv.U_SPREAD).lam_sweep_key())
    assert bv.is_u_shaped(sw)
    assert bv.is_u_shaped(bv.fits_family(replace(bv.DEFAULT, lam=bv.U_LAM).family_key()).sweep)


def test_double_descent_core_is_sigma_free_and_matches_pinv_and_ridge_solves():
    """σ only rescales the variance (issue 12: a σ move reuses the fits). The σ-free core against numpy's pinv
    (λ → 0, minimum norm) and a direct ridge solve, feature draw by feature draw; and the curves from the
    core at any σ are exactly the ones computed with that σ from the start."""
    n, lam = 8, 1e-2
    x, x_ev = bv.sample_design(n), np.linspace(0.0, 1.0, 50)
    f = bv.true_function("sine")
    p_all = np.array([2, 4, 12, 20])  # away from p = n, where pinv's cut-off and the SVD's could differ
    core = bv.double_descent_core(x, x_ev, f(x), f(x_ev), n_features=p_all, lam=lam, n_repeats=3,
                                  rng=np.random.default_rng(5))
    assert core.bias2.shape == core.var_unit.shape == (3, 2 + bv.LAM_SCAN.size, p_all.size)
    for r, child in enumerate(np.random.default_rng(5).spawn(3)):
        omega, phase = child.uniform(-np.pi * n, np.pi * n, 20), child.uniform(0.0, 2 * np.pi, 20)
        phi, phi_ev = bv.random_cosine_features(x, omega, phase), bv.random_cosine_features(x_ev, omega, phase)
        for j, p in enumerate(p_all):
            a, a_ev = phi[:, :p], phi_ev[:, :p]
            for row, S in ((0, a_ev @ np.linalg.pinv(a)), (1, a_ev @ np.linalg.solve(a.T @ a + lam * np.eye(p), a.T))):
                np.testing.assert_allclose(core.bias2[r, row, j], np.mean((S @ f(x) - f(x_ev)) ** 2), rtol=1e-7)
                np.testing.assert_allclose(core.var_unit[r, row, j], np.mean(np.sum(S * S, axis=1)), rtol=1e-7)
    for sigma in (0.0, 0.3, 1.7):
        whole = bv.double_descent(x, x_ev, f(x), f(x_ev), n_features=p_all, sigma=sigma, lam=lam, n_repeats=3,
                                  rng=np.random.default_rng(5))
        part = bv.double_descent_at(core, sigma)
        for name in ("mse_min_norm", "bias2_min_norm", "var_min_norm", "mse_ridge", "var_ridge", "bump_scan",
                     "mse_no_peak"):
            np.testing.assert_array_equal(getattr(part, name), getattr(whole, name))
        assert (part.peak, part.noise, part.lam_no_peak) == (whole.peak, whole.noise, whole.lam_no_peak) or (
            np.isnan(part.lam_no_peak) and np.isnan(whole.lam_no_peak))
        # the median of the 3 draws at each p, with that draw's own variance σ² · var_unit
        median = np.argsort(core.bias2[:, 0] + sigma**2 * core.var_unit[:, 0], axis=0, kind="stable")[1]
        np.testing.assert_allclose(part.var_min_norm, sigma**2 * np.take_along_axis(core.var_unit[:, 0], median[None], 0)[0])
    with pytest.raises(ValueError):
        bv.double_descent_at(core, -1.0)


def test_double_descent_config_core_key_drops_sigma_only():
    cfg = replace(bv.DD_DEFAULT, sigma=0.7, n_samples=30, lam=1e-4, seed=4).clamped()
    assert cfg.core_key() == replace(cfg, sigma=bv.DD_DEFAULT.sigma)
    assert replace(cfg, sigma=0.1).core_key() == cfg.core_key()
    assert replace(cfg, seed=5).core_key() != cfg.core_key()
    dd = bv.double_descent_experiment(cfg)
    assert dd.noise == pytest.approx(0.49) and dd.n_samples == 30


def test_light_rules_follow_the_system_size_and_the_number_of_sets():
    d = bv.DEFAULT.clamped()
    assert d.family_is_light() and d.experiment_is_light()
    assert not replace(d, n_samples=bv.LIGHT_SIZE + 1).family_is_light()
    assert not replace(d, centres="grid", n_centres=bv.LIGHT_SIZE + 1).family_is_light()
    assert replace(d, centres="grid", n_centres=bv.LIGHT_SIZE, n_samples=bv.LIGHT_SIZE).family_is_light()
    assert not replace(d, n_draws=bv.LIGHT_DRAWS + 1).experiment_is_light()
    assert replace(d, n_samples=200, centres="grid", n_centres=200, n_draws=bv.LIGHT_DRAWS).experiment_is_light()


def test_double_descent_light_rule_is_the_sample_count():
    assert replace(bv.DD_DEFAULT, n_samples=bv.DD_LIGHT_N).clamped().core_is_light()
    assert not replace(bv.DD_DEFAULT, n_samples=bv.DD_LIGHT_N + 1).clamped().core_is_light()
    assert bv.DD_DEFAULT.clamped().core_is_light()  # the page's default computes on every move
