"""Reading and writing knowledge graphs.

* Curriculum files (YAML or JSON; the format of :mod:`edu_recsys.graph.schema`):
  :func:`read_curriculum`, :func:`write_curriculum`, :func:`curriculum_to_graph`,
  :func:`graph_to_curriculum`.
* GraphML (:func:`to_graphml`, :func:`from_graphml`) and networkx node-link JSON
  (:func:`to_node_link`, :func:`from_node_link`), for other tools. Graph attributes
  that are not scalars (units, item links, ...) are stored as JSON text in GraphML.
* :func:`load_graph`: a shipped graph by name (``"math-7-9"``, ``"math-3-6"``), the
  Junyi Academy graph (``"junyi2015"``, imported from the data directory), or a file
  in any of the formats above.

Shipped graphs are looked up in ``$EDU_RECSYS_GRAPHS``, then in the
``knowledge_graphs/`` folder of the source checkout (next to the ``edu_recsys``
package), then in ``edu_recsys/knowledge_graphs`` (an installed copy).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import pydantic
import yaml

from edu_recsys.exceptions import UnknownIdError
from edu_recsys.graph.errors import CurriculumError
from edu_recsys.graph.problems import Problem
from edu_recsys.graph.queries import PREREQUISITE, is_prerequisite_edge
from edu_recsys.graph.schema import (
    FORMAT_VERSION,
    AnyOfGroup,
    ConceptSpec,
    Curriculum,
    PrerequisiteRef,
    UnitSpec,
)
from edu_recsys.graph.validate import check_curriculum, errors_only, validate_graph

__all__ = [
    "GRAPHS_ENV_VAR",
    "read_curriculum",
    "write_curriculum",
    "curriculum_to_graph",
    "graph_to_curriculum",
    "load_graph",
    "list_graphs",
    "graph_path",
    "to_graphml",
    "from_graphml",
    "to_node_link",
    "from_node_link",
    "problems_of",
]

log = logging.getLogger(__name__)

#: Environment variable naming an extra folder of shipped graphs.
GRAPHS_ENV_VAR = "EDU_RECSYS_GRAPHS"

_YAML_SUFFIXES = (".yaml", ".yml")
_JSON_ATTRS_KEY = "edu_recsys_json_attributes"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --------------------------------------------------------------------------- reading


def _parse_text(text: str, source: str, suffix: str) -> Any:
    """Parse YAML/JSON text; raise CurriculumError with a located syntax problem."""
    try:
        if suffix == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=_Loader)  # a safe loader
    except json.JSONDecodeError as e:
        raise CurriculumError(
            [Problem("syntax", f"line {e.lineno} column {e.colno}: {e.msg}")], source
        ) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        what = getattr(e, "problem", None) or str(e)
        raise CurriculumError([Problem("syntax", f"{where}{what}")], source) from e


def _schema_problems(err: pydantic.ValidationError, raw: Any) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = e["loc"]
        parts = []
        for x in loc:
            parts.append(f"[{x}]" if isinstance(x, int) else f".{x}")
        where = "".join(parts).lstrip(".")
        concept: tuple[str, ...] = ()
        # Name the concept a hand-editor is looking for, not just its list index.
        if len(loc) >= 2 and loc[0] == "concepts" and isinstance(loc[1], int):
            try:
                cid = raw["concepts"][loc[1]].get("id")
            except (KeyError, IndexError, TypeError, AttributeError):
                cid = None
            if cid:
                concept = (str(cid),)
                where = where.replace(f"concepts[{loc[1]}]", f"concepts[{loc[1]}] ({cid})", 1)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field (a typo?)"
        out.append(Problem("schema", msg, concept, location=where))
    return out


def _read_raw(source: str | os.PathLike | Mapping[str, Any]) -> tuple[Any, str]:
    if isinstance(source, Mapping):
        return dict(source), "<mapping>"
    path = Path(source)
    text = path.read_text(encoding="utf-8-sig")
    return _parse_text(text, str(path), path.suffix.lower()), str(path)


def _model(raw: Any, name: str) -> Curriculum:
    if not isinstance(raw, Mapping):
        raise CurriculumError(
            [Problem("schema", f"the file must hold a mapping, got {type(raw).__name__}")], name
        )
    try:
        return Curriculum.model_validate(raw)
    except pydantic.ValidationError as e:
        raise CurriculumError(_schema_problems(e, raw), name) from e


def read_curriculum(source: str | os.PathLike | Mapping[str, Any]) -> Curriculum:
    """Read a curriculum file (YAML or JSON) or mapping into the pydantic model.

    Only syntax and schema are checked here; see :func:`check_curriculum` and
    :func:`load_graph` for the rest.

    Raises
    ------
    CurriculumError
        With located problems (``line 3 column 5: ...`` or ``concepts[4] (id).grade``).

    Examples
    --------
    >>> c = read_curriculum({"id": "t", "subject": "math", "concepts": [
    ...     {"id": "a", "name": "加法", "grade": 1, "unit": "u"}]})
    >>> c.concepts[0].name
    '加法'
    """
    raw, name = _read_raw(source)
    return _model(raw, name)


# ------------------------------------------------------------------ model <-> graph


def _group_id(concept: str, k: int) -> str:
    return f"{concept}:any{k}"


def curriculum_to_graph(c: Curriculum) -> nx.DiGraph:
    """Build the DiGraph of a curriculum (see the graph contract in ``edu_recsys.graph``).

    Tolerant by design, so that every problem can be reported by validation: the first
    of duplicate concepts wins, and prerequisites naming undefined concepts are skipped.

    Examples
    --------
    >>> c = read_curriculum({"id": "t", "subject": "math",
    ...     "units": [{"id": "u", "name": "单元", "grade": 7}],
    ...     "concepts": [{"id": "a", "name": "A", "unit": "u"},
    ...                  {"id": "b", "name": "B", "unit": "u"},
    ...                  {"id": "c", "name": "C", "unit": "u", "requires_any": [["a", "b"]]}]})
    >>> G = curriculum_to_graph(c)
    >>> G.nodes["a"]["grade"], G.edges["a", "c"]
    (7, {'relation': 'prerequisite', 'any_of': 'c:any1'})
    """
    G = nx.DiGraph()
    G.graph.update(
        {
            "id": c.id,
            "subject": c.subject,
            "name": c.name,
            "name_en": c.name_en,
            "grades": list(c.grades),
            "format_version": c.format_version,
        }
    )
    if c.standard:
        G.graph["standard"] = c.standard
    if c.description:
        G.graph["description"] = c.description
    G.graph.update(c.attributes)
    units: dict[str, dict[str, Any]] = {}
    for u in c.units:
        if u.id not in units:
            units[u.id] = u.model_dump(exclude={"id"}, exclude_none=True)
    G.graph["units"] = units
    for k in c.concepts:
        if k.id in G:
            continue
        unit = units.get(k.unit, {})
        attrs: dict[str, Any] = {
            "name": k.name,
            "name_en": k.name_en,
            "grade": k.grade if k.grade is not None else unit.get("grade"),
            "subject": k.subject or c.subject,
            "unit": k.unit,
        }
        if unit.get("name"):
            attrs["unit_name"] = unit["name"]
        domain = k.domain or unit.get("domain")
        if domain:
            attrs["domain"] = domain
        if k.difficulty is not None:
            attrs["difficulty"] = k.difficulty
        if k.description:
            attrs["description"] = k.description
        attrs.update(k.attributes)
        G.add_node(k.id, **attrs)
    defined = set(G.nodes)
    done_targets: set[str] = set()
    for k in c.concepts:
        if k.id in done_targets:
            continue
        done_targets.add(k.id)
        for r in k.requires:
            ref = r.concept if isinstance(r, PrerequisiteRef) else r
            if ref not in defined or G.has_edge(ref, k.id):
                continue
            extra = (r.model_extra or {}) if isinstance(r, PrerequisiteRef) else {}
            G.add_edge(ref, k.id, relation=PREREQUISITE, **extra)
        for j, grp in enumerate(k.requires_any, start=1):
            gid = grp.id if isinstance(grp, AnyOfGroup) and grp.id else _group_id(k.id, j)
            members = grp.concepts if isinstance(grp, AnyOfGroup) else grp
            for m in members:
                if m in defined and not G.has_edge(m, k.id):
                    G.add_edge(m, k.id, relation=PREREQUISITE, any_of=gid)
    G.graph["items"] = {i: list(cs) for i, cs in c.items.items()}
    G.graph["resources"] = {i: list(cs) for i, cs in c.resources.items()}
    return G


_NODE_FIELDS = (
    "name",
    "name_en",
    "grade",
    "subject",
    "unit",
    "domain",
    "difficulty",
    "description",
)
_DERIVED_NODE_FIELDS = ("unit_name",)
_GRAPH_FIELDS = (
    "id", "subject", "name", "name_en", "grades", "standard", "description", "format_version",
    "units", "items", "resources", "source",
)  # fmt: skip


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def graph_to_curriculum(G: nx.DiGraph) -> Curriculum:
    """The curriculum model of a graph (the inverse of :func:`curriculum_to_graph`).

    Units come from ``G.graph["units"]`` or, when absent, from the nodes' ``unit``
    values. Node attributes outside the schema go to ``attributes``; non-prerequisite
    edges and extra attributes on any-of edges cannot be written and are dropped with a
    warning in the log.

    Examples
    --------
    >>> G = nx.DiGraph(id="t", subject="math")
    >>> G.add_node("a", name="A", grade=1, unit="u"); G.add_node("b", name="B", grade=1, unit="u")
    >>> G.add_edge("a", "b", relation="prerequisite", confidence=0.9)
    >>> graph_to_curriculum(G).concepts[1].requires
    [PrerequisiteRef(concept='a', confidence=0.9)]
    """
    g = G.graph
    subject = g.get("subject") or "unknown"
    units_attr = g.get("units")
    units: list[UnitSpec] = []
    if isinstance(units_attr, Mapping) and units_attr:
        for uid, u in units_attr.items():
            units.append(UnitSpec(id=uid, **{k: v for k, v in u.items() if v is not None}))
    elif isinstance(units_attr, list) and units_attr:
        units = [UnitSpec.model_validate(u) for u in units_attr]
    unit_info = {u.id: u for u in units}
    dropped = 0
    concepts: list[ConceptSpec] = []
    for n, d in G.nodes(data=True):
        requires: list[str | PrerequisiteRef] = []
        groups: dict[str, list[str]] = {}
        for u, e in G.pred[n].items():
            if not is_prerequisite_edge(e):
                dropped += 1
                continue
            gid = e.get("any_of")
            extra = {k: v for k, v in e.items() if k not in ("relation", "any_of")}
            if gid not in (None, ""):
                groups.setdefault(str(gid), []).append(str(u))
                dropped += bool(extra)
            elif extra:
                requires.append(PrerequisiteRef(concept=str(u), **extra))
            else:
                requires.append(str(u))
        requires_any: list[list[str] | AnyOfGroup] = []
        for j, (gid, members) in enumerate(groups.items(), start=1):
            if gid == _group_id(str(n), j):
                requires_any.append(members)
            else:
                requires_any.append(AnyOfGroup(id=gid, concepts=members))
        unit = d.get("unit") or ""
        uinfo = unit_info.get(unit)
        fields: dict[str, Any] = {k: d.get(k) for k in _NODE_FIELDS if d.get(k) is not None}
        if fields.get("subject") == subject:
            del fields["subject"]
        if uinfo is not None and fields.get("domain") == uinfo.domain:
            fields.pop("domain", None)
        other = {
            k: v
            for k, v in d.items()
            if k not in _NODE_FIELDS and k not in _DERIVED_NODE_FIELDS and _scalar(v)
        }
        concepts.append(
            ConceptSpec(
                id=str(n),
                **{"name": str(n), "unit": unit or "default", **fields},
                requires=requires,
                requires_any=requires_any,
                attributes=other,
            )
        )
    if dropped:
        log.warning("graph_to_curriculum: %d edge(s) or edge attribute set(s) not written", dropped)
    if not units:
        seen: dict[str, int | None] = {}
        for k in concepts:
            seen.setdefault(k.unit, k.grade)
        units = [UnitSpec(id=u, name=u, grade=gr) for u, gr in seen.items()]
    extra_graph = {k: v for k, v in g.items() if k not in _GRAPH_FIELDS and k != _JSON_ATTRS_KEY}
    return Curriculum(
        format_version=g.get("format_version") or FORMAT_VERSION,
        id=str(g.get("id") or g.get("name") or "graph"),
        subject=subject,
        name=g.get("name") or "",
        name_en=g.get("name_en") or "",
        grades=list(g.get("grades") or []),
        standard=g.get("standard"),
        description=g.get("description"),
        units=units,
        concepts=concepts,
        items={str(i): list(cs) for i, cs in (g.get("items") or {}).items()},
        resources={str(i): list(cs) for i, cs in (g.get("resources") or {}).items()},
        attributes={k: v for k, v in extra_graph.items() if _json_safe(v)},
    )


def _json_safe(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- writing


class _Flow(list):
    """A list written in YAML flow style: ``[a, b]``."""


class _FlowMap(dict):
    """A mapping written in YAML flow style: ``{id: u, name: 单元}``."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)
