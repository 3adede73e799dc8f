"""Sparse-view CT: total-variation reconstruction against filtered back-projection (FBP/FDK)."""

from dataclasses import replace

import numpy as np
import streamlit as st

from pages._ui import cached, figures, gate, layout, uploads
from pages._ui import widgets as w
from regopt_core.ct import claims, lab
from regopt_core.ct import fbp as fbp_module
from regopt_core.ct import projectors, tv
from regopt_core.ct.anatomy import CT_SLICE_LABEL, CT_SLICE_SOURCE
from regopt_core.ct.experiments import iterations_within
from regopt_core.ct.geometry import pixel_centres
from regopt_core.figures import ct as ct_figures

figs = figures.builders(ct_figures)  # memoized: a rerun that changes nothing a figure uses reuses it

D = lab.DEFAULT
SECTIONS = ("Lecture figure", "One view count", "Inverse crime", "Quality vs views")

layout.page_header(
    "Sparse-view CT: total variation vs filtered back-projection",
    r"\begin{array}{c}\hat x = \arg\min_{x \ge 0}\ \tfrac12\,\|A x - b\|_2^2 \;+\; \lambda \sum_{j} \|(\nabla x)_j\|_2"
    r"\\[4pt] \small\text{exactly what the solver minimises, with the slider's }\lambda\text{: }A\text{ in "
    r"field-of-view units, }\nabla\text{ = neighbouring-pixel differences (no hidden scaling)}\end{array}",
    "A CT scanner measures line integrals **b** of the attenuation image **x** along many rays; the system "
    "matrix **A** holds the geometry (the image spans [−1, 1]², so A's entries are ray lengths in those units). "
    "Each extra view costs radiation dose. Filtered back-projection (FBP; FDK for a fan beam) inverts the "
    "measurement in one shot and needs many views; with few views it streaks. Adding the total-variation penalty "
    "— the sum of gradient magnitudes — says *the image is mostly flat regions with sharp edges*, and an "
    "iterative solver then recovers the image from a fraction of the views. Both terms of the objective grow like "
    "the image side, so **one λ means the same regularization at 64², 128² and 256²**. Measured data come from the "
    "exact line integrals of the phantom, not from **A** itself, so the scores are honest.",
    sections=SECTIONS,
)

PHANTOMS = {"shepp_logan": "Shepp-Logan", "piecewise": "Piecewise", "smooth": "Smooth", "ct_slice": CT_SLICE_LABEL}
GEOMETRIES = {"parallel": "Parallel", "fan": "Fan"}
SIZES = {str(n): str(n) for n in lab.N_CHOICES}
WINDOWS = {"full": "Full", "narrow": "Narrow"}
FILTERS = {"ram-lak": "Ram-Lak", "shepp-logan": "Shepp-Logan", "cosine": "Cosine", "hamming": "Hamming",
           "hann": "Hann"}
TV_METHODS = {"tv": "TV (PDHG)", "asd_pocs": "TV (ASD-POCS)"}
CAPPED = {"n_iter": "iterations", "lam": "λ", "dsd": "DSD", "dso": "DSO", "i0": "dose I₀", "views": "views",
          "eps_pct": "ASD-POCS ε"}

