"""CT work at the interaction budget (issue 12 item 4): resumed solvers equal runs from scratch, the faster SART
equals the textbook per-view loop, keys drop what does not change a result, system matrices are kept."""

from dataclasses import replace

import numpy as np
import pytest

from regopt_core.ct import lab
from regopt_core.ct.experiments import make_geometry, reconstruct, resumable, simulate_scan
from regopt_core.ct.phantoms import shepp_logan
from regopt_core.ct.projectors import make_projector
from regopt_core.ct.sart import sart, view_blocks, view_order
from regopt_core.ct.tv import tv_pdhg
from regopt_core.seeding import stream


@pytest.fixture(scope="module")
def noisy():
    g = make_geometry("parallel", 64, 20)
    proj = make_projector(g)
    sc = simulate_scan(shepp_logan(), g, i0=1e4, rng=stream(5, 1))
    return sc, proj


@pytest.mark.parametrize("lam", [0.0, 5e-4, 1e-2])
def test_pdhg_resumed_from_its_state_equals_the_run_from_scratch(noisy, lam):
    sc, proj = noisy
    full = tv_pdhg(sc.data, proj, lam=lam, n_iter=23)
    part = tv_pdhg(sc.data, proj, lam=lam, n_iter=9)
    more = tv_pdhg(sc.data, proj, lam=lam, n_iter=23, start=part.state)
    np.testing.assert_allclose(more.x, full.x, rtol=0, atol=1e-7)
    np.testing.assert_allclose(np.concatenate([part.objective, more.objective]), full.objective, rtol=1e-12)
    np.testing.assert_allclose(np.concatenate([part.residual, more.residual]), full.residual, rtol=1e-12)
    assert more.nit == full.nit == 23 and more.fun == pytest.approx(full.fun, rel=1e-12)
    assert more.convergence == full.convergence
    # the cached state is not touched by the continuation (shared results are read-only)
    again = tv_pdhg(sc.data, proj, lam=lam, n_iter=23, start=part.state)
    np.testing.assert_array_equal(again.x, more.x)
    with pytest.raises(ValueError):
        tv_pdhg(sc.data, proj, lam=lam, n_iter=9, start=part.state)  # nothing left to run


@pytest.mark.parametrize("method", ["tv", "sart"])
def test_reconstruction_resumed_equals_from_scratch_with_its_traces(noisy, method):
    sc, proj = noisy
    kw = {"projector": proj, "lam": 1e-3}
    full = reconstruct(sc, method, n_iter=31, **kw)
    part = reconstruct(sc, method, n_iter=10, **kw)
    assert resumable(part, method, 31) and not resumable(part, method, 10) and not resumable(part, "asd_pocs", 31)
    more = reconstruct(sc, method, n_iter=31, resume=part, **kw)
    np.testing.assert_allclose(more.x, full.x, rtol=0, atol=1e-7)
    for name in ("psnr_trace", "objective", "residual"):
        np.testing.assert_allclose(getattr(more, name), getattr(full, name), rtol=1e-12, err_msg=name)
    assert (more.nit, more.psnr, more.message) == (full.nit, full.psnr, full.message)
    assert more.convergence == full.convergence
    assert [k for k, _ in more.snapshots] == [k for k, _ in full.snapshots] == [1, 10, 30]
    for (_, a), (_, b) in zip(more.snapshots, full.snapshots, strict=True):
        np.testing.assert_array_equal(a, b)


def _sart_textbook(b, proj, n_iter, relax=1.0):
    """The per-view SART update written out (Andersen & Kak 1984, eq. 9), as the solver stood before its plan."""
    blocks = view_blocks(proj)
    x = np.zeros(proj.n * proj.n, np.float32)
    for _ in range(n_iter):
        for v in view_order(proj.geometry.n_views):
            blk = blocks[v]
            rows = np.asarray(blk.sum(axis=1)).ravel()
            r = (b[v] - blk @ x) * np.where(rows > 0, 1.0 / np.maximum(rows, 1e-12), 0.0).astype(np.float32)
            cols = blk.T @ np.ones(blk.shape[0], np.float32)
            x += np.float32(relax) * np.divide(blk.T @ r, cols, out=np.zeros(x.shape, np.float32), where=cols > 0)
            np.maximum(x, 0.0, out=x)
    return x.reshape(proj.n, proj.n)


