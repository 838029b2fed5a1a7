"""Validation of knowledge graphs and curriculum files.

:func:`validate_graph` checks a built graph; :func:`check_curriculum` checks what only
the file shows (duplicate ids, references to undefined concepts or units);
:func:`validate_curriculum` reads a file and runs both. Each returns a list of
:class:`~edu_recsys.graph.problems.Problem` (empty when valid); nothing is raised for
problems in the data.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import networkx as nx

from edu_recsys.graph.problems import WARNING, Problem
from edu_recsys.graph.queries import prerequisite_view
from edu_recsys.graph.schema import AnyOfGroup, Curriculum, PrerequisiteRef

__all__ = ["Problem", "validate_graph", "check_curriculum", "validate_curriculum", "errors_only"]

#: Node attributes every concept must carry.
REQUIRED_NODE_ATTRIBUTES = ("name", "grade", "unit")


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems of severity ``error``."""
    return [p for p in problems if p.is_error]


def _cycles(P: nx.DiGraph) -> list[list[str]]:
    """One cycle per strongly connected component with a cycle (self-loops included)."""
    out = []
    for u in nx.nodes_with_selfloops(P):
        out.append([u])
    for comp in nx.strongly_connected_components(P):
        if len(comp) < 2:
            continue
        edges = nx.find_cycle(P.subgraph(comp))
        out.append([u for u, _ in edges])
    return out


