"""Curriculum files, GraphML and node-link: round trips, errors with locations."""

from __future__ import annotations

import json

import networkx as nx
import pytest
import yaml

from edu_recsys.exceptions import UnknownIdError
from edu_recsys.graph import (
    CurriculumError,
    curriculum_json_schema,
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


def same_graph(G: nx.DiGraph, H: nx.DiGraph) -> None:
    assert list(G.nodes) == list(H.nodes)
    assert set(G.edges) == set(H.edges)
    for n in G:
        for k in ("name", "name_en", "grade", "unit", "difficulty"):
            assert G.nodes[n].get(k) == H.nodes[n].get(k), (n, k)
    for u, v in G.edges:
        assert G.edges[u, v].get("any_of") == H.edges[u, v].get("any_of")
    assert G.graph["items"] == H.graph["items"]
    assert G.graph["resources"] == H.graph["resources"]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_curriculum_round_trip(small_graph, tmp_path, suffix):
    path = write_curriculum(small_graph, tmp_path / f"g{suffix}")
    H = load_graph(path)
    same_graph(small_graph, H)
    # group ids that are not the default form survive as named groups
    assert H.edges["subst", "word"]["any_of"] == "g"


def test_graphml_and_node_link_round_trips(small_graph, tmp_path):
    H = from_graphml(to_graphml(small_graph, tmp_path / "g.graphml"))
    same_graph(small_graph, H)
    assert H.graph["units"] == small_graph.graph["units"]
    data = to_node_link(small_graph, tmp_path / "g.json")
    same_graph(small_graph, from_node_link(data))
    same_graph(small_graph, from_node_link(tmp_path / "g.json"))
    # the file form is recognised by load_graph too
    same_graph(small_graph, load_graph(tmp_path / "g.json"))
    old = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    old["links"] = old.pop("edges")  # networkx < 3.4 wrote "links"
    same_graph(small_graph, from_node_link(old))


def test_shipped_files_are_a_fixed_point_of_the_writer(tmp_path):
    for name in ("math-7-9", "math-3-6"):
        out = write_curriculum(load_graph(name), tmp_path / f"{name}.yaml")
        assert out.read_text(encoding="utf-8") == graph_path(name).read_text(encoding="utf-8")


def test_extra_edge_attributes_and_unknown_node_attributes_survive(tmp_path):
    G = nx.DiGraph(id="t", subject="math")
    G.add_node("a", name="A", grade=1, unit="u", source_page=12)
    G.add_node("b", name="B", grade=1, unit="u")
    G.add_edge("a", "b", relation="prerequisite", confidence=0.75)
    H = load_graph(write_curriculum(G, tmp_path / "t.yaml"))
    assert H.edges["a", "b"]["confidence"] == 0.75
    assert H.nodes["a"]["source_page"] == 12
    c = graph_to_curriculum(H)
    assert [u.id for u in c.units] == ["u"]


def test_defaults_from_units_and_curriculum(tmp_path):
    c = read_curriculum(
        {
            "id": "t",
            "subject": "mathematics",
            "units": [{"id": "u", "name": "单元", "grade": 8, "domain": "数与代数"}],
            "concepts": [{"id": "a", "name": "甲", "unit": "u"}],
        }
    )
    p = write_curriculum(c, tmp_path / "t.yaml")
    G = load_graph(p)
    assert G.nodes["a"] == {
        "name": "甲",
        "name_en": "",
        "grade": 8,
        "subject": "mathematics",
        "unit": "u",
        "unit_name": "单元",
        "domain": "数与代数",
    }


def test_schema_errors_name_the_field_and_concept(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "id": "t",
                "subject": "m",
                "concepts": [
                    {"id": "a", "name": "A", "grade": 7, "unit": "u"},
                    {"id": "b", "name": "B", "grade": 7, "unit": "u", "difficulty": 3},
                    {"id": "c", "name": "C", "grade": 7, "unit": "u", "requries": ["a"]},
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(CurriculumError) as e:
        read_curriculum(p)
    msgs = [str(x) for x in e.value.problems]
    assert any("concepts[1] (b).difficulty" in m for m in msgs)
    assert any("concepts[2] (c).requries" in m and "unknown field" in m for m in msgs)
    assert str(p) in str(e.value)


def test_syntax_error_has_a_line_number(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("id: t\nsubject: m\nconcepts:\n  - id: a\n   name: [\n", encoding="utf-8")
    with pytest.raises(CurriculumError) as e:
        load_graph(p)
    assert e.value.problems[0].code == "syntax"
    assert "line" in e.value.problems[0].message


def test_load_graph_refuses_invalid_files_unless_asked(tmp_path, small_graph):
    small_graph.add_edge("app", "eq", relation="prerequisite")  # closes a cycle
    p = write_curriculum(small_graph, tmp_path / "cyc.yaml")
    with pytest.raises(CurriculumError, match="cycle"):
        load_graph(p)
    assert load_graph(p, validate=False).has_edge("app", "eq")


def test_names_and_missing_files():
    assert {"math-7-9", "math-3-6", "junyi2015"} <= set(list_graphs())
    with pytest.raises(UnknownIdError, match="math-7-9"):
        load_graph("math-10-12")
    with pytest.raises(FileNotFoundError):
        load_graph("no/such/file.yaml")


def test_json_schema_describes_the_format():
    schema = curriculum_json_schema()
    concept = schema["$defs"]["ConceptSpec"]
    assert {"id", "name", "unit"} <= set(concept["required"])
    assert "requires_any" in concept["properties"]
    assert concept["additionalProperties"] is False