def test_sart_with_its_plan_equals_the_textbook_loop(noisy):
    sc, proj = noisy
    b = sc.data.astype(np.float32)
    np.testing.assert_allclose(sart(b, proj, n_iter=4, relax=1.0).x, _sart_textbook(b, proj, 4), rtol=1e-6, atol=1e-7)


def test_warm_start_candidates_are_the_same_key_with_fewer_iterations():
    cfg = lab.DEFAULT.clamped()
    tv = replace(cfg.recon("tv"), n_iter=250)
    cands = lab.warm_from(tv)
    assert cands[0] == replace(tv, n_iter=240) and cands[-1] == replace(tv, n_iter=10)
    assert all(replace(c, n_iter=tv.n_iter) == tv and c.n_iter < tv.n_iter for c in cands)
    assert replace(tv, n_iter=150) in cands
    assert lab.warm_from(cfg.recon("asd_pocs")) == [] and lab.warm_from(cfg.recon("fbp")) == []
    assert lab.reconstruction.warm_from is lab.warm_from


def test_seed_enters_the_keys_only_when_something_random_is_drawn():
    fixed = [replace(lab.DEFAULT, seed=s).clamped() for s in (1, 2)]
    assert fixed[0] == fixed[1] and fixed[0].scan_key() == fixed[1].scan_key()
    # ... and that is true of the numbers: the unnormalized keys give the same data and phantom
    raw = [replace(lab.DEFAULT, views=12, n=64, seed=s) for s in (1, 2)]
    np.testing.assert_array_equal(lab.scan(raw[0]).data, lab.scan(raw[1]).data)
    np.testing.assert_array_equal(lab.phantom_image(raw[0]), lab.phantom_image(raw[1]))
    for change in ({"i0": 1e4}, {"phantom": "piecewise"}, {"phantom": "smooth"}):
        a, b = (replace(lab.DEFAULT, seed=s, **change).clamped() for s in (1, 2))
        assert a.seed == 1 and b.seed == 2 and a.scan_key() != b.scan_key()


def test_the_strips_system_matrices_are_built_once_per_process():
    cfg = replace(lab.DEFAULT, n=64).clamped()
    keys = [k for k in cfg.strip_keys() if k.method == "tv"]
    first = [lab.projector(k.kind, k.n, k.views, k.dso, k.dsd) for k in keys]
    again = [lab.projector(k.kind, k.n, k.views, k.dso, k.dsd) for k in reversed(keys)]
    assert [id(p) for p in first] == [id(p) for p in reversed(again)]


def test_lab_reconstruction_continues_a_cached_start_and_ignores_one_it_cannot_continue():
    cfg = replace(lab.DEFAULT, n=64, i0=1e4, phantom="piecewise", seed=3).clamped()
    key = replace(cfg.recon("tv", 20), n_iter=30)
    ref = lab.reconstruction(key)
    start = lab.reconstruction(replace(key, n_iter=20))
    np.testing.assert_allclose(lab.reconstruction(key, start=start).x, ref.x, rtol=0, atol=1e-7)
    other = lab.reconstruction(replace(key, n_iter=40))  # more iterations: not a start, computed from scratch
    np.testing.assert_array_equal(lab.reconstruction(key, start=other).x, ref.x)


