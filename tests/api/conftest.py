"""API fixtures: a store with two classes, a tiny graph, a catalogue and one token per role."""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass

import networkx as nx
import pandas as pd
import pytest

warnings.filterwarnings("ignore", message=".*httpx2.*")

from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from edu_recsys.store import Store  # noqa: E402


def tiny_graph() -> nx.DiGraph:
    g = nx.DiGraph(subject="math", name="tiny", items={"q1": ["a"], "q2": ["b"], "q3": ["c"]})
    for cid, name, grade in (("a", "有理数", 7), ("b", "方程", 7), ("c", "函数", 8)):
        g.add_node(cid, name=name, name_en=cid, grade=grade, subject="math", unit="u" + cid)
    g.add_edge("a", "b", relation="prerequisite")
    g.add_edge("b", "c", relation="prerequisite")
    return g


RESOURCES = [
    {
        "resource_id": f"r{i}",
        "title": f"微课 {i}",
        "type": "video" if i % 2 else "exercise_set",
        "concept_ids": [c],
        "grade": 7,
        "subject": "math",
        "minutes": 5.0 + i,
        "difficulty": 0.1 * i,
        "source": "city",
        "is_quality": i % 3 == 0,
    }
    for i, c in enumerate("aabbcc")
]


def answers(n: int = 6, start: int = 0, students=("s1", "s2", "s3")) -> list[dict]:
    return [
        {
            "student_id": students[k % len(students)],
            "item_id": f"q{k % 3 + 1}",
            "concept_ids": ["abc"[k % 3]],
            "correct": int(k % 4 != 0),
            "timestamp": f"2026-03-01T08:{k // 60:02d}:{k % 60:02d}Z",
            "duration_s": 20 + k,
            "event_id": f"ev{k}",
        }
        for k in range(start, start + n)
    ]


@dataclass
class World:
    store: Store
    client: TestClient
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    @staticmethod
    def answers(n: int = 6, start: int = 0, students=("s1", "s2", "s3")) -> list[dict]:
        """``n`` valid answers with event ids ``ev<start>`` ..."""
        return answers(n, start, students)


def seed_store(path) -> tuple[Store, dict[str, str]]:
    store = Store(path)
    store.put_graph("tiny", tiny_graph())
    store.upsert_class(
        "c1",
        name="八年级1班",
        grade=8,
        graph_id="tiny",
        teacher_ids=["t1"],
        student_ids=[{"student_id": "s1", "name": "张三"}, {"student_id": "s2", "name": "李四"}],
    )
    store.upsert_class("c2", name="八年级2班", grade=8, teacher_ids=["t2"], student_ids=["s3"])
    store.upsert_resources(RESOURCES)
    tokens = {
        "admin": store.create_token("admin")[0],
        "teacher": store.create_token("teacher", class_ids=["c1"])[0],
        "teacher_t2": store.create_token("teacher", teacher_id="t2")[0],
        "student": store.create_token("student", student_id="s1")[0],
        "student_s3": store.create_token("student", student_id="s3")[0],
        "ingest": store.create_token("ingest")[0],
    }
    return store, tokens


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    """One seeded database file per session; each test works on a copy of it."""
    path = tmp_path_factory.mktemp("template") / "api.sqlite"
    store, tokens = seed_store(path)
    with store.engine.connect() as c:  # fold the WAL into the file before copying
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, tokens


def make_world(directory, template, **settings) -> World:
    src, tokens = template
    directory.mkdir(parents=True, exist_ok=True)
    dst = directory / "api.sqlite"
    shutil.copyfile(src, dst)
    store = Store(dst)
    app = create_app(Settings(**settings), store=store)
    return World(store=store, client=TestClient(app), tokens=dict(tokens))


@pytest.fixture
def world(tmp_path, seeded_template):
    w = make_world(tmp_path, seeded_template)
    yield w
    w.store.close()


@pytest.fixture
def world_with(tmp_path, seeded_template):
    """A factory of worlds with other settings (e.g. smaller limits)."""
    made: list[World] = []

    def factory(**settings) -> World:
        w = make_world(tmp_path / f"w{len(made)}", seeded_template, **settings)
        made.append(w)
        return w

    yield factory
    for w in made:
        w.store.close()


@pytest.fixture(scope="module")
def module_world(tmp_path_factory, seeded_template):
    """A world with answers and a fitted model (the real one when this build has it)."""
    from edu_recsys.store.serving import feature_status
    from edu_recsys.store.testing import CountsTracer

    w = make_world(tmp_path_factory.mktemp("module_world"), seeded_template)
    serving = w.client.app.state.serving
    serving.ingest(pd.DataFrame(answers(60)))
    if feature_status()["mastery"]:
        serving.refit()
    else:
        w.store.save_model(CountsTracer(), name="counts")
    yield w
    w.store.close()


@pytest.fixture(scope="module")
def api_schema(module_world):
    import schemathesis

    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", module_world.client.app)


@pytest.fixture(scope="module")
def api_admin_headers(module_world) -> dict[str, str]:
    return module_world.h("admin")
