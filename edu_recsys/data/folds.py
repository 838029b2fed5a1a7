"""The public k-fold knowledge-tracing files (DKT / DKVMN / AKT preprocessing).

Two line-oriented formats exist, one block per student (or sequence):

* **4-line** (AKT ``*_pid``): ``index,original_user_id`` / item ids / concept ids /
  0-1 answers.
* **3-line** (DKT, DKVMN, AKT without problem ids): sequence length (or
  ``index,original_user_id``) / ids / 0-1 answers. The single id line names the item;
  its concept is the same id unless a Q-matrix is given.

Trailing commas (DKT's builder files) and gzip are handled. The format is detected
per file from its first blocks.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from edu_recsys.data.qmatrix import apply_q_matrix
from edu_recsys.data.schema import CONCEPTS, CORRECT, FOLD, ITEM, STUDENT
from edu_recsys.data.validate import validate_interactions
from edu_recsys.exceptions import InvalidDataError

__all__ = ["read_fold_file", "read_folds", "find_fold_files", "detect_sequence_format"]

log = logging.getLogger(__name__)

_FOLD_RE = re.compile(r"test(\d+)\.csv(\.gz)?$")


def _read_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [ln.strip() for ln in fh if ln.strip()]


def _fields(line: str) -> list[str]:
    parts = line.split(",")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    return parts


def detect_sequence_format(lines: list[str], probe: int = 30) -> int:
    """Return 4 or 3: the number of lines per block of a sequence file.

    Examples
    --------
    >>> detect_sequence_format(["1,77", "5,6", "1,1", "0,1", "2,78", "7", "2", "1"])
    4
    >>> detect_sequence_format(["2", "5,6", "0,1", "1", "7", "1"])
    3
    """

    def fits(n: int) -> bool:
        if len(lines) % n:
            return False
        for b in range(min(probe, len(lines) // n)):
            head = _fields(lines[b * n])
            body = [_fields(lines[b * n + k]) for k in range(1, n)]
            if len(head) > 2 or not all(h.strip().lstrip("-").isdigit() for h in head):
                return False
            lens = {len(x) for x in body}
            if len(lens) != 1 or 0 in lens:
                return False
            if len(head) == 1 and int(head[0]) != len(body[0]):
                return False
        return True

    if fits(4):
        return 4
    if fits(3):
        return 3
    raise InvalidDataError(
        "not a 3-line or 4-line knowledge-tracing sequence file",
        expected="blocks of header / ids [/ concept ids] / 0-1 answers of equal lengths",
    )


def read_fold_file(
    path: str | os.PathLike,
    fold: int | None = None,
    *,
    q_matrix: Mapping[str, Iterable[str]] | None = None,
    validate: bool = True,
) -> pd.DataFrame:
    """Read one sequence file into canonical interactions.

    Parameters
    ----------
    path : path
        A 3- or 4-line file, optionally gzip-compressed.
    fold : int, optional
        Stored in a ``fold`` column when given.
    q_matrix : mapping, optional
        item -> concepts, replacing the default (3-line: concept = item id).
    validate : bool, default True
        Run :func:`validate_interactions` on the result.
    """
    p = Path(path)
    if not p.exists():
        raise InvalidDataError("file not found", source=str(p))
    lines = _read_lines(p)
    try:
        n = detect_sequence_format(lines)
    except InvalidDataError as e:
        raise InvalidDataError(e.reason, expected=e.expected, source=str(p)) from None
    students, items, concepts, answers = [], [], [], []
    for b in range(len(lines) // n):
        head = _fields(lines[b * n])
        ids = _fields(lines[b * n + 1])
        ans = _fields(lines[b * n + n - 1])
        cpt = _fields(lines[b * n + 2]) if n == 4 else ids
        if not (len(ids) == len(ans) == len(cpt)):
            raise InvalidDataError(
                f"block {b + 1} has lines of different lengths "
                f"({len(ids)} ids, {len(cpt)} concepts, {len(ans)} answers)",
                source=str(p),
                expected="equal lengths within a block",
            )
        # original user id when the header carries one; else a sequence label
        sid = head[1] if len(head) == 2 else f"{fold or 0}-{b + 1}"
        students.append(np.full(len(ids), sid, dtype=object))
        items.append(ids)
        concepts.append(cpt)
        answers.append(ans)
    item_arr = np.concatenate([np.asarray(x, dtype=object) for x in items]) if items else []
    cpt_arr = np.concatenate([np.asarray(x, dtype=object) for x in concepts]) if items else []
    ans_arr = np.concatenate([np.asarray(x, dtype=object) for x in answers]) if items else []
    try:
        correct = np.asarray(ans_arr, dtype=np.int64)
    except ValueError as e:
        raise InvalidDataError(f"non-integer answer: {e}", column=CORRECT, source=str(p)) from None
    # concept tuples are shared per distinct concept id (saves memory on large files)
    uniq = {c: (c,) for c in set(cpt_arr)}
    df = pd.DataFrame(
        {
            STUDENT: np.concatenate(students) if students else [],
            ITEM: item_arr,
            CONCEPTS: pd.Series([uniq[c] for c in cpt_arr], dtype=object),
            CORRECT: correct,
        }
    )
    if fold is not None:
        df[FOLD] = np.int8(fold)
    df.attrs["format"] = f"{n}-line"
    if q_matrix is not None:
        df = apply_q_matrix(df, q_matrix)
    if validate:
        df = validate_interactions(df, source=str(p))
    df.attrs["format"] = f"{n}-line"
    return df


def find_fold_files(directory: str | os.PathLike) -> dict[int, Path]:
    """The ``*test<k>.csv[.gz]`` files of a folder, by fold number.

    Raises :class:`InvalidDataError` when there are none or a fold number repeats.
    """
    d = Path(directory)
    if not d.is_dir():
        raise InvalidDataError("not a directory", source=str(d))
    found: dict[int, Path] = {}
    for f in sorted(d.iterdir()):
        m = _FOLD_RE.search(f.name)
        if m:
            k = int(m.group(1))
            if k in found:
                raise InvalidDataError(
                    f"fold {k} appears twice ({found[k].name}, {f.name})", source=str(d)
                )
            found[k] = f
    if not found:
        raise InvalidDataError(
            "no fold files found", source=str(d), expected="files named *test1.csv[.gz] .. *test5"
        )
    return dict(sorted(found.items()))


def read_folds(
    directory: str | os.PathLike,
    *,
    q_matrix: Mapping[str, Iterable[str]] | None = None,
) -> pd.DataFrame:
    """Read a folder of public fold files into one table with a ``fold`` column.

    Each student's rows keep their order; students are grouped fold by fold.

    Parameters
    ----------
    directory : path
        Folder holding ``*test1.csv[.gz]`` .. ``*test5.csv[.gz]``.
    q_matrix : mapping, optional
        item -> concepts (e.g. Statics' problem-step Q-matrix).

    Raises
    ------
    InvalidDataError
        When no fold files exist, a file has neither format, or a student appears in
        two folds (folds must be disjoint by student).
    """
    files = find_fold_files(directory)
    parts = [read_fold_file(f, fold=k, q_matrix=q_matrix, validate=False) for k, f in files.items()]
    formats = {p.attrs.get("format") for p in parts}
    df = pd.concat(parts, ignore_index=True)
    per_student = df.groupby(STUDENT, sort=False)[FOLD].nunique()
    shared = per_student[per_student > 1]
    if len(shared):
        raise InvalidDataError(
            f"{len(shared)} students appear in more than one fold (e.g. {shared.index[0]!r})",
            column=STUDENT,
            source=str(directory),
            expected="folds disjoint by student",
        )
    df = validate_interactions(df, source=str(directory))
    df.attrs["format"] = ",".join(sorted(f for f in formats if f))
    log.info("read %d interactions in %d folds from %s", len(df), len(files), directory)
    return df
