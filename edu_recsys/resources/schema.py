"""The resource catalogue: row schemas (pydantic) and column names (the contract).

A **resource** is learning material that teaches concepts: a micro-lecture video
(微课), an exercise set (习题集), a reading, courseware (课件), a quiz... A curated
"quality course" (精品课程) is a resource with ``is_quality=True``.

Resources table (one row per resource)
======================================

=============  =====================  ===================================================
column         dtype                  meaning
=============  =====================  ===================================================
resource_id    str                    unique id
title          str                    display title (defaults to the id when missing)
type           str                    ``video``, ``exercise_set``, ``reading``,
                                      ``courseware``, ``quiz``, ... (see RESOURCE_TYPES;
                                      other lowercase tokens are kept as they are)
concept_ids    tuple of str           concepts taught (``()`` allowed: never a candidate)
grade          Int64 (nullable)       school grade 1..12
subject        str (nullable)         e.g. ``math``
minutes        float64 (NaN allowed)  estimated study time; NaN -> per-type default
difficulty     float64 in [0, 1]      0.5 = a typical item of its concepts; NaN -> 0.5
source         str (nullable)         publisher / platform / teacher
is_quality     bool                   curated quality course (精品课程)
=============  =====================  ===================================================

Usage table (one row per use of a resource by a student)
========================================================

``student_id`` (str), ``resource_id`` (str), optional ``timestamp`` (UTC),
``minutes`` (time spent), ``completed`` (0/1) or ``progress`` (0..1).

Ratings table
=============

``student_id`` (str), ``resource_id`` (str), ``rating`` (1..5), optional ``timestamp``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from edu_recsys.data.validate import parse_concepts

__all__ = [
    "RESOURCE_COLUMNS",
    "USAGE_COLUMNS",
    "RATING_COLUMNS",
    "RESOURCE_TYPES",
    "TYPE_ALIASES",
    "DEFAULT_MINUTES",
    "ResourceRow",
    "UsageRow",
    "RatingRow",
    "normalise_type",
]

RESOURCE_COLUMNS = (
    "resource_id",
    "title",
    "type",
    "concept_ids",
    "grade",
    "subject",
    "minutes",
    "difficulty",
    "source",
    "is_quality",
)
USAGE_COLUMNS = ("student_id", "resource_id", "timestamp", "minutes", "completed", "progress")
RATING_COLUMNS = ("student_id", "resource_id", "rating", "timestamp")

#: Known resource types and their Chinese display names.
RESOURCE_TYPES: dict[str, str] = {
    "video": "微课视频",
    "exercise_set": "习题集",
    "reading": "阅读材料",
    "courseware": "课件",
    "quiz": "测验",
    "page": "网页",
    "link": "外部链接",
    "forum": "讨论区",
    "other": "其他资源",
}

#: Spellings accepted for the known types (after lowercasing and stripping).
TYPE_ALIASES: dict[str, str] = {
    "微课": "video",
    "视频": "video",
    "micro-lecture": "video",
    "microlecture": "video",
    "lecture": "video",
    "exercise": "exercise_set",
    "exercises": "exercise_set",
    "exercise set": "exercise_set",
    "exercise-set": "exercise_set",
    "习题": "exercise_set",
    "习题集": "exercise_set",
    "练习": "exercise_set",
    "text": "reading",
    "article": "reading",
    "阅读": "reading",
    "slides": "courseware",
    "课件": "courseware",
    "test": "quiz",
    "测验": "quiz",
    "url": "link",
}

#: Minutes assumed for a resource whose ``minutes`` is missing (documented default).
DEFAULT_MINUTES: dict[str, float] = {
    "video": 8.0,
    "exercise_set": 15.0,
    "reading": 10.0,
    "courseware": 20.0,
    "quiz": 10.0,
}
DEFAULT_MINUTES_OTHER = 10.0


def normalise_type(value: object) -> str:
    """Lowercase a type name and map known aliases to the canonical token.

    Examples
    --------
    >>> normalise_type("Exercise Set"), normalise_type("微课"), normalise_type("podcast")
    ('exercise_set', 'video', 'podcast')
    """
    s = str(value).strip().lower()
    s = TYPE_ALIASES.get(s, s)
    return s.replace(" ", "_")


def _concepts(v: object) -> tuple[str, ...]:
    return parse_concepts([v], sep=";" if isinstance(v, str) else None)[0]


def _none_if_blank(v: object) -> object:
    if v is None:
        return None
    if isinstance(v, float) and v != v:  # NaN
        return None
    if isinstance(v, str) and not v.strip():
        return None
    return v


Concepts = Annotated[tuple[str, ...], BeforeValidator(_concepts)]
OptStr = Annotated[str | None, BeforeValidator(_none_if_blank)]
OptFloat = Annotated[float | None, BeforeValidator(_none_if_blank)]
OptInt = Annotated[int | None, BeforeValidator(_none_if_blank)]


class ResourceRow(BaseModel):
    """One catalogue row (``concept_ids`` also accepts ``"a;b"`` strings).

    Examples
    --------
    >>> r = ResourceRow(resource_id="r1", type="微课", concept_ids="m7.eq1;m7.eq2", minutes=8)
    >>> r.type, r.concept_ids, r.title, r.is_quality
    ('video', ('m7.eq1', 'm7.eq2'), 'r1', False)
    """

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    resource_id: str = Field(min_length=1)
    title: OptStr = None
    type: str = Field(min_length=1)
    concept_ids: Concepts = ()
    grade: OptInt = Field(default=None, ge=1, le=12)
    subject: OptStr = None
    minutes: OptFloat = Field(default=None, gt=0, le=24 * 60)
    difficulty: OptFloat = Field(default=None, ge=0, le=1)
    source: OptStr = None
    is_quality: bool = False

    @field_validator("resource_id", mode="before")
    @classmethod
    def _id_str(cls, v: object) -> object:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v) if v is not None and not (isinstance(v, float) and v != v) else v

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, v: object) -> object:
        return normalise_type(v) if isinstance(v, str) else v

    @field_validator("is_quality", mode="before")
    @classmethod
    def _flag(cls, v: object) -> object:
        v = _none_if_blank(v)
        if v is None:
            return False
        if isinstance(v, str) and v.strip().lower() in ("是", "y"):
            return True
        if isinstance(v, str) and v.strip().lower() in ("否", "n"):
            return False
        return v

    def model_post_init(self, __context: object) -> None:
        if self.title is None:
            self.title = self.resource_id


class UsageRow(BaseModel):
    """One use of a resource by a student (schema of a usage record)."""

    student_id: str = Field(min_length=1)
    resource_id: str = Field(min_length=1)
    timestamp: OptStr = None
    minutes: OptFloat = Field(default=None, ge=0)
    completed: bool | None = None
    progress: OptFloat = Field(default=None, ge=0, le=1)


class RatingRow(BaseModel):
    """One rating of a resource by a student, 1 (poor) to 5 (excellent)."""

    student_id: str = Field(min_length=1)
    resource_id: str = Field(min_length=1)
    rating: float = Field(ge=1, le=5)
    timestamp: OptStr = None
