"""xAPI ("Experience API") statements to interactions.

Learning platforms emit xAPI statements; an answer is a statement whose verb is
``answered`` (``http://adlnet.gov/expapi/verbs/answered``) with a ``result``. The
mapping is:

===================  =====================================================================
canonical            statement field
===================  =====================================================================
student_id           ``actor.account.name``, else ``actor.mbox`` / ``actor.openid`` / name
item_id              ``object.id``
concept_ids          ``context.extensions[<concept extension>]`` (list or ``;`` string),
                     else ``object.definition.extensions[<concept extension>]``
correct              ``result.success`` (bool); else ``result.score.scaled == 1``
score                ``result.score.scaled`` (when present, clipped to [0, 1])
timestamp            ``timestamp``
duration_s           ``result.duration`` (ISO 8601 duration, e.g. ``PT1M30S``)
event_id             ``id``
===================  =====================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from edu_recsys.exceptions import InvalidDataError

__all__ = ["from_xapi", "ANSWERED_VERB", "CONCEPT_EXTENSION", "parse_iso_duration"]

ANSWERED_VERB = "http://adlnet.gov/expapi/verbs/answered"
#: Extension key under which statements list the concepts (knowledge points) of an item.
CONCEPT_EXTENSION = "https://edu-recsys.org/xapi/concepts"

_DUR = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_iso_duration(text: str) -> float:
    """Seconds in an ISO 8601 duration such as ``PT1M30S``.

    Examples
    --------
    >>> parse_iso_duration("PT1M30.5S")
    90.5
    """
    m = _DUR.match(text.strip())
    if not m or text.strip() in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    g = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
    return g["d"] * 86400 + g["h"] * 3600 + g["m"] * 60 + g["s"]


def _actor_id(actor: Mapping[str, Any]) -> str | None:
    acct = actor.get("account") or {}
    for v in (
        acct.get("name"),
        actor.get("mbox"),
        actor.get("openid"),
        actor.get("mbox_sha1sum"),
        actor.get("name"),
    ):
        if v:
            return str(v)
    return None


def _concepts(st: Mapping[str, Any], key: str) -> Any:
    for ext in (
        (st.get("context") or {}).get("extensions") or {},
        ((st.get("object") or {}).get("definition") or {}).get("extensions") or {},
    ):
        if key in ext:
            return ext[key]
    return None


def from_xapi(
    statements: Iterable[Mapping[str, Any]],
    *,
    concept_extension: str = CONCEPT_EXTENSION,
    verbs: Iterable[str] = (ANSWERED_VERB,),
    validate: bool = True,
) -> pd.DataFrame:
    """Interactions from xAPI statements (see the module docstring for the mapping).

    Statements with other verbs are skipped and counted in ``df.attrs["skipped"]``;
    an ``answered`` statement that lacks a field needed for an answer raises
    :class:`InvalidDataError` naming the statement (position and id) and the field.

    Examples
    --------
    >>> st = {"id": "e1", "actor": {"account": {"name": "s1"}},
    ...       "verb": {"id": ANSWERED_VERB},
    ...       "object": {"id": "q7"}, "result": {"success": True, "duration": "PT40S"},
    ...       "context": {"extensions": {CONCEPT_EXTENSION: ["c1", "c2"]}},
    ...       "timestamp": "2026-03-01T08:00:00Z"}
    >>> df = from_xapi([st])
    >>> df[["student_id", "item_id", "concept_ids", "correct", "duration_s"]].values.tolist()
    [['s1', 'q7', ('c1', 'c2'), 1, 40.0]]
    """
    verbs = set(verbs)
    rows: list[dict[str, Any]] = []
    skipped = 0
    for pos, st in enumerate(statements):
        if not isinstance(st, Mapping):
            raise InvalidDataError(
                f"statement {pos} is not an object", rows=[pos], expected="xAPI statement"
            )
        verb = (st.get("verb") or {}).get("id")
        if verb not in verbs:
            skipped += 1
            continue
        sid = st.get("id")
        where = f"statement {pos}" + (f" (id {sid})" if sid else "")

        def fail(field: str, what: str, _where: str = where, _pos: int = pos) -> InvalidDataError:
            return InvalidDataError(f"{_where}: {what}", column=field, rows=[_pos])

        student = _actor_id(st.get("actor") or {})
        if not student:
            raise fail("actor", "no actor account name, mbox or openid")
        item = (st.get("object") or {}).get("id")
        if not item:
            raise fail("object.id", "missing object id")
        result = st.get("result") or {}
        score = (result.get("score") or {}).get("scaled")
        success = result.get("success")
        if success is None and score is None:
            raise fail("result.success", "an answer needs result.success or result.score.scaled")
        if success is not None and not isinstance(success, bool):
            raise fail("result.success", f"expected true/false, got {success!r}")
        correct = int(success) if success is not None else int(float(score) >= 1.0)
        dur = result.get("duration")
        try:
            duration = parse_iso_duration(dur) if dur else None
        except ValueError as e:
            raise fail("result.duration", str(e)) from None
        c = _concepts(st, concept_extension)
        if isinstance(c, str):
            c = [x for x in c.split(";") if x]
        row = {
            "student_id": student,
            "item_id": str(item),
            "concept_ids": tuple(str(x) for x in (c or ())),
            "correct": correct,
            "timestamp": st.get("timestamp"),
            "duration_s": duration,
            "event_id": sid,
        }
        if score is not None:
            row["score"] = min(max(float(score), 0.0), 1.0)
        rows.append(row)
    df = pd.DataFrame(
        rows,
        columns=[
            "student_id",
            "item_id",
            "concept_ids",
            "correct",
            "score",
            "timestamp",
            "duration_s",
            "event_id",
        ],
    )
    if df["score"].isna().all():
        df = df.drop(columns="score")
    if validate:
        from edu_recsys.data.validate import validate_interactions

        df = validate_interactions(df) if len(df) else df
    df.attrs["skipped"] = skipped
    return df
