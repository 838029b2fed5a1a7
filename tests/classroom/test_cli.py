"""The command line: edu-recsys demo (the main job's smoke test) and class-report."""

from __future__ import annotations

import json

import pytest

from edu_recsys.cli import main

mastery = pytest.importorskip("edu_recsys.mastery")
if not hasattr(mastery, "make_model"):  # pragma: no cover - only while the module lands
    pytest.skip("edu_recsys.mastery.make_model not in this build", allow_module_level=True)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The contract: `edu-recsys demo` with its defaults (40 students, 3 weeks)."""
    d = tmp_path_factory.mktemp("demo")
    db = d / "demo.sqlite"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(
            ["demo", "--db", str(db), "--out", str(d / "out"), "--json", str(d / "run.json")]
        )
    return code, buf.getvalue(), d, db


def test_demo_smoke(demo_run):
    code, out, d, db = demo_run
    assert code == 0
    for needle in ("班级学情报告", "最薄弱的知识点", "分层教学小组", "个性化作业", "学习路径"):
        assert needle in out
    html = (d / "out" / "class_report.html").read_text(encoding="utf-8")
    assert "八年级1班" in html and "data:image/png;base64," in html
    for name in ("heatmap", "weakest", "graph"):
        assert (d / "out" / "plots" / f"{name}.png").stat().st_size > 1000
    report = json.loads((d / "out" / "class_report.json").read_text(encoding="utf-8"))
    assert report["report"]["summary"]["n_students"] == 40
    hw = report["homework"]
    assert hw["budget"]["budget_minutes"] == pytest.approx(30.0)
    assert max(s["minutes"] for s in hw["summary"]) <= 30.0
    run = json.loads((d / "run.json").read_text(encoding="utf-8"))
    assert run["answers"] > 1000


def test_class_report_on_the_demo_store(demo_run, tmp_path, capsys):
    _, _, _, db = demo_run
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code = main(
        [
            "class-report",
            "--db",
            str(db),
            "--class-id",
            "demo-8-1",
            "--lang",
            "en",
            "--json",
            str(out_json),
            "--html",
            str(out_html),
            "--budget",
            "20",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "Class report" in text and "Weakest concepts" in text
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["homework"]["budget"]["budget_minutes"] == pytest.approx(20.0)
    assert data["class"]["class_id"] == "demo-8-1"
    assert '<html lang="en">' in out_html.read_text(encoding="utf-8")


def test_demo_storage_is_idempotent(tmp_path):
    from edu_recsys.cli.demo import _store_class
    from edu_recsys.graph import load_graph
    from edu_recsys.resources import synthetic_catalogue
    from edu_recsys.simulate import simulate_class
    from edu_recsys.store import Store

    G = load_graph("math-7-9")
    sim = simulate_class(G, n_students=4, weeks=1, random_state=0, grade=8, class_id="demo-x")
    cat = synthetic_catalogue(G, per_concept=1, random_state=0).resources
    with Store(str(tmp_path / "s.sqlite")) as store:
        ids, first = _store_class(store, G, sim, cat, "demo-x", "m8.triangle", 0, "en")
        _, again = _store_class(store, G, sim, cat, "demo-x", "m8.triangle", 0, "en")
        assert first.inserted == len(sim.interactions) and again.inserted == 0
        assert store.roster("demo-x")["student_id"].tolist() == ids
        info = store.get_class("demo-x")
        assert info["grade"] == 8 and info["graph_id"] == "math-7-9"
        assert len(store.interactions(students=ids)) == len(sim.interactions)


def test_class_report_errors(tmp_path, capsys):
    from edu_recsys.store import Store

    db = tmp_path / "e.sqlite"
    with Store(str(db)) as s:
        s.upsert_class("c-no-graph", grade=8, student_ids=["a"])
    assert main(["class-report", "--db", str(db), "--class-id", "nope"]) == 2
    assert "unknown class" in capsys.readouterr().err
    assert main(["class-report", "--db", str(db), "--class-id", "c-no-graph"]) == 2
    assert "no subject graph" in capsys.readouterr().err
