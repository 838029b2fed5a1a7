"""Stage 3 — reranker: diversity over concepts and types, per-type quotas.

Greedy selection, vectorised over students: at each of the ``k`` steps every
student takes the pool candidate with the best *adjusted* score::

    adjusted = score x (1 - diversity) ** (picks already on its concept)
                     x (1 - type_penalty) ** (picks already of its type)

and a type whose quota is full is skipped. A student's scores are shifted up when
some are <= 0, so the penalties always lower a score.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["DiversityReranker"]


class DiversityReranker(BaseEstimator):
    """Greedy diversity reranking with per-type quotas.

    Parameters
    ----------
    diversity : float in [0, 1), default 0.3
        Penalty per earlier pick on the same concept (0: no concept diversity).
    type_penalty : float in [0, 1), default 0.15
        Penalty per earlier pick of the same type.
    type_quotas : dict, optional
        Most picks per type, e.g. ``{"video": 4}``.

    Examples
    --------
    >>> import numpy as np
    >>> rr = DiversityReranker(diversity=0.5, type_penalty=0.0)
    >>> scores = np.array([[1.0, 0.9, 0.6]])      # two on concept 0, one on concept 1
    >>> concepts, types = np.array([[0, 0, 1]]), np.array([[0, 0, 0]])
    >>> rr.rerank(scores, concepts, types, k=2, type_names=["video"]).tolist()
    [[0, 2]]
    """

    def __init__(
        self,
        diversity: float = 0.3,
        type_penalty: float = 0.15,
        type_quotas: dict[str, int] | None = None,
    ) -> None:
        self.diversity = diversity
        self.type_penalty = type_penalty
        self.type_quotas = type_quotas

    def rerank(
        self,
        scores: np.ndarray,
        concepts: np.ndarray,
        types: np.ndarray,
        k: int,
        type_names,
    ) -> np.ndarray:
        """Positions (S x k) into the pool, -1 where fewer than ``k`` are allowed.

        Parameters
        ----------
        scores : ndarray S x P
            Pool scores; ``-inf`` marks an empty slot.
        concepts, types : int ndarray S x P
            Primary concept and type code of each pool entry.
        """
        if not 0 <= self.diversity < 1 or not 0 <= self.type_penalty < 1:
            raise ValueError("diversity and type_penalty must be in [0, 1)")
        S, P = scores.shape
        k = int(min(k, P))
        out = np.full((S, k), -1, np.int64)
        if S == 0 or k == 0:
            return out
        valid = np.isfinite(scores)
        lo = np.where(valid, scores, np.inf).min(axis=1, keepdims=True)
        shift = np.where(np.isfinite(lo), np.minimum(lo, 0), 0)
        base = np.where(valid, scores - shift + 1e-6, -np.inf)
        T = max(1, len(type_names))
        quota = np.full(T, np.iinfo(np.int64).max)
        for name, q in (self.type_quotas or {}).items():
            if name in type_names:
                quota[list(type_names).index(name)] = int(q)
        type_count = np.zeros((S, T), np.int64)
        chosen_c = np.full((S, k), -2, np.int64)
        taken = ~valid
        rows = np.arange(S)
        log_div = np.log1p(-self.diversity)
        log_typ = np.log1p(-self.type_penalty)
        for j in range(k):
            same_c = (concepts[:, :, None] == chosen_c[:, None, :j]).sum(axis=2)
            n_typ = np.take_along_axis(type_count, types, axis=1)
            adj = base * np.exp(same_c * log_div + n_typ * log_typ)
            blocked = taken | (n_typ >= quota[types])
            adj = np.where(blocked, -np.inf, adj)
            pick = np.argmax(adj, axis=1)
            ok = np.isfinite(adj[rows, pick])
            out[ok, j] = pick[ok]
            chosen_c[ok, j] = concepts[rows[ok], pick[ok]]
            np.add.at(type_count, (rows[ok], types[rows[ok], pick[ok]]), 1)
            taken[rows[ok], pick[ok]] = True
        return out
