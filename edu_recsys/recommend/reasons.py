"""Human-readable reasons for each recommendation, with the numbers behind them.

Simplified Chinese by default (``lang="zh"``), English with ``lang="en"``. Every
number in a reason is the value of a column of the same recommendation row, rounded
as shown (mastery, success and quality to 2 decimals, gains with a sign, minutes to
whole minutes), so a teacher can check each claim against the table.
"""

from __future__ import annotations

import math

__all__ = ["reasons_for", "LANGS"]

LANGS = ("zh", "en")

_T = {
    "zh": {
        "cold": "新同学暂无作答记录：按全体同学的平均掌握度推荐",
        "target": "学习目标「{target}」需要「{c}」，当前掌握度 {m:.2f}",
        "weak": "「{c}」掌握度 {m:.2f}，低于掌握线 {thr:.2f}（已作答 {n} 次）",
        "weak_pre": "，其前置知识尚未全部掌握，建议一并巩固",
        "frontier": "「{c}」的前置知识已掌握，当前掌握度 {m:.2f}，可以开始学习",
        "review": "「{c}」上次练习在 {days} 天前，估计掌握度已从 {m0:.2f} 降到 {m:.2f}，需要复习",
        "fit_in": "预计成功率 {p:.2f}，在适宜区间 {lo:.2f}–{hi:.2f} 内",
        "fit_easy": "预计成功率 {p:.2f}，高于适宜区间 {lo:.2f}–{hi:.2f}（偏容易）",
        "fit_hard": "预计成功率 {p:.2f}，低于适宜区间 {lo:.2f}–{hi:.2f}（偏难）",
        "q_new": "新资源：质量按先验 {q:.2f} 估计",
        "q": "资源质量 {q:.2f}（依据 {ev} 条使用与评价记录）",
        "q_curated": "，入选精品课程",
        "cf_gain": "{n} 名掌握情况相似的同学用过，平均学习增益 {g:+.2f}",
        "cf_usage": "{n} 名掌握情况相似的同学用过",
        "seen": "学过的资源，复习时再用",
        "earlier_grade_level": "「{c}」尚无作答记录，属于以前年级的内容："
        "按该生以往年级知识的水平估计掌握度 {m:.2f}",
        "not_yet_learned": "「{c}」尚无作答记录：不假定已掌握，掌握度按 {m:.2f} 估计",
        "evidence_update": "「{c}」是模型尚未学到的知识点：掌握度 {m:.2f} 由该生的 {n} 次作答估计",
        "time": "预计用时 {minutes} 分钟",
    },
    "en": {
        "cold": "New student with no answers yet: recommended from the class's average mastery",
        "target": "Goal '{target}' needs '{c}'; mastery now {m:.2f}",
        "weak": "'{c}' mastery {m:.2f} is below the mastery line {thr:.2f} ({n} answers so far)",
        "weak_pre": "; its prerequisites are not all mastered yet, revise them too",
        "frontier": "Prerequisites of '{c}' are mastered; mastery now {m:.2f}, ready to learn",
        "review": "'{c}' last practised {days} days ago; estimated mastery fell from {m0:.2f} "
        "to {m:.2f}: time to review",
        "fit_in": "Predicted success {p:.2f}, inside the productive band {lo:.2f}-{hi:.2f}",
        "fit_easy": "Predicted success {p:.2f}, above the productive band {lo:.2f}-{hi:.2f} (easy)",
        "fit_hard": "Predicted success {p:.2f}, below the productive band {lo:.2f}-{hi:.2f} (hard)",
        "q_new": "New resource: quality taken as the prior {q:.2f}",
        "q": "Quality {q:.2f} (from {ev} usage and rating records)",
        "q_curated": "; a curated quality course",
        "cf_gain": "{n} students with a similar mastery profile used it; mean learning gain "
        "{g:+.2f}",
        "cf_usage": "{n} students with a similar mastery profile used it",
        "seen": "Used before; used again for review",
        "earlier_grade_level": "No answers on '{c}' yet (an earlier grade's concept): mastery "
        "{m:.2f}, the student's level on earlier grades",
        "not_yet_learned": "No answers on '{c}' yet: not assumed mastered, mastery taken as "
        "{m:.2f}",
        "evidence_update": "'{c}' is new to the mastery model: mastery {m:.2f} estimated from "
        "the student's {n} answers",
        "time": "About {minutes} minutes",
    },
}


