"""The live layer between the store and the domain modules (what the API calls).

:class:`Serving` holds, for one store:

- the active fitted mastery model (loaded from the store, reloaded when another
  process activates a new one);
- the model's **online state** (``tracer.online_state(history)``), kept in step with the
  stored answers: answers ingested through this object update it in O(1) per answer
  inside the ingest transaction (a failed transaction discards the state, which is then
  rebuilt from the store, so it never holds answers that were not stored); answers
  stored by other processes are applied on the next read (by ``seq``); an erasure (the
  store's *generation* changes) or a new model rebuilds it from the stored answers;
- each student's current mastery from that state, reused until the student's next
  answer (``state.mastery`` costs ~10 ms per student; class views and the snapshot
  writer ask for the same students);
- the students' persisted **mastery snapshots** (table ``student_mastery``), written
  behind: students whose state changed are flushed at most every
  ``snapshot_interval`` seconds (coalesced: one computation per student however many
  batches arrived) and with at most :data:`SNAPSHOT_DUTY` of the time, a few students
  per step and never while an ingest is in flight (an ingest waits for one step at
  most); after a restart the students whose snapshot lags their answers are flushed
  again;
- small caches of class-level results keyed by the store's version (newest answer,
  generation, active model, and a counter bumped by every change of the catalogue,
  graphs, classes and rosters), so that repeated requests are cheap and never stale.
  The version is one small read per request (:meth:`Serving.version`, on the store's
  fast path), which is also what keeps several server processes on one database
  consistent: each has its own caches and state, all keyed by the same version.

Everything domain-specific is delegated to the library: ``edu_recsys.mastery``
(``make_model``, tracers), ``edu_recsys.recommend``, ``edu_recsys.paths`` and
``edu_recsys.classroom``. A part that is missing from this build raises
:class:`~edu_recsys.store.errors.NotAvailableError` (the API answers 503).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import logging
import math
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.exceptions import InvalidDataError, UnknownIdError
from edu_recsys.store.errors import ConflictError, NoModelError, NotAvailableError
from edu_recsys.store.ingest import IngestResult
from edu_recsys.store.models import (
    Enrolment,
    FittedModel,
    Interaction,
    SchoolClass,
    StudentMastery,
    utcnow,
)

__all__ = ["Serving", "feature_status", "need", "json_ready"]

log = logging.getLogger(__name__)

#: Library parts the service uses: feature -> (module, attribute that must exist).
FEATURES: dict[str, tuple[str, str]] = {
    "graph": ("edu_recsys.graph", "validate_graph"),
    "mastery": ("edu_recsys.mastery", "make_model"),
    "recommend": ("edu_recsys.recommend", "Recommender"),
    "paths": ("edu_recsys.paths", "plan_path"),
    "classroom": ("edu_recsys.classroom", "class_report"),
}


#: Students whose snapshots are computed in one step (an ingest waits for one step).
SNAPSHOT_STEP = 4
#: Largest share of the time the background writer spends on snapshots.
SNAPSHOT_DUTY = 0.1

_VERSION_SQL = text(
    "SELECT (SELECT max(seq) FROM interactions),"
    " (SELECT value FROM store_meta WHERE key = 'generation'),"
    " (SELECT max(model_id) FROM fitted_models WHERE active),"
    " (SELECT value FROM store_meta WHERE key = 'config_version')"
)


def need(module: str, attr: str, feature: str) -> Any:
    """``module.attr``, or :class:`NotAvailableError` when this build lacks it."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and module.startswith(e.name):
            raise NotAvailableError(feature, module) from None
        raise
    obj = getattr(mod, attr, None)
    if obj is None:
        raise NotAvailableError(feature, module, f"it has no {attr}")
    return obj


def feature_status() -> dict[str, bool]:
    """Which library parts this build has (feature -> available)."""
    out = {}
    for name, (module, attr) in FEATURES.items():
        try:
            need(module, attr, name)
            out[name] = True
        except NotAvailableError:
            out[name] = False
    return out


def json_ready(o: Any) -> Any:
    """Library output as JSON values: NaN/inf -> None, numpy -> Python, times -> ISO text,
    tuples/sets -> lists, DataFrames -> lists of records."""
    if isinstance(o, dict):
        return {str(k): json_ready(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, set, frozenset)):
        return [json_ready(v) for v in o]
    if isinstance(o, pd.DataFrame):
        return json_ready(o.to_dict(orient="records"))
    if isinstance(o, np.ndarray):
        return json_ready(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float):
        return None if math.isnan(o) or math.isinf(o) else o
    if isinstance(o, (pd.Timestamp, dt.datetime, dt.date)):
        return None if pd.isna(o) else o.isoformat()
    if o is pd.NaT or o is pd.NA:
        return None
    return o


class _LRU:
    """A small LRU cache; concurrent requests for the same key compute it once."""

    def __init__(self, size: int = 64):
        self.size = size
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._d:
                    return self._d[key]
            try:
                value = compute()
            finally:
                with self._lock:
                    self._key_locks.pop(key, None)
            with self._lock:
                self._d[key] = value
                while len(self._d) > self.size:
                    self._d.popitem(last=False)
        return value

    def peek(self, key: Hashable) -> Any:
        """The cached value (marked recently used), or None; never computes."""
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


