"""The teacher's HTML report and its PNG plots (matplotlib, Jinja2).

:func:`render_report` writes one self-contained HTML file (CSS inline, plots embedded
as PNG data URIs; no network needed to open it) from a
:class:`~edu_recsys.classroom.report.ClassReport` and, when given, the teaching groups,
the homework and the item analysis. :func:`plot_heatmap`, :func:`plot_weakest` and
:func:`plot_graph` draw the three figures; :func:`write_plots` saves them as PNG files.

**Chinese in the plots.** Concept names are Chinese, and matplotlib's default font
has no CJK glyphs. :func:`~edu_recsys.graph.draw.find_cjk_font` (shared with the graph
drawings) looks for an installed CJK font through :mod:`matplotlib.font_manager`
(Noto Sans CJK from Debian's ``fonts-noto-cjk``, Source Han Sans, WenQuanYi, SimHei,
Microsoft YaHei, PingFang, ...), registering font files that matplotlib's font cache
predates. When none is found the plots fall back to English labels (``name_en``) and a
warning is logged; the HTML text stays in the requested language (the browser has its
own fonts). ``EDU_RECSYS_NO_CJK_FONT=1`` simulates a machine without CJK fonts.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from edu_recsys.classroom.i18n import check_lang, concept_name, text
from edu_recsys.classroom.report import ClassReport
from edu_recsys.graph.draw import CJK_FONT_NAMES, find_cjk_font

__all__ = [
    "CJK_FONT_NAMES",
    "find_cjk_font",
    "plot_heatmap",
    "plot_weakest",
    "plot_graph",
    "make_plots",
    "write_plots",
    "render_report",
]

log = logging.getLogger(__name__)

_fallback_warned = False


def _warn_fallback() -> None:
    """Log the missing-CJK-font warning once per process."""
    global _fallback_warned
    if not _fallback_warned:
        log.warning(
            "no CJK font found for the plots: labels fall back to English "
            "(install Debian's fonts-noto-cjk or another CJK font)"
        )
        _fallback_warned = True


class _Fonts:
    """rc settings for a plot in a language (with the English fallback)."""

    def __init__(self, lang: str):
        self.font = find_cjk_font() if lang == "zh" else None
        self.fallback = lang == "zh" and self.font is None
        if self.fallback:
            _warn_fallback()
        self.label_lang = "en" if (lang == "en" or self.fallback) else "zh"

    def rc(self) -> dict[str, Any]:
        fams = [self.font, "DejaVu Sans"] if self.font else ["DejaVu Sans"]
        return {"font.family": "sans-serif", "font.sans-serif": fams, "axes.unicode_minus": False}


def _figure(w: float, h: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=100, layout="constrained")


def _png(fig, fonts: _Fonts) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(fonts.rc()):
        fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _draw(fonts: _Fonts, draw) -> bytes:
    import matplotlib

    with matplotlib.rc_context(fonts.rc()):
        fig = draw()
        return _png(fig, fonts)


def _short(s: str, n: int = 12) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def plot_heatmap(report: ClassReport, G: nx.DiGraph | None = None, lang: str = "zh") -> bytes:
    """PNG of the students x taught concepts mastery heatmap (students by mean mastery)."""
    lang = check_lang(lang)
    fonts = _Fonts(lang)
    taught = report.taught
    st = report.students[report.students["has_answers"]].sort_values(
        "mean_mastery", ascending=False, kind="stable"
    )
    data = report.matrix.loc[st["student_id"], taught].to_numpy(dtype=float)
    labels = [
        _short(concept_name(G, c, fonts.label_lang), 10 if fonts.label_lang == "zh" else 18)
        for c in taught
    ]

    def draw():
        w = min(4 + 0.28 * max(len(taught), 1), 30)
        h = min(2.5 + 0.2 * max(len(st), 1), 24)
        fig = _figure(w, h)
        ax = fig.add_subplot()
        if data.size:
            # pcolormesh: far cheaper than imshow's resampling at this figure size
            im = ax.pcolormesh(
                np.ma.masked_invalid(data), cmap="RdYlGn", vmin=0, vmax=1, edgecolors="none"
            )
            ax.invert_yaxis()
            ax.set_xticks(np.arange(len(taught)) + 0.5, labels, rotation=90, fontsize=7)
            ax.set_yticks(np.arange(len(st)) + 0.5, st["student_id"].tolist(), fontsize=6)
            cb = fig.colorbar(im, ax=ax, shrink=0.6)
            cb.set_label(text("plot.mastery", fonts.label_lang))
        ax.set_title(text("plot.heatmap", fonts.label_lang))
        return fig

    return _draw(fonts, draw)


def plot_weakest(report: ClassReport, G: nx.DiGraph | None = None, lang: str = "zh") -> bytes:
    """PNG bar chart of the weakest concepts' blocking scores, with class mean mastery."""
    lang = check_lang(lang)
    fonts = _Fonts(lang)
    w = report.weakest.iloc[::-1]
    labels = [concept_name(G, c, fonts.label_lang) for c in w.index]

    def draw():
        fig = _figure(8, 1.2 + 0.42 * max(len(w), 1))
        ax = fig.add_subplot()
        if len(w):
            colors = [_mastery_colour(m) for m in w["mean"]]
            bars = ax.barh(range(len(w)), w["block_score"], color=colors)
            ax.set_yticks(range(len(w)), labels, fontsize=9)
            for b, m in zip(bars, w["mean"]):
                ax.text(
                    b.get_width(),
                    b.get_y() + b.get_height() / 2,
                    f" {m:.0%}",
                    va="center",
                    fontsize=8,
                )
            ax.set_xlabel(text("block_score", fonts.label_lang))
            ax.margins(x=0.12)
        ax.set_title(text("plot.weakest", fonts.label_lang))
        return fig

    return _draw(fonts, draw)


