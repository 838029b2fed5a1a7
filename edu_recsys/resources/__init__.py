"""Learning resources: the catalogue, its quality, and curation (精品课程遴选).

- :mod:`~edu_recsys.resources.schema`: the catalogue contract (pydantic rows).
- :mod:`~edu_recsys.resources.catalogue`: :class:`Catalogue` and validation.
- :mod:`~edu_recsys.resources.io`: CSV / JSON / Parquet readers and writer.
- :mod:`~edu_recsys.resources.synthetic`: seeded synthetic catalogues on any graph.
- :mod:`~edu_recsys.resources.oulad`, :mod:`~edu_recsys.resources.ednet`: real catalogues.
- :mod:`~edu_recsys.resources.quality`: ratings, completion and learning gain -> quality.
- :mod:`~edu_recsys.resources.curation`: the quality-course selection report.

This layer never imports :mod:`edu_recsys.mastery`.
"""

from edu_recsys.resources.catalogue import (
    Catalogue,
    as_catalogue,
    default_minutes,
    empty_resources,
    validate_ratings,
    validate_resources,
    validate_usage,
)
from edu_recsys.resources.curation import VERDICTS, curation_report
from edu_recsys.resources.ednet import ednet_lecture_catalogue
from edu_recsys.resources.io import (
    read_catalogue,
    read_ratings,
    read_resources,
    read_usage,
    write_catalogue,
)
from edu_recsys.resources.oulad import load_oulad_vle
from edu_recsys.resources.quality import (
    QUALITY_COLUMNS,
    QualityEstimator,
    estimate_quality,
    usage_gains,
)
from edu_recsys.resources.schema import (
    RESOURCE_COLUMNS,
    RESOURCE_TYPES,
    RatingRow,
    ResourceRow,
    UsageRow,
    normalise_type,
)
from edu_recsys.resources.synthetic import synthetic_catalogue, synthetic_usage

__all__ = [
    "Catalogue",
    "QUALITY_COLUMNS",
    "QualityEstimator",
    "RESOURCE_COLUMNS",
    "RESOURCE_TYPES",
    "RatingRow",
    "ResourceRow",
    "UsageRow",
    "VERDICTS",
    "as_catalogue",
    "curation_report",
    "default_minutes",
    "ednet_lecture_catalogue",
    "empty_resources",
    "estimate_quality",
    "load_oulad_vle",
    "normalise_type",
    "read_catalogue",
    "read_ratings",
    "read_resources",
    "read_usage",
    "synthetic_catalogue",
    "synthetic_usage",
    "usage_gains",
    "validate_ratings",
    "validate_resources",
    "validate_usage",
    "write_catalogue",
]