_Dumper.add_representer(
    _FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True)
)
_Dumper.add_representer(
    dict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=False)
)


def _yaml_ready(data: dict[str, Any]) -> dict[str, Any]:
    """Short lists and units in flow style; concepts in block style (one key a line)."""
    out = dict(data)
    if "grades" in out:
        out["grades"] = _Flow(out["grades"])
    if "units" in out:
        out["units"] = [_FlowMap(u) for u in out["units"]]
    concepts = []
    for k in out.get("concepts", []):
        k = dict(k)
        if "requires" in k:
            reqs = k["requires"]
            k["requires"] = (
                _Flow(reqs)
                if all(isinstance(r, str) for r in reqs)
                else [_FlowMap(r) if isinstance(r, dict) else r for r in reqs]
            )
        if "requires_any" in k:
            k["requires_any"] = [
                _Flow(g) if isinstance(g, list) else {**g, "concepts": _Flow(g["concepts"])}
                for g in k["requires_any"]
            ]
        concepts.append(k)
    if "concepts" in out:
        out["concepts"] = concepts
    for kind in ("items", "resources"):
        if kind in out:
            out[kind] = {i: _Flow(cs) for i, cs in out[kind].items()}
    return out


def _dump_model(c: Curriculum) -> dict[str, Any]:
    data = c.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    # Keep the keys a reader expects even when they hold defaults.
    data = {"format_version": c.format_version, "id": c.id, "subject": c.subject, **data}
    return data