def _mastery_colour(m: float):
    from matplotlib import colormaps

    return colormaps["RdYlGn"](0.5 if m is None or np.isnan(m) else float(m))


def _graph_nodes(report: ClassReport, G: nx.DiGraph, max_nodes: int) -> list[str]:
    """Taught concepts plus the current unit, limited to ``max_nodes`` (weakest kept)."""
    cdf = report.concepts
    units = set(report.summary.get("current_unit") or [])
    keep = [c for c in cdf.index if cdf.at[c, "taught"] or cdf.at[c, "unit"] in units]
    if len(keep) > max_nodes:
        order = cdf.loc[keep].sort_values("block_score", ascending=False, kind="stable")
        top = set(order.index[:max_nodes])
        keep = [c for c in keep if c in top]
    return keep


def plot_graph(
    report: ClassReport, G: nx.DiGraph, lang: str = "zh", *, max_nodes: int = 80
) -> bytes:
    """PNG of the taught part of the graph, concepts coloured by the class's mean mastery.

    Drawn by :func:`edu_recsys.graph.draw_graph` (grade bands x prerequisite depth) on
    the taught concepts and the current unit (at most ``max_nodes``, the most blocking
    kept); concepts without a class estimate are grey.
    """
    import matplotlib.pyplot as plt

    from edu_recsys.graph.draw import draw_graph

    lang = check_lang(lang)
    nodes = _graph_nodes(report, G, max_nodes)
    H = G.subgraph(nodes).copy()
    means = report.concepts.loc[report.concepts["taught"], "mean"].dropna().to_dict()
    fonts = _Fonts(lang)
    fig = draw_graph(
        H,
        mastery=means,
        lang=fonts.label_lang,
        title=text("plot.graph", fonts.label_lang),
        legend=False,
    )
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        return buf.getvalue()
    finally:
        plt.close(fig)


def make_plots(report: ClassReport, G: nx.DiGraph | None, lang: str = "zh") -> dict[str, bytes]:
    """The three plots as PNG bytes: ``heatmap``, ``weakest`` and (with a graph) ``graph``."""
    out = {"heatmap": plot_heatmap(report, G, lang), "weakest": plot_weakest(report, G, lang)}
    if G is not None:
        out["graph"] = plot_graph(report, G, lang)
    return out


