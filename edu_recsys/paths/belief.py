"""A state estimator that only sees answers: a particle belief over learner states.

The estimator keeps many possible learner states ("particles"), each drawn from the
learner model's population prior (or around a tracer's mastery values), runs every
study step on all of them with the model's learning rule, and weighs each particle by
how well it explains the answers observed so far (importance weights in log space).
The planner then plans on a few particles at once (the most plausible ones, or a
representative sample), so that it prefers steps that are good whatever the learner's
true state turns out to be. A model with ``rate_sd > 0`` adds each learner's own
learning rate to what is estimated.

When the weights collapse onto a few particles (effective sample size below a share
of the pool), the pool is resampled and *moved*: each copy proposes fresh prior values
for a few independent latent coordinates of its initial state (for the graph model:
the general ability or one concept's own part), the whole history is replayed, and the
proposal is kept with the Metropolis-Hastings probability (the prior is the proposal,
so the acceptance ratio is the likelihood ratio). That keeps the belief diverse and
lets it recover from early mistakes, at the cost of one replay per move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edu_recsys.simulate.model import LearnerModel

__all__ = ["Belief", "ParticleEstimator"]


@dataclass
class Belief:
    """Weighted possible states of one learner.

    Attributes
    ----------
    particles : ndarray, shape (P, K)
    weights : ndarray, shape (P,)
        Normalised (sum to 1).
    prev : int
        Last concept studied (see :class:`~edu_recsys.simulate.model.LearnerModel`).
    rates : ndarray, shape (P,), optional
        Each particle's learning rate, for models with ``rate_sd > 0``.
    """

    particles: np.ndarray
    weights: np.ndarray
    prev: int = -1
    rates: np.ndarray | None = None

    def study_kwargs(self, repeat: int = 1) -> dict:
        """Keyword arguments for ``model.study`` on ``repeat`` stacked copies of the particles."""
        return {} if self.rates is None else {"rate": np.tile(self.rates, repeat)}

    @classmethod
    def point(cls, theta: np.ndarray, prev: int = -1) -> Belief:
        """A belief certain of one state (used for the oracle and for tracer mastery)."""
        theta = np.asarray(theta, dtype=float)
        return cls(theta[None, :].copy(), np.ones(1), int(prev))

    def mastery(self, model: LearnerModel) -> np.ndarray:
        """Probability (over the belief) that each concept is mastered, shape ``(K,)``."""
        return self.weights @ model.mastered(self.particles).astype(float)


class ParticleEstimator:
    """Estimate a learner's state from the concepts studied and the answers given.

    Parameters
    ----------
    model : LearnerModel
        The learning dynamics, population prior and answer model.
    n_particles : int, default 1000
        Size of the particle pool.
    resample_below : float, default 0.1
        Resample-move when the effective sample size falls below this share of the pool.
    move_concepts : int, default 2
        How many latent coordinates of a particle's initial state a move proposes
        afresh (for the graph model: the general ability or one concept's own part).
    random_state : int or Generator, optional
    prior : callable, optional
        ``prior(n, rng) -> (n, K) states`` replacing the model's population prior (e.g.
        states around a tracer's mastery values; its coordinates must be independent).
        Moves redraw from it too.
    prior_shift : array of float, shape (K,), optional
        Added to every state drawn from the prior (per concept; moves keep it, as it
        is a fixed map of the latents). A planner uses it to be cautious about some
        concepts, e.g. to start its goals' abilities lower than the population's.

    Examples
    --------
    >>> from edu_recsys.simulate.kss import KSSModel
    >>> m = KSSModel(np.zeros(10))
    >>> est = ParticleEstimator(m, n_particles=200, random_state=0)
    >>> est.start([(0, 1), (1, 0)])
    >>> b = est.belief(8)
    >>> b.particles.shape[1], round(float(b.weights.sum()), 6), b.prev
    (10, 1.0, 1)
    """

    def __init__(
        self,
        model: LearnerModel,
        n_particles: int = 1000,
        resample_below: float = 0.1,
        move_concepts: int = 2,
        random_state: int | np.random.Generator | None = None,
        prior=None,
        prior_shift: np.ndarray | None = None,
    ) -> None:
        self.model = model
        # the pool lives in the model's latent space (independent coordinates, so that
        # redrawing one coordinate from its prior is an exact Metropolis-Hastings move)
        if prior is None:
            self._prior, self._to_state = model.prior_latent, model.from_latent
        else:
            self._prior, self._to_state = prior, (lambda z: np.array(z, dtype=float))
        if prior_shift is not None:
            shift = np.asarray(prior_shift, dtype=float)
            base = self._to_state
            self._to_state = lambda z: base(z) + shift
        # a learner's own learning rate, when the model says rates differ: one more
        # latent coordinate (standard normal; rate = exp(rate_sd * z))
        self.rate_sd = float(getattr(model, "rate_sd", 0.0) or 0.0)
        self.n_particles = int(n_particles)
        self.resample_below = float(resample_below)
        self.move_concepts = int(move_concepts)
        self.rng = np.random.default_rng(random_state)

    # ------------------------------------------------------------------ running
    def start(self, history=()) -> None:
        """Reset to the prior, then take in ``history``: ``(concept index, correct)`` pairs,
        or ``(concept index, correct, item)`` triples (``item`` as in :meth:`update`)."""
        self.init = self._draw(self.n_particles)
        self.theta = self._to_state(self._state_part(self.init))
        self.loglik = np.zeros(self.n_particles)  # of the whole history, per particle
        self.logw = np.zeros(self.n_particles)  # importance weights since the last resampling
        self.prev = -1
        self.history: list[tuple] = []
        for h in history:
            self.update(int(h[0]), int(h[1]), h[2] if len(h) > 2 else None)

    def _loglik(self, theta, concept, correct, item) -> np.ndarray:
        if item is None:
            return self.model.answer_loglik(theta, concept, correct)
        return self.model.answer_loglik(theta, concept, correct, item=item)

    def _draw(self, n: int) -> np.ndarray:
        z = self._prior(n, self.rng)
        if self.rate_sd > 0:
            z = np.concatenate([z, self.rng.standard_normal((n, 1))], axis=1)
        return z

    def _state_part(self, z: np.ndarray) -> np.ndarray:
        return z[:, :-1] if self.rate_sd > 0 else z

    def _kw(self, z: np.ndarray) -> dict:
        return {"rate": np.exp(self.rate_sd * z[:, -1])} if self.rate_sd > 0 else {}

    @property
    def rates(self) -> np.ndarray | None:
        """Each particle's learning rate (None when the model has no rates)."""
        return self._kw(self.init)["rate"] if self.rate_sd > 0 else None

    def update(self, concept: int, correct: int, item=None) -> None:
        """Take in one study step on ``concept`` followed by an answer on it.

        ``item``: the answered item's model, ``(concept indices, difficulty offset,
        discrimination, guessing)``, for models whose ``answer_loglik`` takes one;
        None: a typical item of the concept.
        """
        m = self.model
        P = self.theta.shape[0]
        prev = np.full(P, self.prev)
        self.theta, prev = m.study(self.theta, concept, prev, **self._kw(self.init))
        self.prev = int(prev[0])
        step = self._loglik(self.theta, concept, correct, item)
        self.loglik += step
        self.logw += step
        self.history.append((int(concept), int(correct), item))
        if self.ess() < self.resample_below * P:
            self._resample_move()

    def ess(self) -> float:
        """Effective sample size of the weights."""
        w = self._weights()
        return float(1.0 / np.sum(w**2))

    def _weights(self) -> np.ndarray:
        w = np.exp(self.logw - self.logw.max())
        return w / w.sum()

    def _replay(self, init: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self.model
        theta = self._to_state(self._state_part(init))
        loglik = np.zeros(init.shape[0])
        prev = np.full(init.shape[0], -1)
        kw = self._kw(init)
        for c, y, item in self.history:
            theta, prev = m.study(theta, c, prev, **kw)
            loglik += self._loglik(theta, c, y, item)
        return theta, loglik

    def _resample_move(self) -> None:
        P, L = self.init.shape
        # systematic resampling: equal weights afterwards
        pos = (self.rng.random() + np.arange(P)) / P
        idx = np.minimum(np.searchsorted(np.cumsum(self._weights()), pos), P - 1)
        init, theta, loglik = self.init[idx], self.theta[idx], self.loglik[idx]
        # Metropolis-Hastings move; the proposal redraws a few concepts from the prior,
        # so the acceptance ratio is the likelihood ratio of the replayed history.
        fresh = self._draw(P)
        pick = np.argsort(self.rng.random((P, L)), axis=1)[:, : self.move_concepts]
        rows = np.arange(P)[:, None]
        prop = init.copy()
        prop[rows, pick] = fresh[rows, pick]
        prop_theta, prop_ll = self._replay(prop)
        accept = np.log(self.rng.random(P)) < prop_ll - loglik
        self.init = np.where(accept[:, None], prop, init)
        self.theta = np.where(accept[:, None], prop_theta, theta)
        self.loglik = np.where(accept, prop_ll, loglik)
        self.logw = np.zeros(P)

    # ------------------------------------------------------------------ output
    def summary(self, values: np.ndarray) -> np.ndarray:
        """Weighted median over the pool of per-particle ``values`` (P, K), shape (K,)."""
        w = self._weights()
        order = np.argsort(values, axis=0, kind="stable")
        cw = np.cumsum(w[order], axis=0)
        pick = np.argmax(cw >= 0.5 - 1e-12, axis=0)
        cols = np.arange(values.shape[1])
        return values[order[pick, cols], cols]

    def belief(self, n: int = 16, method: str = "top") -> Belief:
        """``n`` particles to plan on.

        ``method="top"``: the ``n`` most plausible distinct particles, weights
        renormalised (best when answers are nearly deterministic, as in KSS);
        ``"sample"``: a systematic resample of ``n`` by weight, equally weighted (a
        representative spread when answers are noisy).
        """
        w = self._weights()
        P = len(w)
        if method == "sample":
            # deterministic positions: the same belief gives the same sample
            pos = (0.5 + np.arange(n)) / n
            keep = np.minimum(np.searchsorted(np.cumsum(w), pos), P - 1)
            rates = None if self.rates is None else self.rates[keep]
            return Belief(self.theta[keep].copy(), np.full(n, 1.0 / n), self.prev, rates)
        top = min(P, 8 * n)
        order = np.argpartition(-w, top - 1)[:top] if top < P else np.arange(P)
        order = order[np.argsort(-w[order], kind="stable")]
        # identical particles (common after resampling) count once, with their weight summed
        key = np.round(self.theta[order], 6) @ (np.arange(self.theta.shape[1]) + np.pi)
        uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
        summed = np.bincount(inv, weights=w[order])
        rank = np.argsort(first)[:n]
        keep = order[first[rank]]
        ww = summed[rank]
        rates = None if self.rates is None else self.rates[keep]
        return Belief(self.theta[keep].copy(), ww / ww.sum(), self.prev, rates)
