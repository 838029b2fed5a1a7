"""Published prerequisite annotations, read as reference graphs for evaluation.

None of these sets comes with student interaction logs (see each SOURCE.md), so they
serve to evaluate prerequisite proposals that were mapped onto their concepts, or to
study the structure of real prerequisite graphs.

=====================  ===========================================================
name                   what
=====================  ===========================================================
``junyi2015``          Junyi Academy exercise prerequisites (835 exercises), see
                       :func:`~edu_recsys.graph.junyi.import_junyi`; no negatives
``al_cpl/<domain>``    AL-CPL (Liang et al. 2018) Wikipedia concepts; domains
                       ``data_mining``, ``geometry``, ``physics``, ``precalculus``;
                       labelled positive and negative pairs (transitively closed)
``lecturebank``        LectureBank 208 NLP topics (Li et al. 2019), all pairs labelled
``lecturebank2``       LectureBank 2, 322 topics
``lecturebank_cv``     LectureBankCD computer vision, 201 topics
``lecturebank_bio``    LectureBankCD bioinformatics, 100 topics
=====================  ===========================================================
"""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pandas as pd

from edu_recsys.exceptions import UnknownIdError
from edu_recsys.graph.queries import PREREQUISITE

__all__ = ["Annotations", "ANNOTATION_SETS", "load_prerequisite_annotations"]

_AL_CPL_DOMAINS = ("data_mining", "geometry", "physics", "precalculus")
_LB = {
    "lecturebank": ("LB-Paper/208topics.csv", ",", "LB-Paper/prerequisite_annotation.csv"),
    "lecturebank2": (
        "LB-Paper/LectureBank2/data/322topics_final.tsv",
        "|",
        "LB-Paper/LectureBank2/data/final_new_annotation.csv.gz",
    ),
    "lecturebank_cv": (
        "LB-Paper/LectureBankCD/data/CV.topics.tsv",
        "\t",
        "LB-Paper/LectureBankCD/data/CV.annotation.csv",
    ),
    "lecturebank_bio": (
        "LB-Paper/LectureBankCD/data/BIO.topics.tsv",
        "\t",
        "LB-Paper/LectureBankCD/data/BIO.annotation.csv",
    ),
}

#: Names accepted by :func:`load_prerequisite_annotations`.
ANNOTATION_SETS = ("junyi2015", *(f"al_cpl/{d}" for d in _AL_CPL_DOMAINS), *_LB)


@dataclass
class Annotations:
    """A reference prerequisite set.

    Attributes
    ----------
    name : str
    graph : DiGraph
        Positive pairs as edges ``prerequisite -> concept`` (nodes carry ``name``).
    labelled : DataFrame or None
        ``source, target, label``: every annotated pair (label 1: source is a
        prerequisite of target), when the set has negatives too.
    """

    name: str
    graph: nx.DiGraph
    labelled: pd.DataFrame | None = None


def _open(path: Path):
    return (
        gzip.open(path, "rt", encoding="utf-8")
        if path.suffix == ".gz"
        else path.open(encoding="utf-8")
    )


def _al_cpl(root: Path, domain: str) -> Annotations:
    base = root / "al_cpl_prerequisites"
    with (base / f"{domain}.preqs").open(encoding="utf-8") as f:
        pos = {tuple(r[:2]) for r in csv.reader(f) if len(r) >= 2}
    with (base / f"{domain}.pairs").open(encoding="utf-8") as f:
        pairs = [tuple(r[:2]) for r in csv.reader(f) if len(r) >= 2]
    # A line "A,B" says that B is a prerequisite of A.
    labelled = pd.DataFrame(
        {
            "source": [b for a, b in pairs],
            "target": [a for a, b in pairs],
            "label": [int((a, b) in pos) for a, b in pairs],
        }
    )
    G = nx.DiGraph(id=f"al_cpl/{domain}")
    for a, b in pairs:
        for c in (a, b):
            G.add_node(c, name=c.replace("_", " "))
    for a, b in pos:
        G.add_edge(b, a, relation=PREREQUISITE)
    return Annotations(f"al_cpl/{domain}", G, labelled)


def _lecturebank(root: Path, name: str) -> Annotations:
    topics_file, sep, ann_file = _LB[name]
    base = root / "lecturebank"
    names: dict[str, str] = {}
    with _open(base / topics_file) as f:
        for line in f:
            parts = line.rstrip("\n").split(sep)
            if len(parts) >= 2 and parts[0].strip():
                # 208topics.csv has commas inside some names and a URL last.
                label = sep.join(parts[1:-1]) if sep == "," and len(parts) > 2 else parts[1]
                names[parts[0].strip()] = label.strip()
    with _open(base / ann_file) as f:
        rows = [r for r in csv.reader(f) if len(r) >= 3]
    labelled = pd.DataFrame(
        {
            "source": [r[0].strip() for r in rows],
            "target": [r[1].strip() for r in rows],
            "label": [int(float(r[2])) for r in rows],
        }
    )
    G = nx.DiGraph(id=name)
    for tid, label in names.items():
        G.add_node(tid, name=label)
    for s, t in labelled.loc[labelled["label"] == 1, ["source", "target"]].itertuples(index=False):
        G.add_edge(s, t, relation=PREREQUISITE)
    return Annotations(name, G, labelled)


def load_prerequisite_annotations(
    name: str, data_dir: str | os.PathLike | None = None
) -> Annotations:
    """Load a published prerequisite set from the public data directory.

    Parameters
    ----------
    name : str
        One of :data:`ANNOTATION_SETS`.
    data_dir : path, optional
        Default: :func:`edu_recsys.datasets.resolve_data_dir`.

    Raises
    ------
    UnknownIdError
        For an unknown name.
    DataNotFoundError
        When the data directory is absent.
    """
    from edu_recsys.datasets import resolve_data_dir

    if name not in ANNOTATION_SETS:
        raise UnknownIdError("annotation set", name, f"known: {', '.join(ANNOTATION_SETS)}")
    root = resolve_data_dir(data_dir)
    if name == "junyi2015":
        from edu_recsys.graph.junyi import import_junyi

        return Annotations(name, import_junyi(root))
    if name.startswith("al_cpl/"):
        return _al_cpl(root, name.split("/", 1)[1])
    return _lecturebank(root, name)