with st.sidebar:
    st.subheader("Scan")
    phantom = w.select("Phantom", "phantom", PHANTOMS, D.phantom,
                       help="Shepp-Logan head · Piecewise: random constant ellipses (TV's model holds) · "
                            "Smooth: Gaussian blobs without edges (TV's model fails) · CT slice: a real 128 × 128 CT "
                            "image (pydicom's test file CT_small.dcm).")
    _, digest = uploads.image_upload()
    UPLOAD = uploads.upload_ref() if digest else None  # the last valid upload while a file is in the widget
    kind = w.select("Beam geometry", "geom", GEOMETRIES, D.kind,
                    help="Parallel beam over 180°, or fan beam from a point source circling over 360° with a "
                         "flat detector (reconstructed by FDK, which in 2-D is exactly fan-beam FBP).")
    dso, dsd = D.dso, D.dsd
    if kind == "fan":
        dso = w.slider("Source–isocentre distance DSO", "dso", *lab.DSO_RANGE, D.dso, step=0.5,
                       help="In units of half the field of view. Closer source = wider fan.")
        dsd = w.slider("Source–detector distance DSD", "dsd", lab.DSO_RANGE[0], lab.DSD_MAX, D.dsd, step=0.5,
                       help="At least DSO; the detector is magnified by DSD/DSO.")
    n = int(w.select("Image size (pixels per side)", "n", SIZES, str(D.n),
                     help="Reconstruction grid n × n. 256 is sharper; 128 keeps the page fast for a whole class."))
    i0 = w.log_slider("Dose: photons per detector bin I₀ (0 = no noise)", "i0", *lab.I0_RANGE, D.i0, extra=(0.0,),
                      help="Poisson counts N ~ Poisson(I₀·e^(−∫μ)), then b = −log(N/I₀). Less dose, more noise.")
    crime = w.toggle("Inverse crime (data from the same A)", "crime", D.crime,
                     help="Simulate the data with the reconstruction's own projector: a common shortcut that "
                          "changes the scores (section 3 shows by how much, and in which direction).")
    st.subheader("TV reconstruction")
    lam = w.log_slider("Regularization λ", "lam", lab.LAM_SLIDER_MIN, lab.LAM_RANGE[1], D.lam, extra=(0.0,),
                       help="The λ of the formula above: weight of TV(x) next to ½‖Ax − b‖². 0 = non-negative least "
                            "squares; large = flat, cartoon-like images.")
    n_iter = int(w.slider("Iterations", "iters", *lab.ITER_RANGE, D.n_iter, step=10,
                          help=f"The most TV-PDHG iterations: it stops earlier once an iteration changes the image by "
                               f"less than {tv.TOL:.1%} (60-100 iterations near the defaults; the page says how many "
                               f"ran). SART runs at most {lab.SART_MAX_PASSES} passes, ASD-POCS at most "
                               f"{lab.ASD_MAX_ITERS} outer iterations; the server caps work per reconstruction."))
    window_name = w.select("Grey window", "window", WINDOWS, "full",
                           help="Full: 0 to the phantom's maximum · Narrow: the soft-tissue range, where streaks show.")
    seed = w.seed(help="Random phantoms and photon noise; the same seed gives the same numbers for everyone.")

SCAN = replace(D, phantom=lab.UPLOAD if UPLOAD is not None else phantom, upload=UPLOAD, kind=kind, n=n,
               dso=float(dso), dsd=float(dsd), i0=float(i0), crime=bool(crime),
               seed=int(seed), lam=float(lam), n_iter=n_iter)
CFG = SCAN.clamped()
layout.capped(SCAN, CFG, CAPPED)
TRUTH = cached.result(lab.phantom_image, lab.truth_key(CFG))  # kept when the dose, geometry or crime move
T_MAX = float(TRUTH.max()) or 1.0
WINDOW = (0.0, T_MAX) if window_name == "full" else (0.1 * T_MAX, 0.45 * T_MAX)
FBP_NAME = "FDK" if CFG.kind == "fan" else "FBP"
XS, YS = (a.ravel() for a in pixel_centres(CFG.n))

if CFG.phantom == "ct_slice":
    st.info(f"**{CT_SLICE_LABEL}:** {CT_SLICE_SOURCE}", icon=":material/radiology:")
elif CFG.phantom == lab.UPLOAD:
    st.info(f"**Your own slice** “{CFG.upload.filename}” is the phantom: resampled onto the {CFG.n}×{CFG.n} grid "
            "inside the field of view, with honest data from a finer grid. It stays in your session (remove the file "
            "to go back to the phantom menu).", icon=":material/upload_file:")
if CFG.crime:
    st.warning("**Inverse crime is on:** the measured data were made with the same discrete projector that "
               "reconstructs them, so the model error vanishes. Section 3 shows what that does to the scores.",
               icon=":material/gavel:")
if CFG.i0 and CFG.i0 < 1e3:
    st.warning(f"I₀ = {CFG.i0:g} photons per bin is a very low dose: many bins count only a few photons (zero counts "
               "are set to ½ before the logarithm). Expect heavy noise; raise λ.", icon=":material/grain:")


def _label(method: str) -> str:
    return FBP_NAME if method == "fbp" else figs.METHOD_LABELS[method]


def _recon(key: lab.CTConfig):
    """One reconstruction. Iterative ones run in a worker; so does FBP of inverse-crime data, which are made with the
    system matrix (a worker holds it already: building it in the server process cost ~0.1 s and ~20 MB)."""
    what = f"{_label(key.method)} from {key.views} views at {key.n}×{key.n}"
    return cached.result(lab.reconstruction, key, heavy=key.method != "fbp" or key.crime, label=what)


