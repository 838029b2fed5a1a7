"""Texts seen by teachers and students: Simplified Chinese by default, English by option.

Every human-readable string of :mod:`edu_recsys.classroom` comes from :data:`MESSAGES`
through :func:`text`, so a new language is one more column. Machine-readable outputs
(codes, ids, numbers) never depend on the language.

>>> text("band.excellent")
'优秀'
>>> text("band.excellent", "en")
'excellent'
>>> text("reason.class_mean", "en", mean=0.5, n_below=3, n=4, threshold=0.8)
'class mean mastery 50%, 3 of 4 students below the mastery level (80%)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx

from edu_recsys.exceptions import InvalidDataError

__all__ = ["LANGS", "MESSAGES", "check_lang", "text", "concept_name", "unit_name", "join"]

#: Supported languages; the first is the default.
LANGS: tuple[str, ...] = ("zh", "en")

#: ``key -> {lang: template}``; templates use :meth:`str.format` fields.
MESSAGES: dict[str, dict[str, str]] = {
    # attainment bands (学业水平分级)
    "band.excellent": {"zh": "优秀", "en": "excellent"},
    "band.good": {"zh": "良好", "en": "good"},
    "band.pass": {"zh": "合格", "en": "pass"},
    "band.below": {"zh": "待提高", "en": "needs support"},
    "band.no_data": {"zh": "暂无数据", "en": "no data"},
    # concept reasons (weakest concepts, next-lesson focus)
    "reason.class_mean": {
        "zh": "全班平均掌握度 {mean:.0%}，{n_below}/{n} 人未达到掌握标准（{threshold:.0%}）",
        "en": "class mean mastery {mean:.0%}, {n_below} of {n} students below the mastery "
        "level ({threshold:.0%})",
    },
    "reason.blocks": {
        "zh": "是 {dependents} 个后续知识点的前置",
        "en": "prerequisite of {dependents} later concepts",
    },
    "reason.in_unit": {"zh": "属于当前单元「{unit}」", "en": "part of the current unit '{unit}'"},
    "reason.prerequisite_of_unit": {
        "zh": "是当前单元「{unit}」的前置知识",
        "en": "prerequisite of the current unit '{unit}'",
    },
    "reason.spread": {
        "zh": "学生间差异大（标准差 {std:.2f}），宜分层教学",
        "en": "large spread between students (sd {std:.2f}): teach in tiers",
    },
    "reason.weak_prerequisite": {
        "zh": "其前置知识点{names}也薄弱，建议先复习",
        "en": "its prerequisite(s) {names} are weak too: review them first",
    },
    # students at risk
    "risk.low_mean": {
        "zh": "平均掌握度 {mean:.1%}，低于 {limit:.0%}",
        "en": "mean mastery {mean:.1%}, below {limit:.0%}",
    },
    "risk.missing_prerequisites": {
        "zh": "当前单元的前置知识有 {n_missing}/{n_prereq} 个掌握度低于 {limit:.0%}：{names}",
        "en": "{n_missing} of {n_prereq} prerequisites of the current unit below {limit:.0%}: "
        "{names}",
    },
    "flag.no_answers": {
        "zh": "暂无作答记录，未纳入全班统计",
        "en": "no answers yet; left out of the class statistics",
    },
    # groups
    "group.name_weak": {"zh": "{names}巩固组", "en": "Consolidate {names}"},
    "group.name_extend": {"zh": "拓展提高组", "en": "Extension group"},
    "group.name_no_data": {"zh": "待诊断组（暂无数据）", "en": "Not yet assessed (no data)"},
    # homework reasons
    "hw.weak": {
        "zh": "薄弱知识点「{concept}」（掌握度 {mastery:.0%}），预计正确率 {p:.0%}",
        "en": "weak concept '{concept}' (mastery {mastery:.0%}), predicted success {p:.0%}",
    },
    "hw.ready": {
        "zh": "可以学习的新知识点「{concept}」（前置已掌握），预计正确率 {p:.0%}",
        "en": "ready-to-learn concept '{concept}' (prerequisites mastered), "
        "predicted success {p:.0%}",
    },
    "hw.review": {
        "zh": "间隔复习「{concept}」（已掌握，{days} 天未练习）",
        "en": "spaced review of '{concept}' (mastered, not practised for {days} days)",
    },
    "hw.review_nodays": {
        "zh": "间隔复习「{concept}」（已掌握）",
        "en": "spaced review of '{concept}' (mastered)",
    },
    "hw.uniform": {
        "zh": "全班统一练习「{concept}」",
        "en": "whole-class practice on '{concept}'",
    },
    "hw.no_written": {
        "zh": "一、二年级不布置书面家庭作业（“双减”政策）",
        "en": "no written homework in grades 1-2 (the 'double reduction' policy)",
    },
    "hw.no_budget": {
        "zh": "本学科今日作业时间额度为 0",
        "en": "this subject's homework time budget today is 0",
    },
    "hw.no_answers": {
        "zh": "暂无作答记录：按全班情况布置",
        "en": "no answers yet: set from the class's needs",
    },
    "hw.no_answers_empty": {
        "zh": "暂无作答记录，全班也还没有数据：暂不布置个性化作业",
        "en": "no answers yet, nor any in the class: no personalised homework yet",
    },
    "hw.nothing_suitable": {
        "zh": "没有合适的题目（题库中无匹配知识点的题）",
        "en": "no suitable items (the item bank has none for the student's concepts)",
    },
    # report labels (HTML and console)
    "title": {"zh": "班级学情报告", "en": "Class report"},
    "class": {"zh": "班级", "en": "Class"},
    "grade": {"zh": "年级", "en": "Grade"},
    "generated": {"zh": "生成时间", "en": "Generated"},
    "summary": {"zh": "学情概览", "en": "Summary"},
    "n_students": {"zh": "学生人数", "en": "Students"},
    "n_with_data": {"zh": "有作答数据", "en": "With answers"},
    "n_concepts": {"zh": "已学知识点", "en": "Concepts taught"},
    "class_mean": {"zh": "全班平均掌握度", "en": "Class mean mastery"},
    "share_mastered": {"zh": "知识点掌握率", "en": "Share of concepts mastered"},
    "n_at_risk": {"zh": "需关注学生", "en": "Students at risk"},
    "current_unit": {"zh": "当前单元", "en": "Current unit"},
    "bands": {"zh": "学业水平分级", "en": "Attainment bands"},
    "band": {"zh": "等级", "en": "Band"},
    "band_rule": {"zh": "标准（平均掌握度）", "en": "Rule (mean mastery)"},
    "count": {"zh": "人数", "en": "Students"},
    "share": {"zh": "占比", "en": "Share"},
    "weakest": {"zh": "最薄弱的知识点", "en": "Weakest concepts"},
    "weakest_note": {
        "zh": "按阻碍程度排序：掌握缺口 × (1 + 后续知识点数) × 与当前单元的相关度",
        "en": "ranked by how much they block: mastery gap x (1 + dependent concepts) x "
        "relevance to the current unit",
    },
    "concept": {"zh": "知识点", "en": "Concept"},
    "unit": {"zh": "单元", "en": "Unit"},
    "mean": {"zh": "平均掌握度", "en": "Mean mastery"},
    "std": {"zh": "标准差", "en": "SD"},
    "n_below": {"zh": "未掌握人数", "en": "Not mastered"},
    "dependents": {"zh": "后续知识点", "en": "Dependents"},
    "block_score": {"zh": "阻碍度", "en": "Blocking score"},
    "focus": {"zh": "下节课建议重点", "en": "Focus for the next lesson"},
    "reasons": {"zh": "理由", "en": "Reasons"},
    "at_risk": {"zh": "需关注的学生", "en": "Students at risk"},
    "student": {"zh": "学生", "en": "Student"},
    "none": {"zh": "无", "en": "none"},
    "groups": {"zh": "分层教学小组", "en": "Teaching groups"},
    "groups_note": {
        "zh": "按掌握情况聚类（KMeans），组数 {k} 由轮廓系数在 {lo}–{hi} 之间选出",
        "en": "clustered by mastery profile (KMeans); {k} groups chosen by silhouette "
        "between {lo} and {hi}",
    },
    "group": {"zh": "小组", "en": "Group"},
    "members": {"zh": "成员", "en": "Members"},
    "shared_weak": {"zh": "共同薄弱点", "en": "Shared weak concepts"},
    "resources": {"zh": "推荐资源", "en": "Resources"},
    "homework": {"zh": "个性化作业", "en": "Personalised homework"},
    "homework_note": {
        "zh": "每位学生的作业时间不超过额度：{budget:.0f} 分钟（{rule}）",
        "en": "each student's set stays within the budget: {budget:.0f} minutes ({rule})",
    },
    "budget_used": {"zh": "额度使用", "en": "Budget used"},
    "minutes": {"zh": "分钟", "en": "min"},
    "item": {"zh": "题目", "en": "Item"},
    "kind": {"zh": "类型", "en": "Kind"},
    "kind.weak": {"zh": "薄弱", "en": "weak"},
    "kind.ready": {"zh": "新学", "en": "ready"},
    "kind.review": {"zh": "复习", "en": "review"},
    "kind.uniform": {"zh": "统一", "en": "uniform"},
    "p_success": {"zh": "预计正确率", "en": "Predicted success"},
    "item_analysis": {"zh": "试题分析（数字化教研）", "en": "Item analysis (teaching research)"},
    "p_correct": {"zh": "正确率", "en": "Share correct"},
    "irt_b": {"zh": "IRT 难度", "en": "IRT difficulty"},
    "discrimination": {"zh": "区分度", "en": "Discrimination"},
    "n_answers": {"zh": "作答数", "en": "Answers"},
    "flags": {"zh": "问题", "en": "Flags"},
    "bad_items": {"zh": "需复查的题目", "en": "Items to review"},
    "graph_conflicts": {
        "zh": "作答数据与知识图谱不一致的前置关系",
        "en": "Prerequisites the answers disagree with",
    },
    "conflict_rule": {
        "zh": "后续知识点答对、前置知识点却答错的学生比例 ≥ {limit:.0%}",
        "en": "share of students right on the later concept but wrong on its prerequisite "
        ">= {limit:.0%}",
    },
    "prerequisite": {"zh": "前置知识点", "en": "Prerequisite"},
    "dependent": {"zh": "后续知识点", "en": "Dependent"},
    "violation_rate": {"zh": "不一致比例", "en": "Violation rate"},
    "flag.negative_discrimination": {"zh": "区分度为负", "en": "negative discrimination"},
    "flag.low_discrimination": {"zh": "区分度过低", "en": "low discrimination"},
    "flag.all_correct": {"zh": "全部答对", "en": "everyone right"},
    "flag.all_wrong": {"zh": "全部答错", "en": "everyone wrong"},
    "flag.few_answers": {"zh": "作答过少", "en": "too few answers"},
    "plots": {"zh": "图表", "en": "Plots"},
    "plot.heatmap": {"zh": "学生 × 知识点掌握度", "en": "Mastery: students x concepts"},
    "plot.weakest": {"zh": "最薄弱的知识点（阻碍度）", "en": "Weakest concepts (blocking score)"},
    "plot.graph": {"zh": "知识图谱（按全班掌握度着色）", "en": "Graph coloured by class mastery"},
    "plot.mastery": {"zh": "掌握度", "en": "mastery"},
    "font_fallback": {
        "zh": "未找到中文字体，图中使用英文标签（安装 fonts-noto-cjk 可显示中文）",
        "en": "no CJK font found: plots use English labels (install fonts-noto-cjk)",
    },
    "budget_rule.grade": {
        "zh": "{grade} 年级每日书面作业 {daily:.0f} 分钟",
        "en": "grade {grade}: {daily:.0f} minutes of written homework a day",
    },
    "budget_rule.share": {
        "zh": "{grade} 年级每日书面作业 {daily:.0f} 分钟，本学科占 {share:.0%}",
        "en": "grade {grade}: {daily:.0f} minutes a day, this subject's share {share:.0%}",
    },
    "sep": {"zh": "、", "en": ", "},
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise :class:`InvalidDataError`.

    >>> check_lang("en")
    'en'
    """
    if lang not in LANGS:
        raise InvalidDataError(f"unsupported language {lang!r}", column="lang", expected="zh or en")
    return lang


