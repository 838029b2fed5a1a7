"""A fast, seeded, vectorised generator of large simulated answer logs (benchmarks).

:mod:`edu_recsys.simulate` models learners on a knowledge graph in detail, for demos
and policy evaluation; benchmarks of the scale drivers need tens of millions of
answers in seconds, so this module has a compact response model of the same family,
vectorised over all answers of a chunk of students:

* students: ability ``theta ~ N(0, 1)``, a start point in the curriculum, a pace
  (answers per concept) and a start date; answers per student from a gamma-mixed
  multinomial, so the total is exactly ``n_answers``;
* curriculum: ``n_concepts`` concepts in order; items belong to one concept (a share
  also to the next one), difficulty ``b ~ N(0, 0.8)`` plus the concept's ``d ~ N(0, 0.5)``;
* sequence: a student works through concepts in order at their pace, with a share of
  review answers on earlier concepts;
* response: ``P(correct) = g + (1 - g - s) * sigmoid(theta - b - d + gamma_c *
  log1p(earlier attempts on the concept))`` with guess ``g = 0.1``, slip ``s = 0.05``
  and learning rates ``gamma_c ~ U(0.1, 0.4)``;
* time: sessions of about 20 answers 5 to 120 s apart, one to three days between
  sessions.

The log is written as partitioned Parquet (whole students per file, rows in time
order) with the manifest of :mod:`edu_recsys.scale.io`, so the batch jobs read it
without a shuffle. Same ``random_state`` and parameters give the same files.
"""

from __future__ import annotations

import logging
import posixpath
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from edu_recsys.data.schema import CONCEPTS, CORRECT, DURATION, ITEM, STUDENT, TIMESTAMP
from edu_recsys.scale.errors import OutputExistsError
from edu_recsys.scale.io import LOG_FORMAT, _fs, _publish

__all__ = [
    "SimLogParams",
    "simulate_log",
    "simulate_chunk",
    "item_bank",
    "curriculum_graph",
    "roster",
    "write_simulated_log",
]

log = logging.getLogger(__name__)

_START = np.datetime64("2025-09-01T00:00:00", "s").astype(np.int64)
_GUESS, _SLIP = 0.1, 0.05


@dataclass(frozen=True)
class SimLogParams:
    """Parameters of a simulated log (see the module docstring)."""

    n_students: int = 200_000
    n_answers: int = 20_000_000
    n_items: int = 5_000
    n_concepts: int = 200
    multi_concept_share: float = 0.2
    review_share: float = 0.25
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.n_students < 1 or self.n_answers < self.n_students:
            raise ValueError("need n_answers >= n_students >= 1")
        if self.n_items < self.n_concepts or self.n_concepts < 2:
            raise ValueError("need n_items >= n_concepts >= 2")


@dataclass
class _Bank:
    item_concept: np.ndarray  # primary concept of each item
    item_second: np.ndarray  # second concept or -1
    item_b: np.ndarray
    concept_d: np.ndarray
    concept_gamma: np.ndarray
    concept_items: np.ndarray  # (n_concepts, items_per_concept) item codes
    item_ids: pa.Array
    concept_lists: pa.Array  # list<string> per item


@dataclass
class _Students:
    theta: np.ndarray
    offset: np.ndarray
    pace: np.ndarray
    start: np.ndarray  # seconds since epoch
    length: np.ndarray
    first_answer: np.ndarray  # global index of each student's first answer


def _bank(p: SimLogParams) -> _Bank:
    rng = np.random.default_rng([p.random_state, 1])
    per = p.n_items // p.n_concepts
    n_items = per * p.n_concepts
    item_concept = np.repeat(np.arange(p.n_concepts), per)
    second = np.where(
        rng.random(n_items) < p.multi_concept_share,
        np.minimum(item_concept + 1, p.n_concepts - 1),
        -1,
    )
    second = np.where(second == item_concept, -1, second)
    width = len(str(n_items))
    item_ids = pa.array([f"i{k:0{width}d}" for k in range(n_items)], pa.string())
    cwidth = len(str(p.n_concepts))
    cnames = [f"c{k:0{cwidth}d}" for k in range(p.n_concepts)]
    concept_lists = pa.array(
        [
            [cnames[c]] if s < 0 else [cnames[c], cnames[s]]
            for c, s in zip(item_concept.tolist(), second.tolist())
        ],
        pa.list_(pa.string()),
    )
    return _Bank(
        item_concept=item_concept,
        item_second=second,
        item_b=rng.normal(0, 0.8, n_items),
        concept_d=rng.normal(0, 0.5, p.n_concepts),
        concept_gamma=rng.uniform(0.1, 0.4, p.n_concepts),
        concept_items=np.arange(n_items).reshape(p.n_concepts, per),
        item_ids=item_ids,
        concept_lists=concept_lists,
    )


