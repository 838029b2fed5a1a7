"""Queries on a knowledge graph, used by recommendation, learning paths and reports.

Every function takes a :class:`networkx.DiGraph` whose edges ``u -> v`` with
``relation="prerequisite"`` (or no ``relation``) mean *u must be learned before v*.
Edges into ``v`` that carry the same ``any_of="<group>"`` attribute are alternatives:
one mastered member of the group suffices. Edges with another ``relation`` (e.g.
``"related"``) are ignored here.

Mastery arguments are mappings ``concept -> probability`` (a concept counts as mastered
when its value is >= ``threshold``, by default
:data:`edu_recsys.constants.MASTERY_THRESHOLD`), or plain collections of mastered
concepts. **Fallback**: a concept missing from the mapping counts as not mastered;
concepts of the mapping that are not in the graph are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping
from typing import Any

import networkx as nx

from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.exceptions import UnknownIdError
from edu_recsys.graph.errors import CycleError

__all__ = [
    "PREREQUISITE",
    "is_prerequisite_edge",
    "prerequisite_view",
    "prerequisite_groups",
    "prerequisites_met",
    "prerequisite_closure",
    "ready_to_learn",
    "concepts_needed",
    "learning_order",
    "concept_distance",
    "subgraph_for",
    "dependents_count",
    "concept_depth",
    "roots",
    "graph_summary",
    "mastered_set",
    "find_cycle",
]

#: The ``relation`` value of prerequisite edges.
PREREQUISITE = "prerequisite"


def is_prerequisite_edge(data: Mapping[str, Any]) -> bool:
    """Whether an edge's attribute dict marks a prerequisite (no ``relation`` counts as one)."""
    return data.get("relation", PREREQUISITE) == PREREQUISITE


def prerequisite_view(G: nx.DiGraph) -> nx.DiGraph:
    """``G`` restricted to its prerequisite edges (a read-only view, or ``G`` itself).

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b")]); G.add_edge("a", "c", relation="related")
    >>> sorted(prerequisite_view(G).edges)
    [('a', 'b')]
    """
    if all(is_prerequisite_edge(d) for _, _, d in G.edges(data=True)):
        return G
    return nx.subgraph_view(G, filter_edge=lambda u, v: is_prerequisite_edge(G.edges[u, v]))


def _check_known(G: nx.DiGraph, concepts: Iterable[Hashable]) -> None:
    missing = [c for c in concepts if c not in G]
    if missing:
        raise UnknownIdError("concept", [str(c) for c in missing], "not a node of the graph")


def _as_list(targets: str | Iterable[str]) -> list[str]:
    return [targets] if isinstance(targets, str) else list(targets)


def mastered_set(
    G: nx.DiGraph,
    mastery: Mapping[str, float] | Collection[str],
    threshold: float = MASTERY_THRESHOLD,
) -> set[str]:
    """The graph's concepts counted as mastered.

    Parameters
    ----------
    mastery : mapping or collection
        ``concept -> probability`` (mastered when ``>= threshold``), or a collection
        of mastered concepts.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b")])
    >>> sorted(mastered_set(G, {"a": 0.9, "b": 0.5, "zzz": 1.0}))
    ['a']
    >>> sorted(mastered_set(G, ["b"]))
    ['b']
    """
    if isinstance(mastery, Mapping):
        return {c for c, p in mastery.items() if c in G and p is not None and p >= threshold}
    return {c for c in mastery if c in G}


def prerequisite_groups(G: nx.DiGraph, concept: str) -> tuple[list[str], dict[str, list[str]]]:
    """The prerequisites of ``concept``: those all required, and the any-of groups.

    Returns
    -------
    required : list of str
        Direct prerequisites without an ``any_of`` attribute.
    groups : dict of str to list of str
        ``group id -> alternatives`` (one of each group suffices).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_edge("eq", "sys_word")
    >>> G.add_edge("subst", "sys_word", any_of="g"); G.add_edge("elim", "sys_word", any_of="g")
    >>> prerequisite_groups(G, "sys_word")
    (['eq'], {'g': ['subst', 'elim']})
    """
    _check_known(G, [concept])
    required: list[str] = []
    groups: dict[str, list[str]] = {}
    for u, data in G.pred[concept].items():
        if not is_prerequisite_edge(data):
            continue
        g = data.get("any_of")
        if g is None or g == "":
            required.append(u)
        else:
            groups.setdefault(str(g), []).append(u)
    return required, groups


