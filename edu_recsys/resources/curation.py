"""Curation report for the selection of quality courses (精品课程遴选).

Resources are ranked by the **lower end of the 95% interval of their estimated
learning gain** (a resource must show a gain that is both large and well supported
to rank high); resources without gain evidence follow, by their quality score. Each
row gets a verdict with the numbers behind it:

=============  ===================  ====================================================
verdict        中文                  rule (in this order)
=============  ===================  ====================================================
``weak``       建议改进或下架        gain interval entirely below 0; or shrunk rating
                                    < ``weak_rating`` with >= ``min_ratings`` ratings;
                                    or completion < ``weak_completion`` with >=
                                    ``min_evidence`` uses
``select``     推荐入选精品课程      gain interval entirely above 0 with >=
                                    ``min_evidence`` users
``keep``       保留                  enough evidence, nothing notable
``watch``      证据不足，继续观察    fewer than ``min_evidence`` users with a measured gain
=============  ===================  ====================================================

Confidence: 高 / high (>= 3 x ``min_evidence`` users), 中 / medium (>= ``min_evidence``),
低 / low (otherwise). Curated resources (``is_quality``) with a ``weak`` verdict are
flagged ``review_selection`` so the committee can revisit them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edu_recsys.resources.catalogue import Catalogue

__all__ = ["curation_report", "VERDICTS"]

#: verdict -> (Chinese, English)
VERDICTS: dict[str, tuple[str, str]] = {
    "select": ("推荐入选精品课程", "recommend for the quality-course selection"),
    "keep": ("保留", "keep"),
    "watch": ("证据不足，继续观察", "too little evidence, keep watching"),
    "weak": ("建议改进或下架", "improve or withdraw"),
}
_CONF = {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")}


def _reason(row, lang: str) -> str:
    zh = lang == "zh"
    parts = []
    if row.n_gain > 0:
        ci = ""
        if not np.isnan(row.gain_ci_low):
            ci = (
                f"，95%区间 [{row.gain_ci_low:+.3f}, {row.gain_ci_high:+.3f}]"
                if zh
                else (f", 95% CI [{row.gain_ci_low:+.3f}, {row.gain_ci_high:+.3f}]")
            )
        parts.append(
            f"学习增益 {row.gain_raw:+.3f}（{row.n_gain} 名学生{ci}）"
            if zh
            else f"learning gain {row.gain_raw:+.3f} ({row.n_gain} students{ci})"
        )
    else:
        parts.append("尚无学习增益数据" if zh else "no learning-gain data yet")
    if row.n_ratings > 0:
        parts.append(
            f"评分 {row.rating_bayes:.2f}/5（{row.n_ratings} 条）"
            if zh
            else f"rating {row.rating_bayes:.2f}/5 ({row.n_ratings} ratings)"
        )
    if row.n_completion > 0:
        parts.append(
            f"完成率 {row.completion_rate:.0%}（{row.n_completion} 次使用）"
            if zh
            else f"completion {row.completion_rate:.0%} ({row.n_completion} uses)"
        )
    parts.append(f"综合质量 {row.quality:.2f}" if zh else f"quality {row.quality:.2f}")
    return ("；" if zh else "; ").join(parts)


def curation_report(
    quality: pd.DataFrame,
    catalogue: Catalogue | pd.DataFrame | None = None,
    *,
    min_evidence: int = 10,
    min_ratings: int = 10,
    weak_rating: float = 2.5,
    weak_completion: float = 0.3,
    lang: str = "zh",
) -> pd.DataFrame:
    """Rank resources for the quality-course selection, with verdicts and reasons.

    Parameters
    ----------
    quality : DataFrame
        ``QualityEstimator.quality_`` (or :func:`estimate_quality`'s result).
    catalogue : Catalogue or DataFrame, optional
        Adds ``title`` and ``type``.
    min_evidence, min_ratings, weak_rating, weak_completion
        Thresholds of the verdict rules (module docstring).
    lang : {"zh", "en"}
        Language of ``verdict_text``, ``confidence_text`` and ``reason``.

    Returns
    -------
    DataFrame
        ``rank, resource_id[, title, type], is_quality, verdict, verdict_text,
        confidence, confidence_text, n_gain, gain_raw, gain_ci_low, gain_ci_high, gain,
        rating_bayes, n_ratings, completion_rate, n_completion, quality, evidence,
        review_selection, reason``; ``rank`` 1 is the strongest candidate.

    Examples
    --------
    >>> q = pd.DataFrame({"resource_id": ["a", "b"], "n_ratings": [0, 0],
    ...     "rating_bayes": [3.5, 3.5], "n_completion": [0, 0], "completion_rate": [.7, .7],
    ...     "n_gain": [40, 40], "gain_raw": [0.12, -0.08], "gain_se": [0.02, 0.03],
    ...     "gain_ci_low": [0.081, -0.139], "gain_ci_high": [0.159, -0.021],
    ...     "gain": [0.096, -0.064], "quality": [0.7, 0.4], "evidence": [40, 40],
    ...     "is_quality": [False, True]})
    >>> r = curation_report(q)
    >>> r[["rank", "resource_id", "verdict", "confidence", "review_selection"]]
       rank resource_id verdict confidence  review_selection
    0     1           a  select       high             False
    1     2           b    weak       high              True
    >>> r["reason"][0]
    '学习增益 +0.120（40 名学生，95%区间 [+0.081, +0.159]）；综合质量 0.70'
    """
    if lang not in ("zh", "en"):
        raise ValueError("lang must be 'zh' or 'en'")
    q = quality.copy()
    n_g = q["n_gain"].to_numpy(int)
    lo = q["gain_ci_low"].to_numpy(float)
    hi = q["gain_ci_high"].to_numpy(float)
    weak = (
        (n_g >= 2) & (hi < 0)
        | (q["n_ratings"].to_numpy() >= min_ratings) & (q["rating_bayes"].to_numpy() < weak_rating)
        | (q["n_completion"].to_numpy() >= min_evidence)
        & (q["completion_rate"].to_numpy() < weak_completion)
    )
    select = ~weak & (n_g >= min_evidence) & (lo > 0)
    watch = ~weak & ~select & (n_g < min_evidence)
    verdict = np.where(weak, "weak", np.where(select, "select", np.where(watch, "watch", "keep")))
    conf = np.where(n_g >= 3 * min_evidence, "high", np.where(n_g >= min_evidence, "medium", "low"))
    li = 0 if lang == "zh" else 1
    q["verdict"] = verdict
    q["verdict_text"] = [VERDICTS[v][li] for v in verdict]
    q["confidence"] = conf
    q["confidence_text"] = [_CONF[c][li] for c in conf]
    q["review_selection"] = q["is_quality"].to_numpy(bool) & weak
    # rank: measured gains by their lower bound; then the rest by quality
    key1 = np.where(np.isnan(lo), -np.inf, lo)
    q["_has"] = ~np.isnan(lo)
    q["_k1"] = key1
    q = q.sort_values(
        ["_has", "_k1", "gain", "quality", "resource_id"],
        ascending=[False, False, False, False, True],
        kind="stable",
    )
    q["rank"] = np.arange(1, len(q) + 1)
    if "gain_raw" not in q.columns:
        q["gain_raw"] = np.nan
    q["reason"] = [_reason(r, lang) for r in q.itertuples(index=False)]
    if catalogue is not None:
        res = catalogue.resources if isinstance(catalogue, Catalogue) else catalogue
        meta = res.set_index("resource_id")[["title", "type"]]
        q = q.join(meta, on="resource_id")
    cols = ["rank", "resource_id"]
    cols += [c for c in ("title", "type") if c in q.columns]
    cols += [
        "is_quality",
        "verdict",
        "verdict_text",
        "confidence",
        "confidence_text",
        "n_gain",
        "gain_raw",
        "gain_ci_low",
        "gain_ci_high",
        "gain",
        "rating_bayes",
        "n_ratings",
        "completion_rate",
        "n_completion",
        "quality",
        "evidence",
        "review_selection",
        "reason",
    ]
    return q[cols].reset_index(drop=True)
