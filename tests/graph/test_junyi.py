"""Junyi import: the real file's counts, and the handling rules on a hand-made table."""

from __future__ import annotations

import pytest

from edu_recsys.graph import CycleError, validate_graph
from edu_recsys.graph.annotations import load_prerequisite_annotations
from edu_recsys.graph.junyi import import_junyi

HEADER = (
    "name,live,prerequisites,h_position,v_position,creation_date,seconds_per_fast_problem,"
    "pretty_display_name,short_display_name,topic,area\n"
)


def row(name, pre="", created="2012-01-01", topic="t1", area="algebra"):
    return f'{name},TRUE,"{pre}",1,2,{created},5,名{name},{name},{topic},{area}\n'


def test_handling_rules_on_a_small_table(tmp_path):
    f = tmp_path / "junyi.csv"
    f.write_text(
        "\ufeff"
        + HEADER
        + row("a")
        + row("b", "a,a")  # listed twice
        + row("b", "a,a")  # duplicated row
        + row("c", "b,c,zz")  # self-loop and a dangling name
        + row("d", "c,e", created="2014-09-01", topic="t2", area="geometry")
        + row("e", "d", created="2013-01-01", topic="t2", area="geometry"),
        encoding="utf-8",
    )
    G = import_junyi(f)
    r = G.graph["import_report"]
    assert (r["rows"], r["exercises"], r["duplicate_rows"]) == (6, 5, ["b"])
    assert r["listed_prerequisites"] == 10 and r["duplicate_references"] == 3
    assert r["self_loops"] == ["c"] and r["dangling"] == [("zz", "c")]
    # the cycle d <-> e loses its edge into the most recently created exercise (d)
    assert r["cycles"] and r["removed_edges"] == [("e", "d")]
    assert sorted(G.edges) == [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")]
    assert G.nodes["d"]["name"] == "名d" and G.nodes["d"]["domain"] == "geometry"
    assert G.graph["units"]["t2"]["domain"] == "geometry"
    assert validate_graph(G) == []
    with pytest.raises(CycleError):
        import_junyi(f, on_cycle="raise")
    kept = import_junyi(f, on_cycle="keep")
    assert kept.has_edge("e", "d") and any(p.code == "cycle" for p in validate_graph(kept))


@pytest.mark.realdata
def test_real_junyi_counts(data_dir):
    f = data_dir / "junyi2015" / "junyi_Exercise_table.csv"
    if not f.exists():
        pytest.skip(f"Junyi exercise table not found at {f}")
    G = import_junyi(data_dir)
    r = G.graph["import_report"]
    # The file's published counts: 837 rows, 988 prerequisite references, 41 topics, 9 areas.
    assert r["rows"] == 837 and r["listed_prerequisites"] == 988
    assert r["topics"] == 41 and r["areas"] == 9
    # What the graph keeps, with every difference accounted for.
    assert r["exercises"] == 837 - len(r["duplicate_rows"]) == G.number_of_nodes()
    assert r["distinct_references"] == 988 - r["duplicate_references"]
    assert G.number_of_edges() == r["distinct_references"] - len(r["self_loops"]) - len(
        r["dangling"]
    ) - len(r["removed_edges"])
    assert len(r["cycles"]) == 1 and set(r["cycles"][0]) == {
        "simplifying_radicals",
        "adding_and_subtracting_radicals",
        "radical_multiplication_and_division",
    }
    assert [p for p in validate_graph(G) if p.is_error] == []


@pytest.mark.realdata
def test_published_annotation_sets(data_dir):
    if not (data_dir / "al_cpl_prerequisites").is_dir():
        pytest.skip("AL-CPL not in the data directory")
    a = load_prerequisite_annotations("al_cpl/geometry", data_dir)
    # SOURCE.md: geometry has 1,681 labelled pairs, 524 positives, 89 concepts
    assert (len(a.labelled), int(a.labelled["label"].sum()), a.graph.number_of_nodes()) == (
        1681,
        524,
        89,
    )
    if (data_dir / "lecturebank").is_dir():
        lb = load_prerequisite_annotations("lecturebank", data_dir)
        assert int(lb.labelled["label"].sum()) == 921 and len(lb.labelled) == 42750
