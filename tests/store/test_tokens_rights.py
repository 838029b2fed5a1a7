"""Tokens (hashed, roles, expiry) and students' data rights (export, erase, research)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select, text, update

from edu_recsys.exceptions import InvalidDataError, UnknownIdError
from edu_recsys.store import pseudonym, revoke_token
from edu_recsys.store.models import ApiToken, ItemStat, StudentMastery
from edu_recsys.store.tokens import list_tokens


@pytest.fixture
def school(store):
    store.upsert_class(
        "c1",
        grade=8,
        teacher_ids=["t1"],
        student_ids=[{"student_id": "s1", "name": "韩梅梅"}, {"student_id": "s2", "name": "李雷"}],
    )
    store.upsert_class("c2", grade=8, student_ids=["s3"])
    rows = []
    for k, sid in enumerate(["s1", "s2", "s1", "s3", "s2", "s1"]):
        rows.append(
            {
                "student_id": sid,
                "item_id": f"q{k % 2}",
                "concept_ids": ("a",),
                "correct": k % 2,
                "event_id": f"ev-{sid}-{k}",
                "timestamp": f"2026-03-0{k + 1}T08:00:00Z",
            }
        )
    store.ingest(pd.DataFrame(rows))
    return store


def test_tokens_are_stored_hashed_and_verified(school):
    token, info = school.create_token("teacher", class_ids=["c1"], label="数学组")
    assert token.startswith("edu_") and len(token) > 40
    with school.engine.connect() as c:
        dump = " ".join(str(v) for row in c.execute(text("SELECT * FROM api_tokens")) for v in row)
    assert token not in dump and token[10:] not in dump
    got = school.verify_token(token)
    assert got == info and got.class_ids == ("c1",) and got.role == "teacher"
    assert school.verify_token(token + "x") is None
    assert school.verify_token("Bearer " + token) is None
    assert school.verify_token("") is None
    assert revoke_token(school, info.token_id)
    assert school.verify_token(token) is None
    assert [t.token_id for t in list_tokens(school)] == []


def test_expired_tokens_fail(school):
    token, info = school.create_token("admin", expires_in_days=1)
    assert school.verify_token(token) is not None
    with school.session(write=True) as s:
        s.execute(
            update(ApiToken).values(
                expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
            )
        )
    assert school.verify_token(token) is None


@pytest.mark.parametrize(
    ("role", "kwargs", "err"),
    [
        ("root", {}, InvalidDataError),
        ("teacher", {}, InvalidDataError),
        ("student", {}, InvalidDataError),
        ("ingest", {"class_ids": ["c1"]}, InvalidDataError),
        ("admin", {"student_id": "s1"}, InvalidDataError),
        ("teacher", {"class_ids": ["nope"]}, UnknownIdError),
        ("student", {"student_id": "nope"}, UnknownIdError),
        ("teacher", {"teacher_id": "nope"}, UnknownIdError),
    ],
)
def test_token_requests_that_make_no_sense_are_refused(school, role, kwargs, err):
    with pytest.raises(err):
        school.create_token(role, **kwargs)
    assert list_tokens(school) == []


def test_export_student_has_everything(school):
    school.create_token("student", student_id="s1")
    out = school.export_student("s1")
    assert out["student"]["name"] == "韩梅梅" and out["student"]["class_ids"] == ["c1"]
    assert [a["event_id"] for a in out["interactions"]] == ["ev-s1-0", "ev-s1-2", "ev-s1-5"]
    assert out["interactions"][0]["timestamp"].startswith("2026-03-01T08:00:00")
    assert len(out["tokens"]) == 1 and out["tokens"][0]["role"] == "student"
    assert "token_hash" not in str(out)
    with pytest.raises(UnknownIdError):
        school.export_student("nope")


def test_erase_student_removes_answers_and_derived_state(school):
    model_id = school.save_model({"fitted": True}, name="default", last_seq=school.max_seq())
    with school.session(write=True) as s:
        s.add(StudentMastery(student_id="s1", model_id=model_id, mastery={"a": 0.7}))
    school.create_token("student", student_id="s1")
    before = school.interactions()
    out = school.erase_student("s1")
    assert out["interactions_deleted"] == 3 and out["mastery_snapshots_deleted"] == 1
    assert out["enrolments_deleted"] == 1 and out["tokens_deleted"] == 1
    assert out["models_trained_on_student"] == [model_id]
    after = school.interactions()
    assert "s1" not in set(after["student_id"])
    assert len(after) == len(before) - 3
    # aggregates are those of the remaining answers
    with school.session() as s:
        stats = {r.item_id: (r.n_answers, r.n_correct) for r in s.scalars(select(ItemStat))}
    want = after.groupby("item_id")["correct"].agg(["size", "sum"])
    assert stats == {k: (int(v["size"]), int(v["sum"])) for k, v in want.iterrows()}
    assert school.roster("c1")["student_id"].tolist() == ["s2"]
    assert not school.student_exists("s1")
    assert school.generation() == 1
    with pytest.raises(UnknownIdError):
        school.erase_student("s1")
    # the other students are untouched
    assert school.export_student("s2")["student"]["name"] == "李雷"


def test_research_export_is_pseudonymised(school):
    a = school.research_export(salt="k1")
    b = school.research_export(salt="k1")
    c = school.research_export(salt="k2")
    real = {"s1", "s2", "s3"}
    assert not real & set(a["student_id"])
    assert a["student_id"].tolist() == b["student_id"].tolist()
    assert set(a["student_id"]).isdisjoint(c["student_id"])
    assert a["student_id"].nunique() == 3
    assert "event_id" not in a.columns and "name" not in a.columns
    text_dump = a.to_csv()
    assert "韩梅梅" not in text_dump and "ev-s1" not in text_dump
    assert set(a["student_id"]) == {pseudonym(s, b"k1") for s in real}
    # random salt: unlinkable to any other export
    assert set(school.research_export()["student_id"]).isdisjoint(a["student_id"])
    day = school.research_export(salt="k1", time_resolution="D")
    assert (day["timestamp"] == day["timestamp"].dt.floor("D")).all()
