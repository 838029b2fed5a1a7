"""The learner-model protocol shared by the simulators and the planner.

A *learner model* says how a learner's latent state changes when a concept is studied,
how likely a correct answer is in a given state, and which concepts count as mastered.
Simulators run a model on hidden true states; the planner (:mod:`edu_recsys.paths`)
runs the same kind of model on its *beliefs* (a small ensemble of possible states
estimated from answers), so the planner never needs the simulator's hidden state.

States are float arrays of shape ``(B, K)`` (``B`` states, ``K`` concepts); every method
is vectorised over the ``B`` rows, each row with its own concept index, which is what
lets the planner score many candidate paths in one numpy call. ``prev`` is the index
of the last concept studied *effectively* (``-1`` for none); models without a gate
(everything except KSS) ignore it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import networkx as nx
import numpy as np

__all__ = ["LearnerModel", "as_index"]


def as_index(B: int, concept: int | np.ndarray) -> np.ndarray:
    """Broadcast a concept index (or per-row indices) to an int array of length B."""
    idx = np.asarray(concept, dtype=np.intp)
    return np.broadcast_to(idx, (B,)) if idx.ndim == 0 else idx


class LearnerModel(ABC):
    """How a learner's state responds to study, and how it shows in answers.

    Attributes
    ----------
    graph : networkx.DiGraph
        The knowledge graph (concept nodes, prerequisite edges).
    concepts : tuple of str
        Concept ids; position ``k`` is column ``k`` of a state array.
    """

    graph: nx.DiGraph
    concepts: tuple[str, ...]
    #: spread (log scale) of learners' own learning rates; 0: everyone learns alike, and
    #: ``study`` takes no ``rate``
    rate_sd: float = 0.0

    @property
    def n_concepts(self) -> int:
        return len(self.concepts)

    def index_of(self, concepts: Sequence[str]) -> np.ndarray:
        """Column indices of concept ids (raises ``KeyError`` for unknown ids)."""
        pos = {c: i for i, c in enumerate(self.concepts)}
        return np.array([pos[c] for c in concepts], dtype=np.intp)

    @abstractmethod
    def prior_states(self, n: int, random_state: np.random.Generator) -> np.ndarray:
        """``n`` states drawn from the population's prior (before any evidence)."""

    def prior_latent(self, n: int, random_state: np.random.Generator) -> np.ndarray:
        """Prior draws of independent latent coordinates (default: the states themselves).

        A state estimator proposes new values coordinate by coordinate in this space,
        which is exact only when the coordinates are independent under the prior.
        """
        return self.prior_states(n, random_state)

    def from_latent(self, z: np.ndarray) -> np.ndarray:
        """States from latents (default: the identity)."""
        return np.array(z, dtype=float, copy=True)

    @abstractmethod
    def success_proba(self, theta: np.ndarray, concept: int | np.ndarray) -> np.ndarray:
        """P(correct) on the concept's typical item for each row of ``theta``."""

    @abstractmethod
    def mastered(self, theta: np.ndarray) -> np.ndarray:
        """Boolean ``(B, K)``: which concepts count as mastered in each state."""

    @abstractmethod
    def study(
        self, theta: np.ndarray, concept: int | np.ndarray, prev: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Study one concept per row; returns ``(new_theta, new_prev)`` (inputs untouched)."""

    def proba_all(self, theta: np.ndarray) -> np.ndarray:
        """P(correct) on every concept's typical item, shape ``(B, K)``."""
        theta = np.atleast_2d(theta)
        return np.stack([self.success_proba(theta, k) for k in range(self.n_concepts)], axis=1)

    def progress(self, theta: np.ndarray) -> np.ndarray:
        """Progress of each concept in [0, 1] (elementwise; default: mastered or not)."""
        return self.mastered(theta).astype(float)

    def restrict(self, concepts) -> LearnerModel:
        """The model on a prerequisite-closed subset of its concepts (default: itself)."""
        return self

    def states_from_mastery(
        self, mastery, n: int, random_state: np.random.Generator
    ) -> tuple[np.ndarray, list[str]]:
        """``n`` states matching per-concept mastery probabilities; not supported here."""
        raise NotImplementedError(f"{type(self).__name__} cannot start from mastery values")

    def gain(self, theta: np.ndarray, concept: int | np.ndarray) -> np.ndarray:
        """A quick measure of what studying ``concept`` does to each row (ungated):
        by default the total progress it adds."""
        theta = np.atleast_2d(theta)
        new, _ = self.study(theta, concept)
        return (self.progress(new) - self.progress(theta)).sum(axis=1)

    def allowed(self, prev: np.ndarray) -> np.ndarray:
        """Boolean ``(B, K)``: which concepts a study step can change after ``prev``."""
        prev = np.atleast_1d(prev)
        return np.ones((prev.shape[0], self.n_concepts), dtype=bool)

    def answer_loglik(
        self, theta: np.ndarray, concept: int | np.ndarray, correct: int | np.ndarray
    ) -> np.ndarray:
        """log P(observed answer | state) per row, used by the state estimator."""
        p = np.clip(self.success_proba(theta, concept), 1e-6, 1 - 1e-6)
        return np.where(np.asarray(correct) == 1, np.log(p), np.log1p(-p))
