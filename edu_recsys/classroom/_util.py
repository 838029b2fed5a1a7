"""Small shared helpers of the classroom modules."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["quiet_nan"]


@contextmanager
def quiet_nan() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' warnings where NaN is the documented result."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", category=RuntimeWarning)
        yield