def prerequisites_met(G: nx.DiGraph, concept: str, mastered: Collection[str]) -> bool:
    """Whether every prerequisite of ``concept`` is mastered (any-of groups honoured).

    Parameters
    ----------
    G : DiGraph
    concept : str
    mastered : collection of str
        The mastered concepts (see :func:`mastered_set` to get it from probabilities).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_edge("eq", "w")
    >>> G.add_edge("subst", "w", any_of="g"); G.add_edge("elim", "w", any_of="g")
    >>> prerequisites_met(G, "w", {"eq", "elim"})
    True
    >>> prerequisites_met(G, "w", {"subst", "elim"})
    False
    """
    required, groups = prerequisite_groups(G, concept)
    mastered = set(mastered)
    return all(u in mastered for u in required) and all(
        any(u in mastered for u in alts) for alts in groups.values()
    )


def prerequisite_closure(
    G: nx.DiGraph, targets: str | Iterable[str], *, include_targets: bool = False
) -> set[str]:
    """All concepts that the targets depend on (their ancestors), alternatives included.

    Parameters
    ----------
    G : DiGraph
    targets : str or iterable of str
    include_targets : bool, default False

    Raises
    ------
    UnknownIdError
        If a target is not in the graph.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c"), ("x", "c"), ("c", "d")])
    >>> sorted(prerequisite_closure(G, "c"))
    ['a', 'b', 'x']
    >>> sorted(prerequisite_closure(G, ["b", "x"], include_targets=True))
    ['a', 'b', 'x']
    """
    targets = _as_list(targets)
    _check_known(G, targets)
    P = prerequisite_view(G)
    out: set[str] = set()
    for t in targets:
        out |= nx.ancestors(P, t)
    if include_targets:
        out |= set(targets)
    return out


def _unit_positions(G: nx.DiGraph) -> dict[str, int]:
    units = G.graph.get("units") or {}
    return {u: i for i, u in enumerate(units)}


def _order_key(G: nx.DiGraph):
    """Tie-break key: grade, unit position in the file, difficulty, file position."""
    unit_pos = _unit_positions(G)
    node_pos = {n: i for i, n in enumerate(G.nodes)}
    n_units = len(unit_pos)

    def key(n: str) -> tuple:
        d = G.nodes[n]
        diff = d.get("difficulty")
        diff = 0.5 if diff is None or (isinstance(diff, float) and math.isnan(diff)) else diff
        return (d.get("grade") or 0, unit_pos.get(d.get("unit"), n_units), diff, node_pos[n])

    return key


def find_cycle(G: nx.DiGraph) -> list[str] | None:
    """One prerequisite cycle as a list of concepts, or None when there is none.

    Examples
    --------
    >>> find_cycle(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a")]))
    ['a', 'b', 'c']
    >>> find_cycle(nx.DiGraph([("a", "b")])) is None
    True
    """
    P = prerequisite_view(G)
    try:
        edges = nx.find_cycle(P)
    except nx.NetworkXNoCycle:
        return None
    return [u for u, _ in edges]


