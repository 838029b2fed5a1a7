"""Small reference designs of :class:`HistoryFeatures` (kept as ``data/feature_reference.npz``).

``python -m tests.scale.feature_reference`` rewrites the file. It was generated with
the original (pandas groupby / CSC-stacking) implementation of
``edu_recsys.mastery.history`` and ``features`` (main at 4ceaa61, which adds the
``transition`` and ``long_ability`` blocks to 7ba12a7's code), before the vectorised
rewrite, so that ``test_feature_identity.py`` checks the new code against the old
outputs. Regenerate it only for an intended change of a feature.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from edu_recsys.mastery.features import DAS3H_WINDOWS, HistoryFeatures
from edu_recsys.scale.simlog import SimLogParams, simulate_log

PATH = Path(__file__).parent / "data" / "feature_reference.npz"

_FULL = (
    "item",
    "concept",
    "concept_counts",
    "item_counts",
    "total_counts",
    "item_prior",
    "rates",
    "recent",
    "gap",
    "ability",
    "elapsed",
    "interactions",
)

#: name -> (HistoryFeatures parameters, table variant)
CONFIGS = {
    "full_time": (dict(blocks=_FULL, windows=DAS3H_WINDOWS), "time"),
    "full_expanded": (dict(blocks=_FULL, windows=DAS3H_WINDOWS), "expanded"),
    "slopes_pfa": (
        dict(
            blocks=("student", "item", "concept", "concept_counts", "rates", "ability")
            + ("item_slopes", "concept_slopes", "recent", "gap"),
            count_kinds=("wins", "fails"),
            count_transform="raw",
            halflives=(2.0, 7.0),
            min_item_count=3,
            block_scale={"item": 0.5, "rates": 2.0, "concept_slopes": 0.7},
        ),
        "time",
    ),
    "leaky_rows": (dict(blocks=_FULL, merge_expanded=False, cv=3), "expanded"),
    "transition": (
        dict(
            blocks=_FULL + ("long_ability", "transition"),
            windows=DAS3H_WINDOWS,
            transition_concepts=5,
            halflives=(1.0, 5.0, 30.0, 100.0),
        ),
        "time",
    ),
    "transition_expanded": (dict(blocks=_FULL + ("long_ability", "transition")), "expanded"),
}


def tables(variant: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test tables (test: other students, some unseen items and concepts)."""
    df = simulate_log(
        SimLogParams(n_students=30, n_answers=300, n_items=50, n_concepts=8, random_state=5)
    )
    if variant == "expanded":
        # the fold files' layout: a multi-concept answer as consecutive rows, no times
        df = df.drop(columns=["timestamp", "duration_s"])
        df = df.explode("concept_ids", ignore_index=True)
        df["concept_ids"] = df["concept_ids"].map(lambda c: (c,))
    students = df["student_id"].unique()
    test_ids = set(students[::4])
    train = df[~df["student_id"].isin(test_ids)].reset_index(drop=True)
    test = df[df["student_id"].isin(test_ids)].reset_index(drop=True)
    test.loc[test.index[::7], "item_id"] = "unseen-item"
    test.loc[test.index[3::11], "concept_ids"] = pd.Series(
        [("unseen-concept",)] * len(test.index[3::11]), index=test.index[3::11]
    )
    return train, test


def designs(name: str) -> dict[str, np.ndarray]:
    """The arrays of one configuration: ``fit_transform(train)``, ``transform(test)``."""
    params, variant = CONFIGS[name]
    train, test = tables(variant)
    hf = HistoryFeatures(**params)
    A = sp.csr_matrix(hf.fit_transform(train))
    B = sp.csr_matrix(hf.transform(test))
    out = {}
    for key, M in (("fit", A), ("test", B)):
        M = M.tocoo()
        out[f"{name}/{key}/row"] = M.row.astype(np.int32)
        out[f"{name}/{key}/col"] = M.col.astype(np.int32)
        out[f"{name}/{key}/val"] = M.data
        out[f"{name}/{key}/shape"] = np.array(M.shape)
    return out


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    for name in CONFIGS:
        arrays.update(designs(name))
    PATH.parent.mkdir(exist_ok=True)
    np.savez_compressed(PATH, **arrays)
    print(PATH, PATH.stat().st_size)


if __name__ == "__main__":
    main()