def write_plots(plots: Mapping[str, bytes], directory: str | os.PathLike) -> dict[str, Path]:
    """Write PNG bytes to ``directory/<name>.png``; returns the paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, png in plots.items():
        p = d / f"{name}.png"
        p.write_bytes(png)
        paths[name] = p
    return paths


def _env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("edu_recsys", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: (
        "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.0%}"
    )
    env.filters["num"] = lambda v, d=2: (
        "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{d}f}"
    )
    return env


def render_report(
    report: ClassReport,
    G: nx.DiGraph | None = None,
    *,
    groups: Any = None,
    homework: Any = None,
    items: Any = None,
    lang: str = "zh",
    class_info: Mapping[str, Any] | None = None,
    path: str | os.PathLike | None = None,
    plots_dir: str | os.PathLike | None = None,
    plots: Mapping[str, bytes] | None = None,
    max_homework_students: int | None = None,
) -> str:
    """Render the self-contained HTML report; write it to ``path`` when given.

    Parameters
    ----------
    report : ClassReport
    G : DiGraph, optional
        Subject graph (names, the graph plot).
    groups, homework, items : optional
        :class:`~edu_recsys.classroom.groups.TeachingGroups`,
        :class:`~edu_recsys.classroom.homework.Homework`,
        :class:`~edu_recsys.classroom.items.ItemAnalysis`.
    lang : {"zh", "en"}
    class_info : mapping, optional
        ``class_id``, ``name``, ``grade``, ``subject`` shown in the header.
    path : path, optional
        Where to write the HTML.
    plots_dir : path, optional
        Also write the plots there as PNG files.
    plots : mapping, optional
        Precomputed PNG bytes (see :func:`make_plots`).
    max_homework_students : int, optional
        Show only the first students' homework lists (all by default).

    Returns
    -------
    str
        The HTML.
    """
    lang = check_lang(lang)
    if plots is None:
        plots = make_plots(report, G, lang)
    if plots_dir is not None:
        write_plots(plots, plots_dir)
    fonts_fallback = lang == "zh" and find_cjk_font() is None
    hw_students = []
    if homework is not None:
        summ = homework.summary
        if max_homework_students is not None:
            summ = summ.head(max_homework_students)
        by_student = {s: g for s, g in homework.items.groupby("student_id", sort=False)}
        for r in summ.to_dict(orient="records"):
            g = by_student.get(r["student_id"])
            r["items"] = g.to_dict(orient="records") if g is not None else []
            hw_students.append(r)
    ctx = {
        "t": lambda key, **kw: text(key, lang, **kw),
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh" else "en",
        "info": {"class_id": "", "name": "", "grade": "", "subject": "", **dict(class_info or {})},
        "generated": datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M"),
        "summary": report.summary,
        "bands": report.bands.to_dict(orient="records"),
        "weakest": report.weakest.reset_index().to_dict(orient="records"),
        "focus": report.focus.to_dict(orient="records"),
        "at_risk": report.at_risk.to_dict(orient="records"),
        "no_data": report.students[~report.students["has_answers"]]["student_id"].tolist(),
        "groups": groups.groups.to_dict(orient="records") if groups is not None else None,
        "groups_k": getattr(groups, "k", None),
        "groups_params": getattr(groups, "params", {}),
        "resource_titles": _resource_titles(groups),
        "homework": homework,
        "hw_students": hw_students,
        "items": items,
        "bad_items": items.bad_items.head(30).to_dict(orient="records")
        if items is not None
        else [],
        "conflicts": items.conflicts.head(20).to_dict(orient="records")
        if items is not None
        else [],
        "plots": {k: base64.b64encode(v).decode("ascii") for k, v in plots.items()},
        "font_fallback": fonts_fallback,
        "concept_name": lambda c: concept_name(G, c, lang),
    }
    html = _env().get_template("class_report.html.j2").render(**ctx)
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(html, encoding="utf-8")
    return html


def _resource_titles(groups: Any) -> dict[str, str]:
    if groups is None or getattr(groups, "resources", None) is None or groups.resources.empty:
        return {}
    res = groups.resources
    return {
        str(r): str(t) for r, t in zip(res["resource_id"], res["title"].fillna(res["resource_id"]))
    }