def learning_order(
    G: nx.DiGraph, *, generations: bool = False, concepts: Iterable[str] | None = None
) -> Iterator[Any]:
    """Concepts in an order that respects every prerequisite (a generator).

    Among the concepts whose prerequisites have all come, the next one is chosen by
    grade, then unit (in the order of the curriculum file), then difficulty, then the
    order of the file. With ``generations=True`` it yields lists instead: the
    topological generations (all roots, then every concept whose prerequisites are all
    in earlier generations, ...), each sorted by the same key.

    Parameters
    ----------
    G : DiGraph
    generations : bool, default False
    concepts : iterable of str, optional
        Order only these concepts (the prerequisite edges among them).

    Yields
    ------
    str, or list of str when ``generations`` is True

    Raises
    ------
    CycleError
        If the prerequisites have a cycle (the message shows it).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("hard", grade=7, difficulty=0.9); G.add_node("easy", grade=7, difficulty=0.1)
    >>> G.add_node("next", grade=8); G.add_edge("hard", "next")
    >>> list(learning_order(G))
    ['easy', 'hard', 'next']
    >>> list(learning_order(G, generations=True))
    [['easy', 'hard'], ['next']]
    """
    P = prerequisite_view(G)
    if concepts is not None:
        concepts = list(concepts)
        _check_known(G, concepts)
        P = P.subgraph(concepts)
    cycle = find_cycle(P)
    if cycle:
        raise CycleError(cycle)
    key = _order_key(G)
    if generations:
        for gen in nx.topological_generations(P):
            yield sorted(gen, key=key)
    else:
        yield from nx.lexicographical_topological_sort(P, key=key)


def ready_to_learn(
    G: nx.DiGraph,
    mastery: Mapping[str, float] | Collection[str],
    threshold: float = MASTERY_THRESHOLD,
) -> list[str]:
    """The frontier: unmastered concepts whose prerequisites are all mastered.

    Any-of groups are honoured (one mastered member suffices). Concepts missing from
    ``mastery`` count as not mastered (documented fallback), so with an empty mapping
    the frontier is the set of roots.

    Returns
    -------
    list of str
        In learning order (grade, unit, difficulty, file order).

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> G.add_edge("s", "w", any_of="g"); G.add_edge("e", "w", any_of="g")
    >>> ready_to_learn(G, {"a": 0.95, "b": 0.3, "e": 0.9})
    ['b', 's', 'w']
    >>> ready_to_learn(G, {})
    ['a', 's', 'e']
    """
    done = mastered_set(G, mastery, threshold)
    key = _order_key(G)
    ready = [c for c in G if c not in done and prerequisites_met(G, c, done)]
    return sorted(ready, key=key)


def concepts_needed(
    G: nx.DiGraph,
    targets: str | Iterable[str],
    mastery: Mapping[str, float] | Collection[str],
    threshold: float = MASTERY_THRESHOLD,
) -> list[str]:
    """The unmastered concepts to learn to reach the targets, in learning order.

    The search descends from each unmastered target through its prerequisites and stops
    at mastered concepts (their own prerequisites are taken as known). For an any-of
    group it follows the alternative that needs the fewest further concepts (ties: the
    higher mastery, then the easier, then file order); if a member is already mastered
    the group needs nothing. This greedy choice is minimal per group; with groups that
    share deep prerequisites it can exceed the global minimum.

    Parameters
    ----------
    G : DiGraph
    targets : str or iterable of str
    mastery : mapping or collection
        See :func:`mastered_set`; missing concepts count as not mastered.
    threshold : float

    Returns
    -------
    list of str
        Includes the unmastered targets themselves; empty when all are mastered.

    Raises
    ------
    UnknownIdError
        If a target is not in the graph.
    CycleError
        If the prerequisites of the targets have a cycle.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "t"), ("x", "t")])
    >>> G.add_edge("long1", "alt_long"); G.add_edge("alt_long", "t2", any_of="g")
    >>> G.add_edge("alt_short", "t2", any_of="g"); G.add_edge("t", "t2")
    >>> concepts_needed(G, "t", {"a": 0.9})
    ['b', 'x', 't']
    >>> concepts_needed(G, "t2", {"a": 0.9, "b": 0.9, "x": 0.9, "t": 0.9})
    ['alt_short', 't2']
    """
    targets = _as_list(targets)
    _check_known(G, targets)
    done = mastered_set(G, mastery, threshold)
    score = dict(mastery) if isinstance(mastery, Mapping) else {}
    key = _order_key(G)
    memo: dict[str, frozenset[str]] = {}
    visiting: list[str] = []

    def need(c: str) -> frozenset[str]:
        if c in done:
            return frozenset()
        if c in memo:
            return memo[c]
        if c in visiting:
            raise CycleError(visiting[visiting.index(c) :])
        visiting.append(c)
        required, groups = prerequisite_groups(G, c)
        out = {c}
        for u in required:
            out |= need(u)
        for alts in groups.values():
            if any(a in done for a in alts):
                continue
            options = [(need(a), a) for a in alts]
            best = min(
                options,
                key=lambda t: (len(t[0] - out), -(score.get(t[1]) or 0.0), key(t[1])),
            )
            out |= best[0]
        visiting.pop()
        memo[c] = frozenset(out)
        return memo[c]

    result: set[str] = set()
    for t in targets:
        result |= need(t)
    return list(learning_order(G, concepts=result)) if result else []