class Serving:
    """Live model, online mastery state and cached class results over a store.

    Parameters
    ----------
    store : Store
    default_model : str, default "default"
        The ``edu_recsys.mastery.make_model`` preset used by :meth:`refit`.
    cache_size : int, default 64
        Class-level results kept per kind.
    snapshot_interval : float, default 1.0
        Seconds between flushes of changed students' mastery snapshots.
    """

    def __init__(
        self,
        store,
        *,
        default_model: str = "default",
        cache_size: int = 64,
        snapshot_interval: float = 1.0,
    ):
        self.store = store
        self.default_model = default_model
        self.snapshot_interval = snapshot_interval
        self._lock = threading.RLock()  # tracer, state and their bookkeeping
        self._write_lock = threading.RLock()  # ingest / refit / erase / flush in this process
        self._flush_lock = threading.Lock()  # one snapshot flush at a time
        # writers (ingest/refit/erase) announce themselves so that a snapshot flush steps
        # aside between its steps: a lock is not fair, and the flushing thread would
        # otherwise take it back before a waiting ingest wakes up
        self._writers_waiting = 0
        self._writers_cond = threading.Condition()
        self._tracer: Any = None
        self._model_id: int | None = None
        self._state: Any = None
        self._state_seq = 0
        self._student_seq: dict[str, int] = {}  # newest answer applied, per student
        # student -> concept -> answers, kept in step with the online state: the evidence
        # the grade calibration needs (online mastery has none)
        self._answers: dict[str, dict[str, int]] = {}
        self._state_generation: int | None = None
        self._cache = _LRU(cache_size)
        self._dirty: set[str] = set()  # students whose snapshot is behind the state
        self._mastery_memo: dict[str, tuple] = {}  # student -> (newest seq, mastery)
        # per fitted Recommender: (student, k, lang) -> ((seq, state id), recommendation rows)
        self._rec_rows: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._memo_state: Any = None  # the state the memo belongs to
        self._wakeup = threading.Event()
        self._closed = False
        self._flusher: threading.Thread | None = None

    # -- versions and sync -------------------------------------------------------------
    def version(self) -> tuple:
        """``(newest answer seq, generation, active model id, config version)``: changes
        whenever anything a result depends on changes (answers, erasures, a refit, or the
        catalogue, graphs, classes and rosters, which bump the config version)."""
        # plain SQL on the pooled DBAPI connection: this runs on every request
        return self.store.fast_first(_VERSION_SQL)

    def _sync(self) -> tuple:
        """Bring model and online state up to date with the store; returns the version."""
        v = self.version()
        max_seq, generation, model_id = int(v[0] or 0), int(v[1] or 0), v[2]
        with self._lock:
            if model_id is None:
                self._tracer = self._state = None
                self._model_id = None
                return v
            if model_id != self._model_id:
                tracer, info = self.store.load_model(int(model_id))
                self._tracer, self._model_id = tracer, info["model_id"]
                self._state = None
            if self._state is None or self._state_generation != generation:
                self._rebuild_state(generation)
            elif max_seq > self._state_seq:
                rows = self.store.interactions(since_seq=self._state_seq, order="seq")
                self._apply(rows)
        return v

    def _rebuild_state(self, generation: int) -> None:
        history = self.store.interactions(order="time")
        self._state = self._tracer.online_state(_model_input(history))
        self._state_seq = int(history["seq"].max()) if len(history) else 0
        self._student_seq = (
            {str(k): int(v) for k, v in history.groupby("student_id")["seq"].max().items()}
            if len(history)
            else {}
        )
        self._answers = _answer_counts(history)
        self._state_generation = generation
        self._mark_dirty(self._lagging_snapshots())
        log.info("online mastery state rebuilt from %d answers", len(history))

    def _lagging_snapshots(self) -> list[str]:
        """Students whose stored snapshot is older than their answers or the model."""
        with self.store.engine.connect() as conn:
            snaps = {
                sid: (seq, mid)
                for sid, seq, mid in conn.execute(
                    select(
                        StudentMastery.student_id, StudentMastery.last_seq, StudentMastery.model_id
                    )
                )
            }
        return [
            sid
            for sid, seq in self._student_seq.items()
            if sid not in snaps or snaps[sid][0] < seq or snaps[sid][1] != self._model_id
        ]

    def _apply(self, rows: pd.DataFrame) -> None:
        """Online updates for rows in ``seq`` order (caller holds the lock)."""
        if rows.empty or self._state is None:
            return
        n = len(rows)
        ts = rows["timestamp"].tolist() if "timestamp" in rows.columns else [None] * n
        update = self._state.update
        seqs = rows["seq"].tolist()
        for sid, item, concepts, correct, t, q in zip(
            rows["student_id"].tolist(),
            rows["item_id"].tolist(),
            rows["concept_ids"].tolist(),
            rows["correct"].tolist(),
            ts,
            seqs,
        ):
            update(sid, item, tuple(concepts), int(correct), timestamp=None if pd.isna(t) else t)
            self._student_seq[sid] = int(q)
            counts = self._answers.setdefault(sid, {})
            for c in concepts:
                counts[c] = counts.get(c, 0) + 1
        self._state_seq = max(self._state_seq, int(max(seqs)))
        self._mark_dirty(set(rows["student_id"].tolist()))

    def tracer(self, *, sync: bool = True) -> tuple[Any, int]:
        """(fitted tracer, model id) of the active model; raises NoModelError."""
        if sync:
            self._sync()
        with self._lock:
            if self._tracer is None:
                raise NoModelError()
            return self._tracer, int(self._model_id)

    # -- ingestion -------------------------------------------------------------------
    @contextlib.contextmanager
    def _writer(self):
        """The write lock for an ingest, refit or erasure, ahead of a flush's next step."""
        with self._writers_cond:
            self._writers_waiting += 1
        try:
            self._write_lock.acquire()
        finally:
            with self._writers_cond:
                self._writers_waiting -= 1
                self._writers_cond.notify_all()
        try:
            yield
        finally:
            self._write_lock.release()

    def _let_writers_through(self) -> None:
        # bounded: a writer that is itself inside a flush (re-entrant lock) must not
        # make the flush wait for ever
        with self._writers_cond:
            self._writers_cond.wait_for(lambda: self._writers_waiting == 0, timeout=1.0)

    def ingest(self, interactions: pd.DataFrame) -> IngestResult:
        """Store a batch atomically and update the students' mastery online.

        The online state is updated inside the ingest transaction; if the transaction
        fails the state is rebuilt from the store on the next use, so it never holds
        answers that were not stored. The students' snapshots follow (written behind).
        """
        with self._writer():
            try:
                self._sync()
            except NoModelError:
                pass
            touched: list[bool] = []

            def on_inserted(session: Session, rows: pd.DataFrame) -> None:
                with self._lock:
                    if self._state is None:
                        return
                    touched.append(True)
                    first = int(rows["seq"].iloc[0])
                    if first > self._state_seq + 1:  # rows other writers committed meanwhile
                        self._apply(_rows_between(session, self._state_seq, first))
                    self._apply(rows)

            try:
                result = self.store.ingest(interactions, on_inserted=on_inserted)
            except BaseException:
                if touched:
                    with self._lock:
                        self._state = None  # holds uncommitted answers: rebuild
                    # a class view computed meanwhile may hold them too, under the
                    # unchanged version: drop the cached results
                    self._cache.clear()
                raise
        return result

    def ingest_xapi(self, statements: Iterable[dict]) -> tuple[IngestResult, int]:
        """Answers from xAPI statements (see :func:`edu_recsys.data.from_xapi`).

        Returns the ingest result and the number of statements that were not answers.
        """
        from edu_recsys.data import from_xapi

        df = from_xapi(list(statements), validate=False)
        skipped = int(df.attrs.get("skipped", 0))
        if df.empty:
            return IngestResult(received=0), skipped
        return self.ingest(df), skipped

    def has_online_state(self) -> bool:
        """Whether answers update a fitted model's online state (a model is active)."""
        with self._lock:
            return self._state is not None

    # -- mastery snapshots (written behind) ------------------------------------------
    def _mark_dirty(self, students) -> None:
        """Students whose snapshot must be rewritten (caller holds ``_lock``)."""
        if not students or self._closed:
            return
        self._dirty.update(students)
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(
                target=self._flush_loop, name="edu-recsys-snapshots", daemon=True
            )
            self._flusher.start()

    def _flush_loop(self) -> None:
        wait = self.snapshot_interval
        while not self._closed:
            self._wakeup.wait(wait)
            self._wakeup.clear()
            t = time.perf_counter()
            try:
                self.flush_snapshots()
            except Exception as e:  # retried on the next round; never kills the service
                log.warning("mastery snapshot flush failed (%s); will retry", type(e).__name__)
            # a snapshot costs a mastery computation per student: however many students
            # change, at most SNAPSHOT_DUTY of the time goes to writing them behind
            spent = time.perf_counter() - t
            wait = max(self.snapshot_interval, spent * (1 / SNAPSHOT_DUTY - 1))

    def flush_snapshots(self) -> int:
        """Write the snapshots of the students whose online state changed; returns how
        many.

        Snapshots are computed a few students at a time, each step while no ingest is
        in flight (so never from uncommitted answers), and an ingest waits for at most
        one step, not for the whole flush. They are written only if the online state
        was not replaced meanwhile (a refit or an erasure rebuilds it and rewrites the
        lagging snapshots itself).
        """
        with self._flush_lock:
            with self._lock:
                state = self._state
                if state is None or not self._dirty:
                    return 0
                students = sorted(self._dirty)
                self._dirty.clear()
                model_id = self._model_id
            rows: list[dict] = []
            try:
                for i in range(0, len(students), SNAPSHOT_STEP):
                    self._let_writers_through()
                    with self._write_lock, self._lock:
                        if self._state is not state:
                            break
                        now = utcnow()
                        rows.extend(
                            {
                                "student_id": sid,
                                "model_id": model_id,
                                "mastery": {
                                    str(c): float(p) for c, p in self._mastery_now(sid).items()
                                },
                                "n_answers": 0,
                                "last_seq": self._student_seq.get(sid, 0),
                                "updated_at": now,
                            }
                            for sid in students[i : i + SNAPSHOT_STEP]
                        )
                self._let_writers_through()
                with self._write_lock:
                    with self._lock:
                        if self._state is not state:  # rebuilt: it marks what lags
                            return 0
                    with self.store.session(write=True) as session:
                        for i in range(0, len(rows), 500):
                            _upsert_snapshots(session, rows[i : i + 500])
            except BaseException:
                with self._lock:
                    self._dirty.update(students)
                raise
        return len(rows)

    def close(self) -> None:
        """Flush pending snapshots and stop the background writer."""
        self._closed = True
        self._wakeup.set()
        if self._flusher is not None:
            self._flusher.join(timeout=30)
        try:
            self.flush_snapshots()
        except Exception as e:
            log.warning("final mastery snapshot flush failed (%s)", type(e).__name__)

    # -- refit -------------------------------------------------------------------------
    def refit(self, model: str | None = None) -> dict:
        """Fit a mastery model on every stored answer, store it and make it active."""
        make_model = need("edu_recsys.mastery", "make_model", "mastery model fitting")
        name = model or self.default_model
        with self._writer():
            last = self.store.max_seq()
            history = self.store.interactions(until_seq=last)
            if history.empty:
                raise InvalidDataError(
                    "no answers stored yet: ingest answers before fitting", column="interactions"
                )
            try:
                estimator = make_model(name)
            except (KeyError, ValueError) as e:
                raise InvalidDataError(
                    f"unknown mastery model preset {name!r} ({e})", column="model"
                ) from None
            tracer = estimator.fit(_model_input(history))
            model_id = self.store.save_model(
                tracer,
                name=name,
                n_interactions=len(history),
                n_students=int(history["student_id"].nunique()),
                last_seq=last,
            )
            self.store.set_meta("active_model_has_erased_data", "[]")
            with self._lock:
                self._tracer, self._model_id, self._state = tracer, model_id, None
            self._sync()  # rebuilds the state; every snapshot (of the old model) is behind
        self.flush_snapshots()  # outside the write lock: flushes take it step by step
        self._cache.clear()
        return self.store.model_info(model_id)

    # -- erasure -----------------------------------------------------------------------
    def erase_student(self, student_id: str, *, refit: bool = True) -> dict:
        """Erase a student (see :func:`edu_recsys.store.rights.erase_student`).

        With ``refit`` (default) the active model is refitted without the student's
        answers when it had been fitted on them, so that no derived state is left.
        """
        with self._writer():
            out = self.store.erase_student(student_id)
            with self._lock:
                self._state = None
        self._cache.clear()
        out["refitted_model_id"] = None
        if refit and out["models_trained_on_student"] and self.store.max_seq() > 0:
            try:
                info = self.refit(self.store.model_info()["name"])
                out["refitted_model_id"] = info["model_id"]
            except NotAvailableError:
                pass
        return out

    # -- mastery -------------------------------------------------------------------------
    def student_mastery(self, student_id: str, *, graph_id: str | None = None) -> dict:
        """A student's mastery per concept with evidence and fallback flags.

        Concepts are those of the student's subject graph (when the student's class has
        one) plus every concept the student has answered.
        """
        tracer, model_id = self.tracer()
        if not self.store.student_exists(student_id):
            raise UnknownIdError("student", student_id)
        G = self._student_graph(student_id, graph_id)
        history = self.store.interactions(students=[student_id])
        concepts = list(G.nodes) if G is not None else None
        if concepts is not None:
            seen = {c for cs in history["concept_ids"] for c in cs}
            concepts += sorted(seen - set(concepts))
        table = tracer.mastery(
            _model_input(history), students=[student_id], concepts=concepts or None
        )
        table = table[table["student_id"] == student_id]
        rows = []
        for r in table.itertuples(index=False):
            node = G.nodes[r.concept_id] if G is not None and r.concept_id in G else {}
            rows.append(
                {
                    "concept_id": str(r.concept_id),
                    "name": node.get("name"),
                    "name_en": node.get("name_en"),
                    "mastery": float(r.mastery),
                    "mastered": bool(r.mastery >= MASTERY_THRESHOLD),
                    "evidence": int(r.evidence),
                    "fallback": str(r.fallback or ""),
                }
            )
        return {
            "student_id": student_id,
            "model_id": model_id,
            "threshold": MASTERY_THRESHOLD,
            "n_answers": len(history),
            "concepts": rows,
        }

    def _student_graph_id(self, student_id: str) -> str | None:
        """The subject graph of the student's first class that has one."""
        with self.store.session() as s:
            return s.scalar(
                select(SchoolClass.graph_id)
                .join(Enrolment, Enrolment.class_id == SchoolClass.class_id)
                .where(Enrolment.student_id == student_id, SchoolClass.graph_id.is_not(None))
                .order_by(SchoolClass.class_id)
            )

    def _student_graph(self, student_id: str, graph_id: str | None):
        gid = graph_id or self._student_graph_id(student_id)
        return self.store.get_graph(gid) if gid else None

    # -- subject graphs ------------------------------------------------------------------
    def graph_detail(self, graph_id: str) -> dict:
        """A stored graph's concepts and edges (JSON-ready)."""
        G = self.store.get_graph(graph_id)
        concepts = [
            {
                "concept_id": str(n),
                **{
                    k: d.get(k)
                    for k in (
                        "name",
                        "name_en",
                        "grade",
                        "subject",
                        "unit",
                        "difficulty",
                        "description",
                    )
                },
            }
            for n, d in G.nodes(data=True)
        ]
        edges = [
            {
                "source": str(u),
                "target": str(v),
                "relation": d.get("relation"),
                "any_of": d.get("any_of"),
            }
            for u, v, d in G.edges(data=True)
        ]
        return {
            "info": self.store.graph_info(graph_id),
            "concepts": concepts,
            "edges": edges,
            "n_items": len(G.graph.get("items") or {}),
            "n_resources": len(G.graph.get("resources") or {}),
        }

    @staticmethod
    def _curriculum_mapping(curriculum: dict | None, content: str | None, fmt: str) -> dict:
        if curriculum is not None:
            return curriculum
        import json

        import yaml

        try:
            data = json.loads(content) if fmt == "json" else yaml.safe_load(content)
        except (ValueError, yaml.YAMLError) as e:
            raise InvalidDataError(
                f"not valid {fmt.upper()}: {str(e).splitlines()[0]}", column="content"
            ) from None
        if not isinstance(data, dict):
            raise InvalidDataError("a curriculum file is a mapping at top level", column="content")
        return data

    def validate_curriculum(
        self, curriculum: dict | None = None, *, content: str | None = None, fmt: str = "yaml"
    ) -> dict:
        """Every problem of an uploaded curriculum (nothing is stored)."""
        validate = need("edu_recsys.graph", "validate_curriculum", "curriculum validation")
        data = self._curriculum_mapping(curriculum, content, fmt)
        problems = [p.to_dict() for p in validate(data)]
        n_err = sum(p["severity"] == "error" for p in problems)
        return {
            "valid": n_err == 0,
            "n_errors": n_err,
            "n_warnings": len(problems) - n_err,
            "problems": problems,
        }

    def store_curriculum(
        self,
        graph_id: str,
        curriculum: dict | None = None,
        *,
        content: str | None = None,
        fmt: str = "yaml",
    ) -> dict:
        """Validate an uploaded curriculum and store it as ``graph_id`` when it is valid."""
        read = need("edu_recsys.graph", "read_curriculum", "curriculum upload")
        to_graph = need("edu_recsys.graph", "curriculum_to_graph", "curriculum upload")
        data = self._curriculum_mapping(curriculum, content, fmt)
        report = self.validate_curriculum(data)
        if not report["valid"]:
            first = next(p for p in report["problems"] if p["severity"] == "error")
            raise InvalidDataError(
                f"{report['n_errors']} problem(s) in the curriculum; first: "
                f"[{first['code']}] {first['message']}",
                column=first.get("location") or "curriculum",
            )
        G = to_graph(read(data))
        return self.store.put_graph(graph_id, G)

    # -- recommendations -----------------------------------------------------------------
    def _recommender(self, graph_id: str | None, version: tuple, grade: int | None = None) -> Any:
        """A Recommender fitted for one subject graph and students' grade (cached until the
        model, the catalogue, the graphs or the generation change; fresh mastery, calibrated
        by :meth:`_calibrated` when the grade is known, is passed per call).

        With a grade, cold-start students get the Recommender's grade-aware fallback."""
        Recommender = need("edu_recsys.recommend", "Recommender", "recommendations")
        tracer, model_id = self.tracer(sync=False)
        key = ("recommender", graph_id, grade, model_id, version[1], version[3])

        def fit():
            G = self.store.get_graph(graph_id) if graph_id else None
            history = _model_input(self.store.interactions())
            long = tracer.mastery(history) if len(history) else None
            return Recommender(G, grade=grade).fit(
                self.store.catalogue(), long, interactions=history
            )

        return self._cache.get_or_compute(key, fit)

    def _online_mastery(self, students: list[str]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for s in students:  # the lock per student: an ingest waits for one, not the class
            with self._lock:
                if self._state is None:
                    return {}
                out[s] = dict(self._mastery_now(s))
        return out

    def _mastery_now(self, student_id: str) -> dict[str, float]:
        """The student's mastery from the online state (caller holds ``_lock``), reused
        until the student's next answer or a new state: class views and the snapshot
        writer ask for the same students, and ``state.mastery`` costs ~10 ms each."""
        if self._memo_state is not self._state:  # rebuilt or refitted: start afresh
            self._mastery_memo, self._memo_state = {}, self._state
        seq = self._student_seq.get(student_id, 0)
        hit = self._mastery_memo.get(student_id)
        if hit is not None and hit[0] == seq:
            return hit[1]
        m = self._state.mastery(student_id)
        self._mastery_memo[student_id] = (seq, m)
        return m

    def _calibrated(
        self, mastery: dict[str, dict[str, float]], G: Any, grade: int | None
    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, str]]]:
        """Online mastery with :func:`edu_recsys.mastery.calibrate.calibrate_arrays` applied
        to the graph's concepts (vectorised over the students x concepts of ``mastery``).

        ``mastery`` holds the whole group (one class: rule 1 uses its level). Returns the
        calibrated mappings and, per student, ``concept -> rule`` of the changed cells.
        Calibrated values are rounded to 1e-3 so that a tiny drift of the group's level
        does not make every student's cached recommendations stale. Concepts without an
        online value are left out (the Recommender's fallback applies to them). Without a grade or a
        graph, or for a build without the calibration, the input comes back unchanged.
        """
        if grade is None or G is None or not mastery:
            return mastery, {}
        try:
            from edu_recsys.mastery.calibrate import calibrate_arrays, concept_grades
        except ImportError:
            return mastery, {}
        ids = list(mastery)
        concepts = [str(c) for c in G.nodes]
        nan = float("nan")
        C = len(concepts)
        X = np.empty((len(ids), C))
        ev = np.zeros((len(ids), C))
        has = np.zeros(len(ids), bool)
        with self._lock:
            for i, sid in enumerate(ids):
                m = mastery[sid]
                X[i] = np.fromiter((m.get(c, nan) for c in concepts), float, C)
                counts = self._answers.get(sid)
                if counts:
                    has[i] = True
                    ev[i] = np.fromiter((counts.get(c, 0) for c in concepts), float, C)
        Xc, src = calibrate_arrays(
            X, ev, concept_grades(G, concepts, int(grade)), int(grade), has_answers=has
        )
        # a cell the tracer gave no value keeps the Recommender's own grade-aware
        # fallback (flagged unseen_concept) instead of the calibration's flat prior
        changed = (src != "") & ~np.isnan(X)
        out: dict[str, dict[str, float]] = {}
        rules: dict[str, dict[str, str]] = {}
        cidx = np.asarray(concepts, dtype=object)
        for i, sid in enumerate(ids):
            js = np.flatnonzero(changed[i])
            if not len(js):
                out[sid], rules[sid] = mastery[sid], {}
                continue
            m = dict(mastery[sid])
            m.update(zip(cidx[js].tolist(), Xc[i, js].round(3).tolist()))
            out[sid] = m
            rules[sid] = dict(zip(cidx[js].tolist(), src[i, js].tolist()))
        return out, rules

    def student_recommendations(
        self, student_id: str, *, k: int = 10, graph_id: str | None = None
    ) -> dict:
        """Top-``k`` resources for a student with reasons (fresh online mastery, calibrated
        with the grade of the student's class when it has one: :meth:`_calibrated`, the
        class being the group)."""
        version = self._sync()
        if not self.store.student_exists(student_id):
            raise UnknownIdError("student", student_id)
        class_id, class_graph, grade = self._student_class(student_id)
        gid = graph_id or class_graph
        rec = self._recommender(gid, version, grade)
        rules: dict[str, str] = {}
        mastery = self._online_mastery([student_id]).get(student_id)
        if mastery is not None and grade is not None and gid is not None:
            ids = self._class_roster(class_id, version)[1] if class_id else []
            group = self._online_mastery(list(dict.fromkeys([student_id, *ids])))
            if student_id in group:
                G = self._graph_cached(gid, version)
                cal, all_rules = self._calibrated(group, G, grade)
                mastery, rules = cal[student_id], all_rules.get(student_id, {})
        table = rec.recommend(student_id, k, mastery=mastery)
        return {
            "student_id": student_id,
            "graph_id": gid,
            "model_id": self._model_id,
            "items": _flag_calibrated(json_ready(table.to_dict(orient="records")), rules),
        }

    def _student_class(self, student_id: str) -> tuple[str | None, str | None, int | None]:
        """(class id, graph id, grade) of the student's first class with a subject graph
        (the class whose graph :meth:`_student_graph_id` picks)."""
        with self.store.session() as s:
            row = s.execute(
                select(SchoolClass.class_id, SchoolClass.graph_id, SchoolClass.grade)
                .join(Enrolment, Enrolment.class_id == SchoolClass.class_id)
                .where(Enrolment.student_id == student_id, SchoolClass.graph_id.is_not(None))
                .order_by(SchoolClass.class_id)
            ).first()
        if row is None:
            return None, None, None
        return row[0], row[1], None if row[2] is None else int(row[2])

    # -- learning paths ------------------------------------------------------------------
    def student_path(
        self,
        student_id: str,
        targets: list[str],
        *,
        budget_minutes: float | None = None,
        graph_id: str | None = None,
    ) -> dict:
        """A learning path to ``targets`` planned by :func:`edu_recsys.paths.plan_path` from
        the student's current mastery (answers since the last fit included)."""
        plan_path = need("edu_recsys.paths", "plan_path", "learning paths")
        self._sync()
        if not self.store.student_exists(student_id):
            raise UnknownIdError("student", student_id)
        gid = graph_id or self._student_graph_id(student_id)
        if gid is None:
            raise ConflictError(
                "the student's classes have no subject graph: pass graph_id explicitly"
            )
        G = self.store.get_graph(gid)
        tracer, model_id = self.tracer(sync=False)
        history = _model_input(self.store.interactions(students=[student_id]))
        long = tracer.mastery(history, students=[student_id], concepts=[str(c) for c in G])
        mastery = dict(zip(long["concept_id"].astype(str), long["mastery"].astype(float)))
        catalogue = self.store.catalogue()
        path = plan_path(
            G,
            mastery,
            list(dict.fromkeys(targets)),
            budget_minutes=budget_minutes,
            resources=catalogue if len(catalogue) else None,
            student_id=student_id,
        )
        return {
            "student_id": student_id,
            "graph_id": gid,
            "model_id": model_id,
            **json_ready(path.to_dict()),
        }

    # -- class views ---------------------------------------------------------------------
    def _class_context(self, class_id: str, version: tuple) -> dict:
        """Everything the class views share, computed once per store version."""
        tracer, model_id = self.tracer(sync=False)

        def build() -> dict:
            info = self.store.get_class(class_id)
            if not info["graph_id"]:
                raise ConflictError(
                    f"class {class_id!r} has no subject graph: set its graph_id first"
                )
            G = self.store.get_graph(info["graph_id"])
            roster = self.store.roster(class_id)
            ids = roster["student_id"].tolist()
            history = _model_input(self.store.interactions(students=ids))
            concepts = [str(c) for c in G.nodes]
            long = tracer.mastery(history, students=ids, concepts=concepts)
            return {
                "info": info,
                "G": G,
                "roster": roster,
                "ids": ids,
                "history": history,
                "mastery": long,
                "model_id": model_id,
            }

        return self._cache.get_or_compute(("class", class_id, version), build)

    def class_view(self, class_id: str, kind: str, *, lang: str = "zh", k: int = 5) -> Any:
        """One class view: ``report``, ``groups``, ``homework``, ``recommendations`` (JSON)
        or ``dashboard`` (the HTML page), computed by :mod:`edu_recsys.classroom`."""
        builders = {
            "report": self._class_report,
            "groups": self._class_groups,
            "homework": self._class_homework,
            "recommendations": self._class_recommendations,
            "dashboard": self._class_dashboard,
        }
        if kind not in builders:
            raise ValueError(f"unknown class view {kind!r}")
        need("edu_recsys.classroom", "class_report", f"class {kind}")
        version = self._sync()
        key = ("view", class_id, kind, lang, k, version)
        return self._cache.get_or_compute(
            key, lambda: builders[kind](class_id, version, lang=lang, k=k)
        )

    def class_view_json(self, class_id: str, kind: str, *, lang: str = "zh", k: int = 5) -> bytes:
        """:meth:`class_view` as UTF-8 JSON, encoded once per store version (hot path)."""
        version = self._sync()
        key = ("json", class_id, kind, lang, k, version)

        def encode() -> bytes:
            value = self.class_view(class_id, kind, lang=lang, k=k)
            return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")

        return self._cache.get_or_compute(key, encode)

    def cached_class_view_json(
        self, class_id: str, kind: str, *, lang: str = "zh", k: int = 5
    ) -> bytes | None:
        """What :meth:`class_view_json` would return, when it is already cached for the
        store's current version; else None (nothing is computed or synced).

        One small read: cheap enough for the API to call on its event loop."""
        key = ("json", class_id, kind, lang, k, self.version())
        return self._cache.peek(key)

    def _report_obj(self, class_id: str, version: tuple, lang: str):
        from edu_recsys.classroom import class_report

        def build():
            ctx = self._class_context(class_id, version)
            return class_report(
                ctx["mastery"],
                ctx["G"],
                roster=ctx["ids"],
                current_unit=ctx["info"]["current_unit"],
                lang=lang,
            )

        return self._cache.get_or_compute(("report_obj", class_id, lang, version), build)

    def _groups_obj(self, class_id: str, version: tuple, lang: str):
        from edu_recsys.classroom import teaching_groups

        def build():
            ctx = self._class_context(class_id, version)
            cat = self.store.catalogue()
            return teaching_groups(
                ctx["mastery"],
                ctx["G"],
                roster=ctx["ids"],
                catalogue=cat if len(cat) else None,
                lang=lang,
            )

        return self._cache.get_or_compute(("groups_obj", class_id, lang, version), build)

    def _homework_obj(self, class_id: str, version: tuple, lang: str):
        from edu_recsys.classroom import item_bank, personal_homework, predict_success

        def build():
            ctx = self._class_context(class_id, version)
            info = ctx["info"]
            if info["grade"] is None:
                raise ConflictError(
                    f"class {class_id!r} has no grade: homework budgets depend on it"
                )
            tracer, _ = self.tracer(sync=False)
            bank = item_bank(interactions=ctx["history"], G=ctx["G"])
            p = (
                predict_success(tracer, ctx["history"], ctx["ids"], bank)
                if len(bank) and ctx["ids"]
                else None
            )
            return personal_homework(
                ctx["mastery"],
                ctx["G"],
                bank,
                grade=int(info["grade"]),
                roster=ctx["ids"],
                p_success=p,
                history=ctx["history"],
                subject=info["subject"],
                policy=self._homework_policy(info),
                current_unit=info["current_unit"],
                lang=lang,
            )

        return self._cache.get_or_compute(("homework_obj", class_id, lang, version), build)

    def _homework_policy(self, info: dict) -> dict | None:
        """The school's ``homework_policy`` setting, overridden by the class's."""
        policy: dict = {}
        if info.get("school_id"):
            try:
                policy.update(
                    self.store.get_school(info["school_id"])["settings"].get("homework_policy", {})
                )
            except UnknownIdError:
                pass
        policy.update((info.get("settings") or {}).get("homework_policy", {}))
        return policy or None

    def _class_report(self, class_id: str, version: tuple, *, lang: str, k: int) -> dict:
        rep = self._report_obj(class_id, version, lang)
        return {"class_id": class_id, "model_id": self._model_id, **json_ready(rep.to_dict())}

    def _class_groups(self, class_id: str, version: tuple, *, lang: str, k: int) -> dict:
        groups = self._groups_obj(class_id, version, lang)
        return {"class_id": class_id, "model_id": self._model_id, **json_ready(groups.to_dict())}

    def _class_homework(self, class_id: str, version: tuple, *, lang: str, k: int) -> dict:
        hw = self._homework_obj(class_id, version, lang)
        return {"class_id": class_id, "model_id": self._model_id, **json_ready(hw.to_dict())}

    def _class_roster(self, class_id: str, version: tuple) -> tuple[dict, list[str]]:
        """(class info, roster ids): changes only with the configuration (not answers)."""

        def build() -> tuple[dict, list[str]]:
            info = self.store.get_class(class_id)
            if not info["graph_id"]:
                raise ConflictError(
                    f"class {class_id!r} has no subject graph: set its graph_id first"
                )
            return info, self.store.roster(class_id)["student_id"].tolist()

        return self._cache.get_or_compute(("roster", class_id, version[1], version[3]), build)

    def _class_recommendations(self, class_id: str, version: tuple, *, lang: str, k: int) -> dict:
        # fresh online mastery per student, calibrated with the class's grade (the class
        # is the group of the calibration); the class's batch mastery table is not needed
        info, ids = self._class_roster(class_id, version)
        grade = None if info.get("grade") is None else int(info["grade"])
        rec = self._recommender(info["graph_id"], version, grade)
        with self._lock:  # read before the mastery: a later answer only makes rows stale
            tag = id(self._state)
            seen = {sid: (self._student_seq.get(sid, 0), tag) for sid in ids}
        rules: dict[str, dict[str, str]] = {}
        mastery: dict[str, dict[str, float]] | None = None
        if grade is not None:
            # every student's calibrated values (memoised online mastery: cheap); a row is
            # recomputed when its student's answers or calibrated values changed
            mastery, rules = self._calibrated(
                self._online_mastery(ids), self._graph_cached(info["graph_id"], version), grade
            )
            for sid in ids:
                r = rules.get(sid)
                if r:
                    vals = tuple(sorted((c, mastery[sid][c]) for c in r))
                    seen[sid] = (*seen[sid], vals)
        memo = self._rec_rows.setdefault(rec, {})
        stale = [sid for sid in ids if memo.get((sid, k, lang), (None,))[0] != seen[sid]]
        if stale:  # only students with new answers (or a new state) are recomputed
            if mastery is None:
                mastery = self._online_mastery(stale)
            table = rec.recommend_batch(
                stale, k, mastery={s: mastery[s] for s in stale if s in mastery}, lang=lang
            )
            fresh: dict[str, list] = {sid: [] for sid in stale}
            for row in json_ready(table.to_dict(orient="records")):
                fresh[row["student_id"]].append(row)
            for sid in stale:
                memo[(sid, k, lang)] = (seen[sid], _flag_calibrated(fresh[sid], rules.get(sid, {})))
        return {
            "class_id": class_id,
            "model_id": self._model_id,
            "k": k,
            "students": [{"student_id": s, "items": memo[(s, k, lang)][1]} for s in ids],
        }

    def _graph_cached(self, graph_id: str, version: tuple) -> Any:
        """A stored graph, read once per configuration version."""
        return self._cache.get_or_compute(
            ("graph", graph_id, version[3]), lambda: self.store.get_graph(graph_id)
        )

    def _class_dashboard(self, class_id: str, version: tuple, *, lang: str, k: int) -> str:
        from edu_recsys.classroom.items import item_analysis
        from edu_recsys.classroom.render import render_report

        ctx = self._class_context(class_id, version)
        info = ctx["info"]
        items = item_analysis(ctx["history"], ctx["G"], lang=lang) if len(ctx["history"]) else None
        homework = (
            self._homework_obj(class_id, version, lang) if info["grade"] is not None else None
        )
        return render_report(
            self._report_obj(class_id, version, lang),
            ctx["G"],
            groups=self._groups_obj(class_id, version, lang),
            homework=homework,
            items=items,
            lang=lang,
            class_info={k2: info[k2] for k2 in ("class_id", "name", "grade", "subject")},
        )

    def health(self) -> dict:
        from edu_recsys.store.engine import current_revision

        with self.store.session() as s:
            model = s.scalars(
                select(FittedModel)
                .where(FittedModel.active.is_(True))
                .order_by(FittedModel.model_id.desc())
            ).first()
            model_info = (
                {
                    "model_id": int(model.model_id),
                    "name": model.name,
                    "created_at": model.created_at,
                }
                if model
                else None
            )
        return {
            "status": "ok",
            "database": self.store.dialect,
            "schema_revision": current_revision(self.store.engine),
            "model": model_info,
            "features": feature_status(),
        }


