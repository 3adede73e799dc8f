"""CT numerics made cheaper without changing a number (issue 12, the CT budget): the fast paths of the TV operators
compute exactly what the textbook lines compute."""

import numpy as np
import pytest

from regopt_core.ct import tv


def _textbook_gradient(x):
    g = np.zeros((2,) + x.shape, dtype=x.dtype)
    g[0, :, :-1] = x[:, 1:] - x[:, :-1]
    g[1, :-1, :] = x[1:, :] - x[:-1, :]
    return g


def _textbook_divergence(p):
    px, py = p[0], p[1]
    d = np.zeros(px.shape, dtype=p.dtype)
    d[:, :-1] += px[:, :-1]
    d[:, 1:] -= px[:, :-1]
    d[:-1, :] += py[:-1, :]
    d[1:, :] -= py[:-1, :]
    return d


def _textbook_tv_gradient(x, eps=1e-4):
    g = _textbook_gradient(x)
    mag = np.sqrt(g[0] * g[0] + g[1] * g[1] + np.float32(eps * eps))
    return -_textbook_divergence(g / mag)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flattened_gradient_and_divergence_equal_the_row_by_row_textbook(n, dtype):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, n)).astype(dtype)
    g = np.full((2, n, n), 7.0, dtype)
    g[1, -1, :] = 0.0  # the documented precondition of _gradient_into (the last column of g[0] it writes itself)
    np.testing.assert_array_equal(tv._gradient_into(x, g), _textbook_gradient(x))
    np.testing.assert_array_equal(tv.gradient(x), _textbook_gradient(x))
    # a field from a gradient (last column of p[0] zero: the fast path) and an arbitrary one (the row-by-row path)
    for p in (_textbook_gradient(x) * dtype(0.3), rng.standard_normal((2, n, n)).astype(dtype)):
        out = np.full((n, n), 5.0, dtype)
        np.testing.assert_array_equal(tv._divergence_into(p, out), _textbook_divergence(p))
        np.testing.assert_array_equal(tv.divergence(p), _textbook_divergence(p))


def test_divergence_stays_the_negative_adjoint_of_the_gradient():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((33, 33))
    p = rng.standard_normal((2, 33, 33))
    out = np.empty((33, 33))
    assert np.vdot(tv._gradient_into(x, np.zeros((2, 33, 33))), p) == pytest.approx(
        -np.vdot(x, tv._divergence_into(p, out)), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tv_gradient_with_kept_buffers_equals_the_textbook_and_is_reusable(dtype):
    rng = np.random.default_rng(1)
    step = tv._TVGradient((48, 48), dtype, 1e-4)
    for _ in range(3):  # the same buffers, new images: no state carried over
        x = rng.random((48, 48)).astype(dtype)
        np.testing.assert_array_equal(step(x), _textbook_tv_gradient(x))
        np.testing.assert_array_equal(tv.tv_gradient(x), _textbook_tv_gradient(x))


def _asd_pocs_textbook(b, proj, eps, n_iter, n_tv=20, alpha=0.02, alpha_red=0.95, r_max=0.95, beta=1.0,
                       beta_red=0.995):
    """Sidky & Pan's loop as the solver stood before its TV steps kept their buffers (allocating every temporary)."""
    from regopt_core.ct.sart import sart

    x = np.zeros((proj.n, proj.n), np.float32)
    dtvg = None
    for _ in range(n_iter):
        x_prev = x
        pocs = sart(b, proj, n_iter=1, relax=min(beta, 1.99), nonneg=True, x0=x)
        x, dd = pocs.x, pocs.fun
        dp = float(np.linalg.norm(x - x_prev))
        dtvg = alpha * dp if dtvg is None else dtvg
        x_pocs = x
        for _ in range(n_tv):
            v = _textbook_tv_gradient(x)
            nv = float(np.linalg.norm(v))
            if nv == 0.0:
                break
            x = x - np.float32(dtvg / nv) * v
        if float(np.linalg.norm(x - x_pocs)) > r_max * dp and dd > eps:
            dtvg *= alpha_red
        beta *= beta_red
    return x


def test_asd_pocs_with_kept_buffers_computes_the_textbook_loop():
    from regopt_core.ct.experiments import make_geometry, simulate_scan
    from regopt_core.ct.phantoms import shepp_logan
    from regopt_core.ct.projectors import make_projector
    from regopt_core.seeding import stream

    g = make_geometry("parallel", 48, 12)
    proj = make_projector(g)
    b = simulate_scan(shepp_logan(), g, i0=1e4, rng=stream(2, 1)).data.astype(np.float32)
    eps = 0.015 * float(np.linalg.norm(b))
    np.testing.assert_array_equal(tv.asd_pocs(b, proj, eps=eps, n_iter=7).x, _asd_pocs_textbook(b, proj, eps, 7))


@pytest.fixture(scope="module")
def small_scans():
    from regopt_core.ct.experiments import make_geometry, simulate_scan
    from regopt_core.ct.phantoms import shepp_logan
    from regopt_core.ct.projectors import make_projector
    from regopt_core.seeding import stream

    g = make_geometry("parallel", 48, 16)
    proj = make_projector(g)
    honest = simulate_scan(shepp_logan(), g, i0=1e4, rng=stream(4, 1)).data
    crime = simulate_scan(shepp_logan(), g, inverse_crime=True, projector=proj, rng=stream(4, 1)).data
    return proj, honest, crime


@pytest.mark.parametrize("count", [1, 3, 5, 9])
def test_multi_vector_products_equal_the_single_products(small_scans, count):
    proj = small_scans[0]
    rng = np.random.default_rng(count)
    images = [rng.random((proj.n, proj.n)).astype(np.float32) for _ in range(count)]
    sinos = [rng.random(proj.sino_shape).astype(np.float32) for _ in range(count)]
    for got, x in zip(proj.forward_many(images), images, strict=True):
        assert got.shape == proj.sino_shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, proj.forward(x))
    for got, y in zip(proj.adjoint_many(sinos), sinos, strict=True):
        assert got.shape == (proj.n, proj.n) and got.flags.c_contiguous
        np.testing.assert_array_equal(got, proj.adjoint(y))


