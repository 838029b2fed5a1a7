"""Fixtures of the scale tests: a small Dask cluster on loopback, always closed."""

from __future__ import annotations

import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def dask_threads():
    """A LocalCluster of 2 single-thread workers inside this process (127.0.0.1)."""
    from edu_recsys.scale.cluster import dask_client

    with dask_client(n_workers=2, threads_per_worker=1, processes=False, memory_limit=None) as c:
        yield c


@pytest.fixture
def small_log():
    """A simulated log of 120 students (about 3,000 answers) with timestamps."""
    from edu_recsys.scale.simlog import SimLogParams, simulate_log

    return simulate_log(
        SimLogParams(n_students=120, n_answers=3_000, n_items=200, n_concepts=20, random_state=3)
    )
