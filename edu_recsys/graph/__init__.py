"""Subject knowledge graphs (学科知识图谱): files, validation, queries, learning.

A knowledge graph is a :class:`networkx.DiGraph` whose nodes are concepts (知识点) and
whose edges ``u -> v`` with ``relation="prerequisite"`` mean *u must be learned before
v*. Prerequisite edges into ``v`` that carry the same ``any_of="<group id>"`` are
alternatives (one mastered member suffices); edges without ``any_of`` are all required.
Concept nodes carry ``name`` (Chinese), ``name_en``, ``grade`` (int; 0 = ungraded),
``subject``, ``unit`` and optionally ``difficulty`` (0..1), ``description``,
``domain`` and ``unit_name``. Items and resources linked to concepts live in
``G.graph["items"]`` and ``G.graph["resources"]`` (id -> list of concept ids).

The functions follow networkx's algorithm modules: plain functions of a graph.

>>> from edu_recsys.graph import load_graph, ready_to_learn
>>> G = load_graph("math-7-9")
>>> ready_to_learn(G, {})[:3]
['m7.rational.negative_numbers', 'm7.geom.solids_and_plane_figures', 'm7.coord.ordered_pairs']
"""

from edu_recsys.graph.errors import CurriculumError, CycleError, GraphError
from edu_recsys.graph.io import curriculum_to_graph as curriculum_to_graph
from edu_recsys.graph.io import (
    from_graphml,
    from_node_link,
    graph_path,
    graph_to_curriculum,
    list_graphs,
    load_graph,
    read_curriculum,
    to_graphml,
    to_node_link,
    write_curriculum,
)
from edu_recsys.graph.problems import Problem
from edu_recsys.graph.queries import (
    PREREQUISITE,
    concept_depth,
    concept_distance,
    concepts_needed,
    dependents_count,
    find_cycle,
    graph_summary,
    learning_order,
    mastered_set,
    prerequisite_closure,
    prerequisite_groups,
    prerequisite_view,
    prerequisites_met,
    ready_to_learn,
    roots,
    subgraph_for,
)
from edu_recsys.graph.schema import Curriculum, curriculum_json_schema
from edu_recsys.graph.validate import check_curriculum, validate_curriculum, validate_graph

# Heavier parts (scipy, matplotlib, pandas work) load on first use.
_LAZY = {
    "learn_prerequisites": "edu_recsys.graph.learn",
    "prerequisite_evidence": "edu_recsys.graph.learn",
    "conditional_evidence": "edu_recsys.graph.learn",
    "evidence_to_graph": "edu_recsys.graph.learn",
    "evaluate_prerequisites": "edu_recsys.graph.learn",
    "simulate_prerequisite_logs": "edu_recsys.graph.synthetic",
    "import_junyi": "edu_recsys.graph.junyi",
    "load_prerequisite_annotations": "edu_recsys.graph.annotations",
    "draw_graph": "edu_recsys.graph.draw",
    "export_drawing": "edu_recsys.graph.draw",
    "graph_layout": "edu_recsys.graph.draw",
    "find_cjk_font": "edu_recsys.graph.draw",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edu_recsys.graph' has no attribute {name!r}")


__all__ = [
    # files
    "load_graph",
    "list_graphs",
    "graph_path",
    "read_curriculum",
    "write_curriculum",
    "curriculum_to_graph",
    "graph_to_curriculum",
    "to_graphml",
    "from_graphml",
    "to_node_link",
    "from_node_link",
    "Curriculum",
    "curriculum_json_schema",
    # validation
    "Problem",
    "validate_graph",
    "validate_curriculum",
    "check_curriculum",
    # queries
    "PREREQUISITE",
    "prerequisite_closure",
    "ready_to_learn",
    "concepts_needed",
    "learning_order",
    "prerequisites_met",
    "prerequisite_groups",
    "prerequisite_view",
    "concept_distance",
    "subgraph_for",
    "dependents_count",
    "concept_depth",
    "roots",
    "graph_summary",
    "mastered_set",
    "find_cycle",
    # learning, imports, drawing (loaded on first use)
    *_LAZY,
    # errors
    "GraphError",
    "CycleError",
    "CurriculumError",
]
