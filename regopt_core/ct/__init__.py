"""Sparse-view CT: analytic phantoms, parallel/fan geometries, Joseph projector, FBP/FDK, SART,
TV reconstruction (preconditioned PDHG and ASD-POCS) and Poisson dose noise.

Modules: :mod:`~regopt_core.ct.geometry`, :mod:`~regopt_core.ct.phantoms`,
:mod:`~regopt_core.ct.projectors`, :mod:`~regopt_core.ct.filters`, :mod:`~regopt_core.ct.fbp`,
:mod:`~regopt_core.ct.sart`, :mod:`~regopt_core.ct.tv`, :mod:`~regopt_core.ct.noise`,
:mod:`~regopt_core.ct.experiments` (the page's drivers).
"""
