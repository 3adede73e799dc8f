"""Bundled data: the digits read directly from scikit-learn's bundled file equal sklearn's loader, and loading
them does not import scikit-learn (issue 12: a fresh worker process paid ~2 s of CPU for that import)."""

import subprocess
import sys

import numpy as np
from sklearn.datasets import load_digits as sk_load_digits

from regopt_core import datasets


def test_digits_equal_sklearns_loader():
    d, ref = datasets.load_digits(), sk_load_digits()
    assert d.X.shape == (1797, 64) and d.X.dtype == np.float64 and not d.X.flags.writeable
    np.testing.assert_array_equal(d.X, ref.data / 16.0)
    np.testing.assert_array_equal(d.y, ref.target)
    assert d.target_names == tuple(str(t) for t in ref.target_names)
    assert d.feature_names == tuple(ref.feature_names)


def test_loading_the_digits_does_not_import_sklearn():
    code = ("import sys; from regopt_core import datasets; datasets.load_digits(); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