def _recons(keys, what: str) -> list:
    """Several reconstructions; the ones a worker computes go to it as one job (one turn in the queue, not one each)."""
    heavy = [k for k in keys if k.method != "fbp" or k.crime]
    cached.results(lab.reconstruction, heavy, heavy=True, label=f"{what}: {len(heavy)} reconstructions")
    return [_recon(k) for k in keys]


def _runs_caption(keys, results) -> str:
    """How many iterations each iterative method actually ran (TV-PDHG stops at its tolerance)."""
    parts = []
    for k in keys:
        r = results[k.method]
        if k.method == "tv":
            stopped = f" (it stopped: an iteration changed the image by less than {tv.TOL:.1%})" if r.nit < k.n_iter else ""
            parts.append(f"{_label(k.method)} ran {r.nit} of at most {k.n_iter} iterations{stopped}")
        else:
            parts.append(f"{_label(k.method)} ran {r.nit} {'passes' if k.method == 'sart' else 'outer iterations'}")
    return "; ".join(parts) + " (the server caps work per reconstruction)."


def _big_image_gate(keys, *, button_key: str, what: str) -> bool:
    """Above 128² an iterative reconstruction that nobody computed yet costs seconds of a small server's CPU
    (about 4 s for the strip at 256²): it starts on request. Presenting (a lecturer's prepared state) computes."""
    return gate.ready([(lab.reconstruction, k) for k in keys if k.method != "fbp"], key=button_key, scope="section",
                      live=CFG.n <= 128 or layout.presenting(), button=f"Compute at {CFG.n}×{CFG.n}",
                      icon=":material/hourglass:",
                      message=lambda todo: f"{what} at {CFG.n}×{CFG.n} pixels needs {todo} iterative reconstruction(s) "
                                           "nobody has computed yet: several seconds on a small server, so they start "
                                           "on request.")


def _convergence_note(method: str, r) -> None:
    c = r.convergence
    if c is None or c.converged:
        return
    extra = (" SART has no prior: with few views it is stopped early on purpose." if method == "sart" else
             " More iterations would change the image; the scores are those of this image.")
    st.caption(":material/sync_problem: " + c.sentence(_label(method)) + extra)


# ------------------------------------------------------------------------------------------------
@layout.section(1, "1 · The lecture's figure: TV from 20, 30 and 40 views", prose=(
    f"TV at 20, 30 and 40 views next to {FBP_NAME} at 40 views, all at the sidebar's settings."))
def _strip() -> None:
    keys = CFG.strip_keys()
    if not _big_image_gate(keys, button_key="run_strip", what="The lecture's strip"):
        return
    with layout.numerical_guard("The TV reconstructions"):
        strip = _recons(keys, "The lecture's strip")
        tv_runs = strip[:-1]
        panels = [(f"TV · {k.views} views<br>{r.psnr:.1f} dB", r.x) for k, r in zip(keys, tv_runs, strict=False)]
        panels.append((f"{FBP_NAME} · {keys[-1].views} views<br>{strip[-1].psnr:.1f} dB", strip[-1].x))
        lo, hi = min(r.nit for r in tv_runs), max(r.nit for r in tv_runs)
        title = (f"TV (λ = {CFG.lam:g}, {lo if lo == hi else f'{lo}–{hi}'} iterations) vs {FBP_NAME}, "
                 f"{CFG.n}×{CFG.n} pixels")
        if layout.presenting():  # one row of four images across the projector
            layout.show_figure(figs.fig_strip(panels, window=WINDOW, cols=len(panels), title=title), key="fig_strip")
        else:  # one figure per image, two to a row: one under the other on a phone
            st.markdown(f"**{title}**")
            for row in range(0, len(panels), 2):
                for j, col in enumerate(st.columns(2), start=row):
                    if j < len(panels):
                        with col:
                            layout.show_figure(figs.fig_image(panels[j][1], caption=panels[j][0], window=WINDOW,
                                                              colorbar=j == len(panels) - 1), key=f"fig_strip_{j}")
        layout.metrics([(f"TV · {k.views} views", f"{r.psnr:.1f} dB", "PSNR against the phantom")
                        for k, r in zip(keys, tv_runs, strict=False)]
                       + [(f"{FBP_NAME} · {keys[-1].views} views", f"{strip[-1].psnr:.1f} dB",
                           "PSNR against the phantom")])
        st.markdown(claims.tv_vs_fbp(tv_runs[-1].psnr, strip[-1].psnr, views=keys[-1].views, fbp_name=FBP_NAME) + " "
                    + claims.half_views(tv_runs[0].psnr, keys[0].views, strip[-1].psnr, keys[-1].views,
                                        fbp_name=FBP_NAME))
        _convergence_note("tv", tv_runs[-1])
        layout.download_csv("strip images", {"x": XS, "y": YS, "phantom": TRUTH.ravel(),
                                             **{f"tv_{k.views}_views": r.x.ravel()
                                                for k, r in zip(keys, tv_runs, strict=False)},
                                             f"{FBP_NAME.lower()}_{keys[-1].views}_views": strip[-1].x.ravel()},
                            "ct_strip.csv", key="dl_strip")
    layout.what_to_notice([
        f"Look at {FBP_NAME}'s streaks radiating from the edges — the gaps between views show up as lines — and at "
        "what TV does with half as many views (the numbers above say which scores higher).",
        "TV's prior matches Shepp-Logan (flat regions, sharp edges). Switch the phantom to **Smooth** and TV's answer "
        "turns blocky: the same prior now *adds* structure that is not there (staircasing).",
    ])