@pytest.mark.parametrize("stop_at_tol", [True, False])
def test_pdhg_side_by_side_equals_each_run_alone(small_scans, stop_at_tol):
    """tv_pdhg_many runs problems in lockstep with shared products: each result is tv_pdhg's, also when some stop at
    their tolerance long before the others (λ = 0 and a large λ run all 120 iterations here)."""
    proj, honest, crime = small_scans
    lams = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2]
    datas = [d for _ in lams for d in (honest, crime)]
    lam_list = [lam for lam in lams for _ in (0, 1)]
    many = tv.tv_pdhg_many(datas, proj, lams=lam_list, n_iter=120, stop_at_tol=stop_at_tol)
    nits = set()
    for d, lam, got in zip(datas, lam_list, many, strict=True):
        ref = tv.tv_pdhg(d, proj, lam=lam, n_iter=120, stop_at_tol=stop_at_tol)
        np.testing.assert_array_equal(got.x, ref.x)
        for name in ("objective", "residual", "tv"):
            np.testing.assert_array_equal(getattr(got, name), getattr(ref, name))
        assert (got.nit, got.message, got.fun, got.convergence) == (ref.nit, ref.message, ref.fun, ref.convergence)
        for a, b in zip(vars(got.state).values(), vars(ref.state).values(), strict=True):
            np.testing.assert_array_equal(a, b)
        nits.add(got.nit)
    assert len(nits) > 2 if stop_at_tol else nits == {120}  # the runs really stopped at different iterations
    with pytest.raises(ValueError):
        tv.tv_pdhg_many(datas, proj, lams=lam_list[:-1])


def test_crime_curves_are_the_psnrs_of_the_reconstructions_of_their_keys():
    from dataclasses import replace

    from regopt_core.ct import lab

    key = replace(lab.DEFAULT, n=64, views=12, i0=1e4, n_iter=60).clamped().crime_key()
    cc = lab.crime_curves(key)
    keys = lab.crime_keys(key)
    assert len(keys) == 2 * len(lab.CRIME_LAMS)
    np.testing.assert_array_equal(cc.psnr_honest, [lab.reconstruction(k).psnr for k in keys[0::2]])
    np.testing.assert_array_equal(cc.psnr_crime, [lab.reconstruction(k).psnr for k in keys[1::2]])
    assert [k.crime for k in keys[:2]] == [False, True] and [k.lam for k in keys[::2]] == list(lab.CRIME_LAMS)


def test_the_view_count_family_reuses_the_reconstructions_this_process_already_computed(monkeypatch):
    """The sweep and the family ask for the same TV and FBP keys (and the strip's TVs are the sweep's): a worker that
    computed them serves them again without a solver run, with the same numbers."""
    from dataclasses import replace

    from regopt_core.ct import lab

    key = lab.family_key(replace(lab.DEFAULT, n=64, phantom="smooth", seed=11).clamped())
    lab._SCORED._items.clear()
    strip_tv = lab.reconstruction(key.recon("tv", 20))  # e.g. the strip's job, earlier in this worker
    runs = []
    real = lab.experiments.reconstruct
    monkeypatch.setattr(lab.experiments, "reconstruct", lambda *a, **k: runs.append(a[1]) or real(*a, **k))
    fam = lab.views_family(key)
    assert len(runs) == 2 * len(fam.views) - 1  # every TV and FBP but the strip's TV at 20 views
    np.testing.assert_array_equal(fam.tv[list(fam.views).index(20)], lab._shrink(strip_tv.x))
    runs.clear()
    again = lab.views_family(key)
    assert runs == []
    for name in ("tv", "fbp", "tv_psnr", "fbp_psnr"):
        np.testing.assert_array_equal(getattr(again, name), getattr(fam, name))
    assert all(r.state is None and r.snapshots == () for r in lab._SCORED._items.values())  # kept slim