def test_pdhg_stopping_at_its_tolerance_is_the_full_run_cut_at_the_first_small_change(noisy):
    from regopt_core.ct.tv import CONVERGED, TOL

    sc, proj = noisy
    stopped = tv_pdhg(sc.data, proj, lam=1e-3, n_iter=400, stop_at_tol=True)
    k = stopped.nit
    assert stopped.message == CONVERGED and 1 < k < 400 and stopped.convergence.converged
    full = tv_pdhg(sc.data, proj, lam=1e-3, n_iter=400)
    np.testing.assert_allclose(stopped.objective, full.objective[:k], rtol=1e-12)
    np.testing.assert_array_equal(stopped.x, tv_pdhg(sc.data, proj, lam=1e-3, n_iter=k).x)
    # the rule as stated: iteration k is the first whose relative change is at most TOL
    before = tv_pdhg(sc.data, proj, lam=1e-3, n_iter=k - 1)
    assert before.convergence.value > TOL >= stopped.convergence.value


def test_a_tv_run_that_stopped_at_its_tolerance_is_the_result_for_more_iterations():
    cfg = replace(lab.DEFAULT, n=64, views=20).clamped()
    small = replace(cfg.recon("tv", 20), n_iter=150)
    r = lab.reconstruction(small)
    assert r.nit < 150  # converged
    big = replace(small, n_iter=400)
    assert lab.reconstruction(big, start=r) is r
    scratch = lab.reconstruction(big)
    np.testing.assert_array_equal(scratch.x, r.x)
    assert (scratch.nit, scratch.psnr, scratch.message) == (r.nit, r.psnr, r.message)
    np.testing.assert_array_equal(scratch.psnr_trace, r.psnr_trace)


def _pdhg_float64(b, proj, lam, n_iter):
    """Textbook Chambolle-Pock (Alg. 1, theta = 1) in float64 with the solver's diagonal steps: the reference for
    the float32 solver (same problem, same steps, every product in double precision)."""
    from regopt_core.ct.tv import divergence, gradient, pdhg_steps

    a = proj.matrix.astype(np.float64)
    at = a.T.tocsr()
    n = proj.n
    s = 1.0 / proj.geometry.pixel_size
    c = 2.0
    st = pdhg_steps(proj, data_scale=s, grad_weight=c, rho=0.1)
    tau, sig = st.tau.astype(np.float64), st.sigma_data.astype(np.float64).ravel()
    sig_g, radius = st.sigma_grad, lam * s * s / c
    x = np.zeros((n, n))
    xbar = x.copy()
    p = np.zeros(a.shape[0])
    q = np.zeros((2, n, n))
    sb = s * np.asarray(b, np.float64).ravel()
    for _ in range(n_iter):
        p = (p + sig * (s * (a @ xbar.ravel()) - sb)) / (1.0 + sig)
        q = q + sig_g * c * gradient(xbar)
        q /= np.maximum(np.sqrt(q[0] ** 2 + q[1] ** 2) / radius, 1.0)
        x_new = np.maximum(x - tau * (s * (at @ p).reshape(n, n) - c * divergence(q)), 0.0)
        xbar, x = 2.0 * x_new - x, x_new
    return x


def test_float32_pdhg_matches_a_float64_textbook_run_within_a_tenth_of_a_db():
    from regopt_core.metrics import psnr

    g = make_geometry("parallel", 64, 30)
    proj = make_projector(g)
    sc = simulate_scan(shepp_logan(), g, i0=None, rng=stream(0, 1))
    r = float(sc.truth.max() - sc.truth.min())
    x32 = tv_pdhg(sc.data, proj, lam=5e-4, n_iter=150).x
    x64 = _pdhg_float64(sc.data, proj, 5e-4, 150)
    assert abs(psnr(x32, sc.truth, data_range=r) - psnr(x64, sc.truth, data_range=r)) < 0.1
    assert np.max(np.abs(x32 - x64)) < 1e-3 * r


def test_a_scan_is_measured_once_per_key_and_shared_read_only():
    cfg = replace(lab.DEFAULT, n=64, i0=1e4, seed=7).clamped()
    a, b = lab.scan(cfg.recon("tv", 20)), lab.scan(cfg.recon("sart", 20))
    assert a is b and not a.data.flags.writeable and not a.truth.flags.writeable
    np.testing.assert_array_equal(a.data, lab._measure(cfg.scan_key(20)).data)  # the cached scan is the measurement