def text(key: str, lang: str = "zh", /, **fields: Any) -> str:
    """The message ``key`` in ``lang``, formatted with ``fields``.

    Unknown keys raise ``KeyError`` (a programming error, not user input).
    """
    template = MESSAGES[key][check_lang(lang)]
    return template.format(**fields) if fields else template


def join(names: list[str], lang: str = "zh") -> str:
    """Join display names with the language's list separator.

    >>> join(["方程", "函数"])
    '方程、函数'
    """
    return text("sep", lang).join(names)


def concept_name(G: nx.DiGraph | None, concept: str, lang: str = "zh") -> str:
    """A concept's display name: ``name`` (zh) or ``name_en`` (en), else its id.

    >>> G = nx.DiGraph(); G.add_node("a", name="负数", name_en="negative numbers")
    >>> concept_name(G, "a"), concept_name(G, "a", "en"), concept_name(G, "zz")
    ('负数', 'negative numbers', 'zz')
    """
    if G is None or concept not in G:
        return str(concept)
    d = G.nodes[concept]
    if lang == "en":
        return str(d.get("name_en") or d.get("name") or concept)
    return str(d.get("name") or d.get("name_en") or concept)


def unit_name(G: nx.DiGraph | None, unit: str | None, lang: str = "zh") -> str:
    """A unit's display name from ``G.graph["units"]`` (``name``/``name_en``), else its id."""
    if unit is None:
        return ""
    units = (G.graph.get("units") if G is not None else None) or {}
    info = units.get(unit) if isinstance(units, Mapping) else None
    if isinstance(info, Mapping):
        key = ("name_en", "name") if lang == "en" else ("name", "name_en")
        for k in key:
            if info.get(k):
                return str(info[k])
    return str(unit)
