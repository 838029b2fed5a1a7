"""Resource quality from ratings, completion and learning gain, each with its evidence.

Three signals, each shrunk toward a documented prior by its evidence count, then
combined into one score in [0, 1]:

1. **Rating** (Bayesian average): ``(m * prior + sum(ratings)) / (m + n)`` with
   ``prior`` = the mean of all ratings (3.5 when there are none) and ``m =
   rating_strength`` pseudo-ratings. Score ``(rating - 1) / 4``.
2. **Completion rate** (beta shrinkage): ``(s * prior + completed) / (s + n)`` with
   ``prior`` = the overall completion rate (0.7 when unknown), ``s =
   completion_strength``.
3. **Learning gain** (from logs, see :func:`usage_gains`): for each student who used
   the resource, their success on its concepts in the next ``window`` answers after
   the use, minus the success of *similar students who did not use any resource on
   that concept* at the same point: same concept, same practice stage (number of
   earlier answers: 0, 1-2, 3-5, 6-10, 11+) and same earlier success band (none,
   <0.5, 0.5-0.8, >=0.8). Averaged over users (``gain_raw``, with standard error and
   a 95% interval), shrunk toward 0 with ``gain_strength`` pseudo-users (``gain``).
   Score ``1 / (1 + exp(-gain / gain_scale))`` (0.5 = no measurable effect).

Combined: ``quality = w_rating * rating_score + w_completion * completion_score +
w_gain * gain_score``, plus, for curated quality courses (``is_quality``), a bonus
``curated_bonus * k / (k + evidence)`` that fades as evidence accumulates (``k =
curated_strength``). A resource with no evidence at all gets exactly the prior
(``quality_prior``) and the flag ``quality_fallback = "new_resource"``.

The gain estimate is observational: students choose resources, and matching on stage
and earlier success removes only part of that selection. It is a screening signal with
its confidence, not a causal effect.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from edu_recsys.resources.catalogue import Catalogue, as_catalogue

__all__ = ["QualityEstimator", "estimate_quality", "usage_gains", "QUALITY_COLUMNS"]

log = logging.getLogger(__name__)

QUALITY_COLUMNS = (
    "resource_id",
    "n_ratings",
    "rating_mean",
    "rating_bayes",
    "n_uses",
    "n_completion",
    "completion_rate",
    "n_gain",
    "gain_raw",
    "gain_se",
    "gain_ci_low",
    "gain_ci_high",
    "gain",
    "evidence",
    "is_quality",
    "quality",
    "quality_fallback",
)

_STAGE_EDGES = np.array([1, 3, 6, 11])
_PRE_EDGES = np.array([0.5, 0.8])


def _to_ns(s) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of a column of timestamps."""
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(s), utc=True)).as_unit("ns").asi8


def _explode_answers(interactions: pd.DataFrame) -> pd.DataFrame:
    ia = interactions[["student_id", "concept_ids", "correct", "timestamp"]]
    lens = ia["concept_ids"].map(len).to_numpy()
    rows = np.repeat(np.arange(len(ia)), lens)
    out = pd.DataFrame(
        {
            "student_id": ia["student_id"].to_numpy()[rows],
            "concept_id": np.fromiter(
                (c for t in ia["concept_ids"] for c in t), dtype=object, count=int(lens.sum())
            ),
            "correct": ia["correct"].to_numpy(float)[rows],
            "t": _to_ns(ia["timestamp"])[rows],
        }
    )
    return out


def _group_prior(codes, n, total, prior: float, strength: float) -> np.ndarray:
    """Per-resource prior: its group's pooled mean shrunk toward ``prior`` (no groups:
    ``prior`` itself)."""
    if codes is None:
        return np.full(len(n), float(prior))
    if len(codes) == 0:
        return np.zeros(0)
    G = int(codes.max()) + 1
    n_g = np.bincount(codes, weights=n, minlength=G)
    s_g = np.bincount(codes, weights=total, minlength=G)
    return ((strength * prior + s_g) / np.maximum(strength + n_g, 1e-12))[codes]


