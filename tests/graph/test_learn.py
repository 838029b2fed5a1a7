"""Prerequisite learning on simulated logs with a known graph; evaluation metrics."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from edu_recsys.graph.learn import (
    EVIDENCE_COLUMNS,
    evaluate_prerequisites,
    learn_prerequisites,
    prerequisite_evidence,
)
from edu_recsys.graph.synthetic import simulate_prerequisite_logs


@pytest.fixture(scope="module")
def truth() -> nx.DiGraph:
    # two short chains joined at the end, plus an any-of group
    G = nx.DiGraph()
    G.add_edges_from([("a", "b"), ("b", "c"), ("c", "d"), ("e", "f"), ("f", "g"), ("d", "h")])
    G.add_edge("g", "h", any_of="x")
    G.add_edge("b", "h", any_of="x")
    return G


@pytest.fixture(scope="module")
def logs(truth) -> pd.DataFrame:
    return simulate_prerequisite_logs(truth, n_students=600, random_state=3)


def test_simulator_is_seeded_and_canonical(truth):
    from edu_recsys.data import validate_interactions

    a = simulate_prerequisite_logs(truth, n_students=20, random_state=1)
    b = simulate_prerequisite_logs(truth, n_students=20, random_state=1)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(simulate_prerequisite_logs(truth, n_students=20, random_state=2))
    validate_interactions(a)


def test_recovers_most_edges_of_a_known_graph(truth, logs):
    L = learn_prerequisites(logs)
    m = evaluate_prerequisites(L, truth)
    assert nx.is_directed_acyclic_graph(L)
    assert m["precision_closure"] >= 0.7 and m["recall_closure"] >= 0.5, m
    assert m["precision_closure"] > 3 * m["base_rate_closure"]
    for _u, _v, d in L.edges(data=True):
        assert d["relation"] == "prerequisite" and 0 <= d["confidence"] <= 1 and d["z"] > 0


def test_independent_concepts_give_no_edges():
    # no prerequisites at all: general ability alone must not produce edges
    G = nx.DiGraph()
    G.add_nodes_from("abcdefgh")
    logs = simulate_prerequisite_logs(G, n_students=600, random_state=5)
    L = learn_prerequisites(logs)
    assert L.number_of_edges() <= 2, list(L.edges)


def test_evidence_table(logs):
    ev = prerequisite_evidence(logs)
    assert list(ev.columns) == list(EVIDENCE_COLUMNS)
    assert (np.diff(ev["z"].to_numpy()) <= 1e-12).all()
    assert ev["q_value"].between(0, 1).all() and (ev["q_value"] >= ev["p_value"] - 1e-12).all()
    assert (ev["n_students"] == ev["n_mastered"] + ev["n_not_mastered"]).all()
    top = ev.iloc[0]
    assert top["effect"] > 0.1 and top["q_value"] < 0.01
    with pytest.raises(ValueError):
        prerequisite_evidence(logs, outcome="best")


def test_empty_and_tiny_inputs():
    empty = pd.DataFrame({"student_id": [], "concept_ids": [], "correct": []})
    assert prerequisite_evidence(empty).empty
    one = pd.DataFrame({"student_id": ["s"], "concept_ids": [("a",)], "correct": [1]})
    assert learn_prerequisites(one).number_of_edges() == 0


def test_evaluation_metrics_by_hand():
    ref = nx.DiGraph([("a", "b"), ("b", "c")])
    m = evaluate_prerequisites([("a", "c"), ("a", "b"), ("c", "b")], ref)
    assert m["true_positives"] == 1 and m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == 0.5
    assert m["precision_closure"] == pytest.approx(2 / 3)  # a->c is implied by a->b->c
    assert m["recall_closure"] == 0.5  # b->c is not implied by the proposal
    assert m["base_rate_closure"] == pytest.approx(3 / 6)
    m = evaluate_prerequisites([("a", "b"), ("x", "y")], ref, concepts=["a", "b"])
    assert m["n_proposed"] == 1 and m["precision"] == 1.0


def test_cli_learn_writes_a_valid_curriculum(tmp_path, capsys):
    from edu_recsys.cli import main
    from edu_recsys.graph import load_graph

    logs = simulate_prerequisite_logs(nx.DiGraph([("a", "b"), ("b", "c")]), n_students=300)
    logs["concept_ids"] = logs["concept_ids"].str[0]
    src = tmp_path / "logs.csv"
    logs.to_csv(src, index=False)
    out, ev = tmp_path / "learned.yaml", tmp_path / "ev.csv"
    assert main(["graph", "learn", str(src), "-o", str(out), "--evidence", str(ev)]) == 0
    G = load_graph(out)
    assert set(G.edges) == {("a", "b"), ("b", "c")}
    assert 0 < G.edges["a", "b"]["confidence"] <= 1
    assert len(pd.read_csv(ev)) >= 2
    assert "prerequisite edges" in capsys.readouterr().out


def test_lazy_public_names():
    import edu_recsys.graph as g

    assert callable(g.learn_prerequisites) and callable(g.import_junyi)
    assert set(g.__all__) >= {"learn_prerequisites", "draw_graph", "evaluate_prerequisites"}
    with pytest.raises(AttributeError):
        g.no_such_name  # noqa: B018
