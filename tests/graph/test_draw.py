"""Drawing: layout respects prerequisites, files are written, the font fallback works."""

from __future__ import annotations

import logging

import matplotlib
import pytest

matplotlib.use("Agg")

from edu_recsys.cli import main
from edu_recsys.graph import (
    draw,
    load_graph,
    subgraph_for,
)


@pytest.fixture(scope="module")
def g79():
    return load_graph("math-7-9")


def test_layout_bands_and_columns(g79):
    pos = draw.graph_layout(g79)
    assert set(pos) == set(g79)
    assert len(set(pos.values())) == len(pos)  # no two boxes on one spot
    grade = {n: g79.nodes[n]["grade"] for n in g79}
    for u, v in g79.edges:
        if grade[u] == grade[v]:
            assert pos[u][0] < pos[v][0]  # same band: prerequisites to the left
        else:
            assert pos[u][1] > pos[v][1]  # earlier grade: a band higher up


def test_png_svg_html_with_mastery(tmp_path, small_graph):
    G = subgraph_for(load_graph("math-7-9"), unit=["m7.rational", "m7.expr"])
    mastery = {n: i / len(G) for i, n in enumerate(G)}
    for fmt in ("png", "svg", "html"):
        out = draw.export_drawing(G, tmp_path / f"g.{fmt}", mastery=mastery)
        assert out.stat().st_size > 1000
    page = (tmp_path / "g.html").read_text(encoding="utf-8")
    assert "<svg" in page and "数轴" in page and page.count("<tr>") == len(G) + 1
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    draw.export_drawing(small_graph, tmp_path / "small.svg", lang="en")
    with pytest.raises(ValueError):
        draw.export_drawing(small_graph, tmp_path / "small.pdf")


def test_without_cjk_font_falls_back_to_english(monkeypatch, tmp_path, caplog, small_graph):
    monkeypatch.setenv("EDU_RECSYS_NO_CJK_FONT", "1")
    draw.find_cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="edu_recsys.graph.draw"):
            fig = draw.draw_graph(small_graph)
        texts = {t.get_text() for t in fig.axes[0].texts}
        assert "eq" in texts and "名eq" not in texts
        assert "no CJK font" in caplog.text
    finally:
        monkeypatch.delenv("EDU_RECSYS_NO_CJK_FONT")
        draw.find_cjk_font.cache_clear()


def test_cli_export_formats_and_mastery(tmp_path, capsys):
    mastery = tmp_path / "m.csv"
    mastery.write_text(
        "student_id,concept_id,mastery\ns1,m7.rational.number_line,0.9\n"
        "s2,m7.rational.number_line,0.2\n",
        encoding="utf-8",
    )
    out = tmp_path / "g8.svg"
    args = ["graph", "export", "math-7-9", "--grade", "8", "-o", str(out)]
    assert main([*args, "--mastery", str(mastery), "--student", "s1"]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out
    # two students and no --student: a one-line error, exit 2
    assert main([*args, "--mastery", str(mastery)]) == 2
    assert "student" in capsys.readouterr().err
    for suffix in ("yaml", "json", "graphml"):
        p = tmp_path / f"g.{suffix}"
        assert main(["graph", "export", "math-3-6", "-o", str(p)]) == 0
        assert load_graph(p).number_of_nodes() == load_graph("math-3-6").number_of_nodes()
    assert main(["graph", "export", "math-3-6", "-o", str(tmp_path / "g.txt")]) == 2
