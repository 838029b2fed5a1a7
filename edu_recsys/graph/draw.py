"""Drawing knowledge graphs with matplotlib (PNG, SVG) and as an HTML page.

Layout: columns by grade, then by prerequisite depth inside the grade (ungraded graphs:
by depth alone); inside a column, concepts are grouped by unit (in file order) and
sorted by the mean height of their prerequisites, which keeps most edges short. Boxes
are coloured by unit, or by a student's mastery (red -> green) when ``mastery`` is
given; any-of prerequisite edges are dashed.

Chinese labels need a CJK font. :func:`find_cjk_font` looks for one through
:mod:`matplotlib.font_manager` (Noto Sans CJK from Debian's ``fonts-noto-cjk``,
WenQuanYi, ...); when none is installed the drawing falls back to the English names
and logs a warning.
"""

from __future__ import annotations

import html
import logging
import math
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx

from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.graph.queries import concept_depth, is_prerequisite_edge, prerequisite_view

__all__ = ["find_cjk_font", "graph_layout", "draw_graph", "export_drawing", "CJK_FONT_NAMES"]

log = logging.getLogger(__name__)

#: Font families tried in order (Simplified Chinese faces first).
CJK_FONT_NAMES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
_CJK_FILE_HINTS = ("cjk", "wqy", "simhei", "msyh", "droidsansfallback", "sourcehan", "pingfang")
_GRADE_ZH = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """The family name of an installed CJK font that matplotlib can use, or None.

    Fonts installed after matplotlib built its font cache are registered on the fly.
    ``EDU_RECSYS_NO_CJK_FONT=1`` pretends none is installed (to test the fallback).
    """
    if os.environ.get("EDU_RECSYS_NO_CJK_FONT"):
        return None
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = known()
    hit = next((n for n in CJK_FONT_NAMES if n in names), None)
    if hit:
        return hit
    added = False
    for path in font_manager.findSystemFonts():
        if any(h in os.path.basename(path).lower() for h in _CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):  # unreadable font file
                continue
    if added:
        names = known()
        return next((n for n in CJK_FONT_NAMES if n in names), None)
    return None


def _unit_order(G: nx.DiGraph) -> dict[Any, int]:
    order: dict[Any, int] = {u: i for i, u in enumerate(G.graph.get("units") or {})}
    for _, d in G.nodes(data=True):
        order.setdefault(d.get("unit"), len(order))
    return order


def graph_layout(G: nx.DiGraph, *, sweeps: int = 4) -> dict[str, tuple[float, float]]:
    """Positions ``concept -> (x, y)``: a band per grade (top to bottom), columns by depth.

    Inside a grade's band, a concept's column is the length of its longest chain of
    same-grade prerequisites (ungraded graphs: of all prerequisites); a column's
    concepts are grouped by unit (in file order) and ordered by the mean row of their
    same-band prerequisites.

    Parameters
    ----------
    G : DiGraph
        A prerequisite DAG.
    sweeps : int, default 4
        Barycentre sweeps that reorder each column to shorten edges.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("a", "c"), ("b", "d")])
    >>> nx.set_node_attributes(G, {"a": 7, "b": 7, "c": 7, "d": 8}, "grade")
    >>> pos = graph_layout(G)
    >>> pos["a"][0] < pos["b"][0] == pos["c"][0], pos["d"][1] < pos["a"][1]
    (True, True)
    """
    P = prerequisite_view(G)
    grades = {n: (d.get("grade") or 0) for n, d in G.nodes(data=True)}
    if len(set(grades.values())) <= 1:
        col = concept_depth(G)
    else:
        col = {}
        for n in nx.topological_sort(P):
            col[n] = max(
                (col[u] + 1 for u in P.predecessors(n) if grades[u] == grades[n]), default=0
            )
    units = _unit_order(G)
    file_pos = {n: i for i, n in enumerate(G)}

    def unit_of(n: str) -> int:
        return units.get(G.nodes[n].get("unit"), 0)

    pos: dict[str, tuple[float, float]] = {}
    top = 0.0
    for g in sorted(set(grades.values())):
        members = sorted((n for n in G if grades[n] == g), key=lambda n: (unit_of(n), file_pos[n]))
        columns: dict[int, list[str]] = {}
        for n in members:
            columns.setdefault(col[n], []).append(n)
        row = {n: float(i) for c in columns.values() for i, n in enumerate(c)}
        for _ in range(sweeps):
            for c in sorted(columns):
                bary = {}
                for n in columns[c]:
                    preds = [row[u] for u in P.predecessors(n) if grades[u] == g]
                    bary[n] = sum(preds) / len(preds) if preds else row[n]
                columns[c].sort(key=lambda n: (unit_of(n), bary[n]))
                for i, n in enumerate(columns[c]):
                    row[n] = float(i)
        height = max(len(c) for c in columns.values())
        for c, ms in columns.items():
            shift = (height - len(ms)) / 2  # centre short columns in the band
            for i, n in enumerate(ms):
                pos[n] = (float(c), top - (i + shift))
        top -= height + 1.5
    return pos


