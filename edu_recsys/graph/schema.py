"""The curriculum file format: a pydantic model and its JSON Schema.

A curriculum file (YAML or JSON) describes one subject graph so that teachers and
platform staff can edit it by hand::

    format_version: 1
    id: math-7-9
    subject: mathematics
    name: 初中数学
    name_en: Junior-high mathematics
    grades: [7, 8, 9]
    units:
    - {id: m7.rational, name: 有理数, name_en: Rational numbers, grade: 7, domain: 数与代数}
    concepts:
    - id: m7.rational.number_line
      name: 数轴
      name_en: Number line
      grade: 7
      unit: m7.rational
      difficulty: 0.2
      requires: [m7.rational.rational_numbers]
    - id: m7.system.word_problems
      ...
      requires: [m7.lineq.word_problems]
      requires_any:                      # one member of each group suffices
      - [m7.system.substitution, m7.system.elimination]
    items: {q1: [m7.rational.number_line]}          # item -> concepts
    resources: {video-12: [m7.rational.number_line]}  # resource -> concepts

``requires`` lists the prerequisites that are all needed; each entry of
``requires_any`` is a group of alternatives (a plain list, or
``{id: GROUP, concepts: [...]}`` to name the group). In the graph, the edges of a
group carry ``any_of=<group id>``; unnamed groups get ``"<concept id>:any<k>"``.
An entry of ``requires`` may also be a mapping ``{concept: ID, ...}`` whose other
keys become edge attributes (e.g. a learned ``confidence``).

Examples
--------
>>> c = Curriculum.model_validate({"id": "t", "subject": "math", "concepts": [
...     {"id": "a", "name": "加法", "grade": 1, "unit": "u"}]})
>>> c.concepts[0].requires
[]
>>> "concepts" in curriculum_json_schema()["properties"]
True
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "FORMAT_VERSION",
    "Curriculum",
    "UnitSpec",
    "ConceptSpec",
    "PrerequisiteRef",
    "AnyOfGroup",
    "curriculum_json_schema",
]

#: Version written into new curriculum files.
FORMAT_VERSION = 1


class _Strict(BaseModel):
    # A typo in a hand-edited key ("requries") must be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitSpec(_Strict):
    """A unit (textbook chapter) of the curriculum."""

    id: str = Field(min_length=1, description="stable ASCII id, e.g. 'm7.rational'")
    name: str = Field(min_length=1, description="display name (Chinese), e.g. '有理数'")
    name_en: str = ""
    grade: int | None = Field(default=None, ge=0, le=12)
    domain: str | None = Field(default=None, description="learning domain, e.g. '数与代数'")
    order: int | None = Field(default=None, description="position in the textbook (chapter)")
    semester: str | None = Field(default=None, description="e.g. '上' or '下'")
    description: str | None = None


class PrerequisiteRef(BaseModel):
    """A prerequisite with extra edge attributes (``{concept: ID, confidence: 0.9}``)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    concept: str = Field(min_length=1)


class AnyOfGroup(_Strict):
    """A named group of alternative prerequisites (one mastered member suffices)."""

    id: str | None = None
    concepts: list[str] = Field(min_length=1)


class ConceptSpec(_Strict):
    """A concept (knowledge point, 知识点)."""

    id: str = Field(min_length=1, description="stable ASCII id, e.g. 'm7.rational.number_line'")
    name: str = Field(min_length=1, description="display name (Chinese)")
    name_en: str = ""
    grade: int | None = Field(
        default=None, ge=0, le=12, description="school grade; default: the unit's; 0 = ungraded"
    )
    unit: str = Field(min_length=1, description="unit id")
    subject: str | None = Field(default=None, description="default: the curriculum's subject")
    domain: str | None = Field(default=None, description="default: the unit's domain")
    difficulty: float | None = Field(default=None, description="0 (easy) .. 1 (hard)")
    description: str | None = None
    requires: list[str | PrerequisiteRef] = Field(
        default_factory=list, description="prerequisites that are all required"
    )
    requires_any: list[list[str] | AnyOfGroup] = Field(
        default_factory=list, description="groups of alternative prerequisites"
    )
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="other node attributes (scalars)"
    )

    @field_validator("difficulty")
    @classmethod
    def _difficulty_range(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v <= 1.0:
            raise ValueError("difficulty must lie in [0, 1]")
        return v


class Curriculum(_Strict):
    """A whole curriculum file."""

    format_version: int = FORMAT_VERSION
    id: str = Field(min_length=1, description="graph name, e.g. 'math-7-9'")
    subject: str = Field(min_length=1, description="e.g. 'mathematics'")
    name: str = ""
    name_en: str = ""
    grades: list[int] = Field(default_factory=list)
    standard: str | None = Field(default=None, description="curriculum standard followed")
    description: str | None = None
    units: list[UnitSpec] = Field(default_factory=list)
    concepts: list[ConceptSpec] = Field(default_factory=list)
    items: dict[str, list[str]] = Field(default_factory=dict, description="item -> concept ids")
    resources: dict[str, list[str]] = Field(
        default_factory=dict, description="resource -> concept ids"
    )
    attributes: dict[str, Any] = Field(default_factory=dict, description="other graph attributes")


def curriculum_json_schema() -> dict[str, Any]:
    """The JSON Schema of curriculum files (for editors and the API's upload route).

    Returns
    -------
    dict
        A JSON Schema (draft 2020-12) document.

    Examples
    --------
    >>> schema = curriculum_json_schema()
    >>> schema["title"], sorted(schema["required"])
    ('Curriculum', ['id', 'subject'])
    """
    schema = Curriculum.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
