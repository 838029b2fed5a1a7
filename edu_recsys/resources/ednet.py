"""A real catalogue with real usage: EdNet's lectures and the KT4 sample's lecture views.

``load_dataset("ednet_kt4_sample")`` gives the answers of 9 users plus, in
``extras``, the lecture metadata (1,021 lectures) and the lecture events (enter /
play / pause / quit). This module turns them into a :class:`Catalogue`:

- resources: ``resource_id`` = lecture id, ``type`` = ``video``, ``concept_ids`` =
  the lecture's tags (the same tag space as the questions' tags), ``minutes`` =
  ``video_length`` / 60,000 (empty when EdNet gives -1), ``subject`` =
  ``"TOEIC part <n>"``, ``source`` = ``"EdNet"``.
- usage: one row per viewing session (an ``enter`` to the next ``quit`` of the same
  lecture), with its ``timestamp`` (the enter) and ``minutes`` (to the quit; empty if
  the session has no quit). No completion or rating data exist.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edu_recsys.resources.catalogue import Catalogue, as_catalogue

__all__ = ["ednet_lecture_catalogue"]


def _sessions(events: pd.DataFrame) -> pd.DataFrame:
    ev = events.assign(timestamp=pd.to_datetime(events["timestamp"], utc=True))
    ev = ev.sort_values(["student_id", "timestamp"], kind="stable").reset_index(drop=True)
    key = ev["student_id"].astype(str) + "\x1f" + ev["resource_id"].astype(str)
    # a new session starts at each enter, or when the lecture changes
    new = (ev["action_type"] == "enter").to_numpy() | (key != key.shift()).to_numpy()
    sid = np.cumsum(new)
    ev["session"] = sid
    quit_t = ev["timestamp"].where(ev["action_type"] == "quit")
    g = ev.groupby("session", sort=True)
    out = pd.DataFrame(
        {
            "student_id": g["student_id"].first(),
            "resource_id": g["resource_id"].first(),
            "timestamp": g["timestamp"].first(),
            "end": quit_t.groupby(ev["session"]).max(),
        }
    )
    out["minutes"] = (out["end"] - out["timestamp"]).dt.total_seconds() / 60
    return out.drop(columns="end").reset_index(drop=True)


def ednet_lecture_catalogue(dataset=None, data_dir=None) -> Catalogue:
    """Build the EdNet lecture catalogue with usage from the KT4 sample.

    Parameters
    ----------
    dataset : edu_recsys.datasets.Dataset, optional
        A loaded ``ednet_kt4_sample`` (loaded from ``data_dir`` when omitted).
    data_dir : path, optional
        The shared data folder.

    Returns
    -------
    Catalogue
        1,021 lectures; usage = viewing sessions of the 9 users.
    """
    if dataset is None:
        from edu_recsys.datasets import load_dataset

        dataset = load_dataset("ednet_kt4_sample", data_dir)
    lec = dataset.extras["lectures"]
    length = pd.to_numeric(lec["video_length"], errors="coerce")
    minutes = (length / 60000).where(length > 0)
    res = pd.DataFrame(
        {
            "resource_id": lec["lecture_id"].astype(str),
            "title": "EdNet lecture " + lec["lecture_id"].astype(str),
            "type": "video",
            "concept_ids": lec["tags"].astype(str).str.split(";").map(tuple),
            "subject": "TOEIC part " + lec["part"].astype(str),
            "minutes": minutes.round(2),
            "source": "EdNet",
            "is_quality": False,
        }
    )
    events = dataset.extras["lecture_events"]
    usage = _sessions(events) if len(events) else None
    cat = as_catalogue(res, usage, on_unknown="drop")
    cat.provenance.update(
        {
            "source": "EdNet-Contents lectures + KT4 sample lecture events",
            "sessions": 0 if usage is None else int(len(usage)),
        }
    )
    return cat