# ------------------------------------------------------------------------------------------------
@layout.section(2, "2 · FBP, SART and TV at one view count")
def _compare() -> None:
    if layout.presenting():  # the figure first: its controls beside it, the notes under it
        controls, figure = layout.panel()
        c1 = c2 = c3 = controls
        with figure:
            fig_slot, notes = st.container(), st.container()
    else:
        c1, c2, c3 = st.columns(3)
        figure = st.container()
        with figure:
            notes, fig_slot = st.container(), st.container()
    with c1:
        views = int(w.log_slider("Number of views", "views", lab.VIEWS_SLIDER["lo"], lab.VIEWS_SLIDER["hi"], D.views,
                                 mantissas=lab.VIEWS_SLIDER["mantissas"], extra=lab.VIEWS_SLIDER["extra"],
                                 help="Projection angles spread evenly over 180° (parallel) or 360° (fan). "
                                      "Dose ∝ views."))
    with c2:
        method = w.select("TV solver", "method", TV_METHODS, D.method,
                          help="TV (PDHG): the penalised form above, Chambolle–Pock PDHG with diagonal "
                               "preconditioning · TV (ASD-POCS): constrained form min TV(x) s.t. ‖Ax−b‖ ≤ ε "
                               "(Sidky & Pan 2008)")
        eps_pct = (w.slider("ASD-POCS tolerance ε (% of ‖b‖)", "eps", *lab.EPS_RANGE, D.eps_pct, step=0.1,
                            help="Data misfit allowed: too small fits noise, too large blurs.")
                   if method == "asd_pocs" else D.eps_pct)
    with c3:
        filt = w.select(f"{FBP_NAME} filter", "filter", FILTERS, D.filter_name,
                        help="Ramp filter and its windows: smoother windows cut noise and resolution.")
        row_y = w.slider("Line profile at height y", "row", -0.95, 0.95, 0.1, step=0.05,
                         help="Row of the image for the line profile.")
    results = None
    with figure, notes:
        req = replace(CFG, views=views, method=method, filter_name=filt, eps_pct=float(eps_pct))
        cfg = req.clamped()
        layout.capped(req, cfg, CAPPED)
        it_views = cfg.iterative_views()
        if cfg.views > it_views:
            st.info(f"{cfg.views} views: {FBP_NAME} uses all of them; SART and TV are capped at {it_views} views at "
                    f"{cfg.n}×{cfg.n} pixels (their system matrix must fit a small server). With this many views "
                    f"{FBP_NAME} needs little help anyway.", icon=":material/info:")
        if cfg.views == 1:
            st.warning("One view cannot determine an image: every method can only smear that single projection back "
                       "along its rays.", icon=":material/warning:")
        if cfg.lam == 0:
            st.info("λ = 0: TV-PDHG solves plain non-negative least squares; with few views the streaks come back.",
                    icon=":material/info:")
        elif cfg.lam >= 0.05:
            st.info(f"λ = {cfg.lam:g} is large: the TV term wins and the image flattens toward a constant.",
                    icon=":material/info:")
        keys = cfg.compare_keys()
        if not _big_image_gate(keys, button_key="run_compare", what="The comparison"):
            return
        with layout.numerical_guard("The reconstruction"):
            results = dict(zip((k.method for k in keys), _recons(keys, "The comparison"), strict=True))
            st.caption(_runs_caption(keys[1:], results))
            bad = [m for m, r in results.items() if not np.all(np.isfinite(r.x))]
            if bad:
                st.error(f"{', '.join(_label(m) for m in bad)} produced non-finite values; change λ, the dose or the "
                         "number of views.", icon=":material/error:")
                return
            layout.metrics([(f"{_label(m)} PSNR", f"{r.psnr:.1f} dB", f"SSIM {r.ssim:.3f}, RMSE {r.rmse:.4f}")
                            for m, r in results.items()]
                           + [("TV gain over " + FBP_NAME, f"{results[method].psnr - results['fbp'].psnr:+.1f} dB",
                               "PSNR difference at this view count")])
            for m in ("sart", method):
                _convergence_note(m, results[m])
            if keys[-1].crime:
                honest = _recon(replace(keys[-1], crime=False))
                st.warning(claims.crime_banner(_label(method), results[method].psnr, honest.psnr,
                                               lam=cfg.lam if method == "tv" else None), icon=":material/gavel:")
    if results is None:  # the reconstruction failed: its message is shown above
        return
    with figure, fig_slot, layout.numerical_guard("The comparison figure"):
        panels = [(f"{_label(k.method)}<br>{k.views} views · {results[k.method].psnr:.1f} dB", results[k.method].x)
                  for k in keys]
        if layout.presenting():  # one figure, the reconstructions over their errors
            layout.show_figure(figs.fig_comparison(TRUTH, panels, window=WINDOW, diff_window=0.2 * T_MAX),
                               key="fig_compare")
        else:  # one column per method (one under the other on a phone): the image over its error
            st.markdown("**Reconstructions (top) and their errors (bottom; red = too bright)**")
            for j, (col, k, (caption, img)) in enumerate(zip(st.columns(len(keys)), keys, panels, strict=True)):
                last = j == len(keys) - 1
                with col:
                    layout.show_figure(figs.fig_image(img, caption=caption, window=WINDOW, colorbar=last),
                                       key=f"fig_compare_{k.method}")
                    layout.show_figure(figs.fig_image(img, caption=f"error of {_label(k.method)}", minus=TRUTH,
                                                      window=(-0.2 * T_MAX, 0.2 * T_MAX), colorbar=last,
                                                      colorbar_title="error"), key=f"fig_error_{k.method}")
    with figure, layout.numerical_guard("The reconstruction"):
        layout.download_csv("reconstructions", {"x": XS, "y": YS, "phantom": TRUTH.ravel(),
                                                **{m: r.x.ravel() for m, r in results.items()}},
                            "ct_reconstructions.csv", key="dl_compare")

        st.subheader("The measurement: sinogram and geometry")
        left, right = st.columns([1.6, 1])
        sino_key = cfg.scan_key()
        sino = cached.result(lab.sinogram, sino_key, heavy=sino_key.crime, label="The inverse-crime sinogram")
        with left:
            noise = f", I₀ = {cfg.i0:g}" if cfg.i0 else ", noise-free"
            layout.show_figure(figs.fig_sinogram(sino.data, sino.detector, sino.angles_deg,
                                                 title=f"Sinogram: {cfg.views} views{noise}"), key="fig_sino")
            layout.download_csv("sinogram", {"view_angle_deg": np.repeat(sino.angles_deg, len(sino.detector)),
                                             "detector": np.tile(sino.detector, len(sino.angles_deg)),
                                             "b": sino.data.ravel()}, "ct_sinogram.csv", key="dl_sino")
        with right:
            layout.show_figure(figs.fig_geometry(cfg.kind, dso=cfg.dso, dsd=cfg.dsd, n_views=min(cfg.views, 24)),
                               key="fig_geom")
            layout.show_figure(figs.fig_strip([(f"{PHANTOMS.get(cfg.phantom, 'Your slice')} (truth)", TRUTH)], window=WINDOW,
                                              cols=1, colorbar=False, title="The object"), key="fig_truth")

        st.subheader(f"Convergence of {_label(method)}")
        r = results[method]
        it = np.arange(1, r.nit + 1)
        obj_label = "TV(x)" if method == "asd_pocs" else "½‖Ax−b‖² + λ·TV(x)"
        if layout.presenting():
            layout.show_figure(figs.fig_convergence(it, r.objective, r.residual, r.psnr_trace,
                                                    objective_label=obj_label), key="fig_conv")
        else:  # three figures in a row: one under the other on a phone
            for j, col in enumerate(st.columns(3)):
                with col:
                    layout.show_figure(figs.fig_convergence(it, r.objective, r.residual, r.psnr_trace,
                                                            objective_label=obj_label, panel=j), key=f"fig_conv_{j}")
        if len(r.psnr_trace):
            st.caption(f"{_label(method)} came within 0.5 dB of its final PSNR after "
                       f"{iterations_within(r.psnr_trace, 0.5)} of {r.nit} iterations. Objective: {obj_label} "
                       f"(final value {r.fun:.6g}). {r.convergence.sentence(_label(method))}")
        layout.download_csv("convergence", {"iteration": it, "objective": r.objective, "residual": r.residual,
                                            "psnr_db": r.psnr_trace}, "ct_convergence.csv", key="dl_conv")
        layout.show_code(tv.tv_pdhg if method == "tv" else tv.asd_pocs, title=f"Show the code: {_label(method)}")

        st.subheader("A line profile through the phantom")
        row = int(np.clip(round((1.0 - row_y) * cfg.n / 2 - 0.5), 0, cfg.n - 1))
        prof = [(m, _label(m), res.x) for m, res in results.items()]
        layout.show_figure(figs.fig_profile(TRUTH, prof, row=row), key="fig_profile")
        layout.download_csv("line profile", {"x": pixel_centres(cfg.n)[0][row], "phantom": TRUTH[row],
                                             **{m: res.x[row] for m, res in results.items()}},
                            "ct_profile.csv", key="dl_profile")
        layout.show_code(fbp_module.fbp, fbp_module.prepare_sinogram, title=f"Show the code: {FBP_NAME}")
        layout.show_code(projectors.joseph_matrix, title="Show the code: the system matrix A (Joseph projector)")
    layout.what_to_notice([
        "Error maps: FBP's error is streaks everywhere; TV's error sits on edges (a slightly rounded or shifted "
        "boundary). SART, without a prior, lands in between and keeps some streaks.",
        "Turn on the dose (I₀ = 10⁴): FBP's noise grows with every ramp-filtered view; TV with a larger λ removes noise "
        "*and* streaks. Fewer views at the same image quality is less radiation for the patient.",
        "The profile shows what PSNR hides: TV keeps edges sharp but flattens small contrasts; FBP keeps them but "
        "oscillates.",
    ])