def _unit_colours(G: nx.DiGraph) -> dict[Any, tuple]:
    import matplotlib as mpl

    units = list(_unit_order(G))
    cmaps = [mpl.colormaps["tab20"], mpl.colormaps["tab20b"], mpl.colormaps["tab20c"]]
    palette = [c(i) for c in cmaps for i in range(20)]
    return {u: palette[i % len(palette)] for i, u in enumerate(units)}


def draw_graph(
    G: nx.DiGraph,
    *,
    mastery: Mapping[str, float] | None = None,
    threshold: float = MASTERY_THRESHOLD,
    lang: str = "zh",
    title: str | None = None,
    ax: Any = None,
    legend: bool = True,
):
    """Draw a knowledge graph; returns the matplotlib Figure.

    Parameters
    ----------
    G : DiGraph
    mastery : mapping concept -> probability, optional
        Colour boxes by one student's mastery (grey: no estimate); the border shows
        mastered (>= ``threshold``) concepts in bold.
    threshold : float
    lang : {"zh", "en"}, default "zh"
        Chinese names need a CJK font; without one the English names are used and a
        warning is logged.
    title : str, optional
    ax : matplotlib Axes, optional
    legend : bool, default True
        A legend of units (with their domain) below the drawing.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.patches import FancyArrowPatch

    font = None
    if lang == "zh":
        font = find_cjk_font()
        if font is None:
            log.warning(
                "no CJK font found (install Debian's fonts-noto-cjk); drawing English names"
            )
            lang = "en"
    pos = graph_layout(G)
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    width = max(xs) - min(xs) + 1
    height = max(ys) - min(ys) + 1
    fontsize = 7.5
    col_w = 1.6 if lang == "zh" else 2.3
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    colours = _unit_colours(G)
    cmap = colormaps["RdYlGn"]
    P = prerequisite_view(G)
    with plt.rc_context(rc):
        if ax is None:
            fig, ax = plt.subplots(
                figsize=(
                    min(max(6.0, width * col_w + 1), 120),
                    min(max(4.0, height * 0.36 + 3), 80),
                )
            )
        else:
            fig = ax.figure
        for u, v, d in G.edges(data=True):
            if not is_prerequisite_edge(d) or u not in pos or v not in pos:
                continue
            any_of = d.get("any_of") not in (None, "")
            ax.add_patch(
                FancyArrowPatch(
                    pos[u],
                    pos[v],
                    arrowstyle="-|>",
                    mutation_scale=6,
                    lw=0.5,
                    color="#555555" if not any_of else "#1f4e9c",
                    linestyle="--" if any_of else "-",
                    alpha=0.55,
                    shrinkA=14,
                    shrinkB=14,
                    connectionstyle="arc3,rad=0.04",
                    zorder=1,
                )
            )
        for n, (x, y) in pos.items():
            d = G.nodes[n]
            label = d.get("name") if lang == "zh" else (d.get("name_en") or d.get("name"))
            label = str(label or n)
            limit = 12 if lang == "zh" else 24
            if len(label) > limit:
                label = label[: limit - 1] + "…"
            unit_colour = colours.get(d.get("unit"), (0.8, 0.8, 0.8, 1))
            if mastery is not None:
                p = mastery.get(n)
                face = (0.85, 0.85, 0.85, 1) if p is None or math.isnan(p) else cmap(p)
                edge, lw = unit_colour, 2.0 if p is not None and p >= threshold else 1.0
            else:
                face = (*unit_colour[:3], 0.35)
                edge, lw = unit_colour, 0.8
            ax.text(
                x,
                y,
                label,
                ha="center",
                va="center",
                fontsize=fontsize,
                zorder=3,
                bbox={"boxstyle": "round,pad=0.25", "fc": face, "ec": edge, "lw": lw},
            )
        ax.set_xlim(min(xs) - 0.9, max(xs) + 0.7)
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
        ax.axis("off")
        # Grade bands, labelled on the left.
        for g in sorted({G.nodes[n].get("grade") or 0 for n in G}):
            gy = [pos[n][1] for n in G if (G.nodes[n].get("grade") or 0) == g]
            if not g or not gy:
                continue
            label = f"{_GRADE_ZH.get(g, g)}年级" if lang == "zh" else f"Grade {g}"
            ax.text(
                min(xs) - 0.55, (min(gy) + max(gy)) / 2, label, ha="right", va="center",
                fontsize=12, weight="bold", rotation=90,
            )  # fmt: skip
            ax.axhspan(min(gy) - 0.5, max(gy) + 0.5, color="#000000", alpha=0.035, zorder=0)
        name = G.graph.get("name") if lang == "zh" else G.graph.get("name_en")
        default_title = f"{name or G.graph.get('id') or ''}"
        if mastery is not None:
            default_title += " — 掌握情况" if lang == "zh" else " — mastery"
        ax.set_title(title or default_title, fontsize=14, fontfamily=rc.get("font.family"))
        if legend:
            from matplotlib.patches import Patch

            units = G.graph.get("units") or {}
            handles = []
            for u, c in colours.items():
                info = units.get(u, {}) if isinstance(units, Mapping) else {}
                label = info.get("name") if lang == "zh" else info.get("name_en")
                handles.append(Patch(fc=(*c[:3], 0.5), ec=c, label=str(label or u)))
            ncol = max(1, min(len(handles), int(width * col_w // 2.2)))
            ax.legend(
                handles=handles,
                loc="upper center",
                bbox_to_anchor=(0.5, 0.0),
                ncol=ncol,
                fontsize=8,
                frameon=False,
            )
    log.debug("drew %d concepts and %d edges", G.number_of_nodes(), P.number_of_edges())
    return fig


def _html_page(G: nx.DiGraph, svg: str, mastery: Mapping[str, float] | None, lang: str) -> str:
    zh = lang == "zh"
    title = html.escape(str(G.graph.get("name" if zh else "name_en") or G.graph.get("id") or ""))
    head = (
        ["知识点", "名称", "年级", "单元", "先修知识点", "掌握程度"]
        if zh
        else ["concept", "name", "grade", "unit", "prerequisites", "mastery"]
    )
    units = G.graph.get("units") or {}
    rows = []
    P = prerequisite_view(G)
    for n, d in G.nodes(data=True):
        uinfo = units.get(d.get("unit"), {}) if isinstance(units, Mapping) else {}
        pres = []
        for u, e in P.pred[n].items():
            mark = " (任一)" if zh and e.get("any_of") else (" (any-of)" if e.get("any_of") else "")
            pres.append(html.escape(str(u)) + mark)
        m = "" if mastery is None or mastery.get(n) is None else f"{mastery[n]:.2f}"
        cells = [
            html.escape(str(n)),
            html.escape(str(d.get("name") if zh else d.get("name_en") or d.get("name"))),
            html.escape(str(d.get("grade", ""))),
            html.escape(str(uinfo.get("name" if zh else "name_en") or d.get("unit", ""))),
            "<br>".join(pres),
            m,
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if zh else "en"}">\n<head>\n'
        f'<meta charset="utf-8">\n<title>{title}</title>\n<style>'
        "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:1em}"
        ".drawing{overflow:auto;border:1px solid #ccc}"
        "table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ddd;padding:2px 6px;vertical-align:top}"
        "</style>\n</head>\n<body>\n"
        f'<h1>{title}</h1>\n<div class="drawing">{svg}</div>\n'
        f"<table><thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>\n</body>\n</html>\n"
    )


def export_drawing(
    G: nx.DiGraph,
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    mastery: Mapping[str, float] | None = None,
    lang: str = "zh",
    dpi: int = 110,
    **kwargs: Any,
) -> Path:
    """Draw ``G`` to a PNG, SVG or HTML file (format from ``fmt`` or the suffix).

    The HTML page holds the SVG drawing and a table of the concepts with their
    prerequisites (and mastery), so it reads without a plotting tool.

    Returns
    -------
    Path
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "png").lower()
    if fmt not in ("png", "svg", "html"):
        raise ValueError(f"drawing format must be png, svg or html, got {fmt!r}")
    import matplotlib.pyplot as plt

    fig = draw_graph(G, mastery=mastery, lang=lang, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fmt == "html":
            import io

            buf = io.StringIO()
            fig.savefig(buf, format="svg", bbox_inches="tight")
            svg = buf.getvalue()
            svg = svg[svg.find("<svg") :]
            path.write_text(_html_page(G, svg, mastery, lang), encoding="utf-8")
        else:
            fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
