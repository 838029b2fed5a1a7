"""Hot one-row reads (token lookup, store version) off SQLAlchemy's execution path."""

from __future__ import annotations

import threading

from sqlalchemy import text

from edu_recsys.store import Store
from edu_recsys.store.tokens import _LOOKUP_SQL, hash_token


def test_typed_rows_equal_sqlalchemys(store):
    store.upsert_class("c1", student_ids=["s1"])
    token, _ = store.create_token("teacher", class_ids=["c1"], expires_in_days=3)
    with store.engine.connect() as c:
        slow = tuple(c.execute(_LOOKUP_SQL, {"h": hash_token(token)}).first())
    fast = store.fast_first(_LOOKUP_SQL, {"h": hash_token(token)})
    assert fast == slow  # datetimes tz-aware UTC, JSON decoded, same types
    assert fast[7].tzinfo is not None and fast[5] == ["c1"]
    assert store.fast_first(_LOOKUP_SQL, {"h": "0" * 64}) is None


def test_sqlite_thread_connections_see_commits_and_bypass_the_pool(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    q = text("SELECT count(*) FROM students")
    assert store.fast_first(q) == (0,)
    store.upsert_class("c1", student_ids=["s1", "s2"])  # committed by a pooled connection
    assert store.fast_first(q) == (2,)  # the thread's connection keeps no old snapshot
    # every pooled connection busy: a hot read must not wait for one (the event loop)
    held = []
    pool = store.engine.pool
    for _ in range(pool.size() + pool._max_overflow):
        held.append(store.engine.raw_connection())
    got = []
    t = threading.Thread(target=lambda: got.append(store.fast_first(q)))
    t.start()
    t.join(timeout=10)
    assert got == [(2,)]
    for c in held:
        c.close()
    conn = store._fast_conns.get()
    store.close()
    try:
        conn.execute("SELECT 1")
        closed = False
    except Exception:
        closed = True
    assert closed, "Store.close() leaves per-thread connections open"