def _on_request(fn, key, *, what: str, button: str, button_key: str, force: bool = False):
    """A heavy result at once when it is ready (or ``force``), otherwise behind a button (the shared gate)."""
    if not gate.ready([(fn, key)], key=button_key, scope="section", live=force, button=button,
                      icon=":material/hourglass:",
                      message=f"{what}: this takes a while on a small server, so it starts on request (the page's "
                              "defaults are precomputed)."):
        return None
    return cached.result(fn, key, heavy=True, label=what)


# ------------------------------------------------------------------------------------------------
@layout.section(3, "3 · The inverse crime: what it does to the scores", prose=(
    "Data simulated with the reconstruction's own matrix A contain no model error. That can make TV look better "
    "*or* worse at a given λ — it mainly moves the best λ. Both curves below use the same phantom, views, noise "
    "and iterations; the stars mark each curve's best λ, the dotted line the sidebar's λ."))
def _crime() -> None:
    key = CFG.crime_key()
    with layout.numerical_guard("The inverse-crime comparison"):
        # 16 TV runs (1.6 s of CPU alone, 2-3 s under a class): at once when precomputed, on a projector or for the
        # real CT slice (issue 15: its deep link shows the crime gap), otherwise on request, like the sweep
        # (issue 12: CT work over its budget waits for a button)
        real_slice = CFG.phantom == "ct_slice" and CFG.n <= 128
        cc = _on_request(lab.crime_curves, key, force=layout.presenting() or real_slice,
                         what=f"TV over {len(lab.CRIME_LAMS)} values of λ, with and without the crime",
                         button="Compare honest and crime data over λ", button_key="run_crime")
        if cc is None:
            return
        layout.show_figure(figs.fig_crime_curves(cc.lams, cc.psnr_honest, cc.psnr_crime, lam_now=CFG.lam),
                           key="fig_crime")
        (lh, ph), (lc, pc) = cc.best_honest, cc.best_crime
        layout.metrics([("Best λ, honest data", f"{lh:g}", f"{ph:.1f} dB"),
                        ("Best λ, crime data", f"{lc:g}", f"{pc:.1f} dB"),
                        ("Crime gap at the best λ", f"{pc - ph:+.1f} dB", "best crime PSNR − best honest PSNR")])
        st.markdown(claims.crime_curves_sentence(cc.lams, cc.psnr_honest, cc.psnr_crime)
                    + f" ({cc.views} views, at most {cc.n_iter} TV-PDHG iterations per λ.)")
        layout.download_csv("PSNR over λ", {"lam": cc.lams, "psnr_honest_db": cc.psnr_honest,
                                            "psnr_crime_db": cc.psnr_crime}, "ct_crime_curves.csv", key="dl_crime")




