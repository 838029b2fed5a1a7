"""The HTML report renders (zh and en), with plots, for normal, empty and no-font cases."""

from __future__ import annotations

import base64
import logging

import pandas as pd
import pytest

from edu_recsys.classroom import class_report, personal_homework, teaching_groups
from edu_recsys.classroom import render as render_mod
from edu_recsys.classroom.items import item_analysis
from edu_recsys.classroom.render import make_plots, render_report

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def parts(G, hand_class, tiny_bank):
    long, roster = hand_class
    rep = class_report(long, G, roster, current_unit="u2")
    tg = teaching_groups(long, G, roster)
    hw = personal_homework(long, G, tiny_bank, grade=8, roster=roster, budget_minutes=20)
    log = pd.DataFrame(
        {
            "student_id": ["s1", "s2", "s3"],
            "item_id": "qa0",
            "concept_ids": [("a",)] * 3,
            "correct": [1, 0, 1],
        }
    )
    return rep, tg, hw, item_analysis(log, G, min_answers=1)


def test_html_report_zh(G, parts, tmp_path):
    rep, tg, hw, ia = parts
    html = render_report(
        rep,
        G,
        groups=tg,
        homework=hw,
        items=ia,
        path=tmp_path / "r.html",
        plots_dir=tmp_path / "plots",
        class_info={"name": "八年级1班"},
    )
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html
    assert '<html lang="zh-CN">' in html
    for needle in (
        "班级学情报告",
        "八年级1班",
        "乘方",
        "下节课建议重点",
        "个性化作业",
        "学业水平分级",
    ):
        assert needle in html
    assert "http://" not in html and "https://" not in html  # self-contained
    for name in ("heatmap", "weakest", "graph"):
        png = (tmp_path / "plots" / f"{name}.png").read_bytes()
        assert png.startswith(PNG)
        assert base64.b64encode(png).decode()[:40] in html


def test_html_report_en(G, parts):
    rep, tg, hw, ia = parts
    html = render_report(rep, G, groups=tg, homework=hw, items=ia, lang="en")
    assert "Class report" in html and "Focus for the next lesson" in html
    assert "班级学情报告" not in html


def test_empty_class_renders(G):
    empty = pd.DataFrame(columns=["student_id", "concept_id", "mastery", "evidence", "fallback"])
    rep = class_report(empty, G, roster=[])
    html = render_report(rep, G, groups=teaching_groups(empty, G, roster=[]))
    assert "班级学情报告" in html


def test_font_fallback_uses_english_labels(G, parts, monkeypatch, caplog):
    rep = parts[0]
    monkeypatch.setenv("EDU_RECSYS_NO_CJK_FONT", "1")
    monkeypatch.setattr(render_mod, "_fallback_warned", False)
    render_mod.find_cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="edu_recsys.classroom.render"):
            plots = make_plots(rep, G, "zh")
            html = render_report(rep, G, plots=plots)
        assert any("no CJK font" in r.message for r in caplog.records)
        assert "未找到中文字体" in html
        assert plots["weakest"].startswith(PNG)
    finally:
        monkeypatch.delenv("EDU_RECSYS_NO_CJK_FONT")
        render_mod.find_cjk_font.cache_clear()
