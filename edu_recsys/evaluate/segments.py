"""Result segments: where a model is good and where it is not.

* ``first_on_concept`` / ``later_on_concept``: answers where every concept of the
  answer is new to the student (cold concept) versus the rest;
* ``first_10`` / ``after_10``: a student's first ten answers (cold student) versus
  the rest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edu_recsys.evaluate.metrics import score_all

__all__ = ["answer_segments", "segment_scores"]


def answer_segments(ans, first_n: int = 10) -> dict[str, np.ndarray]:
    """Boolean masks over the answers of an :class:`~edu_recsys.mastery.answers.Answers`.

    Examples
    --------
    >>> from edu_recsys.mastery.answers import build_answers
    >>> df = pd.DataFrame({"student_id": ["s"] * 3, "item_id": ["a", "b", "c"],
    ...                    "concept_ids": [("x",), ("x",), ("y",)], "correct": [1, 0, 1]})
    >>> answer_segments(build_answers(df))["first_on_concept"].tolist()
    [True, False, True]
    """
    nloc = max(len(ans.concept_ids), 1)
    key = ans.student[ans.pair_answer] * nloc + ans.pair_concept
    prior = pd.Series(key).groupby(key, sort=False).cumcount().to_numpy()
    n = ans.n_answers
    seen = np.bincount(ans.pair_answer, weights=(prior > 0).astype(float), minlength=n)
    first_on_concept = seen == 0
    first = ans.pos < first_n
    return {
        "first_on_concept": first_on_concept,
        "later_on_concept": ~first_on_concept,
        f"first_{first_n}": first,
        f"after_{first_n}": ~first,
    }


def segment_scores(y, p, segments: dict[str, np.ndarray]) -> dict[str, dict]:
    """:func:`~edu_recsys.evaluate.metrics.score_all` within each segment."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    return {name: score_all(y[m], p[m]) for name, m in segments.items()}
