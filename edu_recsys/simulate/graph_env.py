"""Learning-path episodes on any subject graph (``bench paths --env math7-9``).

The same protocol as KSS (:mod:`edu_recsys.simulate.episodes`) with the graph learner
model (:mod:`edu_recsys.simulate.learners`) on a real curriculum graph:

* **Learners**: abilities from the model's prior for the class grade (earlier grades
  mostly mastered), plus a hidden learning rate per learner (log-normal, median 1)
  that planners do not know.
* **Targets**: 1 to 3 concepts of the class grade or later, not yet mastered, chosen so
  that reaching all of them needs at most ``max_needed`` unmastered concepts (a goal
  for a few weeks of practice, not for a school year).
* **A step**: the learner studies the chosen concept (a standard study step of the
  model, times the learner's own rate), then answers one item of it drawn from the
  item bank (3PL with the item's own difficulty, discrimination and guessing, so
  answers are noisy). Policies see the concept, the answer, and which item was served
  (the bank's calibrated parameters are public: :meth:`item_model`).
* **Warm-up**: 20 steps of a noisy tutor inside the targets' prerequisite closure (retry
  after a wrong answer with probability 0.5; otherwise with probability 0.8 the first
  concept in learning order that looks weak, success below 0.6; otherwise a random
  concept of the closure).
* **Tutor** (``tutor``), i.e. what the episode generator reads. ``"truth"`` (the
  session-1 protocol, the default): the warm-up tutor's "looks weak" is the learner's
  *true* success probability, and targets are drawn among concepts not truly mastered
  such that at most ``max_needed`` truly unmastered concepts are needed. Both leak the
  hidden state into what a policy sees (which concepts were practised, which were
  chosen as targets) in a way an answers-only policy cannot model. ``"answers"``: the
  generator decides only from what a platform sees. The tutor's "looks weak" is its
  estimate from the warm-up answers so far, ``(2 p_pop + right) / (2 + answered)`` with
  ``p_pop`` the population's mean success on the concept (a platform figure); targets
  are drawn among concepts of the grade or later such that at most ``max_needed``
  concepts are needed *beyond those the population masters on average* (success >= 0.8:
  the earlier grades), whatever the learner's state. In both protocols a learner whose
  targets are all mastered after the warm-up is redrawn, so that ``E_p`` is defined.
* **Exam**: targets whose true success probability on a typical item reaches
  :data:`edu_recsys.constants.MASTERY_THRESHOLD`.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from edu_recsys.graph import concepts_needed, prerequisite_closure
from edu_recsys.simulate.episodes import Episode, PathEnvironment
from edu_recsys.simulate.items import make_item_bank
from edu_recsys.simulate.learners import GraphLearnerModel

__all__ = ["GraphPathEnv"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


class GraphPathEnv(PathEnvironment):
    """Seeded learning-path episodes on a knowledge graph.

    Parameters
    ----------
    G : networkx.DiGraph
    random_state : int, default 0
    grade : int, optional
        The learners' grade (default: the median grade of the graph).
    warmup_steps : int, default 20
    n_targets : (int, int), default (1, 3)
    max_needed : int, default 8
        Largest number of unmastered concepts needed to reach the targets.
    rate_sd : float, default 0.3
        Spread of the hidden learning rates (log scale).
    estimate_rates : bool, default True
        Tell planners the population's spread of rates (a platform can estimate it
        from its logs): their estimators then estimate each learner's rate from the
        answers, and the oracle plans with the true rate. False: planners assume
        every learner learns at the population's median rate (the oracle too).
    name : str, default "graph"
    tutor : {"truth", "answers"}, default "truth"
        What the warm-up tutor and the target draw read: the true state (the
        session-1 protocol) or only the warm-up answers and population figures (see
        the module docstring).

    Examples
    --------
    >>> from edu_recsys.graph import load_graph
    >>> env = GraphPathEnv(load_graph("math-7-9"), random_state=0)
    >>> ep = env.episodes(2)[0].fresh()
    >>> start = env.exam(ep)
    >>> env.step(ep, int(ep.targets[0])) in (0, 1)
    True
    """

    def __init__(
        self,
        G: nx.DiGraph,
        random_state: int = 0,
        *,
        grade: int | None = None,
        warmup_steps: int = 20,
        n_targets: tuple[int, int] = (1, 3),
        max_needed: int = 8,
        rate_sd: float = 0.3,
        name: str = "graph",
        estimate_rates: bool = True,
        tutor: str = "truth",
    ) -> None:
        if tutor not in ("truth", "answers"):
            raise ValueError(f"tutor must be 'truth' or 'answers', got {tutor!r}")
        self.tutor = tutor
        if grade is None:
            grades = sorted(d.get("grade") for _, d in G.nodes(data=True) if d.get("grade"))
            grade = int(grades[len(grades) // 2]) if grades else None
        self.name = name
        self.graph = G
        self.grade = grade
        self.model = GraphLearnerModel(G, grade=grade)
        self.warmup_steps = int(warmup_steps)
        self.n_targets = (int(n_targets[0]), int(n_targets[1]))
        self.max_needed = int(max_needed)
        self.rate_sd = float(rate_sd)
        # (a third child for the population figures; the first two are unchanged by it)
        bank_seq, self._learner_seq, pop_seq = np.random.SeedSequence(random_state).spawn(3)
        self.items = make_item_bank(
            G, 6, concepts=self.model.concepts, random_state=np.random.default_rng(bank_seq)
        )
        # items of each concept (primary concept), as arrays for fast sampling
        pos = {c: i for i, c in enumerate(self.model.concepts)}
        prim = np.array([pos[cs[0]] for cs in self.items["concept_ids"]])
        self._items_of = [np.flatnonzero(prim == k) for k in range(self.model.n_concepts)]
        self._item_delta = self.items["irt_b"].to_numpy() - self.model.beta[prim]
        self._item_a = self.items["discrimination"].to_numpy()
        self._item_c = self.items["guessing"].to_numpy()
        self._item_concepts = [
            np.array([pos[c] for c in cs], dtype=np.intp) for cs in self.items["concept_ids"]
        ]
        self._rates: dict[str, float] = {}
        # what a platform knows about its bank: the average guessing and the spread of
        # item difficulty around the concepts' (the planner's answer model)
        spread = float(np.std(self._item_delta))
        self.model = GraphLearnerModel(
            G,
            grade=grade,
            answer_guessing=float(np.mean(self._item_c)),
            # E[sigmoid(z - d)] with d ~ N(0, s^2) is close to sigmoid(z / sqrt(1 + pi s^2 / 8))
            answer_slope=float(1.0 / np.sqrt(1.0 + np.pi * spread**2 / 8.0)),
            # the spread of rates: estimators estimate each learner's own rate
            rate_sd=self.rate_sd if estimate_rates else 0.0,
        )
        later = [c for c in self.model.concepts if (G.nodes[c].get("grade") or 0) >= (grade or 0)]
        self._target_pool = np.array([pos[c] for c in later], dtype=np.intp)
        if tutor == "answers":
            # the population's mean success on each concept's typical item (a platform
            # knows it from its logs); concepts it masters on average
            pop = self.model.prior_states(4000, np.random.default_rng(pop_seq))
            self._pop_success = self.model.proba_all(pop).mean(axis=0)
            self._pop_mastered = {
                c for c, p in zip(self.model.concepts, self._pop_success) if p >= 0.8
            }

    # ------------------------------------------------------------------ dynamics
    def _answer(self, theta: np.ndarray, k: int, rng: np.random.Generator) -> tuple[int, int]:
        j = int(self._items_of[k][rng.integers(len(self._items_of[k]))])
        cs = self._item_concepts[j]
        margin = float(np.mean(theta[cs] - self.model.beta[cs]))
        c = self._item_c[j]
        p = c + (1 - c) * _sigmoid(self._item_a[j] * (margin - self._item_delta[j]))
        return int(rng.random() < p), j

    def item_model(self, item: int):
        j = int(item)
        return (self._item_concepts[j], float(self._item_delta[j]), float(self._item_a[j]),
                float(self._item_c[j]))  # fmt: skip

    def _study(self, theta: np.ndarray, k: int, rate: float) -> np.ndarray:
        new, _ = self.model.study(theta[None, :], k, rate=rate)
        return new[0]

    def true_rate(self, ep: Episode) -> float | None:
        return self._rates.get(ep.learner_id)

    def step(self, ep: Episode, concept: int) -> int:
        if ep.rng is None:
            ep.rng = np.random.default_rng(ep.seed)
        ep.theta = self._study(ep.theta, int(concept), self._rates[ep.learner_id])
        ep.prev = int(concept)
        y, ep.last_item = self._answer(ep.theta, int(concept), ep.rng)
        return y

    # ------------------------------------------------------------------ learners
    def _pick_targets(self, theta: np.ndarray, rng: np.random.Generator):
        m = self.model
        if self.tutor == "answers":
            mastered = self._pop_mastered  # the population's, not the learner's
        else:
            mastered = set(np.asarray(m.concepts)[m.mastered(theta[None, :])[0]])
        lo, hi = self.n_targets
        want = int(rng.integers(lo, hi + 1))
        pool = [k for k in self._target_pool if m.concepts[k] not in mastered]
        rng.shuffle(pool)
        chosen: list[int] = []
        for k in pool:
            trial = [m.concepts[c] for c in [*chosen, k]]
            if len(concepts_needed(self.graph, trial, mastered)) <= self.max_needed:
                chosen.append(int(k))
                if len(chosen) == want:
                    break
        return np.sort(np.array(chosen, dtype=np.intp))

    def _warm_up(self, ep: Episode, relevant: np.ndarray, rng: np.random.Generator):
        m = self.model
        rate = self._rates[ep.learner_id]
        order = relevant  # model concepts are in learning order already
        last = None
        right = np.zeros(len(order))
        seen = np.zeros(len(order))
        at = {int(k): i for i, k in enumerate(order)}
        for _ in range(self.warmup_steps):
            if last is not None and last[1] == 0 and rng.random() < 0.5:
                k = last[0]
            elif rng.random() < 0.8:
                if self.tutor == "answers":
                    # the tutor's estimate from the answers it saw (population prior)
                    p = (2.0 * self._pop_success[order] + right) / (2.0 + seen)
                else:
                    p = m.proba_all(ep.theta[None, :])[0, order]
                weak = np.flatnonzero(p < 0.6)
                k = int(order[weak[0]]) if len(weak) else int(rng.choice(order))
            else:
                k = int(rng.choice(order))
            ep.theta = self._study(ep.theta, k, rate)
            y, j = self._answer(ep.theta, k, rng)
            ep.history.append((k, y))
            ep.history_items.append(j)
            last = (k, y)
            seen[at[k]] += 1
            right[at[k]] += y
        ep.prev = last[0] if last else -1

    def episodes(self, n: int) -> list[Episode]:
        rng = np.random.default_rng(self._learner_seq)
        m = self.model
        out: list[Episode] = []
        drawn = 0
        while len(out) < n:
            theta = m.prior_states(1, rng)[0]
            rate = float(np.exp(rng.normal(0.0, self.rate_sd)))
            lid = f"{self.name}-{drawn:05d}"
            drawn += 1
            targets = self._pick_targets(theta, rng)
            if len(targets) == 0:
                continue
            self._rates[lid] = rate
            ep = Episode(lid, targets, [], theta.copy(), -1, int(rng.integers(2**31)))
            names = [m.concepts[t] for t in targets]
            rel = prerequisite_closure(self.graph, names, include_targets=True)
            relevant = np.array([i for i, c in enumerate(m.concepts) if c in rel], dtype=np.intp)
            self._warm_up(ep, relevant, rng)
            if self.exam(ep) < len(targets):
                out.append(ep)
        return out
