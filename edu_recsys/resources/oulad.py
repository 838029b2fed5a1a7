"""A real catalogue: the Open University's VLE resources from OULAD.

``oulad_partial/vle.csv`` lists 6,364 virtual-learning-environment resources
(``id_site, code_module, code_presentation, activity_type, week_from, week_to``).
The copy in the shared data folder has **no clickstream** (``studentVle.csv`` is
missing), so there are no usage records: quality falls back to its prior for every
resource, and the loader says so in ``provenance``.

Mapping to the catalogue contract (documented choices)
------------------------------------------------------
- ``resource_id`` = ``id_site``; ``title`` = ``"<module> <presentation> <activity> #<id>"``
  (OULAD is anonymised and has no titles).
- ``type``: OU activity types mapped to ours (:data:`OULAD_TYPE_MAP`); the original is
  kept in the extra column ``activity_type``.
- ``concept_ids``: OULAD has no concept annotations; the module code is the coarse
  concept, plus ``"<module>:week<w>"`` for each planned week when the resource has
  ``week_from``/``week_to``.
- ``subject``: the OULAD paper's domain of the module (Social Sciences: AAA, BBB,
  GGG; STEM: CCC, DDD, EEE, FFF); ``grade`` empty (university modules);
  ``minutes`` and ``difficulty`` empty (per-type defaults apply downstream);
  ``source`` = ``"OULAD <module>-<presentation>"``; ``is_quality`` False.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from edu_recsys.resources.catalogue import Catalogue, as_catalogue

__all__ = ["load_oulad_vle", "OULAD_TYPE_MAP", "OULAD_DOMAINS"]

#: OU activity type -> catalogue type.
OULAD_TYPE_MAP: dict[str, str] = {
    "resource": "reading",
    "oucontent": "courseware",
    "subpage": "page",
    "sharedsubpage": "page",
    "page": "page",
    "homepage": "page",
    "dualpane": "page",
    "htmlactivity": "page",
    "url": "link",
    "forumng": "forum",
    "ouwiki": "forum",
    "quiz": "quiz",
    "externalquiz": "quiz",
    "questionnaire": "questionnaire",
    "glossary": "reading",
    "oucollaborate": "live_session",
    "ouelluminate": "live_session",
    "dataplus": "other",
    "repeatactivity": "other",
    "folder": "other",
}

#: Module domain per the OULAD paper (Kuzilek et al. 2017, Table 1).
OULAD_DOMAINS: dict[str, str] = {
    "AAA": "Social Sciences",
    "BBB": "Social Sciences",
    "GGG": "Social Sciences",
    "CCC": "STEM",
    "DDD": "STEM",
    "EEE": "STEM",
    "FFF": "STEM",
}


def load_oulad_vle(data_dir: str | os.PathLike | None = None) -> Catalogue:
    """Load OULAD's VLE resources as a :class:`Catalogue` (no usage records).

    Parameters
    ----------
    data_dir : path, optional
        The shared data folder (default :func:`edu_recsys.datasets.resolve_data_dir`);
        the file read is ``<data_dir>/oulad_partial/vle.csv``.

    Raises
    ------
    edu_recsys.datasets.DataNotFoundError
        When the folder or file is absent.
    """
    from edu_recsys.datasets import DataNotFoundError, resolve_data_dir

    root = resolve_data_dir(data_dir)
    f = root / "oulad_partial" / "vle.csv"
    if not f.exists():
        raise DataNotFoundError(f"OULAD VLE file not found: {f}")
    raw = pd.read_csv(f, dtype={"id_site": str}, keep_default_na=True)
    wf = pd.to_numeric(raw["week_from"], errors="coerce")
    wt = pd.to_numeric(raw["week_to"], errors="coerce").fillna(wf)
    mod = raw["code_module"].astype(str)
    concepts = []
    for m, a, b in zip(mod, wf.to_numpy(), wt.to_numpy()):
        c = [m]
        if not np.isnan(a):
            c += [f"{m}:week{w}" for w in range(int(a), int(b) + 1)]
        concepts.append(tuple(c))
    act = raw["activity_type"].astype(str)
    df = pd.DataFrame(
        {
            "resource_id": raw["id_site"],
            "title": mod + " " + raw["code_presentation"] + " " + act + " #" + raw["id_site"],
            "type": act.map(OULAD_TYPE_MAP).fillna("other"),
            "concept_ids": concepts,
            "grade": None,
            "subject": mod.map(OULAD_DOMAINS),
            "minutes": np.nan,
            "difficulty": np.nan,
            "source": "OULAD " + mod + "-" + raw["code_presentation"],
            "is_quality": False,
            "activity_type": act,
            "code_module": mod,
            "code_presentation": raw["code_presentation"].astype(str),
            "week_from": wf,
            "week_to": wt.where(wf.notna()),
        }
    )
    cat = as_catalogue(df)
    cat.provenance = {
        "source": str(f),
        "rows_in_file": int(len(raw)),
        "rows_loaded": int(len(cat)),
        "usage": "none: the shared copy has no studentVle.csv clickstream",
        "citation": "Kuzilek, J., Hlosta, M., Zdrahal, Z. (2017). Open University Learning "
        "Analytics dataset. Scientific Data 4, 170171. CC BY 4.0.",
    }
    return cat
