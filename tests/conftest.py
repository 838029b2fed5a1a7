"""Shared fixtures: the public data directory (tests skip with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    from edu_recsys.datasets import DataNotFoundError, resolve_data_dir

    try:
        return resolve_data_dir()
    except DataNotFoundError as e:
        pytest.skip(f"public datasets not available: {e}")


@pytest.fixture(scope="session")
def assist2009_folds_dir(data_dir: Path) -> Path:
    p = data_dir / "assist2009" / "akt_assist2009_pid"
    if not p.is_dir():
        pytest.skip(f"ASSISTments 2009 fold files not found at {p}")
    return p