def concept_distance(G: nx.DiGraph, a: str, b: str, *, directed: bool = False) -> float:
    """Number of prerequisite edges between two concepts.

    Parameters
    ----------
    G : DiGraph
    a, b : str
    directed : bool, default False
        If False, edges are walked in either direction (how close two concepts are in
        the curriculum). If True, the length of the shortest prerequisite chain from
        ``a`` to ``b`` (``a`` must be an ancestor of ``b``).

    Returns
    -------
    float
        An integer-valued distance, or ``math.inf`` when there is no path.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c"), ("d", "c"), ("x", "y")])
    >>> concept_distance(G, "a", "d")
    3
    >>> concept_distance(G, "c", "a", directed=True)
    inf
    >>> concept_distance(G, "a", "x")
    inf
    """
    _check_known(G, [a, b])
    P = prerequisite_view(G)
    H = P if directed else P.to_undirected(as_view=True)
    try:
        return nx.shortest_path_length(H, a, b)
    except nx.NetworkXNoPath:
        return math.inf


def subgraph_for(
    G: nx.DiGraph,
    unit: str | Iterable[str] | None = None,
    grade: int | Iterable[int] | None = None,
    *,
    include_prerequisites: bool = False,
) -> nx.DiGraph:
    """A copy of the graph restricted to some units and/or grades.

    Parameters
    ----------
    G : DiGraph
    unit : str or iterable of str, optional
        Unit ids to keep (all when None).
    grade : int or iterable of int, optional
        Grades to keep (all when None).
    include_prerequisites : bool, default False
        Also keep every prerequisite (ancestor) of the selected concepts.

    Returns
    -------
    DiGraph
        With the graph attributes; ``units``, ``items`` and ``resources`` are limited
        to the kept concepts.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("a", grade=7, unit="u1"); G.add_node("b", grade=8, unit="u2")
    >>> G.add_edge("a", "b"); G.graph["items"] = {"q1": ["a"], "q2": ["b"]}
    >>> H = subgraph_for(G, grade=8)
    >>> list(H.nodes), H.graph["items"]
    (['b'], {'q2': ['b']})
    >>> sorted(subgraph_for(G, unit="u2", include_prerequisites=True))
    ['a', 'b']
    """
    units = None if unit is None else ({unit} if isinstance(unit, str) else set(unit))
    grades = None if grade is None else ({grade} if isinstance(grade, int) else set(grade))
    keep = [
        n
        for n, d in G.nodes(data=True)
        if (units is None or d.get("unit") in units)
        and (grades is None or d.get("grade") in grades)
    ]
    if include_prerequisites and keep:
        extra = prerequisite_closure(G, keep)
        keep_set = set(keep) | extra
        keep = [n for n in G if n in keep_set]
    H = G.subgraph(keep).copy()
    H.graph = dict(G.graph)
    kept = set(keep)
    for k in ("items", "resources"):
        if isinstance(G.graph.get(k), Mapping):
            H.graph[k] = {
                i: [c for c in cs if c in kept]
                for i, cs in G.graph[k].items()
                if any(c in kept for c in cs)
            }
    if isinstance(G.graph.get("units"), Mapping):
        used = {d.get("unit") for _, d in H.nodes(data=True)}
        H.graph["units"] = {u: dict(v) for u, v in G.graph["units"].items() if u in used}
    return H


