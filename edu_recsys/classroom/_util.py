"""Small shared helpers of the classroom modules."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["quiet_nan"]


@contextmanager
def quiet_nan() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' warnings where NaN is the documented result."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", category=RuntimeWarning)
        yield


class PrerequisiteIndex:
    """Vectorised :func:`edu_recsys.graph.prerequisites_met` for many students at once.

    Built once per graph and concept order from
    :func:`edu_recsys.graph.prerequisite_groups` (same semantics: edges without
    ``any_of`` all required, one mastered member per any-of group).

    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "c")])
    >>> G.add_edge("s", "c", any_of="g"); G.add_edge("e", "c", any_of="g")
    >>> idx = PrerequisiteIndex(G, ["a", "s", "e", "c"])
    >>> idx.met(np.array([[True, False, True, False], [True, False, False, False]]))[:, 3].tolist()
    [True, False]
    """

    def __init__(self, G, concepts: list[str]):
        import scipy.sparse as sp

        from edu_recsys.graph import prerequisite_groups

        pos = {c: j for j, c in enumerate(concepts)}
        n = len(concepts)
        req_r, req_c, grp_r, grp_c, own_r, own_c = [], [], [], [], [], []
        n_groups = 0
        for j, c in enumerate(concepts):
            required, groups = prerequisite_groups(G, c)
            for u in required:
                if u in pos:
                    req_r.append(j)
                    req_c.append(pos[u])
            for alts in groups.values():
                members = [pos[u] for u in alts if u in pos]
                if not members:
                    continue
                own_r.append(j)
                own_c.append(n_groups)
                grp_r.extend([n_groups] * len(members))
                grp_c.extend(members)
                n_groups += 1
        self.required = sp.csr_matrix((np.ones(len(req_r)), (req_r, req_c)), shape=(n, n))
        self.groups = sp.csr_matrix((np.ones(len(grp_r)), (grp_r, grp_c)), shape=(n_groups, n))
        self.owner = sp.csr_matrix((np.ones(len(own_r)), (own_r, own_c)), shape=(n, n_groups))

    def met(self, mastered: np.ndarray) -> np.ndarray:
        """Bool array like ``mastered`` (students x concepts): prerequisites all met."""
        M = np.atleast_2d(mastered).astype(float)
        missing_required = (self.required @ (1.0 - M).T).T > 0
        if self.groups.shape[0]:
            group_ok = (self.groups @ M.T).T > 0
            missing_group = (self.owner @ (1.0 - group_ok).T).T > 0
            return ~(missing_required | missing_group)
        return ~missing_required
