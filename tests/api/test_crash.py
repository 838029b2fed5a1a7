"""Kill a real server in the middle of a batch ingest: after a restart the batch is
either fully stored or not at all, derived state agrees, and a retry completes it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from edu_recsys.store import Store
from edu_recsys.store.models import Interaction, ItemStat, StudentMastery
from edu_recsys.store.testing import CountsTracer

pytestmark = pytest.mark.slow

N = 10_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "EDU_RECSYS_MAX_BATCH_ROWS": str(N),
        "EDU_RECSYS_MAX_BODY_BYTES": str(64 * 1024 * 1024),
    }
    cmd = [
        sys.executable,
        "-m",
        "edu_recsys",
        "serve",
        "--db",
        str(db),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/classes", timeout=1).status_code == 401:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 90 s")


def batch(tag: str) -> list[dict]:
    return [
        {
            "student_id": f"s{k % 40}",
            "item_id": f"q{k % 300}",
            "concept_ids": [f"c{k % 25}"],
            "correct": k % 3 != 0,
            "timestamp": f"2026-04-{1 + k // 10_000:02d}T{(k // 600) % 24:02d}:"
            f"{(k // 10) % 60:02d}:{k % 10:02d}Z",
            "event_id": f"{tag}-{k}",
        }
        for k in range(N)
    ]


def state_of(db: Path, tag: str) -> dict:
    store = Store(db)
    try:
        with store.session() as s:
            n = s.scalar(select(func.count()).where(Interaction.event_id.like(f"{tag}-%")))
            total = s.scalar(select(func.count()).select_from(Interaction))
            stats = s.scalar(select(func.coalesce(func.sum(ItemStat.n_answers), 0)))
            snap = s.scalar(select(func.coalesce(func.sum(StudentMastery.n_answers), 0)))
            ok = s.execute(text("PRAGMA integrity_check")).scalar()
        return {"batch": n, "total": total, "stats": stats, "snapshots": snap, "integrity": ok}
    finally:
        store.close()


def test_killed_mid_ingest_leaves_all_or_nothing(tmp_path):
    db = tmp_path / "crash.sqlite"
    store = Store(db)
    token, _ = store.create_token("ingest")
    # a fitted model, so that the ingest also writes mastery snapshots in its transaction
    store.save_model(CountsTracer(), name="counts")
    store.close()
    wal = Path(str(db) + "-wal")
    log = tmp_path / "server.log"
    port = free_port()
    headers = {"Authorization": f"Bearer {token}"}
    killed_mid_write = False
    tag = ""
    proc = start_server(db, port, log)
    try:
        for attempt in range(3):
            tag = f"b{attempt}"
            body = batch(tag)
            base = wal.stat().st_size if wal.exists() else 0
            done = threading.Event()

            def send(body=body, done=done):
                try:
                    httpx.post(
                        f"http://127.0.0.1:{port}/api/v1/interactions",
                        json={"interactions": body},
                        headers=headers,
                        timeout=120,
                    )
                except httpx.HTTPError:
                    pass  # the server died under us: expected
                finally:
                    done.set()

            threading.Thread(target=send, daemon=True).start()
            # kill as soon as the transaction has started writing pages to the WAL
            while not done.is_set():
                size = wal.stat().st_size if wal.exists() else 0
                if size > base + 64 * 1024:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_mid_write = True
                    break
                time.sleep(0.002)
            proc.wait(timeout=30)
            done.wait(timeout=30)
            if killed_mid_write:
                break
            proc = start_server(db, port, log)  # the batch finished first: try again
        assert killed_mid_write, "never caught the server in the middle of a write"
        after = state_of(db, tag)
        assert after["integrity"] == "ok"
        assert after["batch"] in (0, N), after
        # aggregates commit with the answers; mastery snapshots are written behind
        assert after["stats"] == after["total"] >= after["snapshots"]
        # restart and retry the same batch: it completes, nothing is counted twice
        proc = start_server(db, port, log)
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/interactions",
            json={"interactions": batch(tag)},
            headers=headers,
            timeout=120,
        )
        assert r.status_code == 200, r.text
        assert r.json()["inserted"] == N - after["batch"]
        assert r.json()["duplicates"] == after["batch"]
        final = state_of(db, tag)
        assert final["batch"] == N and final["stats"] == final["total"]
        # the restarted service brings every lagging snapshot up to date
        deadline = time.monotonic() + 30
        while final["snapshots"] != final["total"] and time.monotonic() < deadline:
            time.sleep(0.2)
            final = state_of(db, tag)
        assert final["snapshots"] == final["total"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
