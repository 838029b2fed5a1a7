"""Import Junyi Academy's exercise table (837 exercises, 41 topics, 9 areas) as a graph.

The file is ``junyi2015/junyi_Exercise_table.csv`` in the public data directory (see
its SOURCE.md; research use only, cite Chang, Hsu & Chen, EDM 2015). Exercises become
concepts (id = the exercise ``name``; ``name`` = the Traditional-Chinese
``pretty_display_name``, kept as published, including a few ``?`` the upstream file
has in place of characters); ``topic`` becomes the unit and ``area`` the domain.
Junyi has no school grades, so every concept has ``grade=0`` (ungraded).

What the file holds that a graph cannot, and how it is handled (all counted in
``G.graph["import_report"]`` and logged):

* duplicated rows (the same exercise twice): the first row is kept;
* a prerequisite listed twice for one exercise, or again in a duplicated row: one edge;
* self-prerequisites (``proportions_1`` lists itself): dropped;
* prerequisites that name no exercise of the table: dropped (the file has none);
* prerequisite cycles: by default each cycle is broken by dropping its edge into the
  most recently created exercise (the cycle was closed when that exercise was wired
  in); ``on_cycle="keep"`` keeps them, ``"raise"`` raises :class:`CycleError`.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.graph.errors import CycleError
from edu_recsys.graph.queries import PREREQUISITE, find_cycle
from edu_recsys.graph.validate import _cycles

__all__ = ["JUNYI_FILE", "import_junyi"]

log = logging.getLogger(__name__)

#: Location of the exercise table inside the data directory.
JUNYI_FILE = Path("junyi2015") / "junyi_Exercise_table.csv"

_COLUMNS = ("name", "prerequisites", "topic", "area", "pretty_display_name", "creation_date")


def _english(name: str) -> str:
    text = name.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def _resolve(source: str | os.PathLike | None) -> Path:
    if source is None:
        from edu_recsys.datasets import resolve_data_dir

        return resolve_data_dir() / JUNYI_FILE
    p = Path(source)
    return p / JUNYI_FILE if p.is_dir() else p


def import_junyi(source: str | os.PathLike | None = None, *, on_cycle: str = "break") -> nx.DiGraph:
    """Read Junyi's exercise table into a knowledge graph.

    Parameters
    ----------
    source : path, optional
        The CSV file, or the data directory holding ``junyi2015/`` (default: the
        resolved public data directory, see :func:`edu_recsys.datasets.resolve_data_dir`).
    on_cycle : {"break", "keep", "raise"}, default "break"

    Returns
    -------
    DiGraph
        One concept per distinct exercise; ``G.graph["import_report"]`` holds the
        counts: ``rows``, ``exercises``, ``duplicate_rows``, ``listed_prerequisites``
        (references in the file), ``edges`` (in the graph), ``duplicate_references``,
        ``self_loops``, ``dangling``, ``cycles``, ``removed_edges``, ``topics``, ``areas``.

    Raises
    ------
    DataNotFoundError
        When the data directory is not there.
    InvalidDataError
        When the file lacks a needed column.
    CycleError
        With ``on_cycle="raise"`` if the prerequisites have a cycle.
    """
    if on_cycle not in ("break", "keep", "raise"):
        raise ValueError(f"on_cycle must be 'break', 'keep' or 'raise', got {on_cycle!r}")
    path = _resolve(source)
    if not path.is_file():
        from edu_recsys.datasets import DataNotFoundError

        raise DataNotFoundError(f"Junyi exercise table not found: {path}")
    table = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise InvalidDataError(
            "missing column(s) " + ", ".join(missing), source=str(path), expected=str(_COLUMNS)
        )

    report: dict[str, Any] = {"source": str(path), "rows": len(table)}
    dup = table["name"].duplicated(keep="first")
    report["duplicate_rows"] = table.loc[dup, "name"].tolist()
    rows = table.loc[~dup]
    report["exercises"] = len(rows)

    G = nx.DiGraph(
        id="junyi2015",
        subject="mathematics",
        name="均一教育平台练习题知识地图",
        name_en="Junyi Academy exercise map (2015)",
        grades=[],
        standard="Junyi Academy knowledge map (DataShop 1198); Chang, Hsu & Chen, EDM 2015",
    )
    area_of_topic: dict[str, Counter] = {}
    for r in rows.itertuples(index=False):
        area_of_topic.setdefault(r.topic, Counter())[r.area] += 1
    G.graph["units"] = {
        t: {"name": t, "name_en": t, "grade": 0, "domain": c.most_common(1)[0][0]}
        for t, c in area_of_topic.items()
    }
    for r in rows.itertuples(index=False):
        attrs: dict[str, Any] = {
            "name": r.pretty_display_name or r.name,
            "name_en": _english(r.name),
            "grade": 0,
            "subject": "biology" if r.area == "biology" else "mathematics",
            "unit": r.topic,
            "unit_name": r.topic,
            "domain": r.area,
            "creation_date": r.creation_date,
        }
        for col, conv in (
            ("live", lambda v: v.strip().upper() == "TRUE"),
            ("h_position", int),
            ("v_position", int),
            ("seconds_per_fast_problem", float),
            ("short_display_name", str),
        ):
            if col in rows.columns and getattr(r, col) != "":
                try:
                    attrs[col] = conv(getattr(r, col))
                except ValueError:
                    pass
        G.add_node(r.name, **attrs)

    listed = 0
    refs: Counter = Counter()
    self_loops, dangling = [], []
    for r in table.itertuples(index=False):  # all rows: a duplicated row repeats its edges
        for pre in (p.strip() for p in r.prerequisites.split(",")):
            if not pre:
                continue
            listed += 1
            refs[(pre, r.name)] += 1
            if pre == r.name:
                if pre not in self_loops:
                    self_loops.append(pre)
            elif pre not in G:
                dangling.append((pre, r.name))
            else:
                G.add_edge(pre, r.name, relation=PREREQUISITE)
    report["listed_prerequisites"] = listed
    report["distinct_references"] = len(refs)
    report["duplicate_references"] = sum(k - 1 for k in refs.values())
    report["self_loops"] = self_loops
    report["dangling"] = dangling

    cycles, removed = [], []
    created = nx.get_node_attributes(G, "creation_date")
    while True:
        cycle = find_cycle(G)
        if cycle is None:
            break
        cycles.append(cycle)
        if on_cycle == "raise":
            raise CycleError(cycle)
        if on_cycle == "keep":
            cycles = _cycles(G)  # one per strongly connected component
            break
        edges = list(zip(cycle, cycle[1:] + cycle[:1]))
        u, v = max(edges, key=lambda e: (created.get(e[1], ""), e[1]))
        G.remove_edge(u, v)
        removed.append((u, v))
    report["cycles"] = cycles
    report["removed_edges"] = removed
    report["edges"] = G.number_of_edges()
    report["topics"] = len(G.graph["units"])
    report["areas"] = len({d["domain"] for _, d in G.nodes(data=True)})
    G.graph["import_report"] = report
    G.graph["items"] = {}
    G.graph["resources"] = {}
    log.info(
        "Junyi import: %d rows -> %d exercises; %d listed prerequisites -> %d edges "
        "(%d duplicate references, %d self-loops, %d dangling, %d cycle(s), removed %s)",
        report["rows"],
        report["exercises"],
        listed,
        report["edges"],
        report["duplicate_references"],
        len(self_loops),
        len(dangling),
        len(cycles),
        removed,
    )
    return G