def validate_graph(G: nx.DiGraph) -> list[Problem]:
    """Check a knowledge graph; return its problems (empty list when valid).

    Errors: prerequisite cycles (with the cycle's concept path), concepts
    unreachable from any root, dangling references (edge endpoints that are not
    defined concepts; ``items``/``resources`` links or ``unit`` values naming unknown
    ids), edges that go backwards in grade (grade 0 means ungraded and is not
    compared), missing or ill-typed attributes. Warnings: any-of groups with one
    member, isolated concepts.

    Parameters
    ----------
    G : DiGraph

    Returns
    -------
    list of Problem

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> for n, g in [("a", 7), ("b", 7), ("c", 8), ("d", 7)]:
    ...     G.add_node(n, name=n, grade=g, unit="u")
    >>> G.add_edges_from([("a", "b"), ("b", "a"), ("c", "d")])
    >>> for p in validate_graph(G):
    ...     print(p)
    error [cycle] prerequisite cycle: a -> b -> a
    error [unreachable] 2 concept(s) not reachable from any root (no prerequisite-free start): a, b
    error [grade_backwards] c (grade 8) is a prerequisite of d (grade 7)
    """
    problems: list[Problem] = []
    P = prerequisite_view(G)

    # Nodes without attributes were created implicitly by an edge: dangling references.
    for n, d in G.nodes(data=True):
        if not d:
            refs = [f"{u} -> {n}" for u in G.predecessors(n)] + [
                f"{n} -> {v}" for v in G.successors(n)
            ]
            problems.append(
                Problem(
                    "dangling",
                    f"{n!s} is referenced ({', '.join(refs[:3])}) but not defined as a concept",
                    (str(n),),
                )
            )
            continue
        missing = [a for a in REQUIRED_NODE_ATTRIBUTES if d.get(a) in (None, "")]
        if missing:
            problems.append(
                Problem("missing_attribute", f"{n} has no {', '.join(missing)}", (str(n),))
            )
        g = d.get("grade")
        if g is not None and (not isinstance(g, Integral) or isinstance(g, bool) or g < 0):
            problems.append(
                Problem("schema", f"{n}: grade must be an integer >= 0, got {g!r}", (str(n),))
            )
        diff = d.get("difficulty")
        if diff is not None and (not isinstance(diff, Real) or not 0.0 <= float(diff) <= 1.0):
            problems.append(
                Problem("schema", f"{n}: difficulty must lie in [0, 1], got {diff!r}", (str(n),))
            )

    cycles = _cycles(P)
    for cyc in cycles:
        path = " -> ".join([*map(str, cyc), str(cyc[0])])
        problems.append(Problem("cycle", f"prerequisite cycle: {path}", tuple(map(str, cyc))))

    if cycles:
        starts = [n for n in P if P.in_degree(n) == 0]
        reach = set(starts)
        for s in starts:
            reach |= nx.descendants(P, s)
        unreachable = [str(n) for n in P if n not in reach]
        if unreachable:
            shown = ", ".join(unreachable[:8]) + (" ..." if len(unreachable) > 8 else "")
            problems.append(
                Problem(
                    "unreachable",
                    f"{len(unreachable)} concept(s) not reachable from any root "
                    f"(no prerequisite-free start): {shown}",
                    tuple(unreachable),
                )
            )

    grade = nx.get_node_attributes(G, "grade")
    for u, v in P.edges:
        gu, gv = grade.get(u), grade.get(v)
        if isinstance(gu, Integral) and isinstance(gv, Integral) and gu and gv and gu > gv:
            problems.append(
                Problem(
                    "grade_backwards",
                    f"{u} (grade {gu}) is a prerequisite of {v} (grade {gv})",
                    (str(u), str(v)),
                )
            )

    groups: Counter = Counter(
        (v, d["any_of"]) for _, v, d in P.edges(data=True) if d.get("any_of") not in (None, "")
    )
    for (v, g), k in groups.items():
        if k == 1:
            problems.append(
                Problem(
                    "any_of",
                    f"any-of group {g!r} of {v} has a single member (it acts as a plain "
                    "prerequisite)",
                    (str(v),),
                    WARNING,
                )
            )

    units = G.graph.get("units")
    if isinstance(units, Mapping) and units:
        for n, d in G.nodes(data=True):
            if d and d.get("unit") not in (None, "") and d["unit"] not in units:
                problems.append(
                    Problem("dangling", f"{n}: unit {d['unit']!r} is not defined", (str(n),))
                )

    for kind in ("items", "resources"):
        links = G.graph.get(kind) or {}
        if not isinstance(links, Mapping):
            problems.append(Problem("schema", f"graph attribute {kind!r} must be a mapping"))
            continue
        for i, cs in links.items():
            bad = [c for c in cs if c not in G]
            if bad:
                problems.append(
                    Problem(
                        "dangling",
                        f"{kind[:-1]} {i} links unknown concept(s): {', '.join(map(str, bad))}",
                        tuple(map(str, bad)),
                    )
                )

    if G.number_of_nodes() > 1:
        for n in G:
            if G.degree(n) == 0:
                problems.append(
                    Problem("isolated", f"{n} has no prerequisite edges", (str(n),), WARNING)
                )
    return problems


def _loc(i: int, cid: str, field: str = "") -> str:
    return f"concepts[{i}] ({cid})" + (f".{field}" if field else "")