def write_curriculum(graph_or_curriculum: nx.DiGraph | Curriculum, path: str | os.PathLike) -> Path:
    """Write a graph (or curriculum model) as a curriculum file; YAML or JSON by suffix.

    The YAML is laid out for hand-editing (one concept a block, prerequisite lists on
    one line, Chinese written as is). ``write_curriculum(read(x))`` reproduces ``x``
    when ``x`` was written by this function.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> G = nx.DiGraph(id="t", subject="math")
    >>> G.add_node("a", name="加法", grade=1, unit="u")
    >>> G.add_node("b", name="乘法", grade=2, unit="u")
    >>> G.add_edge("a", "b", relation="prerequisite")
    >>> p = write_curriculum(G, pathlib.Path(tempfile.mkdtemp()) / "t.yaml")
    >>> print(p.read_text(encoding="utf-8").split("concepts:")[1].strip())
    - id: a
      name: 加法
      grade: 1
      unit: u
    - id: b
      name: 乘法
      grade: 2
      unit: u
      requires: [a]
    """
    c = (
        graph_or_curriculum
        if isinstance(graph_or_curriculum, Curriculum)
        else (graph_to_curriculum(graph_or_curriculum))
    )
    path = Path(path)
    data = _dump_model(c)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path
    header = (
        f"# edu-recsys curriculum file (format {c.format_version}); see docs/graphs.md.\n"
        "# requires: all needed; requires_any: groups of alternatives (one suffices).\n"
    )
    body = yaml.dump(
        _yaml_ready(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096
    )
    path.write_text(header + body, encoding="utf-8")
    return path


# ---------------------------------------------------------------- GraphML, node-link


def _encode_attrs(attrs: dict[str, Any], scope: str, json_keys: list[str]) -> dict[str, Any]:
    out = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, (str, int, float, bool)):
            out[k] = v
        else:
            out[k] = json.dumps(v, ensure_ascii=False)
            if f"{scope}:{k}" not in json_keys:
                json_keys.append(f"{scope}:{k}")
    return out


