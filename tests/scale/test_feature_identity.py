"""The vectorised feature code gives the same designs as the original implementation.

``data/feature_reference.npz`` holds the designs that the original (pandas groupby,
CSC-stacking) implementation produced for a few feature configurations (see
``feature_reference.py``); the current code must reproduce them to 1e-12, with the
compiled kernels and with the numpy code.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tests.scale.feature_reference import CONFIGS, PATH, designs


@pytest.fixture(scope="module")
def reference():
    with np.load(PATH) as z:
        return {k: z[k] for k in z.files}


def _matrix(ref, prefix: str) -> sp.csr_matrix:
    shape = tuple(ref[f"{prefix}/shape"])
    return sp.csr_matrix(
        (ref[f"{prefix}/val"], (ref[f"{prefix}/row"], ref[f"{prefix}/col"])), shape=shape
    )


@pytest.mark.parametrize("compiled", ["1", "0"], ids=["compiled", "numpy"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_designs_equal_the_reference(reference, name, compiled, monkeypatch):
    # both feature paths: the compiled kernels (when numba is installed) and numpy
    monkeypatch.setenv("EDU_RECSYS_NUMBA", compiled)
    got = designs(name)
    for key in ("fit", "test"):
        want = _matrix(reference, f"{name}/{key}")
        new = _matrix(got, f"{name}/{key}")
        assert new.shape == want.shape, key
        # the same stored entries (an explicit zero in one is a zero in the other)
        assert abs(new - want).max() <= 1e-12, key
        assert new.nnz == want.nnz, key