def reasons_for(row: dict, lang: str = "zh") -> tuple[str, ...]:
    """The reasons of one recommendation row.

    ``row`` holds: ``source, concept_name, mastery, mastery_stored, evidence,
    days_since, prereq_met, target_name, p_success, quality, quality_evidence,
    new_resource, is_quality, cf_gain, cf_n, cf_mode, minutes, seen, cold_start,
    threshold, band`` and optionally ``calibration`` (the rule of
    :mod:`edu_recsys.mastery.calibrate` that set the mastery, ``""`` = none), which
    adds a sentence right after the concept's.

    Examples
    --------
    >>> row = dict(source="weak", concept_name="一元一次方程", mastery=0.42,
    ...            mastery_stored=0.42, evidence=6, days_since=float("nan"), prereq_met=True,
    ...            target_name="", p_success=0.71, quality=0.66, quality_evidence=31,
    ...            new_resource=False, is_quality=True, cf_gain=0.08, cf_n=5, cf_mode="gain",
    ...            minutes=8.0, seen=False, cold_start=False, threshold=0.8, band=(0.6, 0.85))
    >>> for r in reasons_for(row): print(r)
    「一元一次方程」掌握度 0.42，低于掌握线 0.80（已作答 6 次）
    预计成功率 0.71，在适宜区间 0.60–0.85 内
    资源质量 0.66（依据 31 条使用与评价记录），入选精品课程
    5 名掌握情况相似的同学用过，平均学习增益 +0.08
    预计用时 8 分钟
    """
    if lang not in _T:
        raise ValueError(f"lang must be one of {LANGS}")
    t = _T[lang]
    out: list[str] = []
    if row["cold_start"]:
        out.append(t["cold"])
    c, m, src = row["concept_name"], row["mastery"], row["source"]
    if src == "target":
        out.append(t["target"].format(target=row["target_name"], c=c, m=m))
    elif src == "weak":
        s = t["weak"].format(c=c, m=m, thr=row["threshold"], n=int(row["evidence"]))
        out.append(s + ("" if row["prereq_met"] else t["weak_pre"]))
    elif src == "review":
        d = row["days_since"]
        days = "?" if d is None or math.isnan(d) else f"{d:.0f}"
        out.append(t["review"].format(c=c, days=days, m0=row["mastery_stored"], m=m))
    elif src == "frontier":
        out.append(t["frontier"].format(c=c, m=m))
    cal = row.get("calibration", "")
    if cal and not row["cold_start"]:
        out.append(t[cal].format(c=c, m=m, n=int(row["evidence"])))
    p = row["p_success"]
    lo, hi = row["band"]
    key = "fit_in" if lo <= round(p, 2) <= hi else ("fit_easy" if p > hi else "fit_hard")
    out.append(t[key].format(p=p, lo=lo, hi=hi))
    if row["new_resource"]:
        q = t["q_new"].format(q=row["quality"])
    else:
        q = t["q"].format(q=row["quality"], ev=int(row["quality_evidence"]))
    out.append(q + (t["q_curated"] if row["is_quality"] else ""))
    if row["cf_n"] > 0 and row["cf_mode"]:
        if row["cf_mode"] == "gain":
            out.append(t["cf_gain"].format(n=int(row["cf_n"]), g=row["cf_gain"]))
        else:
            out.append(t["cf_usage"].format(n=int(row["cf_n"])))
    if row["seen"]:
        out.append(t["seen"])
    out.append(t["time"].format(minutes=f"{row['minutes']:.0f}"))
    return tuple(out)
