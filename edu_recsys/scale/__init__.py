"""Province-size logs on Dask: the same jobs as in memory, on partitions of students.

Optional extra: ``pip install edu-recsys[scale]`` (``dask[dataframe]``, ``distributed``).

Modules:

* :mod:`~edu_recsys.scale.io`: partitioned Parquet/CSV logs on local disk or any fsspec
  URL; shuffle by student; manifests that mark complete outputs.
* :mod:`~edu_recsys.scale.cluster`: a client for a scheduler address or a LocalCluster.
* :mod:`~edu_recsys.scale.features`: the in-memory feature code of
  :mod:`edu_recsys.mastery`, applied per partition.
* :mod:`~edu_recsys.scale.train`: fitting on data larger than memory
  (:mod:`~edu_recsys.scale.solvers`: distributed L-BFGS and streamed SGD).
* :mod:`~edu_recsys.scale.score`: batch jobs (answers, nightly mastery, class reports,
  homework), published only when complete.
* :mod:`~edu_recsys.scale.pipeline`: the end-to-end nightly job (``batch run``).
* :mod:`~edu_recsys.scale.simlog`: fast seeded simulated logs for benchmarks.
* :mod:`~edu_recsys.scale.errors`: the exceptions.

See ``docs/scale.md``.
"""

try:  # the extra is optional: say how to get it
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError("edu_recsys.scale needs Dask: pip install 'edu-recsys[scale]'") from e

from edu_recsys.scale.errors import (
    IncompleteDatasetError,
    JobFailedError,
    OutputExistsError,
    PartitioningError,
    ScaleError,
)

__all__ = [
    "IncompleteDatasetError",
    "JobFailedError",
    "OutputExistsError",
    "PartitioningError",
    "ScaleError",
]
