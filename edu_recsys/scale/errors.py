"""Exceptions of the scale (Dask) drivers."""

from __future__ import annotations

from edu_recsys.exceptions import EduRecsysError

__all__ = [
    "ScaleError",
    "IncompleteDatasetError",
    "PartitioningError",
    "JobFailedError",
    "OutputExistsError",
]


class ScaleError(EduRecsysError):
    """Base class of the errors raised by :mod:`edu_recsys.scale`."""


class IncompleteDatasetError(ScaleError):
    """A dataset folder has no valid manifest (it is being written, or a job failed)."""


class PartitioningError(ScaleError):
    """Partitions that must hold whole students do not (a student is split)."""


class JobFailedError(ScaleError):
    """A batch job failed; nothing was published at the output location."""


class OutputExistsError(ScaleError, FileExistsError):
    """The output location exists and ``overwrite`` was not asked for."""
