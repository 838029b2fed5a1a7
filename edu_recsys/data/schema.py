"""The canonical interactions table: column names and their meaning (the contract).

One row is one answer of one student to one item.

=============  ===========================  ==============================================
column         dtype                        meaning
=============  ===========================  ==============================================
student_id     str                          who answered
item_id        str                          which question / exercise / step
concept_ids    object (tuple of str)        the concepts (knowledge points) the item
                                            exercises; ``()`` only where unknown
correct        int8 (0 / 1)                 first-attempt correctness
score          float64 in [0, 1], optional  partial credit, where the source has it
timestamp      datetime64[ns, UTC], opt.    when the answer was given
duration_s     float64, optional            seconds spent on the item
resource_id    str, optional                learning resource the answer belongs to
fold           int8 (1..5), optional        fold of the public k-fold files
event_id       str, optional                a unique id per answer (idempotent ingest)
=============  ===========================  ==============================================

Rows of one student are in time order (by ``timestamp`` when present, otherwise in
the order given). Other columns are kept as they are.
"""

from __future__ import annotations

__all__ = [
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "CANONICAL_COLUMNS",
    "STUDENT",
    "ITEM",
    "CONCEPTS",
    "CORRECT",
    "SCORE",
    "TIMESTAMP",
    "DURATION",
    "RESOURCE",
    "FOLD",
    "EVENT",
]

STUDENT = "student_id"
ITEM = "item_id"
CONCEPTS = "concept_ids"
CORRECT = "correct"
SCORE = "score"
TIMESTAMP = "timestamp"
DURATION = "duration_s"
RESOURCE = "resource_id"
FOLD = "fold"
EVENT = "event_id"

REQUIRED_COLUMNS = (STUDENT, ITEM, CONCEPTS, CORRECT)
OPTIONAL_COLUMNS = (SCORE, TIMESTAMP, DURATION, RESOURCE, FOLD, EVENT)
CANONICAL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