def usage_gains(
    catalogue: Catalogue,
    interactions: pd.DataFrame,
    *,
    window: int = 5,
    min_controls: int = 5,
) -> pd.DataFrame:
    """Per (student, resource) learning gain after the student's first use of it.

    Parameters
    ----------
    catalogue : Catalogue
        Needs ``usage`` with timestamps.
    interactions : DataFrame
        Canonical answers with ``timestamp``.
    window : int, default 5
        Answers after (and before) the use that are compared.
    min_controls : int, default 5
        Fewest control split points for a matched cell; with fewer the match backs
        off to (concept, stage), then (stage, earlier-success band), then all.

    Returns
    -------
    DataFrame
        ``student_id, resource_id, n_concepts, post, control, gain`` (one row per
        student and resource with at least one later answer on its concepts).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.Timestamp("2024-01-01", tz="UTC")
    >>> ia = pd.DataFrame({"student_id": ["u"] * 4 + ["c"] * 4, "item_id": "q",
    ...     "concept_ids": [("a",)] * 8, "correct": [0, 0, 1, 1, 0, 0, 0, 1],
    ...     "timestamp": [t + pd.Timedelta(minutes=i) for i in range(4)] * 2})
    >>> cat = as_catalogue([{"resource_id": "v", "type": "video", "concept_ids": "a"}],
    ...     usage=pd.DataFrame({"student_id": ["u"], "resource_id": ["v"],
    ...                         "timestamp": [t + pd.Timedelta(seconds=90)]}))
    >>> # u used v after two wrong answers; c, who used nothing, is matched at the
    >>> # same stage and earlier success (split points 1 and 2 of c: next answers 0.0, 0.5)
    >>> usage_gains(cat, ia, window=2, min_controls=1)[["post", "control", "gain"]]
       post  control  gain
    0   1.0     0.25  0.75
    """
    cols = ["student_id", "resource_id", "n_concepts", "post", "control", "gain"]
    us = catalogue.usage
    if (
        interactions is None
        or len(interactions) == 0
        or "timestamp" not in interactions.columns
        or "timestamp" not in us.columns
        or len(us) == 0
    ):
        return pd.DataFrame({c: [] for c in cols})
    ans = _explode_answers(interactions)
    ans = ans[ans["t"] != np.iinfo(np.int64).min]
    ans["g"] = ans["student_id"].astype(str) + "\x1f" + ans["concept_id"].astype(str)
    ans = ans.sort_values(["g", "t"], kind="stable").reset_index(drop=True)
    g_codes, g_uni = pd.factorize(ans["g"], sort=False)
    n = len(ans)
    start_of = np.r_[0, np.flatnonzero(np.diff(g_codes)) + 1]
    size_of = np.diff(np.r_[start_of, n])
    start = np.repeat(start_of, size_of)
    end = start + np.repeat(size_of, size_of)
    k = np.arange(n) - start
    cum = np.r_[0.0, np.cumsum(ans["correct"].to_numpy(float))]

    def windows(i: np.ndarray, s: np.ndarray, e: np.ndarray):
        lo = np.maximum(s, i - window)
        hi = np.minimum(e, i + window)
        with np.errstate(invalid="ignore", divide="ignore"):
            pre = (cum[i] - cum[lo]) / (i - lo)
            post = (cum[hi] - cum[i]) / (hi - i)
        return pre, post

    # first use of each resource by each student, exploded over the resource's concepts
    res = catalogue.resources.set_index("resource_id")["concept_ids"]
    first = us.dropna(subset=["timestamp"]).drop_duplicates(["student_id", "resource_id"])
    first = first[first["resource_id"].isin(res.index)]
    rc = res.reindex(first["resource_id"]).to_numpy()
    lens = np.fromiter((len(t) for t in rc), int, count=len(rc))
    rep = np.repeat(np.arange(len(first)), lens)
    uses = pd.DataFrame(
        {
            "student_id": first["student_id"].to_numpy()[rep],
            "resource_id": first["resource_id"].to_numpy()[rep],
            "concept_id": np.fromiter(
                (c for t in rc for c in t), dtype=object, count=int(lens.sum())
            ),
            "t": _to_ns(first["timestamp"])[rep],
        }
    )
    if len(uses) == 0:
        return pd.DataFrame({c: [] for c in cols})
    uses["g"] = uses["student_id"].astype(str) + "\x1f" + uses["concept_id"].astype(str)
    gidx = pd.Index(g_uni).get_indexer(uses["g"])
    uses = uses[gidx >= 0].copy()
    uses["gi"] = gidx[gidx >= 0]
    # answers of that student on that concept strictly before the use: sort uses among
    # the answers by (group, time), uses first on ties, and count the answers before
    gi = uses["gi"].to_numpy()
    ts = ans["t"].to_numpy(np.int64)
    ut = uses["t"].to_numpy(np.int64)
    keys_g = np.r_[g_codes, gi]
    keys_t = np.r_[ts, ut]
    is_ans = np.r_[np.ones(n, int), np.zeros(len(uses), int)]
    order = np.lexsort((is_ans, keys_t, keys_g))
    ans_before = np.cumsum(is_ans[order]) - is_ans[order]
    pos = np.empty(len(order), int)
    pos[order] = np.arange(len(order))
    gs = start_of[gi]
    ge = gs + size_of[gi]
    n_pre = ans_before[pos[n:]] - gs
    i = gs + n_pre
    has_post = i < ge
    uses, i, gs, ge = uses[has_post], i[has_post], gs[has_post], ge[has_post]
    n_pre = n_pre[has_post]
    u_pre, u_post = windows(i, gs, ge)

    # controls: every split point of (student, concept) sequences with no resource use
    allu = catalogue.usage[catalogue.usage["resource_id"].isin(res.index)]
    ac = res.reindex(allu["resource_id"]).to_numpy()
    alens = np.fromiter((len(t) for t in ac), int, count=len(ac))
    used_g = pd.Index(
        np.repeat(allu["student_id"].astype(str).to_numpy(), alens).astype(object)
        + "\x1f"
        + np.fromiter((c for t in ac for c in t), dtype=object, count=int(alens.sum()))
    )
    used_all = np.zeros(len(g_uni), bool)
    hit = pd.Index(g_uni).get_indexer(used_g)
    used_all[hit[hit >= 0]] = True
    ctrl = ~used_all[g_codes]
    c_i = np.flatnonzero(ctrl)
    c_pre, c_post = windows(c_i, start[c_i], end[c_i])
    control = pd.DataFrame(
        {
            "concept_id": ans["concept_id"].to_numpy()[c_i],
            "stage": np.digitize(k[c_i], _STAGE_EDGES),
            "band": np.where(np.isnan(c_pre), -1, np.digitize(np.nan_to_num(c_pre), _PRE_EDGES)),
            "post": c_post,
        }
    )
    query = pd.DataFrame(
        {
            "concept_id": uses["concept_id"].to_numpy(),
            "stage": np.digitize(n_pre, _STAGE_EDGES),
            "band": np.where(np.isnan(u_pre), -1, np.digitize(np.nan_to_num(u_pre), _PRE_EDGES)),
        }
    )
    expected = np.full(len(query), np.nan)
    for keys in (["concept_id", "stage", "band"], ["concept_id", "stage"], ["stage", "band"], []):
        todo = np.isnan(expected)
        if not todo.any():
            break
        if keys:
            agg = control.groupby(keys)["post"].agg(["mean", "size"])
            agg = agg[agg["size"] >= min_controls]
            m = (
                pd.MultiIndex.from_frame(query.loc[todo, keys])
                if len(keys) > 1
                else pd.Index(query.loc[todo, keys[0]])
            )
            vals = agg["mean"].reindex(m).to_numpy()
        else:
            vals = np.full(todo.sum(), control["post"].mean() if len(control) >= 1 else np.nan)
        expected[todo] = vals
    per_concept = pd.DataFrame(
        {
            "student_id": uses["student_id"].to_numpy(),
            "resource_id": uses["resource_id"].to_numpy(),
            "post": u_post,
            "control": expected,
        }
    ).dropna()
    out = (
        per_concept.groupby(["student_id", "resource_id"], sort=False)
        .agg(n_concepts=("post", "size"), post=("post", "mean"), control=("control", "mean"))
        .reset_index()
    )
    out["gain"] = out["post"] - out["control"]
    return out[cols]


