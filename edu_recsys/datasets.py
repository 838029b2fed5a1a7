"""Named loaders for the public datasets, read from a data directory.

The data directory is, in order: the ``data_dir`` argument (the CLI's ``--data-dir``),
the ``EDU_RECSYS_DATA`` environment variable, then ``../shared/data`` next to the
current directory or next to the project checkout, when one exists. The files are
read in their public formats; nothing is downloaded or copied.

Each loader returns a :class:`Dataset`: the validated interactions (or the table the
set holds) plus its provenance (source folder, citation, counts).

=========================  ==============================================================
name                       what
=========================  ==============================================================
assist2009_folds           ASSISTments 2009 skill builder, AKT 5-fold copy (4-line)
assist2009_raw             ASSISTments 2009 raw 30-column sample (ordered by order_id)
statics2011_folds          OLI Statics 2011, AKT 5-fold copy (3-line, problem-step ids)
assist2015_folds           ASSISTments 2015, AKT 5-fold copy (3-line, skill ids)
cognitive_tutor_sample     KDD Cup 2010 Cognitive Tutor step sample (multi-KC, timestamps)
ednet_kt4_sample           EdNet KT4 actions of 9 users -> answers (+ lecture events)
junyi_exercises            Junyi Academy exercise table with prerequisites (no log)
demo_class                 shipped with the package, no data directory needed: a seeded
                           simulated class of 40 students on ``math-7-9`` (4 weeks, ~6,200
                           answers); ``extras`` holds the item bank and the true mastery
=========================  ==============================================================
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from edu_recsys.data.folds import read_folds
from edu_recsys.data.readers import read_interactions, read_table
from edu_recsys.data.summary import summarize_interactions
from edu_recsys.data.validate import validate_interactions
from edu_recsys.exceptions import EduRecsysError

__all__ = [
    "Dataset",
    "DataNotFoundError",
    "resolve_data_dir",
    "load_dataset",
    "list_datasets",
    "DATASETS",
    "ENV_VAR",
    "PACKAGED",
    "SAMPLE_DIR",
]

log = logging.getLogger(__name__)

ENV_VAR = "EDU_RECSYS_DATA"


class DataNotFoundError(EduRecsysError, FileNotFoundError):
    """The data directory or a dataset's files are not there."""


@dataclass
class Dataset:
    """A loaded dataset: its table and where it came from."""

    name: str
    data: pd.DataFrame
    provenance: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @property
    def interactions(self) -> pd.DataFrame:
        return self.data


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding the public datasets (see the module docstring for the order).

    Raises
    ------
    DataNotFoundError
        When no candidate exists, naming the places looked at.
    """
    if data_dir is not None:
        p = Path(data_dir).expanduser()
        if not p.is_dir():
            raise DataNotFoundError(f"data directory {str(p)!r} does not exist")
        return p
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env).expanduser()
        if not p.is_dir():
            raise DataNotFoundError(f"{ENV_VAR}={env!r} is not a directory")
        return p
    repo = Path(__file__).resolve().parents[1]
    candidates = [Path.cwd() / ".." / "shared" / "data", repo / ".." / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    raise DataNotFoundError(
        "no data directory: pass --data-dir / data_dir=, set "
        f"{ENV_VAR}, or place the datasets in ../shared/data (looked at: "
        + ", ".join(str(c) for c in candidates)
        + ")"
    )


def _source_info(folder: Path) -> dict:
    """Title and citation lines from a dataset's SOURCE.md, when present."""
    info: dict = {"path": str(folder)}
    for up in (folder, folder.parent):
        src = up / "SOURCE.md"
        if src.exists():
            text = src.read_text(encoding="utf-8")
            title = text.splitlines()[0].lstrip("# ").strip() if text else ""
            info["title"] = title
            m = re.search(r"(?i)(please cite|citation)[^:]*:\s*(.+)", text)
            if m:
                info["citation"] = m.group(2).strip()
            info["source_md"] = str(src)
            break
    return info


def _need(path: Path) -> Path:
    if not path.exists():
        raise DataNotFoundError(f"dataset files not found: {path}")
    return path


def _folds(sub: str) -> Callable[[Path], tuple[pd.DataFrame, dict]]:
    def load(root: Path) -> tuple[pd.DataFrame, dict]:
        folder = _need(root / sub)
        return read_folds(folder), _source_info(folder)

    return load


def _statics(root: Path) -> tuple[pd.DataFrame, dict]:
    folder = _need(root / "statics2011" / "akt_statics")
    df = read_folds(folder)
    info = _source_info(folder)
    info["note"] = "items are problem steps; concept = item id (as in the AKT/DKVMN papers)"
    return df, info


def _assist2009_raw(root: Path) -> tuple[pd.DataFrame, dict]:
    f = _need(root / "assist2009" / "raw_sample_pybkt" / "as.csv.gz")
    return read_interactions(f), _source_info(f.parent)


def _ct(root: Path) -> tuple[pd.DataFrame, dict]:
    f = _need(root / "kddcup2010_cognitive_tutor_sample" / "ct.tsv.gz")
    return read_interactions(f, sep="\t"), _source_info(f.parent)