def check_curriculum(c: Curriculum) -> list[Problem]:
    """Problems that only the curriculum file shows (before it becomes a graph).

    Duplicate unit or concept ids; prerequisites, units, items and resources that
    refer to undefined ids; a prerequisite listed twice (also across ``requires`` and
    ``requires_any``, or in two groups: one edge can belong to one group only); concepts
    with no grade (neither their own nor their unit's).

    Examples
    --------
    >>> c = Curriculum.model_validate({"id": "t", "subject": "math", "concepts": [
    ...     {"id": "a", "name": "A", "grade": 1, "unit": "u"},
    ...     {"id": "a", "name": "A2", "grade": 1, "unit": "u", "requires": ["zz"]}]})
    >>> for p in check_curriculum(c):
    ...     print(p)
    error [duplicate_id] concepts[1] (a): concept id 'a' is already used by concepts[0]
    error [dangling] concepts[1] (a).requires: 'zz' is not a concept of this file
    """
    problems: list[Problem] = []
    unit_ids: dict[str, int] = {}
    for i, u in enumerate(c.units):
        if u.id in unit_ids:
            problems.append(
                Problem(
                    "duplicate_id",
                    f"unit id {u.id!r} is already used by units[{unit_ids[u.id]}]",
                    location=f"units[{i}]",
                )
            )
        else:
            unit_ids[u.id] = i
    concept_ids: dict[str, int] = {}
    for i, k in enumerate(c.concepts):
        if k.id in concept_ids:
            problems.append(
                Problem(
                    "duplicate_id",
                    f"concept id {k.id!r} is already used by concepts[{concept_ids[k.id]}]",
                    (k.id,),
                    location=_loc(i, k.id),
                )
            )
        else:
            concept_ids[k.id] = i
    unit_grade = {u.id: u.grade for u in c.units}
    for i, k in enumerate(c.concepts):
        if c.units and k.unit not in unit_ids:
            problems.append(
                Problem(
                    "dangling",
                    f"unit {k.unit!r} is not defined in units",
                    (k.id,),
                    location=_loc(i, k.id, "unit"),
                )
            )
        if k.grade is None and unit_grade.get(k.unit) is None:
            problems.append(
                Problem(
                    "missing_attribute",
                    "no grade (set it on the concept or its unit)",
                    (k.id,),
                    location=_loc(i, k.id, "grade"),
                )
            )
        seen: dict[str, str] = {}
        refs: list[tuple[str, str]] = [
            (r.concept if isinstance(r, PrerequisiteRef) else r, "requires") for r in k.requires
        ]
        for j, grp in enumerate(k.requires_any):
            members = grp.concepts if isinstance(grp, AnyOfGroup) else grp
            refs += [(m, f"requires_any[{j}]") for m in members]
            if len(members) < 2:
                problems.append(
                    Problem(
                        "any_of",
                        "an any-of group with a single member acts as a plain prerequisite",
                        (k.id,),
                        WARNING,
                        _loc(i, k.id, f"requires_any[{j}]"),
                    )
                )
        for ref, where in refs:
            if ref not in concept_ids:
                problems.append(
                    Problem(
                        "dangling",
                        f"{ref!r} is not a concept of this file",
                        (k.id, ref),
                        location=_loc(i, k.id, where),
                    )
                )
            if ref in seen:
                problems.append(
                    Problem(
                        "duplicate_edge",
                        f"{ref!r} is listed in {seen[ref]} and again in {where}",
                        (ref, k.id),
                        location=_loc(i, k.id, where),
                    )
                )
            else:
                seen[ref] = where
        gids = [g.id for g in k.requires_any if isinstance(g, AnyOfGroup) and g.id]
        for gid, n in Counter(gids).items():
            if n > 1:
                problems.append(
                    Problem(
                        "duplicate_id",
                        f"any-of group id {gid!r} is used {n} times",
                        (k.id,),
                        location=_loc(i, k.id, "requires_any"),
                    )
                )
    for kind in ("items", "resources"):
        for item, cs in getattr(c, kind).items():
            bad = [x for x in cs if x not in concept_ids]
            if bad:
                problems.append(
                    Problem(
                        "dangling",
                        f"{kind[:-1]} {item!r} links unknown concept(s): {', '.join(bad)}",
                        tuple(bad),
                        location=f"{kind}.{item}",
                    )
                )
    return problems


def validate_curriculum(source: str | os.PathLike | Mapping[str, Any]) -> list[Problem]:
    """Read a curriculum file (or mapping) and return all its problems.

    Syntax and schema errors (with the field's location), then the file-level checks
    of :func:`check_curriculum`, then :func:`validate_graph` on the graph built from
    whatever could be read. A GraphML or node-link JSON file is checked with
    :func:`validate_graph` only.

    Examples
    --------
    >>> validate_curriculum({"id": "t", "subject": "math", "concepts": [
    ...     {"id": "a", "name": "A", "grade": 1, "unit": "u", "difficulty": 2}]})[0].code
    'schema'
    """
    from edu_recsys.graph import io  # io imports this module

    return io.problems_of(source)
