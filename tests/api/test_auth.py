"""Authentication and the auth matrix: every role against every route family.

Allowed means "neither 401 nor 403" (the route may still say 404/503 for its own
reasons); forbidden means exactly 403; no or a bad token means exactly 401.
"""

from __future__ import annotations

import logging

import pytest

ANSWER = {
    "student_id": "s1",
    "item_id": "q1",
    "concept_ids": ["a"],
    "correct": 1,
    "event_id": "auth-1",
}
ROLES = ("admin", "teacher", "teacher_t2", "student", "student_s3", "ingest")

# (family, method, path, json body, roles allowed)
ROUTES = [
    (
        "graphs",
        "GET",
        "/api/v1/graphs",
        None,
        {"admin", "teacher", "teacher_t2", "student", "student_s3"},
    ),
    (
        "graphs",
        "GET",
        "/api/v1/graphs/tiny",
        None,
        {"admin", "teacher", "teacher_t2", "student", "student_s3"},
    ),
    (
        "graphs",
        "POST",
        "/api/v1/graphs/validate",
        {"curriculum": {"subject": "math"}},
        {"admin", "teacher", "teacher_t2"},
    ),
    ("graphs", "PUT", "/api/v1/graphs/new", {"curriculum": {"subject": "math"}}, {"admin"}),
    (
        "resources",
        "GET",
        "/api/v1/resources",
        None,
        {"admin", "teacher", "teacher_t2", "student", "student_s3"},
    ),
    (
        "resources",
        "PUT",
        "/api/v1/resources",
        {"resources": [{"resource_id": "rx", "title": "t", "type": "video"}]},
        {"admin"},
    ),
    (
        "interactions",
        "POST",
        "/api/v1/interactions",
        {"interactions": [ANSWER]},
        {"admin", "ingest"},
    ),
    (
        "interactions",
        "POST",
        "/api/v1/interactions/xapi",
        {"statements": [{"verb": {"id": "x"}}]},
        {"admin", "ingest"},
    ),
    ("students", "GET", "/api/v1/students/s1/mastery", None, {"admin", "teacher", "student"}),
    (
        "students",
        "GET",
        "/api/v1/students/s1/recommendations",
        None,
        {"admin", "teacher", "student"},
    ),
    ("students", "GET", "/api/v1/students/s1/path?target=c", None, {"admin", "teacher", "student"}),
    ("students", "GET", "/api/v1/students/s1/export", None, {"admin", "student"}),
    ("students", "GET", "/api/v1/students/s3/mastery", None, {"admin", "teacher_t2", "student_s3"}),
    ("students", "DELETE", "/api/v1/students/s2?refit=false", None, {"admin"}),
    ("classes", "GET", "/api/v1/classes", None, {"admin", "teacher", "teacher_t2"}),
    ("classes", "GET", "/api/v1/classes/c1", None, {"admin", "teacher"}),
    ("classes", "GET", "/api/v1/classes/c2", None, {"admin", "teacher_t2"}),
    ("classes", "PUT", "/api/v1/classes/c9", {"grade": 7}, {"admin"}),
    ("classes", "GET", "/api/v1/classes/c1/report", None, {"admin", "teacher"}),
    ("classes", "GET", "/api/v1/classes/c1/recommendations", None, {"admin", "teacher"}),
    ("classes", "GET", "/api/v1/classes/c1/homework", None, {"admin", "teacher"}),
    ("classes", "GET", "/api/v1/classes/c1/groups", None, {"admin", "teacher"}),
    ("classes", "GET", "/api/v1/classes/c1/dashboard", None, {"admin", "teacher"}),
    ("models", "GET", "/api/v1/models", None, {"admin"}),
    ("models", "POST", "/api/v1/refit", {}, {"admin"}),
    ("exports", "POST", "/api/v1/exports/research", {}, {"admin"}),
]


@pytest.mark.parametrize(
    ("family", "method", "path", "body", "allowed"),
    ROUTES,
    ids=[f"{r[1]} {r[2]}" for r in ROUTES],
)
def test_auth_matrix(world, family, method, path, body, allowed):
    c = world.client
    # no token, a malformed header, an unknown token: 401 with a Bearer challenge
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer edu_" + "x" * 43},
    ):
        r = c.request(method, path, json=body, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"] == "unauthorized"
    for role in ROLES:
        r = c.request(method, path, json=body, headers=world.h(role))
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)
            assert r.json()["error"] == "forbidden"


