import os
import sys

# One BLAS thread, as in the server (pages/_ui/__init__.py): on a busy 2-core machine, OpenBLAS threads made
# entries 10-20x slower than the same work in the server. Set before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from bench.harness import main  # noqa: E402

sys.exit(main())