def to_graphml(G: nx.DiGraph, path: str | os.PathLike) -> Path:
    """Write GraphML (for Gephi, yEd, Cytoscape). Non-scalar attributes become JSON text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> G = nx.DiGraph(id="t", units={"u": {"name": "单元"}})
    >>> G.add_node("a", name="加法", grade=1, unit="u"); G.add_edge("a", "b", any_of="g")
    >>> H = from_graphml(to_graphml(G, pathlib.Path(tempfile.mkdtemp()) / "t.graphml"))
    >>> H.graph["units"], H.nodes["a"]["grade"], H.edges["a", "b"]["any_of"]
    ({'u': {'name': '单元'}}, 1, 'g')
    """
    json_keys: list[str] = []
    H = nx.DiGraph()
    for n, d in G.nodes(data=True):
        H.add_node(str(n), **_encode_attrs(d, "node", json_keys))
    for u, v, d in G.edges(data=True):
        H.add_edge(str(u), str(v), **_encode_attrs(d, "edge", json_keys))
    H.graph.update(_encode_attrs(dict(G.graph), "graph", json_keys))
    if json_keys:
        H.graph[_JSON_ATTRS_KEY] = json.dumps(json_keys)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(H, path, encoding="utf-8", named_key_ids=True)
    return path


def _decode_json_attrs(G: nx.DiGraph) -> nx.DiGraph:
    keys = json.loads(G.graph.pop(_JSON_ATTRS_KEY, "[]"))
    for entry in keys:
        scope, k = entry.split(":", 1)
        if scope == "graph" and k in G.graph:
            G.graph[k] = json.loads(G.graph[k])
        elif scope == "node":
            for _, d in G.nodes(data=True):
                if k in d and isinstance(d[k], str):
                    d[k] = json.loads(d[k])
        elif scope == "edge":
            for _, _, d in G.edges(data=True):
                if k in d and isinstance(d[k], str):
                    d[k] = json.loads(d[k])
    return G


