"""Learning-situation data: read, validate and shape interaction logs.

Everything downstream consumes the canonical interactions table described in
:mod:`edu_recsys.data.schema`.
"""

from edu_recsys.data.folds import (
    detect_sequence_format,
    find_fold_files,
    read_fold_file,
    read_folds,
)
from edu_recsys.data.qmatrix import (
    apply_q_matrix,
    q_matrix_from_interactions,
    q_matrix_to_sparse,
)
from edu_recsys.data.readers import COLUMN_ALIASES, infer_columns, read_interactions, read_table
from edu_recsys.data.schema import CANONICAL_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from edu_recsys.data.summary import summarize_interactions
from edu_recsys.data.validate import ValidationReport, parse_concepts, validate_interactions
from edu_recsys.data.xapi import from_xapi
from edu_recsys.exceptions import InvalidDataError

__all__ = [
    "CANONICAL_COLUMNS",
    "COLUMN_ALIASES",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "InvalidDataError",
    "ValidationReport",
    "apply_q_matrix",
    "detect_sequence_format",
    "find_fold_files",
    "from_xapi",
    "infer_columns",
    "parse_concepts",
    "q_matrix_from_interactions",
    "q_matrix_to_sparse",
    "read_fold_file",
    "read_folds",
    "read_interactions",
    "read_table",
    "summarize_interactions",
    "validate_interactions",
]
