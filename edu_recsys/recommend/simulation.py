"""Offline evaluation in the learner simulator: learning gain per minute per policy.

Protocol (:func:`simulate_policies`), seeded end to end:

1. **World**: simulated learners on a knowledge graph
   (:class:`edu_recsys.simulate.learners.GraphLearnerModel`, learners of one grade),
   an item bank, and a synthetic catalogue registered in one
   :class:`edu_recsys.simulate.env.LearnerEnv`, which holds each resource's hidden
   effectiveness and its difficulty fit (the simulator's, not the recommender's).
2. **Platform history** (what quality and the collaborative signal learn from):
   ``n_history`` learners follow the class schedule (the first concept in learning
   order they have not mastered, sometimes another ready one); at each step they answer
   one item, then with probability 0.7 use a resource on that concept chosen in
   proportion to its appeal (popularity is not quality), then answer two items. Uses
   are logged with timestamps; completion and a rating (for 30% of uses) follow the
   gain the learner actually got, with noise. Learners who practise without a resource
   are the controls of the gain estimate.
3. **Evaluation learners** (``n_students``): with ``start="history"`` (default) they
   took part in the platform history like the others (the recommender knows their
   answers and uses); with ``"diagnostic"`` they are new and take a diagnostic test
   (``diagnostic_items`` items per concept, no learning). Either way every policy
   starts from the same evidence. Each policy then drives an identical copy of
   the environment (common random numbers): for ``steps`` steps, each learner studies
   the policy's top recommendation and answers two items on its concept (assessment,
   no learning); mastery is re-estimated from the answers before the next step
   (``observe="answers"``: Beta-smoothed accuracy, each answer weighted by
   ``observer_decay`` per later answer on its concept, around a prior per concept:
   0.85 for concepts of earlier grades than the learners', 0.15 for later grades, the
   history's mean for their own grade; ``observe="tracer"``: the library's tracer,
   fitted once on the training learners' history, its online state folding in each
   new answer, calibrated with the graph's grades and the learners' grade by
   :mod:`edu_recsys.mastery.calibrate`). Every policy sees the same estimator.
4. **Score**: per learner, the gain in the sum over concepts of the true success
   probability on a typical item, divided by the minutes studied; mean over learners
   and a 95% t-interval; ``mastery_mae``: the mean absolute error of what the policy
   saw against the true state (learners x concepts, averaged over steps).
   :func:`pool_results` adds each policy's ratio to ``popularity`` with a paired
   bootstrap interval (:func:`ratio_interval`). A learner with nothing recommended
   studies nothing (0 minutes) and is left out of the mean (counted in ``idle``).

All policies share the candidate stage and reranker; only the scorer differs
(``popularity``, ``random``, ``quality-only``, ``mastery-only`` vs ``default``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from edu_recsys.resources.catalogue import Catalogue, as_catalogue
from edu_recsys.resources.synthetic import synthetic_catalogue

__all__ = [
    "SimulationResult",
    "simulate_policies",
    "pool_results",
    "ratio_interval",
    "POLICY_NAMES",
]

log = logging.getLogger(__name__)

POLICY_NAMES = ("default", "popularity", "random", "quality-only", "mastery-only")


@dataclass
class SimulationResult:
    """Per-policy figures and per-learner values of a simulation run."""

    env: str
    students: int
    steps: int
    policies: dict[str, dict] = field(default_factory=dict)
    per_student: dict[str, np.ndarray] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


def pool_results(results: Sequence[SimulationResult]) -> SimulationResult:
    """Pool runs with different seeds: learners of every run together (mean and 95%
    t-interval over all of them); ``minutes``/``gain``/``idle`` averaged or summed;
    ``x_popularity`` with a two-level (world, learner) bootstrap interval."""
    first = results[0]
    out = SimulationResult(
        env=first.env if len(results) == 1 else f"{first.env} (+{len(results) - 1} seeds)",
        students=sum(r.students for r in results),
        steps=first.steps,
        settings={"runs": [r.settings for r in results]},
    )
    base = (
        np.concatenate([r.per_student["popularity"] for r in results])
        if ("popularity" in first.policies)
        else None
    )
    world = np.concatenate([np.full(r.students, i) for i, r in enumerate(results)])
    for p in first.policies:
        x = np.concatenate([r.per_student[p] for r in results])
        m, lo, hi = _t_interval(x)
        out.per_student[p] = x
        out.policies[p] = {
            "gain_per_minute": m,
            "gain_per_minute_ci": [lo, hi],
            "gain": float(np.mean([r.policies[p]["gain"] for r in results])),
            "minutes": float(np.mean([r.policies[p]["minutes"] for r in results])),
            "idle": int(sum(r.policies[p]["idle"] for r in results)),
            "mastery_mae": float(np.mean([r.policies[p]["mastery_mae"] for r in results])),
            "per_seed": [r.policies[p]["gain_per_minute"] for r in results],
        }
        if base is not None:
            out.policies[p]["x_popularity"], out.policies[p]["x_popularity_ci"] = ratio_interval(
                x, base, world
            )
    return out


def ratio_interval(
    x: np.ndarray,
    base: np.ndarray,
    groups: np.ndarray | None = None,
    n_boot: int = 2000,
    random_state: int = 0,
) -> tuple[float, list[float]]:
    """Ratio of means ``mean(x) / mean(base)`` and its 95% paired bootstrap interval.

    ``x`` and ``base`` are per-learner values of two policies on the same learners
    (common random numbers), so learners are resampled together; NaN (idle learners)
    are left out of each mean. With ``groups`` (the seed, i.e. the simulated world, of
    each learner) the bootstrap is two-level: worlds are resampled, then learners
    within each drawn world, so that the interval also covers how much the ratio
    varies from one world to another.

    Examples
    --------
    >>> r, (lo, hi) = ratio_interval(np.array([2.0, 4.0, 6.0]), np.array([1.0, 2.0, 3.0]))
    >>> r, lo <= r <= hi
    (2.0, True)
    """
    x, base = np.asarray(x, float), np.asarray(base, float)
    r = float(np.nanmean(x) / np.nanmean(base))
    rng = np.random.default_rng(random_state)
    groups = np.zeros(len(x), int) if groups is None else np.asarray(groups)
    labels = np.unique(groups)
    # per world: bootstrap sums and counts of both policies (n_boot x 4)
    stats = []
    for g in labels:
        xg, bg = x[groups == g], base[groups == g]
        idx = rng.integers(0, len(xg), size=(n_boot, len(xg)))
        xs, bs = xg[idx], bg[idx]
        stats.append(
            np.stack(
                [
                    np.nansum(xs, 1),
                    np.isfinite(xs).sum(1),
                    np.nansum(bs, 1),
                    np.isfinite(bs).sum(1),
                ],
                axis=1,
            )
        )
    stats = np.stack(stats)  # worlds x n_boot x 4
    pick = (
        rng.integers(0, len(labels), size=(n_boot, len(labels)))
        if len(labels) > 1
        else np.zeros((n_boot, 1), int)
    )
    tot = stats[pick, np.arange(n_boot)[:, None]].sum(axis=1)  # n_boot x 4
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (tot[:, 0] / tot[:, 1]) / (tot[:, 2] / tot[:, 3])
    lo, hi = np.nanpercentile(boot, [2.5, 97.5])
    return r, [float(lo), float(hi)]


def _t_interval(x: np.ndarray) -> tuple[float, float, float]:
    from scipy import stats

    x = x[np.isfinite(x)]
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(x.mean())
    if len(x) < 2:
        return m, m, m
    h = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - h, m + h


class _Observer:
    """What the policies see: per learner and concept, a Beta-smoothed share correct
    of the learner's answers, older answers down-weighted.

    ``mastery = (k + strength * prior) / (n + strength)`` where ``n`` and ``k`` are the
    answers and correct answers, each earlier answer on the concept weighted by
    ``decay ** (later answers on the concept)`` (learners learn, so old answers go
    stale; ``decay=1`` counts every answer alike). ``prior`` is per concept.
    """

    def __init__(self, students, concepts, prior: np.ndarray, strength=2.0, decay=1.0):
        self.students = list(students)
        self.concepts = list(concepts)
        self.cpos = {c: i for i, c in enumerate(self.concepts)}
        self.spos = {s: i for i, s in enumerate(self.students)}
        S, C = len(self.students), len(self.concepts)
        self.n = np.zeros((S, C))
        self.k = np.zeros((S, C))
        self.prior = prior
        self.strength = strength
        self.decay = float(decay)

    def add(self, results) -> None:
        """Count answers (``StepResult`` objects of answered items)."""
        for r in results:
            i = self.spos.get(r.student_id)
            if i is None:
                continue
            js = [self.cpos[c] for c in r.concept_ids if c in self.cpos]
            if js:
                self.add_arrays(np.full(len(js), i), np.array(js), np.full(len(js), r.correct))

    def add_table(self, interactions: pd.DataFrame) -> None:
        """Count the answers of a canonical interactions table (known learners only;
        each learner's rows in time order)."""
        si = interactions["student_id"].map(self.spos)
        lens = interactions["concept_ids"].map(len).to_numpy()
        rep = np.repeat(np.arange(len(interactions)), lens)
        ci = pd.Series([c for t in interactions["concept_ids"] for c in t]).map(self.cpos)
        rows = si.to_numpy()[rep]
        ok = ~(pd.isna(rows) | ci.isna().to_numpy())
        y = interactions["correct"].to_numpy(float)[rep][ok]
        r, c = rows[ok].astype(int), ci.to_numpy()[ok].astype(int)
        if self.decay != 1.0:
            # the weight of an answer: decay ** (later answers of the learner on it)
            later = pd.DataFrame({"r": r, "c": c}).groupby(["r", "c"]).cumcount(ascending=False)
            w = self.decay ** later.to_numpy(float)
            cnt = np.zeros_like(self.n)
            np.add.at(cnt, (r, c), 1.0)
            self.n *= self.decay**cnt
            self.k *= self.decay**cnt
        else:
            w = np.ones(len(r))
        np.add.at(self.n, (r, c), w)
        np.add.at(self.k, (r, c), w * y)

    def add_arrays(self, rows: np.ndarray, cols: np.ndarray, correct: np.ndarray) -> None:
        """One answer per (row, col) pair (older answers on it decay first)."""
        if self.decay != 1.0:
            self.n[rows, cols] *= self.decay
            self.k[rows, cols] *= self.decay
        np.add.at(self.n, (rows, cols), 1.0)
        np.add.at(self.k, (rows, cols), correct)

    def mastery(self) -> np.ndarray:
        return (self.k + self.strength * self.prior) / (self.n + self.strength)

    def overrides(self) -> pd.DataFrame:
        return pd.DataFrame(self.mastery(), index=self.students, columns=self.concepts)

    def evidence_table(self) -> pd.DataFrame:
        M = self.mastery()
        S, C = M.shape
        return pd.DataFrame(
            {
                "student_id": np.repeat(self.students, C),
                "concept_id": np.tile(self.concepts, S),
                "mastery": M.ravel(),
                "evidence": self.n.ravel(),
            }
        )


class _TracerObserver:
    """What the policies see with ``observe="tracer"``: the library's tracer, fitted
    once, whose online state folds in each new answer (O(1) per answer, no refit);
    before each step the rows of the learners who answered are re-read from the state
    and, with ``calibrate``, the cells without evidence are calibrated with the graph's
    grades and the learners' grade (:func:`edu_recsys.mastery.calibrate.calibrate_arrays`).
    """

    def __init__(self, tracer, history, students, concepts, G, grade, calibrate=True):
        from edu_recsys.mastery.calibrate import answer_counts, concept_grades

        self.state = tracer.online_state(history if len(history) else None)
        self.students = list(students)
        self.concepts = list(concepts)
        S, C = len(self.students), len(self.concepts)
        self.X = np.full((S, C), np.nan)
        self.E = np.zeros((S, C))
        self.U = np.zeros((S, C), bool)
        # answers and correct answers per cell (rule 3 of the calibration)
        self.n, self.w = answer_counts(history, self.students, self.concepts)
        self.grades = concept_grades(G, self.concepts, grade)
        self.grade = grade
        self.calibrate = calibrate
        self.dirty = set(range(S))

    def add(self, rows, cols, correct, item_ids, timestamps) -> None:
        """Fold answers into the online state (learner row, concept column, 0/1)."""
        for r, c, y, it, ts in zip(rows, cols, correct, item_ids, timestamps):
            self.state.update(self.students[r], it, (self.concepts[c],), int(y), ts)
            self.n[r, c] += 1.0
            self.w[r, c] += float(y)
            self.dirty.add(int(r))

    def _refresh(self) -> None:
        for r in sorted(self.dirty):
            f = self.state.frame([self.students[r]], self.concepts)
            self.X[r] = f["mastery"].to_numpy(float)
            self.E[r] = f["evidence"].to_numpy(float)
            self.U[r] = f["fallback"].astype(str).str.contains("unseen_concept").to_numpy()
        self.dirty.clear()

    def overrides(self) -> pd.DataFrame:
        from edu_recsys.mastery.calibrate import calibrate_arrays

        self._refresh()
        X = self.X
        if self.calibrate:
            X, _ = calibrate_arrays(
                self.X,
                self.E,
                self.grades,
                self.grade,
                unseen_concept=self.U,
                answers=self.n,
                wins=self.w,
            )
        return pd.DataFrame(X, index=self.students, columns=self.concepts)


def _items_by_concept(items: pd.DataFrame) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for iid, cids in zip(items["item_id"], items["concept_ids"]):
        if len(cids) == 1:
            out.setdefault(cids[0], []).append(str(iid))
    return out


def _answer(env, students, concepts, by_concept, rng, learn):
    """Each learner answers one random single-concept item of the given concept."""
    sel = [(s, c) for s, c in zip(students, concepts) if c in by_concept]
    if not sel:
        return []
    items = [by_concept[c][int(rng.integers(len(by_concept[c])))] for _, c in sel]
    return env.answer_many([s for s, _ in sel], items, learn=learn)


def _assess(env, env_rows, concept_idx, item_pos, rng) -> np.ndarray:
    """Assessment answers without learning or logging: one random single-concept item
    of each given concept per learner (``item_pos[k]``: item positions of concept k).
    Uses the environment's true answer probabilities (``LearnerEnv.item_proba``)."""
    items = np.array(
        [item_pos[k][int(rng.integers(len(item_pos[k])))] for k in concept_idx], dtype=np.intp
    )
    if len(items) == 0:
        return np.zeros(0), items
    p = env.item_proba(np.asarray(env_rows), items)
    return (rng.random(len(items)) < p).astype(float), items


def _history(env, model, catalogue, ids, steps, by_concept, rng):
    """Schedule-driven platform history with appeal-driven resource use."""
    res = catalogue.resources
    appeal = (
        catalogue.truth.set_index("resource_id")["appeal"].reindex(res["resource_id"]).to_numpy()
        if catalogue.truth is not None
        else np.ones(len(res))
    )
    by_res_concept: dict[str, list[int]] = {}
    for j, cids in enumerate(res["concept_ids"]):
        if cids:
            by_res_concept.setdefault(cids[0], []).append(j)
    order = list(model.concepts)
    usage, ratings = [], []
    pos = {s: i for i, s in enumerate(env.students)}
    rows = np.array([pos[s] for s in ids])
    for _ in range(steps):
        P = model.proba_all(env.theta[rows])
        mastered = P >= 0.8
        ready = model.readiness(env.theta[rows]) > 0.5
        chosen = []
        for n in range(len(ids)):
            cand = np.flatnonzero(~mastered[n] & ready[n])
            if len(cand) == 0:
                cand = np.flatnonzero(~mastered[n])
            if len(cand) == 0:
                chosen.append(order[int(rng.integers(len(order)))])
            elif rng.random() < 0.8:
                chosen.append(order[cand[0]])
            else:
                chosen.append(order[cand[int(rng.integers(len(cand)))]])
        _answer(env, ids, chosen, by_concept, rng, learn=True)
        for sid, c in zip(ids, chosen):
            js = by_res_concept.get(c)
            if not js or rng.random() >= 0.7:
                continue
            w = appeal[js] / appeal[js].sum()
            j = js[int(rng.choice(len(js), p=w))]
            r = env.study(sid, resource_id=str(res["resource_id"].iat[j]))
            g = float(sum(r.gains.values()))
            done = rng.random() < 0.35 + 0.6 * np.tanh(max(g, 0.0) * 8)
            spent = r.minutes * (1.0 if done else rng.uniform(0.2, 0.7))
            usage.append((sid, r.activity_id, r.timestamp, round(spent, 1), float(done)))
            if rng.random() < 0.3:
                stars = np.clip(np.round(2.6 + 12 * g + rng.normal(0, 0.7)), 1, 5)
                ratings.append((sid, r.activity_id, float(stars), r.timestamp))
        for _ in range(2):
            _answer(env, ids, chosen, by_concept, rng, learn=True)
    usage_df = pd.DataFrame(
        usage, columns=["student_id", "resource_id", "timestamp", "minutes", "completed"]
    )
    ratings_df = pd.DataFrame(ratings, columns=["student_id", "resource_id", "rating", "timestamp"])
    return usage_df, ratings_df


def simulate_policies(
    G=None,
    *,
    policies: Sequence[str] = POLICY_NAMES,
    make: Callable[[str], object] | None = None,
    n_students: int = 200,
    steps: int = 20,
    n_history: int = 300,
    history_steps: int = 15,
    n_resources: int | None = None,
    grade: int = 8,
    start: str = "history",
    diagnostic_items: int = 2,
    catalogue: Catalogue | None = None,
    observe: str = "answers",
    observer_decay: float = 0.5,
    grade_prior: tuple[float, float] | None = (0.85, 0.15),
    tracer: str = "default",
    calibrate: bool = True,
    random_state: int = 0,
    progress: bool = False,
) -> SimulationResult:
    """Run the protocol of the module docstring and return per-policy figures.

    Parameters
    ----------
    G : networkx.DiGraph or str, optional
        Graph or shipped graph name (default ``"math-7-9"``).
    policies : sequence of str
        Policy names for ``make``.
    make : callable, optional
        ``make(policy) -> unfitted Recommender`` (default
        :func:`~edu_recsys.recommend.make_recommender` with the graph).
    n_students, steps : int
        Evaluation learners and study steps per learner.
    n_history, history_steps : int
        Learners and steps of the platform history.
    n_resources : int, optional
        Catalogue size (default 6 per concept).
    grade : int, default 8
        The learners' grade (earlier grades mostly mastered, later ones not).
    start : {"history", "diagnostic"}, default "history"
        ``"history"``: the evaluation learners took part in the platform history like
        the others (the recommender knows them: their answers, their uses, which it
        excludes as seen); ``"diagnostic"``: they are new and take a diagnostic test.
    diagnostic_items : int, default 2
        Diagnostic items per concept (``start="diagnostic"`` only).
    catalogue : Catalogue, optional
        Use this catalogue instead of a synthetic one.
    observe : {"answers", "tracer", "true"}, default "answers"
        What the policies see: mastery estimated from the learners' answers
        (Beta-smoothed accuracy), the library's tracer ``make_model(tracer)`` (fitted
        once on the history of the ``n_history`` training learners; its online state,
        seeded with the evaluation learners' answers, folds in each new answer, no
        refit; calibrated with ``calibrate``), or (``"true"``, an oracle) their true
        success probabilities.
    observer_decay : float, default 0.5
        ``observe="answers"``: weight of an answer per later answer of the learner on
        the same concept (1: every answer counts alike, the first version).
    grade_prior : (float, float) or None, default (0.85, 0.15)
        ``observe="answers"``: the estimate's prior for concepts of an earlier grade
        than the learners' and of a later one (graph node ``grade``); concepts of their
        own grade start from the history's mean. None: the history's mean (0.5 where
        nobody answered) for every concept, the first version.
    tracer : str, default "default"
        Mastery preset for ``observe="tracer"``.
    calibrate : bool, default True
        ``observe="tracer"``: calibrate the tracer's mastery with the graph's grades
        and the learners' ``grade`` (:mod:`edu_recsys.mastery.calibrate`), both what
        the policies see at each step and the table the recommenders are fitted on
        (the default ``make`` then builds ``Recommender(grade=grade,
        calibrate=True)``; a custom ``make`` should do the same). False: the tracer's
        values as they are.
    random_state : int, default 0
    progress : bool
        Show a tqdm bar over policies x steps.
    """
    from edu_recsys.graph import load_graph
    from edu_recsys.recommend.offline import accuracy_mastery
    from edu_recsys.recommend.recommender import make_recommender
    from edu_recsys.simulate.env import LearnerEnv
    from edu_recsys.simulate.items import make_item_bank
    from edu_recsys.simulate.learners import GraphLearnerModel

    name = "math-7-9" if G is None else (G if isinstance(G, str) else G.graph.get("name", "graph"))
    if G is None or isinstance(G, str):
        G = load_graph(name)
    rng = np.random.default_rng(random_state)
    model = GraphLearnerModel(G, grade=grade)
    items = make_item_bank(G, 6, random_state=random_state)
    cat = catalogue or synthetic_catalogue(G, n_resources, random_state=random_state)
    hist_ids = [f"h{i:04d}" for i in range(n_history)]
    eval_ids = [f"e{i:04d}" for i in range(n_students)]
    theta = model.prior_states(n_history + n_students, rng)
    env = LearnerEnv(
        model,
        hist_ids + eval_ids,
        theta,
        items,
        resources=cat.resources,
        random_state=random_state,
    )
    by_concept = _items_by_concept(items)
    if start not in ("history", "diagnostic"):
        raise ValueError("start must be 'history' or 'diagnostic'")
    in_history = hist_ids + eval_ids if start == "history" else hist_ids
    usage, ratings = _history(env, model, cat, in_history, history_steps, by_concept, rng)
    history = env.interactions
    hcat = as_catalogue(cat.resources, usage, ratings)
    hcat.truth = cat.truth
    h_mastery = accuracy_mastery(history)
    concepts = list(model.concepts)
    prior = (
        h_mastery.groupby("concept_id")["mastery"].mean().reindex(concepts).fillna(0.5).to_numpy()
    )
    if grade_prior is not None:
        # the school knows the learners' grade: concepts of earlier grades were taught
        # (mostly mastered), later grades' not yet (a priori values, not fitted)
        cg = np.array([G.nodes[c].get("grade") or grade for c in concepts])
        prior = np.where(cg < grade, grade_prior[0], np.where(cg > grade, grade_prior[1], prior))

    # diagnostic test of the evaluation learners (no learning)
    cpos = {c: i for i, c in enumerate(concepts)}
    item_pos: dict[int, list[int]] = {}
    for j, cids in enumerate(items["concept_ids"]):
        if len(cids) == 1 and cids[0] in cpos:
            item_pos.setdefault(cpos[cids[0]], []).append(j)
    testable = np.array(sorted(item_pos))
    spos = {s: i for i, s in enumerate(env.students)}
    eval_rows = np.array([spos[s] for s in eval_ids])
    obs0 = _Observer(eval_ids, concepts, prior, decay=observer_decay)
    n_eval = len(eval_ids)
    diag: list = []
    if start == "history":
        obs0.add_table(history)
    else:
        for _ in range(diagnostic_items):
            rr = np.repeat(np.arange(n_eval), len(testable))
            kk = np.tile(testable, n_eval)
            y, it = _assess(env, eval_rows[rr], kk, item_pos, rng)
            obs0.add_arrays(rr, kk, y)
            diag.append((rr, kk, y, it))
    start_p = model.proba_all(env.theta[eval_rows]).sum(axis=1)

    if observe not in ("answers", "tracer", "true"):
        raise ValueError("observe must be 'answers', 'tracer' or 'true'")
    item_ids = items["item_id"].astype(str).to_numpy()
    eval_answers = None
    if observe == "tracer":
        from edu_recsys.mastery import make_model

        # fitted once, on the training learners' warm-up history only
        tr = make_model(tracer).fit(history[history["student_id"].isin(set(hist_ids))])
        h_mastery = tr.mastery(history)
        # the evaluation learners' answers so far (history + diagnostic), canonical rows
        parts = [history[history["student_id"].isin(set(eval_ids))]]
        t_diag = pd.Timestamp(int(env.clock.max()), tz="UTC")
        for n, (rr, kk, y, it) in enumerate(diag):
            parts.append(
                pd.DataFrame(
                    {
                        "student_id": np.asarray(eval_ids, dtype=object)[rr],
                        "item_id": item_ids[it],
                        "concept_ids": [(concepts[k],) for k in kk],
                        "correct": y.astype(np.int8),
                        "timestamp": t_diag + pd.Timedelta(minutes=n),
                    }
                )
            )
        eval_answers = pd.concat(parts, ignore_index=True)
    if make is None:
        extra = {"grade": grade, "calibrate": True} if observe == "tracer" and calibrate else {}
        make = lambda p: make_recommender(p, G, **extra)  # noqa: E731
    result = SimulationResult(
        env=(
            f"{name}: {n_history}-learner history, {len(cat)} synthetic resources, "
            f"grade {grade}, start {start}, "
            f"seed {random_state}"
        ),
        students=n_students,
        steps=steps,
        settings={
            "n_history": n_history,
            "history_steps": history_steps,
            "history_uses": len(usage),
            "history_ratings": len(ratings),
            "resources": len(cat),
            "start": start,
            "diagnostic_items": diagnostic_items if start == "diagnostic" else 0,
            "observe": observe,
            "observer_decay": observer_decay,
            "grade_prior": list(grade_prior) if grade_prior is not None else None,
            "tracer": tracer if observe == "tracer" else None,
            "calibrate": calibrate if observe == "tracer" else None,
        },
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(policies) * steps, desc="policies x steps")
    for policy in policies:
        rec = make(policy).fit(hcat, h_mastery, interactions=history)
        penv = env.copy()
        prng = np.random.default_rng([random_state, 7])
        obs = _Observer(eval_ids, concepts, prior, decay=observer_decay)
        obs.n, obs.k = obs0.n.copy(), obs0.k.copy()
        minutes = np.zeros(n_students)
        seen: dict[str, list[str]] = {s: [] for s in eval_ids}
        tobs = (
            _TracerObserver(tr, eval_answers, eval_ids, concepts, G, grade, calibrate)
            if eval_answers is not None
            else None
        )
        mae: list[float] = []  # mean |estimate - truth| over learners x concepts, per step
        for _ in range(steps):
            if observe == "true":
                view = pd.DataFrame(
                    model.proba_all(penv.theta[eval_rows]), index=eval_ids, columns=concepts
                )
            elif tobs is not None:
                view = tobs.overrides()
            else:
                view = obs.overrides()
            true_now = model.proba_all(penv.theta[eval_rows])
            mae.append(float(np.abs(view.to_numpy(float) - true_now).mean()))
            out = rec.recommend_batch(eval_ids, k=1, mastery=view, seen=seen, reasons=False)
            picks = dict(zip(out["student_id"], out["resource_id"]))
            pc = dict(zip(out["student_id"], out["concept_id"]))
            studied, cons = [], []
            for i, sid in enumerate(eval_ids):
                r = picks.get(sid)
                if r is None:
                    continue
                step = penv.study(sid, resource_id=r)
                minutes[i] += step.minutes
                seen[sid].append(r)
                studied.append(i)
                cons.append(cpos[pc[sid]])
            studied_a, cons_a = np.array(studied, int), np.array(cons, int)
            ok = np.isin(cons_a, testable)
            studied_a, cons_a = studied_a[ok], cons_a[ok]
            for _ in range(2):
                y, it = _assess(penv, eval_rows[studied_a], cons_a, item_pos, prng)
                obs.add_arrays(studied_a, cons_a, y)
                if tobs is not None and len(it):
                    ts = pd.to_datetime(penv.clock[eval_rows[studied_a]], utc=True)
                    tobs.add(studied_a, cons_a, y, item_ids[it], ts)
            if bar is not None:
                bar.update(1)
        end_p = model.proba_all(penv.theta[eval_rows]).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            gpm = np.where(minutes > 0, (end_p - start_p) / minutes, np.nan)
        m, lo, hi = _t_interval(gpm)
        result.policies[policy] = {
            "gain_per_minute": m,
            "gain_per_minute_ci": [lo, hi],
            "gain": float(np.mean(end_p - start_p)),
            "minutes": float(np.mean(minutes)),
            "idle": int((minutes == 0).sum()),
            "mastery_mae": float(np.mean(mae)) if mae else float("nan"),
        }
        result.per_student[policy] = gpm
    if bar is not None:
        bar.close()
    return result