def from_graphml(path: str | os.PathLike) -> nx.DiGraph:
    """Read a GraphML file written by :func:`to_graphml` (or any directed GraphML)."""
    G = nx.read_graphml(Path(path), node_type=str)
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        G = nx.DiGraph(G)
    return _decode_json_attrs(G)


def to_node_link(G: nx.DiGraph, path: str | os.PathLike | None = None) -> dict[str, Any]:
    """networkx node-link data (``nodes``/``edges``); also written to ``path`` when given.

    Examples
    --------
    >>> G = nx.DiGraph(id="t"); G.add_node("a", name="加法"); G.add_edge("a", "b")
    >>> data = to_node_link(G)
    >>> data["nodes"][0], data["edges"]
    ({'name': '加法', 'id': 'a'}, [{'source': 'a', 'target': 'b'}])
    >>> list(from_node_link(data).edges)
    [('a', 'b')]
    """
    data = nx.node_link_data(G, edges="edges")
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return data


def from_node_link(data_or_path: Mapping[str, Any] | str | os.PathLike) -> nx.DiGraph:
    """A DiGraph from node-link data or a JSON file (``edges`` or the older ``links``)."""
    if isinstance(data_or_path, Mapping):
        data = dict(data_or_path)
    else:
        data = json.loads(Path(data_or_path).read_text(encoding="utf-8-sig"))
    edges = "edges" if "edges" in data or "links" not in data else "links"
    G = nx.node_link_graph(data, directed=True, multigraph=False, edges=edges)
    return nx.DiGraph(G)


# --------------------------------------------------------------------------- loading


def _graph_dirs() -> list[Path]:
    dirs = []
    env = os.environ.get(GRAPHS_ENV_VAR)
    if env:
        dirs.append(Path(env).expanduser())
    pkg = Path(__file__).resolve().parents[1]  # .../edu_recsys
    dirs += [pkg.parent / "knowledge_graphs", pkg / "knowledge_graphs"]
    return [d for d in dirs if d.is_dir()]


#: Names that :func:`load_graph` imports from the public data directory.
_DATA_GRAPHS = ("junyi2015",)


def list_graphs() -> list[str]:
    """Names accepted by :func:`load_graph` (shipped curriculum files and data imports).

    Examples
    --------
    >>> {"math-7-9", "math-3-6"} <= set(list_graphs())
    True
    """
    names: list[str] = []
    for d in _graph_dirs():
        for p in sorted(d.glob("*.y*ml")):
            if p.stem not in names:
                names.append(p.stem)
    return names + [n for n in _DATA_GRAPHS if n not in names]


