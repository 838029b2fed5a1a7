"""Class and student recommendations use grade-calibrated online mastery."""

from __future__ import annotations

import pytest

from edu_recsys.store import testing

V1 = "/api/v1"


@pytest.fixture
def high_fallback(monkeypatch):
    """Online mastery like the library's tracers: a population value (0.9) for every
    concept the student never answered, which the calibration must not trust."""
    real = testing._CountsState.mastery

    def mastery(self, student_id):
        return {**dict.fromkeys("abc", 0.9), **real(self, student_id)}

    monkeypatch.setattr(testing._CountsState, "mastery", mastery)


def _setup(world, grade, class_id="c1"):
    # "c0" sorts before c1: the class a student's own recommendations take the grade from
    world.store.upsert_class(
        class_id,
        name="七年级1班",
        grade=grade,
        graph_id="tiny",
        teacher_ids=["t1"],
        student_ids=[{"student_id": "s1", "name": "张三"}, {"student_id": "s2", "name": "李四"}],
    )
    h = world.h("admin")
    # s1 answers only concept a, s2 only b, s3 only c (see conftest.answers)
    r = world.client.post(f"{V1}/interactions", json={"interactions": world.answers(60)}, headers=h)
    assert r.status_code == 200
    # ... and then masters a and b: c (grade 8) is next, but s1 never answered it
    good = [
        {
            "student_id": "s1",
            "item_id": "q1" if c == "a" else "q2",
            "concept_ids": [c],
            "correct": 1,
            "event_id": f"good-{c}{k}",
            "timestamp": f"2026-03-05T08:00:{k:02d}Z",
        }
        for c in "ab"
        for k in range(20)
    ]
    r = world.client.post(f"{V1}/interactions", json={"interactions": good}, headers=h)
    assert r.status_code == 200
    world.store.save_model(testing.CountsTracer(), name="counts")
    return h


def _rows(world, h, student, class_id="c1"):
    one = world.client.get(f"{V1}/students/{student}/recommendations", params={"k": 10}, headers=h)
    url = f"{V1}/classes/{class_id}/recommendations"
    cls = world.client.get(url, params={"k": 10}, headers=h)
    assert one.status_code == 200 and cls.status_code == 200
    in_class = next(s["items"] for s in cls.json()["students"] if s["student_id"] == student)
    return one.json()["items"], in_class


def test_later_grade_concept_without_answers_is_calibrated_down(world, high_fallback):
    pytest.importorskip("edu_recsys.recommend")
    h = _setup(world, grade=7)
    for items in _rows(world, h, "s1"):
        by_concept = {}
        for it in items:
            by_concept.setdefault(it["concept_id"], it)
        # c is a grade-8 concept s1 never answered: the tracer's 0.9 is not trusted
        assert "c" in by_concept
        c = by_concept["c"]
        assert c["mastery"] <= 0.5
        assert "calibrated" in c["fallback"].split(";")
        assert c["calibration"] == "not_yet_learned"
        # a and b are answered: the tracer's values are kept, no flag
        for it in items:
            if it["concept_id"] in ("a", "b"):
                assert it["calibration"] == "" and "calibrated" not in it["fallback"]


def test_class_without_grade_keeps_uncalibrated_mastery(world, high_fallback):
    pytest.importorskip("edu_recsys.recommend")
    h = _setup(world, grade=None, class_id="c0")
    assert world.store.get_class("c0")["grade"] is None
    for items in _rows(world, h, "s1", class_id="c0"):
        assert all("calibrated" not in it["fallback"] for it in items)
        # c is taken as mastered (the tracer's 0.9 as given): not recommended
        assert all(it["concept_id"] != "c" for it in items)