def _upsert_snapshots(session: Session, rows: list[dict]) -> None:
    """Insert or replace mastery snapshots, with each student's current answer count.

    A student erased meanwhile has no row left to hang a snapshot on: skipped.
    """
    from edu_recsys.store.store import dialect_insert

    counts = dict(
        session.execute(
            select(Interaction.student_id, func.count())
            .where(Interaction.student_id.in_([r["student_id"] for r in rows]))
            .group_by(Interaction.student_id)
        ).all()
    )
    rows = [
        {**r, "n_answers": int(counts[r["student_id"]])} for r in rows if r["student_id"] in counts
    ]
    if not rows:
        return
    ins = dialect_insert(session, StudentMastery)
    update = {k: getattr(ins.excluded, k) for k in rows[0] if k != "student_id"}
    session.execute(ins.on_conflict_do_update(index_elements=["student_id"], set_=update), rows)


def _rows_between(session: Session, after: int, before: int) -> pd.DataFrame:
    rows = session.execute(
        select(
            Interaction.seq,
            Interaction.student_id,
            Interaction.item_id,
            Interaction.concept_ids,
            Interaction.correct,
            Interaction.timestamp,
        )
        .where(Interaction.seq > after, Interaction.seq < before)
        .order_by(Interaction.seq)
    ).all()
    return pd.DataFrame(
        rows, columns=["seq", "student_id", "item_id", "concept_ids", "correct", "timestamp"]
    )