def test_large_matrices_do_not_push_the_default_sizes_matrices_out(monkeypatch):
    monkeypatch.setattr(lab, "_PROJECTORS", type(lab._PROJECTORS)())
    small = lab.projector("parallel", 128, 20, 3.0, 6.0)
    monkeypatch.setattr(lab, "PROJECTOR_CACHE_BYTES", small.nbytes * 3)
    for v in (8, 10, 12, 15):  # 192² matrices, together more than the cache holds
        lab.projector("parallel", 192, v, 3.0, 6.0)
    assert ("parallel", 192, 8, 3.0, 6.0) not in lab._PROJECTORS  # the oldest large one went ...
    assert lab.projector("parallel", 128, 20, 3.0, 6.0) is small  # ... the older default-size one stayed


@pytest.mark.parametrize("kw", [dict(i0=2e3), dict(i0=1e4, crime=True), dict(phantom="piecewise", seed=3, i0=1e5),
                                dict(phantom="smooth", seed=2), dict(kind="fan", i0=1e4)])
def test_scans_share_truth_and_noise_free_data_and_equal_a_measurement_from_scratch(kw):
    """A dose move draws new noise only: the noisy scan reuses the cached noise-free scan (truth and clean data), and
    every view count scores against one truth image; the numbers are those of measuring from scratch."""
    cfg = replace(lab.DEFAULT, n=64, **kw).clamped()
    for views in (20, 30):
        k = cfg.recon("tv", views).scan_key()
        got = lab.scan(k)
        g = make_geometry(k.kind, k.n, k.views, dso=k.dso, dsd=k.dsd)
        proj = lab.projector(k.kind, k.n, k.views, k.dso, k.dsd) if k.crime else None
        ref = simulate_scan(lab.phantom_of(k), g, i0=k.i0 or None, inverse_crime=k.crime, projector=proj,
                            rng=stream(k.seed, 1, k.views))
        for a, b in ((got.truth, ref.truth), (got.clean, ref.clean), (got.data, ref.data)):
            np.testing.assert_array_equal(a, b)
        assert got.truth is lab.scan(replace(k, views=10)).truth  # one truth image for every view count
        if k.i0:
            assert got.clean is lab.scan(replace(k, i0=0.0, seed=lab.truth_key(k).seed)).clean
    with pytest.raises(ValueError):
        simulate_scan(lab.phantom_of(k), g, i0=1e4, rng=stream(0, 1), noise_free=lab.scan(replace(k, views=10)))


def test_page_projectors_use_one_thread_per_product_and_give_the_same_numbers():
    """On a shared 2-core server a mat-vec split over two threads cost 50 % more CPU for no wall-time gain: the
    page's projectors run each product in one thread; the numbers are those of the threaded split (rows are summed
    in the same order)."""
    proj = lab.projector("parallel", 128, 40, 3.0, 6.0)
    assert len(proj._blocks) == len(proj._blocks_t) == 1 and lab.MATVEC_THREADS == 1
    split = make_projector(proj.geometry, n_threads=2)
    assert len(split._blocks) == 2
    x = np.random.default_rng(0).random((128, 128)).astype(np.float32)
    np.testing.assert_array_equal(proj.forward(x), split.forward(x))
    y = proj.forward(x)
    np.testing.assert_array_equal(proj.adjoint(y), split.adjoint(y))