def test_health_needs_no_token(world):
    r = world.client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_revoked_and_expired_tokens_get_401(world):
    from edu_recsys.store import revoke_token

    token, info = world.store.create_token("admin")
    h = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/v1/models", headers=h).status_code == 200
    revoke_token(world.store, info.token_id)
    assert world.client.get("/api/v1/models", headers=h).status_code == 401


def test_teacher_token_by_teacher_id_follows_the_teachers_classes(world):
    h = world.h("teacher_t2")
    assert world.client.get("/api/v1/classes/c1", headers=h).status_code == 403
    world.store.upsert_class("c1", teacher_ids=["t1", "t2"])  # t2 now teaches c1 too
    assert world.client.get("/api/v1/classes/c1", headers=h).status_code == 200
    listed = world.client.get("/api/v1/classes", headers=h).json()
    assert [c["class_id"] for c in listed["items"]] == ["c1", "c2"]


def test_unknown_ids_do_not_leak_to_non_admins(world):
    c = world.client
    # a teacher cannot learn whether a class or student exists outside their scope
    assert c.get("/api/v1/classes/zz", headers=world.h("teacher")).status_code == 403
    assert c.get("/api/v1/students/zz/mastery", headers=world.h("teacher")).status_code == 403
    # admins get 404
    assert c.get("/api/v1/classes/zz", headers=world.h("admin")).status_code == 404
    assert c.get("/api/v1/students/zz/mastery", headers=world.h("admin")).status_code == 404


def test_cookie_login_works_for_pages_only(world):
    c = world.client
    r = c.post(
        "/api/v1/login",
        content=f"token={world.tokens['teacher']}&next=/api/v1/home",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/api/v1/home"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    home = c.get("/api/v1/home")
    assert home.status_code == 200 and "八年级1班" in home.text and "八年级2班" not in home.text
    # the cookie authenticates GETs ...
    assert c.get("/api/v1/classes/c1").status_code == 200
    # ... but never a write
    r = c.post("/api/v1/interactions", json={"interactions": world.answers(1)})
    assert r.status_code == 401
    c.post("/api/v1/logout")
    c.cookies.clear()
    assert c.get("/api/v1/classes/c1").status_code == 401


def test_login_rejects_bad_tokens_and_offsite_redirects(world):
    c = world.client
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = c.post("/api/v1/login", content="token=edu_nope", headers=form)
    assert r.status_code == 401 and "令牌无效" in r.text
    r = c.post("/api/v1/login", content=f"token={world.tokens['student']}", headers=form)
    assert r.status_code == 401  # students have no teacher pages
    r = c.post(
        "/api/v1/login",
        content=f"token={world.tokens['admin']}&next=//evil.example/x",
        headers=form,
        follow_redirects=False,
    )
    assert r.headers["location"] == "/api/v1/home"
    # a browser without a cookie is sent to the login page, with where it wanted to go
    c.cookies.clear()
    r = c.get(
        "/api/v1/classes/c1/dashboard", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/api/v1/login?next=/api/v1/classes/c1/dashboard"


def test_logs_hold_no_names_and_no_tokens(world, caplog):
    caplog.set_level(logging.DEBUG)
    c = world.client
    body = {"name": "王小明", "students": [{"student_id": "s7", "name": "赵小红"}]}
    c.put("/api/v1/classes/c7", json=body, headers=world.h("admin"))
    c.post(
        "/api/v1/interactions", json={"interactions": world.answers(3)}, headers=world.h("ingest")
    )
    c.get("/api/v1/students/s1/export", headers=world.h("admin"))
    c.post(
        "/api/v1/interactions",
        json={"interactions": [{"student_id": "赵小红"}]},
        headers=world.h("ingest"),
    )
    c.get("/api/v1/classes", headers={"Authorization": "Bearer " + world.tokens["admin"] + "z"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records  # the service does log
    for secret in ("王小明", "赵小红", "张三", *world.tokens.values()):
        assert secret not in text


def test_login_form_abuse_is_a_clean_400(world):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = world.client.post(
        "/api/v1/login", content="&".join(f"f{i}=x" for i in range(50)), headers=form
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
