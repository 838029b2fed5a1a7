"""``edu-recsys token ...`` and ``edu-recsys serve --refit-only`` (in process)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from edu_recsys.cli import main
from edu_recsys.store import Store
from edu_recsys.store.serving import feature_status


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "cli.sqlite"
    with Store(path) as s:
        s.upsert_class("8-1", grade=8, teacher_ids=["t1"], student_ids=["s1", "s2"])
    return str(path)


def test_token_create_list_revoke(db, capsys, tmp_path):
    assert (
        main(
            [
                "token",
                "create",
                "--role",
                "teacher",
                "--class",
                "8-1",
                "--label",
                "王老师",
                "--db",
                db,
                "--json",
                str(tmp_path / "t.json"),
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    with Store(db) as s:
        info = s.verify_token(token)
    assert info.role == "teacher" and info.class_ids == ("8-1",)
    assert json.loads((tmp_path / "t.json").read_text())["token"] == token
    assert main(["token", "list", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert "王老师" in listed and token not in listed and info.prefix in listed
    assert main(["token", "revoke", str(info.token_id), "--db", db]) == 0
    with Store(db) as s:
        assert s.verify_token(token) is None
    assert main(["token", "revoke", "999", "--db", db]) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["--role", "teacher"],  # no class and no teacher
        ["--role", "teacher", "--class", "nope"],  # unknown class
        ["--role", "student"],  # no student
        ["--role", "ingest", "--student", "s1"],
    ],
)
def test_token_create_refuses_nonsense(db, capsys, argv):
    assert main(["token", "create", *argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edu-recsys token: error:") and err.count("\n") == 1


def test_serve_refit_only(db, capsys):
    with Store(db) as s:
        s.ingest(
            pd.DataFrame(
                {
                    "student_id": ["s1", "s2"] * 10,
                    "item_id": [f"q{k % 3}" for k in range(20)],
                    "concept_ids": [("a",)] * 20,
                    "correct": [k % 2 for k in range(20)],
                    "event_id": [f"e{k}" for k in range(20)],
                }
            )
        )
    rc = main(["serve", "--db", db, "--refit-only"])
    err = capsys.readouterr().err
    if not feature_status()["mastery"]:
        assert rc == 2 and "not available in this build" in err
        return
    assert rc == 0 and "fitted model" in err
    with Store(db) as s:
        assert s.model_info()["n_interactions"] == 20


def test_serve_refuses_several_workers_on_a_memory_database(capsys):
    assert main(["serve", "--db", "sqlite://", "--workers", "2"]) == 2
    assert "memory" in capsys.readouterr().err
