"""The shipped curricula: content a teacher recognises, and structure the library needs."""

from __future__ import annotations

import re

import networkx as nx
import pytest

from edu_recsys.graph import (
    graph_summary,
    learning_order,
    load_graph,
    prerequisite_groups,
    ready_to_learn,
    validate_graph,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
ID = re.compile(r"^m[3-9]\.[a-z0-9_]+\.[a-z0-9_]+$")

# Concepts every junior-high mathematics teacher expects (人教版 chapter and section names).
JUNIOR_NAMES = """有理数 数轴 相反数 绝对值 有理数的乘方 科学记数法 整式的加减 合并同类项
一元一次方程 等式的性质 余角和补角 平行线的判定 平方根 立方根 实数 平面直角坐标系 二元一次方程组
代入消元法 加减消元法 一元一次不等式 直方图 三角形的内角和 全等三角形 轴对称 等腰三角形 因式分解
分式 分式方程 二次根式 勾股定理 勾股定理的逆定理 矩形 菱形 正方形 一次函数 正比例函数 方差
一元二次方程 配方法 公式法 二次函数 中心对称 圆周角 随机事件 概率 反比例函数 相似三角形的判定
正弦 解直角三角形 三视图""".split()
DOMAINS = {"数与代数", "图形与几何", "统计与概率", "综合与实践"}


@pytest.fixture(scope="module")
def g79():
    return load_graph("math-7-9")


def test_junior_graph_size_and_validity(g79):
    s = graph_summary(g79)
    assert s["concepts"] >= 120 and s["grades"] == [7, 8, 9]
    assert s["any_of_groups"] >= 3
    assert validate_graph(g79) == []  # no warnings either
    assert len(list(learning_order(g79))) == s["concepts"]


def test_junior_graph_content(g79):
    names = {d["name"] for _, d in g79.nodes(data=True)}
    missing = [n for n in JUNIOR_NAMES if n not in names]
    assert not missing, missing
    assert {d["domain"] for _, d in g79.nodes(data=True)} == DOMAINS
    for n, d in g79.nodes(data=True):
        assert ID.match(n), n
        assert n.startswith(f"m{d['grade']}.")
        assert CJK.search(d["name"]) and d["name_en"] and not CJK.search(d["name_en"]), n
        assert 0.0 <= d["difficulty"] <= 1.0
        assert d["unit"] in g79.graph["units"] and d["unit_name"]
    for u in g79.graph["units"].values():
        assert CJK.search(u["name"]) and u["domain"] in DOMAINS


def test_grade8_builds_on_grade7(g79):
    grade = nx.get_node_attributes(g79, "grade")
    g8 = [n for n in g79 if grade[n] == 8]
    # each grade-8 unit has prerequisites in grade 7, and so do most grade-8 roots
    for unit in {g79.nodes[n]["unit"] for n in g8}:
        members = [n for n in g8 if g79.nodes[n]["unit"] == unit]
        assert any(grade[u] == 7 for n in members for u in g79.predecessors(n)), unit
    entry = [n for n in g8 if all(grade[u] != 8 for u in g79.predecessors(n))]
    assert all(any(grade[u] == 7 for u in g79.predecessors(n)) for n in entry)
    # a student who has mastered grade 7 can start grade 8 in several units
    frontier = ready_to_learn(g79, {n: 1.0 for n in g79 if grade[n] == 7})
    assert len({g79.nodes[n]["unit"] for n in frontier if grade[n] == 8}) >= 5


def test_any_of_groups_are_real_alternatives(g79):
    required, groups = prerequisite_groups(g79, "m7.system.word_problems")
    assert list(groups.values()) == [["m7.system.substitution", "m7.system.elimination"]]
    assert required == ["m7.lineq.word_problems"]


def test_primary_graph():
    G = load_graph("math-3-6")
    s = graph_summary(G)
    assert s["concepts"] >= 40 and s["grades"] == [3, 4, 5, 6]
    assert validate_graph(G) == []
    assert all(CJK.search(d["name"]) for _, d in G.nodes(data=True))
    assert {"分数的意义", "小数乘法", "圆的面积", "比例的意义和基本性质"} <= {
        d["name"] for _, d in G.nodes(data=True)
    }