class QualityEstimator(BaseEstimator):
    """Estimate each resource's quality with evidence counts (see module docstring).

    Parameters
    ----------
    rating_prior : float, optional
        Prior mean rating (default: mean of all ratings, 3.5 when none).
    rating_strength : float, default 5
        Pseudo-ratings of the prior (Bayesian average).
    completion_prior : float, optional
        Prior completion rate (default: overall rate, 0.7 when unknown).
    completion_strength : float, default 5
        Pseudo-uses of the completion prior.
    gain_strength : float, default 10
        Pseudo-users at gain 0 (shrinkage of the learning-gain estimate).
    gain_scale : float, default 0.1
        Gain (in success-rate points) that maps to a gain score of 0.73.
    weights : tuple, default (0.25, 0.25, 0.5)
        Weights of the rating, completion and gain scores.
    curated_bonus : float, default 0.1
        Bonus of curated quality courses while evidence is thin.
    curated_strength : float, default 10
        Evidence at which the curated bonus has halved.
    window : int, default 5
        Answers before/after a use compared by the gain estimate.
    group_by : str or None, default "type"
        Catalogue column whose groups get their own prior (empirical Bayes: each
        group's pooled mean, itself shrunk to the global prior with the same
        strength); None for one global prior.

    Attributes
    ----------
    quality_ : DataFrame
        One row per resource with :data:`QUALITY_COLUMNS`.
    usage_gains_ : DataFrame
        Per (student, resource) gains (:func:`usage_gains`).
    priors_ : dict
        The priors actually used, and ``quality_prior`` (score of a resource with no
        evidence; curated ones add ``curated_bonus``).

    Examples
    --------
    >>> cat = as_catalogue(
    ...     [{"resource_id": "a", "type": "video"}, {"resource_id": "b", "type": "video"}],
    ...     ratings=pd.DataFrame({"student_id": list("xyz"), "resource_id": "a",
    ...                           "rating": [5, 5, 5]}))
    >>> q = QualityEstimator(rating_strength=3).fit(cat).quality_
    >>> q[["resource_id", "n_ratings", "rating_bayes", "quality_fallback"]]
      resource_id  n_ratings  rating_bayes quality_fallback
    0           a          3           5.0
    1           b          0           5.0     new_resource
    """

    def __init__(
        self,
        rating_prior: float | None = None,
        rating_strength: float = 5.0,
        completion_prior: float | None = None,
        completion_strength: float = 5.0,
        gain_strength: float = 10.0,
        gain_scale: float = 0.1,
        weights: tuple[float, float, float] = (0.25, 0.25, 0.5),
        curated_bonus: float = 0.1,
        curated_strength: float = 10.0,
        window: int = 5,
        group_by: str | None = "type",
    ) -> None:
        self.rating_prior = rating_prior
        self.rating_strength = rating_strength
        self.completion_prior = completion_prior
        self.completion_strength = completion_strength
        self.gain_strength = gain_strength
        self.gain_scale = gain_scale
        self.weights = weights
        self.curated_bonus = curated_bonus
        self.curated_strength = curated_strength
        self.window = window
        self.group_by = group_by

    def _groups(self, res: pd.DataFrame) -> np.ndarray | None:
        if self.group_by is None:
            return None
        if len(res) == 0:
            return np.zeros(0, np.int64)
        if self.group_by not in res.columns:
            raise ValueError(f"group_by column {self.group_by!r} is not in the catalogue")
        return pd.factorize(res[self.group_by].astype(str))[0]

    def fit(self, catalogue, interactions: pd.DataFrame | None = None, y=None):
        """Estimate quality from the catalogue's records (and answers, for gain)."""
        cat = as_catalogue(catalogue) if not isinstance(catalogue, Catalogue) else catalogue
        if min(self.rating_strength, self.completion_strength, self.gain_strength) < 0:
            raise ValueError("prior strengths must be >= 0")
        w = np.asarray(self.weights, float)
        if w.shape != (3,) or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be three non-negative numbers, not all zero")
        w = w / w.sum()
        res = cat.resources
        ids = pd.Index(res["resource_id"])

        ra = cat.ratings
        r_prior = (
            self.rating_prior
            if self.rating_prior is not None
            else (float(ra["rating"].mean()) if len(ra) else 3.5)
        )
        codes = self._groups(res)
        r = ra.groupby("resource_id")["rating"].agg(["size", "sum"]).reindex(ids).fillna(0)
        n_r = r["size"].to_numpy(float)
        rating_mean = np.where(n_r > 0, r["sum"].to_numpy() / np.maximum(n_r, 1), np.nan)
        r_pri = _group_prior(codes, n_r, r["sum"].to_numpy(float), r_prior, self.rating_strength)
        rating_bayes = (self.rating_strength * r_pri + r["sum"].to_numpy()) / np.maximum(
            self.rating_strength + n_r, 1e-12
        )

        us = cat.usage
        n_uses = us.groupby("resource_id").size().reindex(ids).fillna(0).to_numpy(float)
        if "completed" in us.columns:
            comp = us.dropna(subset=["completed"])
            c_prior = (
                self.completion_prior
                if self.completion_prior is not None
                else (float(comp["completed"].mean()) if len(comp) else 0.7)
            )
            c = comp.groupby("resource_id")["completed"].agg(["size", "sum"]).reindex(ids)
            c = c.fillna(0)
            n_c, s_c = c["size"].to_numpy(float), c["sum"].to_numpy(float)
        else:
            c_prior = self.completion_prior if self.completion_prior is not None else 0.7
            n_c = s_c = np.zeros(len(ids))
        c_pri = _group_prior(codes, n_c, s_c, c_prior, self.completion_strength)
        completion = (self.completion_strength * c_pri + s_c) / np.maximum(
            self.completion_strength + n_c, 1e-12
        )

        gains = usage_gains(cat, interactions, window=self.window)
        g = gains.groupby("resource_id")["gain"].agg(["size", "mean", "std"]).reindex(ids)
        n_g = g["size"].fillna(0).to_numpy(float)
        g_raw = g["mean"].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            g_se = np.where(n_g >= 2, g["std"].to_numpy(float) / np.sqrt(n_g), np.nan)
        g_sum = n_g * np.nan_to_num(g_raw)
        g_pri = _group_prior(codes, n_g, g_sum, 0.0, self.gain_strength)
        gain = (self.gain_strength * g_pri + g_sum) / np.maximum(self.gain_strength + n_g, 1e-12)

        rating_score = (rating_bayes - 1) / 4
        gain_score = 1 / (1 + np.exp(-gain / self.gain_scale))
        base = w[0] * rating_score + w[1] * completion + w[2] * gain_score
        evidence = n_r + n_c + n_g
        curated = res["is_quality"].to_numpy(bool)
        bonus = np.where(
            curated,
            self.curated_bonus * self.curated_strength / (self.curated_strength + evidence),
            0.0,
        )
        quality = np.clip(base + bonus, 0, 1)
        prior_q = (
            w[0] * (r_pri - 1) / 4 + w[1] * c_pri + w[2] / (1 + np.exp(-g_pri / self.gain_scale))
        )
        self.priors_ = {
            "rating": r_prior,
            "completion": c_prior,
            "gain": 0.0,
            "quality_prior": float(w[0] * (r_prior - 1) / 4 + w[1] * c_prior + w[2] * 0.5),
            "curated_bonus": self.curated_bonus,
            "group_by": self.group_by,
            "by_group": (
                {}
                if self.group_by is None
                else dict(zip(res[self.group_by].astype(str), np.round(prior_q, 6)))
            ),
        }
        self.quality_ = pd.DataFrame(
            {
                "resource_id": ids.to_numpy(),
                "n_ratings": n_r.astype(int),
                "rating_mean": rating_mean,
                "rating_bayes": rating_bayes,
                "n_uses": n_uses.astype(int),
                "n_completion": n_c.astype(int),
                "completion_rate": completion,
                "n_gain": n_g.astype(int),
                "gain_raw": g_raw,
                "gain_se": g_se,
                "gain_ci_low": g_raw - 1.96 * g_se,
                "gain_ci_high": g_raw + 1.96 * g_se,
                "gain": gain,
                "evidence": evidence.astype(int),
                "is_quality": curated,
                "quality": quality,
                "quality_fallback": np.where(evidence == 0, "new_resource", ""),
            }
        )
        self.usage_gains_ = gains
        n_new = int((evidence == 0).sum())
        if n_new:
            log.info("%d of %d resources have no evidence: quality = prior", n_new, len(ids))
        return self

    def quality_for(self, resource_ids) -> pd.DataFrame:
        """Quality rows for the given ids; unknown ids get the prior, flagged
        ``unknown_resource``."""
        check_is_fitted(self, "quality_")
        q = self.quality_.set_index("resource_id").reindex(pd.Index(resource_ids, dtype=object))
        unknown = q["quality"].isna().to_numpy()
        q.loc[unknown, "quality"] = self.priors_["quality_prior"]
        q.loc[unknown, "quality_fallback"] = "unknown_resource"
        for c in ("n_ratings", "n_uses", "n_completion", "n_gain", "evidence"):
            q[c] = q[c].fillna(0).astype(int)
        return q.reset_index()


def estimate_quality(catalogue, interactions: pd.DataFrame | None = None, **params) -> pd.DataFrame:
    """Shortcut: ``QualityEstimator(**params).fit(catalogue, interactions).quality_``."""
    return QualityEstimator(**params).fit(catalogue, interactions).quality_