def _students(p: SimLogParams) -> _Students:
    rng = np.random.default_rng([p.random_state, 2])
    S = p.n_students
    weight = rng.gamma(1.5, 1.0, S)
    length = 1 + rng.multinomial(p.n_answers - S, weight / weight.sum())
    return _Students(
        theta=rng.normal(0, 1, S),
        offset=rng.integers(0, max(1, p.n_concepts // 2), S),
        pace=rng.integers(5, 16, S),
        start=_START + rng.integers(0, 60 * 86400, S),
        length=length,
        first_answer=np.r_[0, np.cumsum(length)[:-1]],
    )


def item_bank(params: SimLogParams | None = None) -> pd.DataFrame:
    """The item bank of a simulated log: ``item_id, concept_ids, difficulty, minutes``."""
    p = params or SimLogParams()
    b = _bank(p)
    rng = np.random.default_rng([p.random_state, 4])
    return pd.DataFrame(
        {
            ITEM: b.item_ids.to_pandas(),
            CONCEPTS: [tuple(x) for x in b.concept_lists.to_pylist()],
            "difficulty": b.item_b + b.concept_d[b.item_concept],
            "minutes": rng.choice([2.0, 3.0, 5.0, 8.0], size=len(b.item_b)),
        }
    )


def curriculum_graph(params: SimLogParams | None = None, concepts_per_unit: int = 10):
    """The simulated curriculum as a subject graph (the graph contract).

    Concepts in order, each the prerequisite of the next; units of
    ``concepts_per_unit`` concepts; grade 8 mathematics.
    """
    import networkx as nx

    p = params or SimLogParams()
    width = len(str(p.n_concepts))
    ids = [f"c{k:0{width}d}" for k in range(p.n_concepts)]
    G = nx.DiGraph()
    for k, c in enumerate(ids):
        G.add_node(
            c,
            name=f"知识点{k}",
            name_en=f"concept {k}",
            grade=8,
            subject="math",
            unit=f"u{k // concepts_per_unit:02d}",
        )
    G.add_edges_from(((a, b) for a, b in zip(ids[:-1], ids[1:])), relation="prerequisite")
    return G


def roster(params: SimLogParams | None = None, class_size: int = 40) -> pd.DataFrame:
    """Classes of consecutive simulated students: ``student_id, class_id``."""
    p = params or SimLogParams()
    width = len(str(p.n_students))
    k = np.arange(p.n_students)
    return pd.DataFrame(
        {
            STUDENT: [f"s{i:0{width}d}" for i in k],
            "class_id": [f"k{i:05d}" for i in k // class_size],
        }
    )


def simulate_chunk(params: SimLogParams, lo: int, hi: int) -> pa.Table:
    """The answers of students ``lo .. hi-1`` as an Arrow table (time-ordered).

    Randomness comes from a stream keyed by ``(random_state, lo)``, so a chunk is
    the same whatever else is generated.
    """
    p = params
    bank = _bank(p)
    st = _students(p)
    rng = np.random.default_rng([p.random_state, 3, lo])
    L = st.length[lo:hi]
    n = int(L.sum())
    s_local = np.repeat(np.arange(hi - lo), L)
    starts = np.r_[0, np.cumsum(L)[:-1]]
    j = np.arange(n) - np.repeat(starts, L)  # answer index within the student
    # curriculum position, with review answers on earlier concepts
    prog = st.offset[lo:hi][s_local] + j // st.pace[lo:hi][s_local]
    back = rng.geometric(0.3, n)
    review = rng.random(n) < p.review_share
    concept = np.where(review, np.maximum(prog - back, 0), prog) % p.n_concepts
    per = bank.concept_items.shape[1]
    item = bank.concept_items[concept, rng.integers(0, per, n)]
    # earlier attempts of the student on the concept (stable sort by (student, concept))
    key = s_local.astype(np.int64) * p.n_concepts + concept
    order = np.argsort(key, kind="stable")
    ks = key[order]
    grp_start = np.r_[True, ks[1:] != ks[:-1]]
    idx = np.arange(n)
    prior = np.empty(n, np.int64)
    prior[order] = idx - np.maximum.accumulate(np.where(grp_start, idx, 0))
    logit = (
        st.theta[lo:hi][s_local]
        - bank.item_b[item]
        - bank.concept_d[concept]
        + bank.concept_gamma[concept] * np.log1p(prior)
    )
    pc = _GUESS + (1 - _GUESS - _SLIP) / (1 + np.exp(-logit))
    correct = (rng.random(n) < pc).astype(np.int8)
    # time: sessions of ~20 answers
    brk = rng.random(n) < 0.05
    gap = np.where(brk, rng.uniform(0.5, 3.0, n) * 86400, 5 + rng.exponential(40.0, n))
    gap[starts] = 0.0
    cum = np.cumsum(gap)
    t = st.start[lo:hi][s_local] + (cum - np.repeat(cum[starts], L))
    duration = np.round(np.minimum(gap, 5 + rng.exponential(30.0, n)), 1)
    duration[starts] = np.round(5 + rng.exponential(30.0, len(starts)), 1)
    width = len(str(p.n_students))
    sids = pa.array([f"s{k:0{width}d}" for k in range(lo, hi)], pa.string())
    return pa.table(
        {
            STUDENT: sids.take(pa.array(s_local, pa.int32())),
            ITEM: bank.item_ids.take(pa.array(item, pa.int32())),
            CONCEPTS: bank.concept_lists.take(pa.array(item, pa.int32())),
            CORRECT: pa.array(correct, pa.int8()),
            TIMESTAMP: pa.array(
                np.round(t * 1e3).astype(np.int64) * 1_000_000, pa.timestamp("ns", tz="UTC")
            ),
            DURATION: pa.array(duration, pa.float64()),
        }
    )


def simulate_log(params: SimLogParams | None = None, **kw: Any) -> pd.DataFrame:
    """A whole simulated log in memory (small sizes: tests, slices)."""
    p = params or SimLogParams(**kw)
    from edu_recsys.scale.io import canonical_partition

    return canonical_partition(simulate_chunk(p, 0, p.n_students))


def _chunks(st: _Students, rows_per_file: int) -> list[tuple[int, int]]:
    cum = np.cumsum(st.length)
    cuts = np.searchsorted(cum, np.arange(rows_per_file, cum[-1], rows_per_file), side="left")
    bounds = np.unique(np.r_[0, cuts + 1, len(cum)])
    bounds = bounds[bounds <= len(cum)]
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _write_chunk(params: SimLogParams, lo: int, hi: int, fs, tmp: str, i: int) -> dict:
    table = simulate_chunk(params, lo, hi)
    name = f"part-{i:05d}.parquet"
    with fs.open(posixpath.join(tmp, name), "wb") as fh:
        pq.write_table(table, fh, compression="zstd", row_group_size=256 * 1024)
    return {"path": name, "rows": table.num_rows, "students": hi - lo}


def write_simulated_log(
    urlpath: str,
    params: SimLogParams | None = None,
    *,
    rows_per_file: int = 500_000,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> dict:
    """Write a simulated log as partitioned Parquet with its manifest.

    Chunks are generated in parallel by Dask (the current client, else threads).
    Returns the manifest. Nothing is published under ``urlpath`` unless every file
    was written.
    """
    p = params or SimLogParams()
    fs, root = _fs(urlpath, storage_options)
    if fs.exists(root) and not overwrite:
        raise OutputExistsError(f"{urlpath} exists (pass overwrite=True to replace it)")
    st = _students(p)
    chunks = _chunks(st, rows_per_file)
    tmp = f"{root}.tmp-{uuid.uuid4().hex[:8]}"
    fs.makedirs(tmp, exist_ok=True)
    t0 = time.time()
    tasks = [
        dask.delayed(_write_chunk, pure=False)(p, lo, hi, fs, tmp, i)
        for i, (lo, hi) in enumerate(chunks)
    ]
    try:
        files = list(dask.compute(*tasks))
        items = item_bank(p)
        with fs.open(posixpath.join(tmp, "_items.parquet"), "wb") as fh:
            from edu_recsys.scale.io import frame_to_arrow

            pq.write_table(frame_to_arrow(items), fh)
    except BaseException:
        fs.rm(tmp, recursive=True)
        raise
    man = {
        "format": LOG_FORMAT,
        "complete": True,
        "file_format": "parquet",
        "partitioned_by": STUDENT,
        "sorted_by": [STUDENT, TIMESTAMP],
        "rows": int(sum(f["rows"] for f in files)),
        "students": int(sum(f["students"] for f in files)),
        "files": files,
        "item_bank": "_items.parquet",
        "generator": {
            "name": "edu_recsys.scale.simlog",
            "rows_per_file": rows_per_file,
            **asdict(p),
        },
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "write_s": round(time.time() - t0, 3),
    }
    _publish(fs, tmp, root, man, overwrite)
    log.info(
        "simulated log: %d answers, %d students, %d files", man["rows"], man["students"], len(files)
    )
    return man
