"""Students' data rights: export, erasure, and pseudonymised research exports.

- :func:`export_student` gives everything stored about one student (record, classes,
  answers, mastery snapshot, tokens' metadata) as one JSON-ready dict.
- :func:`erase_student` removes the student: answers, mastery snapshot, enrolments,
  tokens and the student record, in one transaction; the per-item aggregates are
  recomputed from the remaining answers; stored models trained on the student's
  answers are reported (inactive ones are deleted; the active one is flagged until the
  next refit, which :class:`edu_recsys.store.serving.Serving` runs on erasure by default).
- :func:`research_export` gives every answer with the student id replaced by a salted
  HMAC-SHA-256 pseudonym; no names, no event ids (they may embed real ids), no class.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

import pandas as pd
from sqlalchemy import delete, func, select

from edu_recsys.exceptions import UnknownIdError
from edu_recsys.store.models import (
    ApiToken,
    Enrolment,
    FittedModel,
    Interaction,
    ItemStat,
    Student,
    StudentMastery,
    utcnow,
)

__all__ = ["export_student", "erase_student", "research_export", "pseudonym"]


def _iso(v):
    return v.isoformat() if v is not None else None


def export_student(store, student_id: str) -> dict:
    """Everything the store holds about one student (raises UnknownIdError)."""
    from edu_recsys.store.tokens import _info

    info = store.get_student(student_id)
    rows = store.interactions(students=[student_id], order="seq")
    answers = []
    for r in rows.to_dict("records"):
        answers.append(
            {
                "event_id": r["event_id"],
                "item_id": r["item_id"],
                "concept_ids": list(r["concept_ids"]),
                "correct": int(r["correct"]),
                "score": None if pd.isna(r.get("score", None)) else float(r["score"]),
                "timestamp": None if pd.isna(r["timestamp"]) else r["timestamp"].isoformat(),
                "duration_s": None if pd.isna(r["duration_s"]) else float(r["duration_s"]),
                "resource_id": r["resource_id"],
            }
        )
    with store.session() as s:
        snap = s.get(StudentMastery, student_id)
        tokens = s.scalars(select(ApiToken).where(ApiToken.student_id == student_id)).all()
        mastery = (
            {
                "model_id": snap.model_id,
                "mastery": snap.mastery,
                "n_answers": snap.n_answers,
                "updated_at": _iso(snap.updated_at),
            }
            if snap
            else None
        )
        token_info = [_info(t).to_dict() for t in tokens]
    return {
        "student": info,
        "interactions": answers,
        "mastery": mastery,
        "tokens": token_info,
        "exported_at": utcnow().isoformat(),
    }


def erase_student(store, student_id: str) -> dict:
    """Remove a student and everything derived from their answers (one transaction).

    Returns counts of what was removed and ``models_trained_on_student`` (ids of the
    active model when it was fitted on the student's answers: refit it).
    """
    from edu_recsys.store.ingest import lock_writers

    with store.session(write=True) as s:
        lock_writers(s)
        if s.get(Student, student_id) is None:
            raise UnknownIdError("student", student_id)
        first_seq = s.scalar(
            select(func.min(Interaction.seq)).where(Interaction.student_id == student_id)
        )
        items = s.scalars(
            select(Interaction.item_id).where(Interaction.student_id == student_id).distinct()
        ).all()
        n_answers = s.execute(
            delete(Interaction).where(Interaction.student_id == student_id)
        ).rowcount
        n_mastery = s.execute(
            delete(StudentMastery).where(StudentMastery.student_id == student_id)
        ).rowcount
        n_enrol = s.execute(delete(Enrolment).where(Enrolment.student_id == student_id)).rowcount
        n_tokens = s.execute(delete(ApiToken).where(ApiToken.student_id == student_id)).rowcount
        s.execute(delete(Student).where(Student.student_id == student_id))
        # aggregates recomputed from what remains
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            s.execute(delete(ItemStat).where(ItemStat.item_id.in_(chunk)))
            agg = s.execute(
                select(
                    Interaction.item_id,
                    func.count(),
                    func.coalesce(func.sum(Interaction.correct), 0),
                )
                .where(Interaction.item_id.in_(chunk))
                .group_by(Interaction.item_id)
            ).all()
            s.add_all(ItemStat(item_id=it, n_answers=int(n), n_correct=int(k)) for it, n, k in agg)
        # models fitted on the student's answers: inactive ones go, the active one is flagged
        trained = []
        if first_seq is not None:
            trained_rows = s.scalars(
                select(FittedModel).where(FittedModel.last_seq >= first_seq)
            ).all()
            for m in trained_rows:
                if m.active:
                    trained.append(int(m.model_id))
                else:
                    s.delete(m)
            if trained:
                store.set_meta("active_model_has_erased_data", json.dumps(trained), session=s)
        store.bump_generation(s)
    return {
        "student_id": student_id,
        "erased": True,
        "interactions_deleted": int(n_answers or 0),
        "mastery_snapshots_deleted": int(n_mastery or 0),
        "enrolments_deleted": int(n_enrol or 0),
        "tokens_deleted": int(n_tokens or 0),
        "items_recomputed": len(items),
        "models_trained_on_student": trained,
    }


def pseudonym(student_id: str, salt: bytes) -> str:
    """The salted pseudonym of an id: ``p`` + 24 hex digits of HMAC-SHA-256.

    Examples
    --------
    >>> pseudonym("s1", b"salt") == pseudonym("s1", b"salt") != pseudonym("s1", b"other")
    True
    """
    return "p" + hmac.new(salt, student_id.encode("utf-8"), hashlib.sha256).hexdigest()[:24]


def research_export(
    store,
    *,
    salt: str | bytes | None = None,
    students: list[str] | None = None,
    time_resolution: str | None = None,
) -> pd.DataFrame:
    """Answers for research with salted-hash student ids and no names.

    Parameters
    ----------
    salt : str or bytes, optional
        Secret salt of the pseudonyms. The same salt gives the same pseudonyms (so that
        exports can be joined); when omitted a random salt is used and thrown away, so
        the export cannot be linked to any other. Keep a given salt secret: with it,
        anyone holding the real ids can re-identify the rows.
    students : list of str, optional
        Only these students.
    time_resolution : str, optional
        Floor timestamps to this pandas frequency (e.g. ``"D"``) to blur them.

    Returns
    -------
    DataFrame
        Canonical columns with ``student_id`` pseudonymised; ``event_id`` dropped.
    """
    if salt is None:
        salt_b = secrets.token_bytes(32)
    else:
        salt_b = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    df = store.interactions(students=students).drop(columns=["event_id", "seq"])
    ids = df["student_id"].unique()
    mapping = {sid: pseudonym(sid, salt_b) for sid in ids}
    df["student_id"] = df["student_id"].map(mapping)
    if time_resolution:
        df["timestamp"] = df["timestamp"].dt.floor(time_resolution)
    df.attrs["pseudonymised"] = True
    return df
