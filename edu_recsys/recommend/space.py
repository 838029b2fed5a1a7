"""Index spaces shared by the pipeline stages: concepts (with the prerequisite
structure as sparse matrices), resources (as a resource x concept matrix), and the
student x concept mastery matrix built from a mastery table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.resources.catalogue import default_minutes

__all__ = ["ConceptSpace", "ResourceSpace", "MasteryData", "mastery_matrix", "DEFAULT_MASTERY"]

#: Mastery assumed for a concept nobody has data on (documented fallback; flagged
#: ``unseen_concept`` in the outputs that use it).
DEFAULT_MASTERY = 0.5


def _is_prereq(data: dict) -> bool:
    return data.get("relation", "prerequisite") == "prerequisite"


@dataclass
class ConceptSpace:
    """Concept index and prerequisite structure.

    ``req[u, v] = 1`` when ``u`` is a required prerequisite of ``v``; any-of groups
    are columns of ``member`` (concept -> group) and rows of ``group_of`` (group ->
    the concept it gates).
    """

    concepts: pd.Index
    names: np.ndarray
    req: sp.csr_matrix
    member: sp.csr_matrix
    group_of: sp.csr_matrix
    dependents: np.ndarray

    @classmethod
    def build(cls, graph, extra: list[str]) -> ConceptSpace:
        nodes = list(graph.nodes) if graph is not None else []
        known = set(nodes)
        concepts = pd.Index(nodes + [c for c in dict.fromkeys(extra) if c not in known])
        C = len(concepts)
        names = np.array(
            [
                str(graph.nodes[c].get("name", c)) if graph is not None and c in known else str(c)
                for c in concepts
            ],
            dtype=object,
        )
        ru, rv, gu, gid, gv = [], [], [], [], []
        groups: dict[tuple[str, str], int] = {}
        if graph is not None:
            pos = {c: i for i, c in enumerate(concepts)}
            for u, v, d in graph.edges(data=True):
                if not _is_prereq(d):
                    continue
                g = d.get("any_of")
                if g is None or g == "":
                    ru.append(pos[u])
                    rv.append(pos[v])
                else:
                    key = (v, str(g))
                    j = groups.setdefault(key, len(groups))
                    gu.append(pos[u])
                    gid.append(j)
            gv = [pos[v] for (v, _g) in groups]
        G = len(groups)
        req = sp.csr_matrix((np.ones(len(ru), np.float32), (ru, rv)), shape=(C, C))
        member = sp.csr_matrix((np.ones(len(gu), np.float32), (gu, gid)), shape=(C, G))
        group_of = sp.csr_matrix((np.ones(G, np.float32), (np.arange(G), gv)), shape=(G, C))
        # number of direct dependents (a frontier concept that unlocks more is worth more)
        dep = (
            np.asarray(req.sum(axis=1)).ravel()
            + np.asarray((member @ group_of).astype(bool).sum(axis=1)).ravel()
        )
        return cls(concepts, names, req.tocsr(), member.tocsr(), group_of.tocsr(), dep)

    def prerequisites_met(self, mastered: np.ndarray) -> np.ndarray:
        """Boolean S x C: every required prerequisite and one of each any-of group."""
        m = mastered.astype(np.float32)
        unmet = np.asarray((1.0 - m) @ self.req) if self.req.nnz else 0.0
        ok = unmet == 0 if self.req.nnz else np.ones_like(mastered, bool)
        if self.member.shape[1]:
            sat = np.asarray(m @ self.member) > 0
            bad = np.asarray((~sat).astype(np.float32) @ self.group_of)
            ok = ok & (bad == 0)
        return np.asarray(ok, bool)

    def readiness(self, M: np.ndarray, threshold: float, power: float = 1.0) -> np.ndarray:
        """S x C soft readiness: product over required prerequisites ``q`` of
        ``min(1, m_q / threshold) ** power``; for an any-of group, its best member.

        Examples
        --------
        >>> import networkx as nx
        >>> G = nx.DiGraph(); G.add_nodes_from("abc"); G.add_edges_from([("a", "c"), ("b", "c")])
        >>> sp_ = ConceptSpace.build(G, [])
        >>> sp_.readiness(np.array([[0.8, 0.4, 0.1]]), 0.8).round(2).tolist()
        [[1.0, 1.0, 0.5]]
        """
        L = np.log(np.clip(np.asarray(M, np.float32) / np.float32(threshold), 1e-6, 1.0))
        L *= np.float32(power)
        out = np.asarray(L @ self.req) if self.req.nnz else np.zeros_like(L)
        G = self.member.shape[1]
        if G:
            mem = self.member.tocsc()
            best = np.empty((L.shape[0], G), np.float32)
            for g in range(G):
                rows = mem.indices[mem.indptr[g] : mem.indptr[g + 1]]
                best[:, g] = L[:, rows].max(axis=1) if len(rows) else 0.0
            out = out + np.asarray(best @ self.group_of)
        return np.exp(out).astype(np.float32)


@dataclass
class ResourceSpace:
    """Catalogue arrays aligned with a concept space."""

    ids: pd.Index
    R: sp.csr_matrix  # N x C, 1 where the resource teaches the concept
    Rn: sp.csr_matrix  # rows normalised to sum 1
    pad: np.ndarray  # N x K concept positions, -1 padded
    minutes: np.ndarray
    difficulty: np.ndarray
    type_codes: np.ndarray
    types: pd.Index
    is_quality: np.ndarray
    titles: np.ndarray

    @classmethod
    def build(cls, resources: pd.DataFrame, concepts: pd.Index) -> ResourceSpace:
        N = len(resources)
        ids = pd.Index(resources["resource_id"].astype(str))
        lens = resources["concept_ids"].map(len).to_numpy(int) if N else np.zeros(0, int)
        flat = [c for t in resources["concept_ids"] for c in t]
        cols = concepts.get_indexer(flat) if flat else np.zeros(0, int)
        rows = np.repeat(np.arange(N), lens)
        keep = cols >= 0
        R = sp.csr_matrix(
            (np.ones(int(keep.sum()), np.float32), (rows[keep], cols[keep])),
            shape=(N, len(concepts)),
        )
        R.sum_duplicates()
        R.data[:] = 1.0
        cnt = np.asarray(R.sum(axis=1)).ravel()
        Rn = sp.diags(np.where(cnt > 0, 1.0 / np.maximum(cnt, 1), 0.0).astype(np.float32)) @ R
        K = int(max(1, cnt.max() if N else 1))
        pad = np.full((N, K), -1, np.int64)
        Rc = R.tocsr()
        for j in range(K):
            has = np.diff(Rc.indptr) > j
            pad[has, j] = Rc.indices[Rc.indptr[:-1][has] + j]
        types, tcodes = (
            (pd.Index([]), np.zeros(0, int))
            if N == 0
            else pd.factorize(resources["type"].astype(str))[::-1]
        )
        diff = resources["difficulty"].to_numpy(dtype=float, na_value=np.nan)
        return cls(
            ids=ids,
            R=Rc,
            Rn=Rn.tocsr().astype(np.float32),
            pad=pad,
            minutes=default_minutes(resources).astype(np.float32) if N else np.zeros(0, np.float32),
            difficulty=np.where(np.isnan(diff), 0.5, diff).astype(np.float32),
            type_codes=np.asarray(tcodes, np.int64),
            types=pd.Index(types),
            is_quality=resources["is_quality"].to_numpy(bool),
            titles=resources["title"].astype(str).to_numpy(object),
        )

    def pair_values(self, X: np.ndarray, s: np.ndarray, r: np.ndarray, how: str = "mean"):
        """For (student, resource) pairs, combine ``X[s, c]`` over the resource's
        concepts ``c``: ``mean``, ``sum`` or ``prod``.

        Resources without a known concept get 0 (``prod``: 1).

        Examples
        --------
        >>> import pandas as pd
        >>> rs = ResourceSpace.build(pd.DataFrame({"resource_id": ["x", "y"],
        ...     "title": "", "type": "video", "concept_ids": [("a",), ("a", "b")],
        ...     "minutes": 5.0, "difficulty": 0.5, "is_quality": False}), pd.Index(["a", "b"]))
        >>> X = np.array([[0.2, 0.6]], np.float32)
        >>> rs.pair_values(X, np.array([0, 0]), np.array([0, 1])).round(2).tolist()
        [0.2, 0.4]
        >>> rs.pair_values(X, np.array([0, 0]), np.array([0, 1]), how="prod").round(2).tolist()
        [0.2, 0.12]
        """
        n = len(s)
        if n == 0:
            return np.zeros(0, np.float32)
        C1 = X.shape[1] + 1
        Xp = np.empty((X.shape[0], C1), np.float32)
        Xp[:, :-1] = X
        Xp[:, -1] = 1.0 if how == "prod" else 0.0
        flat = Xp.ravel()
        base = s.astype(np.int64) * C1
        padr = self.pad_c[r]
        out = flat[base + padr[:, 0]]
        for j in range(1, padr.shape[1]):
            col = flat[base + padr[:, j]]
            if how == "prod":
                out *= col
            else:
                out += col
        if how == "mean":
            out *= self.inv_count[r]
        return out

    @cached_property
    def pad_c(self) -> np.ndarray:
        """``pad`` with -1 replaced by the padding column (number of concepts)."""
        C = self.R.shape[1]
        return np.where(self.pad >= 0, self.pad, C).astype(np.int64)

    @cached_property
    def inv_count(self) -> np.ndarray:
        cnt = (self.pad >= 0).sum(axis=1)
        return np.where(cnt > 0, 1.0 / np.maximum(cnt, 1), 0.0).astype(np.float32)

    @cached_property
    def by_concept(self) -> sp.csc_matrix:
        """Inverted index: column ``c`` lists the resources teaching concept ``c``."""
        m = self.R.tocsc()
        m.sort_indices()
        return m


@dataclass
class MasteryData:
    """Student x concept matrices from a mastery table."""

    students: pd.Index
    mastery: np.ndarray  # float32 S x C, NaN where unknown
    evidence: np.ndarray  # float32 S x C
    last_ns: np.ndarray | None  # int64 S x C (ns since epoch) or None; INT64_MIN unknown


def _wide_to_long(df: pd.DataFrame) -> pd.DataFrame:
    long = df.rename_axis(index="student_id", columns="concept_id").stack().rename("mastery")
    return long.reset_index()


def mastery_matrix(
    table: pd.DataFrame | None, concepts: pd.Index, *, source: str = "mastery"
) -> MasteryData:
    """Pivot a mastery table to matrices.

    Accepts the mastery contract's long table (``student_id, concept_id, mastery[,
    evidence, fallback, last_practiced]``) or a wide table (index: students, columns:
    concepts). Rows flagged by the tracer with a ``fallback`` keep their value (the
    tracer's documented prior) but count as no evidence.
    """
    if table is None or len(table) == 0:
        C = len(concepts)
        return MasteryData(
            pd.Index([], dtype=object),
            np.zeros((0, C), np.float32),
            np.zeros((0, C), np.float32),
            None,
        )
    if not {"student_id", "concept_id", "mastery"} <= set(table.columns):
        table = _wide_to_long(table)
    for col in ("student_id", "concept_id", "mastery"):
        if col not in table.columns:
            raise InvalidDataError(
                "missing column", column=col, expected="the mastery long table", source=source
            )
    val = pd.to_numeric(table["mastery"], errors="coerce").to_numpy(float)
    bad = ~((val >= 0) & (val <= 1))
    if bad.any():
        raise InvalidDataError(
            "mastery values must be probabilities",
            column="mastery",
            rows=np.flatnonzero(bad),
            expected="numbers in [0, 1]",
            source=source,
        )
    sid = table["student_id"].astype(str)
    students = pd.Index(pd.unique(sid))
    si = students.get_indexer(sid)
    ci = concepts.get_indexer(table["concept_id"].astype(str))
    ok = ci >= 0
    S, C = len(students), len(concepts)
    M = np.full((S, C), np.nan, np.float32)
    M[si[ok], ci[ok]] = val[ok]
    E = np.zeros((S, C), np.float32)
    if "evidence" in table.columns:
        ev = pd.to_numeric(table["evidence"], errors="coerce").fillna(0).to_numpy(float)
        if "fallback" in table.columns:
            fb = table["fallback"].fillna("").astype(str).to_numpy() != ""
            ev = np.where(fb, 0.0, ev)
        E[si[ok], ci[ok]] = ev[ok]
    last = None
    for col in ("last_practiced", "last_seen"):
        if col in table.columns:
            t = pd.to_datetime(table[col], utc=True, errors="coerce")
            ns = pd.DatetimeIndex(t).as_unit("ns").asi8
            last = np.full((S, C), np.iinfo(np.int64).min, np.int64)
            last[si[ok], ci[ok]] = ns[ok]
            break
    return MasteryData(students, M, E, last)


def last_practiced(interactions: pd.DataFrame, students: pd.Index, concepts: pd.Index):
    """int64 S x C: the time of each student's last answer on each concept."""
    S, C = len(students), len(concepts)
    last = np.full((S, C), np.iinfo(np.int64).min, np.int64)
    if interactions is None or "timestamp" not in interactions.columns or not len(interactions):
        return last
    lens = interactions["concept_ids"].map(len).to_numpy(int)
    rows = np.repeat(np.arange(len(interactions)), lens)
    flat = [c for t in interactions["concept_ids"] for c in t]
    ci = concepts.get_indexer(flat)
    si = students.get_indexer(interactions["student_id"].astype(str).to_numpy()[rows])
    t = pd.DatetimeIndex(pd.to_datetime(interactions["timestamp"], utc=True)).as_unit("ns").asi8
    t = t[rows]
    ok = (ci >= 0) & (si >= 0)
    np.maximum.at(last, (si[ok], ci[ok]), t[ok])
    return last
