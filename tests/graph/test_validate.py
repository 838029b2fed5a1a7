"""Validation: every kind of problem on tiny graphs and files, and the CLI's output."""

from __future__ import annotations

import networkx as nx
import pytest
import yaml

from edu_recsys.cli import main
from edu_recsys.graph import check_curriculum, read_curriculum, validate_curriculum, validate_graph


def codes(problems):
    return sorted(p.code for p in problems)


def test_valid_graph_has_no_problems(small_graph):
    assert validate_graph(small_graph) == []


def test_cycle_is_reported_with_its_path(small_graph):
    small_graph.add_edge("app", "eq")
    problems = validate_graph(small_graph)
    cyc = [p for p in problems if p.code == "cycle"]
    assert len(cyc) == 1
    path = cyc[0].message.split(": ", 1)[1].split(" -> ")
    assert path[0] == path[-1]
    for u, v in zip(path, path[1:]):
        assert small_graph.has_edge(u, v)
    # with no prerequisite-free start left, every concept is unreachable
    unreachable = [p for p in problems if p.code == "unreachable"]
    assert set(unreachable[0].concepts) == set(small_graph)


def test_self_loop_and_two_separate_cycles(add_concept):
    G = nx.DiGraph()
    for c in "abcdef":
        add_concept(G, c)
    G.add_edges_from([("a", "a"), ("b", "c"), ("c", "b"), ("d", "e"), ("e", "f"), ("f", "d")])
    cycles = [p for p in validate_graph(G) if p.code == "cycle"]
    assert sorted(len(p.concepts) for p in cycles) == [1, 2, 3]


def test_grade_backwards_dangling_and_attributes(small_graph):
    small_graph.add_edge("app", "subst")  # grade 8 before grade 7 (also a cycle? no)
    small_graph.add_edge("ghost", "eq")  # implicit node: a dangling reference
    small_graph.nodes["elim"]["difficulty"] = 1.5
    small_graph.graph["items"]["q9"] = ["nowhere"]
    small_graph.nodes["word"]["unit"] = "u9"
    got = codes(validate_graph(small_graph))
    assert "grade_backwards" in got and "schema" in got
    assert got.count("dangling") == 3  # ghost, item link, unit


def test_warnings_do_not_count_as_errors(add_concept):
    G = nx.DiGraph()
    for c in "abc":
        add_concept(G, c)
    G.add_edge("a", "b", any_of="lonely")
    problems = validate_graph(G)
    assert codes(problems) == ["any_of", "isolated"]
    assert not any(p.is_error for p in problems)


def _file(**over):
    data = {
        "id": "t",
        "subject": "m",
        "units": [{"id": "u", "name": "U", "grade": 7}],
        "concepts": [
            {"id": "a", "name": "A", "unit": "u"},
            {"id": "b", "name": "B", "unit": "u", "requires": ["a"]},
        ],
    }
    data.update(over)
    return data


def test_file_level_checks():
    c = read_curriculum(
        _file(
            concepts=[
                {"id": "a", "name": "A", "unit": "u"},
                {"id": "a", "name": "A again", "unit": "u"},
                {"id": "b", "name": "B", "unit": "nope", "grade": 7, "requires": ["a", "zz", "a"]},
                {
                    "id": "c",
                    "name": "C",
                    "unit": "u",
                    "requires": ["a"],
                    "requires_any": [["a", "b"]],
                },
                {"id": "d", "name": "D", "unit": "u", "requires_any": [["b"]]},
            ],
            items={"q": ["a", "missing"]},
        )
    )
    got = codes(check_curriculum(c))
    assert got.count("duplicate_id") == 1
    assert got.count("dangling") == 3  # unit, 'zz', item link
    assert got.count("duplicate_edge") == 2  # a twice in b; a in requires and group of c
    assert "any_of" in got


def test_missing_grade_is_reported():
    c = read_curriculum(_file(units=[{"id": "u", "name": "U"}]))
    assert "missing_attribute" in codes(check_curriculum(c))


def test_validate_curriculum_returns_problems_instead_of_raising(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("id: [unclosed\n", encoding="utf-8")
    assert codes(validate_curriculum(p)) == ["syntax"]
    assert codes(validate_curriculum({"id": "t"})) == ["schema"]  # subject missing
    assert validate_curriculum(_file()) == []


def test_cli_validate_one_line_per_problem(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(_file(), allow_unicode=True), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    data = _file()
    data["concepts"][0]["requires"] = ["b"]  # a <-> b
    data["concepts"].append({"id": "c", "name": "C", "unit": "u", "requires": ["zz"]})
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    assert main(["graph", "validate", str(good)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "ok: 2 concepts, 1 prerequisite edges" in out[0]

    assert main(["graph", "validate", str(bad), str(good)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    bad_lines = [x for x in lines if x.startswith(str(bad))]
    assert any(
        "[cycle] prerequisite cycle: a -> b -> a" in x or "b -> a -> b" in x for x in bad_lines
    )
    assert any("[dangling]" in x and "'zz'" in x for x in bad_lines)
    assert all(": error [" in x or ": warning [" in x for x in bad_lines)
    assert any(x.startswith(str(good)) and ": ok:" in x for x in lines)


@pytest.mark.parametrize("name", ["math-7-9", "math-3-6"])
def test_cli_validate_shipped_graphs(name, capsys):
    assert main(["graph", "validate", "--strict", name]) == 0
    assert capsys.readouterr().out.startswith(f"{name}: ok: ")