def graph_path(name: str) -> Path:
    """The file of a shipped graph.

    Raises
    ------
    UnknownIdError
        If no shipped graph has that name (the message lists the known ones).
    """
    for d in _graph_dirs():
        for suffix in _YAML_SUFFIXES:
            p = d / f"{name}{suffix}"
            if p.is_file():
                return p
    raise UnknownIdError("graph", name, f"shipped graphs: {', '.join(list_graphs())}")


@lru_cache(maxsize=32)
def _cached_curriculum(path: str, mtime_ns: int, size: int) -> Curriculum:
    return read_curriculum(path)


def _read_file_graph(path: Path) -> tuple[nx.DiGraph, list[Problem]]:
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        return from_graphml(path), []
    if suffix == ".json":
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
        if isinstance(raw, Mapping) and "nodes" in raw:
            return from_node_link(raw), []
    st = path.stat()
    c = _cached_curriculum(str(path.resolve()), st.st_mtime_ns, st.st_size)
    return curriculum_to_graph(c), check_curriculum(c)


def problems_of(source: str | os.PathLike | Mapping[str, Any]) -> list[Problem]:
    """Every problem of a curriculum file, mapping, GraphML or node-link file.

    This is :func:`edu_recsys.graph.validate_curriculum`; syntax and schema errors are
    returned as problems instead of raised.
    """
    try:
        if isinstance(source, Mapping):
            c = read_curriculum(source)
            G, file_problems = curriculum_to_graph(c), check_curriculum(c)
        else:
            G, file_problems = _read_file_graph(Path(source))
    except CurriculumError as e:
        return list(e.problems)
    except (json.JSONDecodeError, UnicodeDecodeError, nx.NetworkXError) as e:
        return [Problem("syntax", str(e).splitlines()[0])]
    # A dangling reference in the file was not turned into an edge; do not report the
    # implicit node twice.
    return file_problems + validate_graph(G)


def load_graph(path_or_name: str | os.PathLike, *, validate: bool = True) -> nx.DiGraph:
    """Load a knowledge graph by shipped name or from a file.

    Parameters
    ----------
    path_or_name : str or path
        ``"math-7-9"``, ``"math-3-6"`` (see :func:`list_graphs`), ``"junyi2015"``
        (imported from the public data directory), or a ``.yaml``/``.yml``/``.json``
        curriculum file, a node-link ``.json`` file or a ``.graphml`` file.
    validate : bool, default True
        Raise :class:`CurriculumError` if the graph has errors (warnings are logged).
        With False, the graph is returned as it is, for inspection.

    Returns
    -------
    DiGraph
        Concepts as nodes (``name``, ``name_en``, ``grade``, ``subject``, ``unit``,
        ``unit_name``, ``domain``, optional ``difficulty``/``description``);
        prerequisite edges (``relation="prerequisite"``, optional ``any_of``);
        ``G.graph`` holds ``id``, ``subject``, ``units`` (id -> attributes, in file
        order), ``items`` and ``resources`` (id -> concept ids).

    Raises
    ------
    UnknownIdError
        For a name that is neither shipped nor an existing file.
    CurriculumError
        For an invalid file (with ``validate=True``).

    Examples
    --------
    >>> G = load_graph("math-7-9")
    >>> G.nodes["m7.rational.number_line"]["name"]
    '数轴'
    >>> G.nodes["m8.linear_fn.linear_function"]["grade"]
    8
    """
    p = Path(path_or_name)
    name = str(path_or_name)
    if p.is_file():
        G, file_problems = _read_file_graph(p)
        source = str(p)
    elif name in _DATA_GRAPHS:
        from edu_recsys.graph.junyi import import_junyi

        return import_junyi()
    else:
        if p.suffix.lower() in (*_YAML_SUFFIXES, ".json", ".graphml") or os.sep in name:
            raise FileNotFoundError(f"no such graph file: {name}")
        path = graph_path(name)
        G, file_problems = _read_file_graph(path)
        source = str(path)
    if validate:
        problems = file_problems + validate_graph(G)
        errors = errors_only(problems)
        if errors:
            raise CurriculumError(errors, source)
        for w in problems:
            log.warning("%s: %s", source, w)
    G.graph.setdefault("source", source)
    return G