# ------------------------------------------------------------------------------------------------
@layout.section(4, "4 · Image quality against the number of views", prose=(
    "The first figure carries TV and " + FBP_NAME + " at every view count of its slider (computed once, shared by "
    "everyone): dragging the slider *inside the figure* redraws in your browser with no waiting. The curves below "
    "score every method at eight view counts."))
def _sweep() -> None:
    views_now = int(float(st.session_state.get("views", D.views) or D.views))
    key = CFG.sweep_key()
    what = f"FBP, SART, TV-PDHG and ASD-POCS at {len(lab.SWEEP_VIEWS)} view counts"
    with layout.numerical_guard("The family of view counts"):
        fam = _on_request(lab.views_family, lab.family_key(CFG), force=layout.presenting(),
                          what=f"TV and {FBP_NAME} at {len(lab.FAMILY_VIEWS)} view counts",
                          button="Compute the view-count slider for these settings", button_key="run_family")
        if fam is not None:
            # side by side on a projector; TV above FBP in a half-width column otherwise (full width on a phone)
            pic, note = (st.container(), st.container()) if layout.presenting() else st.columns(2)
            with pic:
                layout.show_figure(figs.fig_views_family(fam.views, fam.tv, fam.fbp, fam.tv_psnr, fam.fbp_psnr,
                                                         window=WINDOW, current=views_now, fbp_name=FBP_NAME,
                                                         stacked=not layout.presenting()), key="fig_family")
            shown = min(fam.views, key=lambda v: abs(v - views_now))
            note.caption(f"The figure opens at **{shown} views** (the family's value closest to the views control, "
                       f"{views_now}); its own slider shows {', '.join(map(str, fam.views))} views and its title "
                       "names the one drawn. The numbers elsewhere on the page follow the views control.")
    with layout.numerical_guard("The sweep"):
        sw = _on_request(lab.sweep, key, what=what, button="Compute the sweep for these settings",
                         button_key="run_sweep")
        if sw is None:
            return
        honest = None
        if CFG.crime:
            honest = cached.result(lab.sweep, replace(key, crime=False), heavy=True, label=what + " (honest data)")
        scores = {("fdk" if (m == "fbp" and CFG.kind == "fan") else m): v for m, v in sw.scores().items()}
        if layout.presenting():
            layout.show_figure(figs.fig_metrics_vs_views(sw.views, scores, current=views_now), key="fig_sweep")
        else:  # three figures in a row: one under the other on a phone
            for m, col in zip(("psnr", "ssim", "rmse"), st.columns(3), strict=True):
                with col:
                    layout.show_figure(figs.fig_metrics_vs_views(sw.views, scores, current=views_now, metric=m),
                                       key=f"fig_sweep_{m}")
        sentences = claims.sweep_sentences(sw.views, sw.psnr, fbp_name=FBP_NAME,
                                           honest_psnr=None if honest is None else honest.psnr,
                                           labels={m: _label(m) for m in ("sart", "tv", "asd_pocs")})
        layout.what_to_notice(sentences + ["Turn on the inverse crime to see how each curve moves: that is why "
                                           "papers should say how their data were made."] * (not CFG.crime))
        layout.download_csv("quality vs views", {"views": sw.views, **{f"{m}_{k}": v for m, d in sw.scores().items()
                                                                       for k, v in d.items()}},
                            "ct_quality_vs_views.csv", key="dl_sweep")



layout.finish_page()