def test_the_truth_image_key_keeps_only_the_phantom_and_the_size():
    """The page's truth image is not recomputed when the dose, the geometry or the crime switch moves (it cost ~30 ms
    of the script thread per move); a random phantom's seed and the size still count."""
    base = lab.DEFAULT.clamped()
    same = [replace(lab.DEFAULT, i0=1e4).clamped(), replace(lab.DEFAULT, kind="fan").clamped(),
            replace(lab.DEFAULT, crime=True, views=20).clamped()]
    assert all(lab.truth_key(c) == lab.truth_key(base) for c in same)
    assert lab.truth_key(base) == base.scan_key(1)  # the home page's thumbnail key
    pw = [replace(lab.DEFAULT, phantom="piecewise", seed=s).clamped() for s in (1, 2)]
    assert lab.truth_key(pw[0]) != lab.truth_key(pw[1])
    assert lab.truth_key(replace(lab.DEFAULT, n=64).clamped()) != lab.truth_key(base)
    for c in same + pw:
        np.testing.assert_array_equal(lab.phantom_image(lab.truth_key(c)), lab.phantom_of(c).image(c.n))


def test_warm_projectors_builds_the_default_states_matrices_once():
    before = lab.warm_projectors()
    keys = [k for k in (*lab.DEFAULT.clamped().strip_keys(), *lab.DEFAULT.clamped().compare_keys()) if k.method != "fbp"]
    held = [lab.projector(k.kind, k.n, k.views, k.dso, k.dsd) for k in keys]
    assert lab.warm_projectors() == before and {p.geometry.n_views for p in held} == {20, 30, 40}


def _pdhg_textbook(b, proj, lam, n_iter, nonneg=True):
    """The TV-PDHG iteration exactly as written before the work buffers (allocating every temporary)."""
    from regopt_core.ct.tv import divergence, gradient, pdhg_steps

    scale = 1.0 / proj.geometry.pixel_size
    steps = pdhg_steps(proj, data_scale=scale, grad_weight=2.0, rho=0.1)
    tau, sig_a = steps.tau, steps.sigma_data
    s32, c32, sig_gc = np.float32(scale), np.float32(2.0), np.float32(steps.sigma_grad * 2.0)
    radius = np.float32(lam * scale * scale / 2.0)
    b = np.asarray(b, np.float32)
    sb = b * s32
    n = proj.n
    x = np.zeros((n, n), np.float32)
    ax = s32 * proj.forward(x)
    xbar, axbar, p, q = x.copy(), ax.copy(), np.zeros_like(b), np.zeros((2, n, n), np.float32)
    inv_1ps = (1.0 / (1.0 + sig_a)).astype(np.float32)
    for _ in range(n_iter):
        p += sig_a * (axbar - sb)
        p *= inv_1ps
        if lam > 0:
            q += sig_gc * gradient(xbar)
            mag = np.sqrt(q[0] * q[0] + q[1] * q[1])
            np.maximum(mag / radius, 1.0, out=mag)
            q /= mag
            x_new = x - tau * (s32 * proj.adjoint(p) - c32 * divergence(q))
        else:
            x_new = x - tau * (s32 * proj.adjoint(p))
        if nonneg:
            np.maximum(x_new, 0.0, out=x_new)
        ax_new = s32 * proj.forward(x_new)
        xbar, axbar = 2.0 * x_new - x, 2.0 * ax_new - ax
        x, ax = x_new, ax_new
    return x, xbar, p, q


@pytest.mark.parametrize("lam", [0.0, 5e-4, 2e-2])
@pytest.mark.parametrize("nonneg", [True, False])
def test_pdhg_with_work_buffers_computes_exactly_the_textbook_iteration(noisy, lam, nonneg):
    """tv_pdhg reuses its buffers (a third of an iteration at 128² / 20 views was allocation outside the mat-vecs):
    the same float32 operations in the same order, so the very same numbers."""
    sc, proj = noisy
    x, xbar, p, q = _pdhg_textbook(sc.data, proj, lam, 31, nonneg)
    res = tv_pdhg(sc.data, proj, lam=lam, n_iter=31, nonneg=nonneg)
    for a, b in ((res.x, x), (res.state.xbar, xbar), (res.state.p, p), (res.state.q, q)):
        np.testing.assert_array_equal(a, b)
