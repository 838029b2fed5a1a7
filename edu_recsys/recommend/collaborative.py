"""Collaborative signal: resources that helped students with a similar mastery profile.

Students are compared by their mastery profiles (student x concept), reduced with PCA
to a few components and indexed with a k-d tree (scikit-learn ``NearestNeighbors``),
so memory stays linear in the number of students (no students x students matrix).
For each query student, the ``n_neighbors`` nearest training students' outcomes with
each resource are averaged:

- ``mode="gain"`` (when learning gains were measured, see
  :func:`edu_recsys.resources.usage_gains`): ``cf_gain`` = the neighbours' summed
  gain with the resource / (number of neighbours who used it + ``shrink``);
- ``mode="usage"`` (no gains measured): ``cf_gain`` = share of neighbours who used it.

``cf_n`` is the number of neighbours who used the resource (shown in the reasons).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

__all__ = ["NeighbourSignal"]


class NeighbourSignal(BaseEstimator):
    """k-nearest-neighbour signal over mastery profiles (sparse outputs).

    Parameters
    ----------
    n_neighbors : int, default 20
    n_components : int, default 16
        PCA components of the mastery profile used for the distance.
    shrink : float, default 2.0
        Pseudo-neighbours at gain 0 in ``mode="gain"``.
    random_state : int, optional

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> P = np.array([[0.9, 0.1], [0.85, 0.15], [0.1, 0.9]])
    >>> H = sp.csr_matrix(np.array([[0.2, 0.0], [0.0, 0.0], [0.0, -0.1]]))
    >>> U = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]))
    >>> nb = NeighbourSignal(n_neighbors=1, shrink=0).fit(P, H, U)
    >>> g, n = nb.signal(np.array([[0.88, 0.12]]), exclude=np.array([1]))
    >>> g.toarray().round(2).tolist(), n.toarray().tolist()
    ([[0.2, 0.0]], [[1.0, 0.0]])
    """

    def __init__(
        self,
        n_neighbors: int = 20,
        n_components: int = 16,
        shrink: float = 2.0,
        random_state: int | None = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.shrink = shrink
        self.random_state = random_state

    def fit(self, profiles: np.ndarray, helped: sp.spmatrix, used: sp.spmatrix, mode="gain"):
        """Index the training students' profiles and their outcomes per resource."""
        profiles = np.asarray(profiles, np.float32)
        S, C = profiles.shape
        self.mode_ = mode
        self.helped_ = sp.csr_matrix(helped, dtype=np.float32)
        self.used_ = sp.csr_matrix(used, dtype=np.float32)
        self.n_train_ = S
        if S == 0:
            self.pca_ = self.nn_ = None
            return self
        nc = int(min(self.n_components, C, S))
        varied = bool(np.ptp(profiles, axis=0).max() > 0) if C else False
        self.pca_ = (
            PCA(n_components=nc, svd_solver="randomized", random_state=self.random_state)
            if nc >= 1 and varied
            else None
        )
        Z = self.pca_.fit_transform(profiles) if self.pca_ is not None else profiles
        self.nn_ = NearestNeighbors(algorithm="kd_tree").fit(Z)
        return self

    def signal(self, profiles: np.ndarray, exclude: np.ndarray | None = None):
        """``(cf_gain, cf_n)``, both sparse S x N.

        ``exclude[s]`` is the training row of query student ``s`` (-1 if none), left
        out of its own neighbourhood.
        """
        S = profiles.shape[0]
        N = self.helped_.shape[1]
        if self.nn_ is None or S == 0 or self.n_train_ == 0:
            z = sp.csr_matrix((S, N), dtype=np.float32)
            return z, z.copy()
        Z = np.asarray(profiles, np.float32)
        Z = self.pca_.transform(Z) if self.pca_ is not None else Z
        kq = int(min(self.n_neighbors + 1, self.n_train_))
        _, idx = self.nn_.kneighbors(Z, n_neighbors=kq)
        keep = np.ones(idx.shape, bool)
        if exclude is not None:
            keep &= idx != np.asarray(exclude)[:, None]
        # keep the first n_neighbors of the remaining
        keep &= np.cumsum(keep, axis=1) <= self.n_neighbors
        rows = np.repeat(np.arange(S), keep.sum(axis=1))
        W = sp.csr_matrix(
            (np.ones(int(keep.sum()), np.float32), (rows, idx[keep])), shape=(S, self.n_train_)
        )
        n_used = (W @ self.used_).tocsr()
        n_used.sort_indices()
        if self.mode_ == "gain":
            total = (W @ self.helped_).tocsr()
            r, c = n_used.nonzero()
            vals = np.asarray(total[r, c]).ravel() if len(r) else np.zeros(0, np.float32)
            gain = sp.csr_matrix(
                (vals / (n_used.data + np.float32(self.shrink) + 1e-9), (r, c)), shape=(S, N)
            )
        else:
            k = max(1, int(keep.sum(axis=1).max()))
            gain = n_used.copy()
            gain.data = gain.data / k
        return gain.astype(np.float32), n_used