def _ednet(root: Path) -> tuple[pd.DataFrame, dict, dict]:
    base = _need(root / "ednet_kt4_sample")
    questions = read_table(base / "contents" / "questions.csv.gz")
    key = dict(zip(questions["question_id"], questions["correct_answer"]))
    tags = dict(zip(questions["question_id"], questions["tags"].astype(str)))
    answers, lectures = [], []
    for f in sorted((base / "KT4").glob("u*.csv"), key=lambda p: int(p.stem[1:])):
        u = pd.read_csv(f)
        u = u.sort_values("timestamp", kind="stable").reset_index(drop=True)
        # The last response to a question before its submit is the answer (KT4 convention)
        u["submission"] = (u["action_type"] == "submit").cumsum()
        resp = u[(u["action_type"] == "respond") & u["item_id"].str.startswith("q")]
        resp = resp.drop_duplicates(subset=["submission", "item_id"], keep="last")
        answers.append(
            pd.DataFrame(
                {
                    "student_id": f.stem,
                    "item_id": resp["item_id"].to_numpy(),
                    "concept_ids": resp["item_id"].map(tags).to_numpy(),
                    "correct": (resp["user_answer"] == resp["item_id"].map(key)).astype(int),
                    "timestamp": resp["timestamp"].to_numpy(),
                }
            )
        )
        lec = u[u["item_id"].str.startswith("l")]
        lectures.append(
            pd.DataFrame(
                {
                    "student_id": f.stem,
                    "resource_id": lec["item_id"].to_numpy(),
                    "action_type": lec["action_type"].to_numpy(),
                    "timestamp": pd.to_datetime(lec["timestamp"], unit="ms", utc=True).to_numpy(),
                }
            )
        )
    # a question answered twice in the same millisecond is one answer
    df = validate_interactions(pd.concat(answers, ignore_index=True), drop_duplicates=True)
    info = _source_info(base)
    info["note"] = "answers = last respond per question before submit; concepts = question tags"
    lectures_df = pd.concat(lectures, ignore_index=True)
    lecture_meta = read_table(base / "contents" / "lectures.csv")
    return (
        df,
        info,
        {"lecture_events": lectures_df, "lectures": lecture_meta, "questions": questions},
    )


def _junyi(root: Path) -> tuple[pd.DataFrame, dict]:
    f = _need(root / "junyi2015" / "junyi_Exercise_table.csv")
    table = pd.read_csv(f, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    return table, _source_info(f.parent)


SAMPLE_DIR = Path(__file__).resolve().parent / "data" / "sample"


def _demo_class(root: Path | None) -> tuple[pd.DataFrame, dict, dict]:
    # shipped with the package (user need: a demo set that never needs a download);
    # regenerate with tools/make_demo_data.py
    f = SAMPLE_DIR / "demo_class_interactions.csv.gz"
    table = read_interactions(f, concept_sep="~~")
    items = pd.read_csv(SAMPLE_DIR / "demo_class_items.csv.gz")
    items["concept_ids"] = [tuple(c.split("~~")) for c in items["concept_ids"].astype(str)]
    truth = pd.read_csv(SAMPLE_DIR / "demo_class_true_mastery.csv.gz", index_col="student_id")
    info = {
        "source": str(f),
        "citation": "edu_recsys simulator (simulate_class on math-7-9, seed 20260901)",
        "graph": "math-7-9",
        "synthetic": True,
    }
    return table, info, {"items": items, "true_mastery": truth}


#: data sets shipped inside the package (no data directory needed)
PACKAGED = {"demo_class"}

#: name -> loader(root) returning (table, provenance[, extras])
DATASETS: dict[str, Callable] = {
    "assist2009_folds": _folds("assist2009/akt_assist2009_pid"),
    "assist2009_raw": _assist2009_raw,
    "statics2011_folds": _statics,
    "assist2015_folds": _folds("assist2015/akt_assist2015"),
    "cognitive_tutor_sample": _ct,
    "ednet_kt4_sample": _ednet,
    "junyi_exercises": _junyi,
    "demo_class": _demo_class,
}

#: fold folders of the benchmark data sets, relative to the data directory
FOLD_DIRS = {
    "assist2009": "assist2009/akt_assist2009_pid",
    "statics2011": "statics2011/akt_statics",
    "assist2015": "assist2015/akt_assist2015",
}


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`."""
    return list(DATASETS)


def load_dataset(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """Load a named public dataset from the data directory.

    Raises
    ------
    KeyError
        For an unknown name (the message lists the known ones).
    DataNotFoundError
        When the data directory or the dataset's files are absent (never for
        ``demo_class``, which ships with the package).

    Examples
    --------
    >>> ds = load_dataset("demo_class")
    >>> ds.provenance["synthetic"], ds.interactions["student_id"].nunique()
    (True, 40)
    """
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    root = None if name in PACKAGED else resolve_data_dir(data_dir)
    res = DATASETS[name](root)
    table, info = res[0], res[1]
    extras = res[2] if len(res) > 2 else {}
    info = {"name": name, **info}
    if {"student_id", "item_id", "correct"} <= set(table.columns):
        info["counts"] = summarize_interactions(table)
    else:
        info["counts"] = {"rows": int(len(table))}
    log.info("loaded %s: %s", name, info["counts"])
    return Dataset(name=name, data=table, provenance=info, extras=extras)