def _model_input(history: pd.DataFrame) -> pd.DataFrame:
    """The canonical table a tracer expects (store bookkeeping columns dropped)."""
    return history.drop(columns=[c for c in ("seq", "event_id") if c in history.columns])


def _answer_counts(history: pd.DataFrame) -> dict[str, dict[str, int]]:
    """student -> concept -> number of answers (the evidence of the calibration)."""
    if history.empty:
        return {}
    h = history[["student_id", "concept_ids"]].explode("concept_ids").dropna()
    n = h.groupby(["student_id", "concept_ids"]).size()
    out: dict[str, dict[str, int]] = {}
    for (sid, c), k in n.items():
        out.setdefault(str(sid), {})[str(c)] = int(k)
    return out


def _flag_calibrated(rows: list[dict], rules: dict[str, str]) -> list[dict]:
    """Mark the recommendation rows whose concept's mastery was calibrated: ``calibrated``
    in ``fallback`` (as the Recommender flags its own) and the rule in ``calibration``."""
    for row in rows:
        rule = rules.get(row.get("concept_id") or "", "")
        row["calibration"] = rule
        flags = [f for f in (row.get("fallback") or "").split(";") if f]
        if rule and "calibrated" not in flags:
            row["fallback"] = ";".join([*flags, "calibrated"])
    return rows
