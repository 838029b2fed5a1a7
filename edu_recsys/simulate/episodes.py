"""Episodes for evaluating learning-path policies (the protocol of ``bench paths``).

An :class:`Episode` is one learner with a goal: target concepts, the answers observed
before the episode (a warm-up history) and a hidden true state. A
:class:`PathEnvironment` makes seeded episodes and runs study steps on them; a policy
chooses a concept at each step, the learner studies it and answers one item of it,
and the policy sees the answer (never the true state, except the ``oracle``).

The score of an episode is the exam score ``E`` = number of targets mastered in the
true state; the normalised promotion is ``E_p = (E_end - E_start) / (E_sup - E_start)``
with ``E_sup`` = number of targets. Environments only hand out episodes with
``E_start < E_sup`` (a learner who already masters every target is redrawn), so
``E_p`` is always defined.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from edu_recsys.simulate.model import LearnerModel

__all__ = ["Episode", "PathEnvironment"]


@dataclass
class Episode:
    """One learner's episode (mutable: :meth:`PathEnvironment.step` updates it).

    Attributes
    ----------
    learner_id : str
    targets : ndarray of int
        Column indices of the target concepts.
    history : list of (int, int)
        ``(concept index, correct)`` answers observed before the episode, oldest first.
    theta : ndarray of float, shape (K,)
        The true latent state (hidden from every policy but the oracle).
    prev : int
        Last concept studied effectively (``-1`` for none), for gated models (KSS).
    seed : int
        Seeds the answer noise of the episode, so that every policy meets the same
        random draws (common random numbers).
    """

    learner_id: str
    targets: np.ndarray
    history: list[tuple[int, int]]
    theta: np.ndarray
    prev: int = -1
    seed: int = 0
    rng: np.random.Generator | None = field(default=None, repr=False)
    #: the bank item answered at each warm-up step, and at the last step (-1: none);
    #: which item was served is public (the platform served it)
    history_items: list[int] = field(default_factory=list)
    last_item: int = -1

    def fresh(self) -> Episode:
        """A deep copy with its answer-noise generator reset to the episode's seed."""
        ep = copy.deepcopy(self)
        ep.rng = np.random.default_rng(self.seed)
        return ep


class PathEnvironment(ABC):
    """Seeded learners with goals, stepped one study step at a time.

    Attributes
    ----------
    name : str
    graph : networkx.DiGraph
    model : LearnerModel
        The learning dynamics that policies may use to plan (the published rules for
        KSS; the population-level model for graph environments).
    """

    name: str
    graph: nx.DiGraph
    model: LearnerModel

    @abstractmethod
    def episodes(self, n: int) -> list[Episode]:
        """``n`` episodes (deterministic given the environment's seed)."""

    @abstractmethod
    def step(self, ep: Episode, concept: int) -> int:
        """The learner studies ``concept`` and answers one item of it; returns 0/1."""

    def item_model(self, item: int):
        """``(concept indices, difficulty offset, discrimination, guessing)`` of a bank item
        (a calibrated bank is public), or None when the environment has no bank."""
        return None

    def true_rate(self, ep: Episode) -> float | None:
        """The learner's hidden learning rate, when the environment has one (oracle only)."""
        return None

    def exam(self, ep: Episode) -> int:
        """Number of target concepts mastered in the true state."""
        return int(self.model.mastered(ep.theta[None, :])[0, ep.targets].sum())