def dependents_count(G: nx.DiGraph, *, direct: bool = False) -> dict[str, int]:
    """How many concepts depend on each concept (its descendants).

    Parameters
    ----------
    G : DiGraph
    direct : bool, default False
        Count only direct dependents (out-degree over prerequisite edges).

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "d")])
    >>> dependents_count(G)
    {'a': 3, 'b': 1, 'c': 0, 'd': 0}
    >>> dependents_count(G, direct=True)["a"]
    2
    """
    P = prerequisite_view(G)
    if direct:
        return {n: P.out_degree(n) for n in P}
    if nx.is_directed_acyclic_graph(P):
        # Reverse topological sweep with descendant sets: O(V * E) worst case, fine here.
        desc: dict[str, set[str]] = {}
        for n in reversed(list(nx.topological_sort(P))):
            s: set[str] = set()
            for m in P.successors(n):
                s.add(m)
                s |= desc[m]
            desc[n] = s
        return {n: len(desc[n]) for n in P}
    return {n: len(nx.descendants(P, n)) for n in P}


def roots(G: nx.DiGraph) -> list[str]:
    """Concepts without prerequisites, in file order.

    Examples
    --------
    >>> roots(nx.DiGraph([("a", "b"), ("c", "b")]))
    ['a', 'c']
    """
    P = prerequisite_view(G)
    return [n for n in P if P.in_degree(n) == 0]


def concept_depth(G: nx.DiGraph) -> dict[str, int]:
    """Length of the longest prerequisite chain that ends at each concept (roots: 0).

    Raises
    ------
    CycleError
        If the prerequisites have a cycle.

    Examples
    --------
    >>> concept_depth(nx.DiGraph([("a", "b"), ("b", "c"), ("a", "c")]))
    {'a': 0, 'b': 1, 'c': 2}
    """
    P = prerequisite_view(G)
    cycle = find_cycle(P)
    if cycle:
        raise CycleError(cycle)
    depth: dict[str, int] = {}
    for n in nx.topological_sort(P):
        depth[n] = max((depth[u] + 1 for u in P.predecessors(n)), default=0)
    return {n: depth[n] for n in G}


def graph_summary(G: nx.DiGraph) -> dict[str, Any]:
    """Counts describing a graph: concepts, edges, any-of groups, depth, roots, grades.

    ``depth`` is the number of edges on the longest prerequisite chain (None if there
    is a cycle).

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> s = graph_summary(G)
    >>> s["concepts"], s["prerequisite_edges"], s["depth"], s["roots"]
    (3, 2, 2, 1)
    """
    P = prerequisite_view(G)
    groups = {
        (v, d["any_of"])
        for _, v, d in P.edges(data=True)
        if d.get("any_of") is not None and d.get("any_of") != ""
    }
    is_dag = find_cycle(P) is None
    grades = sorted({d.get("grade") for _, d in G.nodes(data=True) if d.get("grade") is not None})
    units = {d.get("unit") for _, d in G.nodes(data=True) if d.get("unit") is not None}
    return {
        "name": G.graph.get("id") or G.graph.get("name"),
        "concepts": G.number_of_nodes(),
        "prerequisite_edges": P.number_of_edges(),
        "other_edges": G.number_of_edges() - P.number_of_edges(),
        "any_of_groups": len(groups),
        "depth": nx.dag_longest_path_length(P) if is_dag and len(P) else (0 if is_dag else None),
        "roots": len(roots(G)),
        "leaves": sum(1 for n in P if P.out_degree(n) == 0),
        "grades": grades,
        "units": len(units),
        "items": len(G.graph.get("items") or {}),
        "resources": len(G.graph.get("resources") or {}),
    }
