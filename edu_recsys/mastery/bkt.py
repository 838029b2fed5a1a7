"""Bayesian Knowledge Tracing (Corbett & Anderson 1995), vectorised EM in numpy.

One hidden-Markov model per concept with the standard four parameters, prior
``P(L0)``, learn ``P(T)``, guess ``P(G)`` and slip ``P(S)``, plus an optional forget
``P(F)``. Each (student, concept) history is a sequence; an answer on several concepts
is an observation in each of their sequences (the expanded rows of the public fold
files are first merged into answers, so no sibling row leaks a label).

Fitting is Baum-Welch (EM) vectorised over *all* sequences of all concepts at once:
sequences are sorted by length, so that at step t the sequences still running form a
prefix of the arrays; each EM iteration is one forward and one backward sweep of
numpy operations over those prefixes, and the expected counts are summed per concept
with ``bincount``. Estimates use a weak Beta prior (``prior_strength`` pseudo-answers
towards the initial values), which keeps concepts with few answers sensible.

Degenerate fits are reported, not hidden (``RuntimeWarning`` and
:attr:`BKT.warnings_`): guess + slip >= 1 (mastery would fall after a right answer),
and concepts answered only right or only wrong.

The prediction of an answer is the mean over its concepts of
``P(L) (1 - S) + (1 - P(L)) G``, with ``P(L)`` the filtered knowledge before it;
**mastery** is the same quantity for the student's next answer on the concept.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.mastery.answers import Answers, build_answers, check_interactions, concept_pairs
from edu_recsys.mastery.tracer import BaseTracer

__all__ = ["BKT", "BKTOnlineState"]

log = logging.getLogger(__name__)

_P = ("prior", "learn", "guess", "slip", "forget")
_LO = 1e-4


@dataclass
class _Layout:
    """Observations in time-major order over length-sorted sequences."""

    obs: np.ndarray  # (n_events,) time-major
    concept: np.ndarray  # (n_events,) concept code of each event, time-major
    seq_concept: np.ndarray  # (n_seq,) by rank
    offsets: np.ndarray  # (T + 1,) start of step t in the time-major arrays
    counts: np.ndarray  # (T,) active sequences at step t
    event_pos: np.ndarray  # (n_events,) time-major position of each input event
    seq_last: np.ndarray  # (n_seq,) time-major index of each sequence's last event


def _layout(seq: np.ndarray, obs: np.ndarray, concept_of_seq: np.ndarray) -> _Layout:
    """``seq``: sequence id of each event (events of a sequence in time order)."""
    m = len(seq)
    n_seq = len(concept_of_seq)
    lens = np.bincount(seq, minlength=n_seq)
    rank_of_seq = np.empty(n_seq, np.int64)
    by_len = np.argsort(-lens, kind="stable")
    rank_of_seq[by_len] = np.arange(n_seq)
    order = np.argsort(seq, kind="stable")
    s_sorted = seq[order]
    start = np.r_[0, np.cumsum(lens)[:-1]]
    t_idx = np.empty(m, np.int64)
    t_idx[order] = np.arange(m) - start[s_sorted]
    rank = rank_of_seq[seq]
    T = int(lens.max()) if m else 0
    counts = np.bincount(t_idx, minlength=T)
    offsets = np.r_[0, np.cumsum(counts)]
    tm = offsets[t_idx] + rank
    obs_tm = np.empty(m)
    obs_tm[tm] = obs
    conc = np.empty(m, np.int64)
    conc[tm] = concept_of_seq[seq]
    sorted_lens = lens[by_len]
    seq_last = offsets[np.maximum(sorted_lens - 1, 0)] + np.arange(n_seq)
    return _Layout(
        obs=obs_tm,
        concept=conc,
        seq_concept=concept_of_seq[by_len],
        offsets=offsets,
        counts=counts,
        event_pos=tm,
        seq_last=seq_last,
    )


def _forward(L: _Layout, P: dict, store: bool = True):
    """Filtered knowledge. Returns (pk before each event, post after, loglik per seq)."""
    m = len(L.obs)
    pk = np.empty(m)
    post = np.empty(m)
    sc = L.seq_concept
    prior, learn, guess, slip, forget = (P[k][sc] for k in _P)
    cur = prior.copy()
    ll = np.zeros(len(sc))
    for t in range(len(L.counts)):
        n = L.counts[t]
        a, b = L.offsets[t], L.offsets[t] + n
        o = L.obs[a:b]
        p = cur[:n]
        g, s = guess[:n], slip[:n]
        e1 = np.where(o > 0.5, 1.0 - s, s)
        e0 = np.where(o > 0.5, g, 1.0 - g)
        num = p * e1
        den = num + (1.0 - p) * e0
        ll[:n] += np.log(den)
        q = num / den
        pk[a:b] = p
        post[a:b] = q
        cur = q * (1.0 - forget[:n]) + (1.0 - q) * learn[:n]
    return pk, post, ll


def _em_step(L: _Layout, P: dict, n_concepts: int, forgetting: bool, strength: float, init):
    pk, post, ll = _forward(L, P)
    m = len(L.obs)
    sc = L.seq_concept
    learn, forget = P["learn"][sc], P["forget"][sc]
    gamma = np.empty(m)
    xi01 = np.zeros(m)
    xi10 = np.zeros(m)
    has_next = np.zeros(m, bool)
    T = len(L.counts)
    if T:
        a = L.offsets[T - 1]
        gamma[a:] = post[a:]
    for t in range(T - 2, -1, -1):
        a, n = L.offsets[t], L.counts[t]
        a1, n1 = L.offsets[t + 1], L.counts[t + 1]
        q = post[a : a + n1]
        g1 = gamma[a1 : a1 + n1]
        p1 = np.clip(pk[a1 : a1 + n1], 1e-12, 1 - 1e-12)
        f, lr = forget[:n1], learn[:n1]
        x11 = q * (1.0 - f) * g1 / p1
        x10 = q * f * (1.0 - g1) / (1.0 - p1)
        x01 = (1.0 - q) * lr * g1 / p1
        gamma[a : a + n1] = x11 + x10
        xi01[a : a + n1] = x01
        xi10[a : a + n1] = x10
        has_next[a : a + n1] = True
        # sequences ending at step t keep their filtered value
        gamma[a + n1 : a + n] = post[a + n1 : a + n]
    gamma = np.clip(gamma, 0.0, 1.0)
    c = L.concept
    o = L.obs
    bc = lambda w: np.bincount(c, weights=w, minlength=n_concepts)  # noqa: E731
    g1_all = bc(gamma)
    g0_all = bc(1.0 - gamma)
    first = np.arange(L.counts[0]) if T else np.zeros(0, np.int64)
    n_seq = np.bincount(sc, minlength=n_concepts).astype(float)
    a_ = strength
    new = {
        "prior": (
            np.bincount(sc[first], weights=gamma[first], minlength=n_concepts) + a_ * init["prior"]
        )
        / (n_seq + a_),
        "learn": (bc(xi01) + a_ * init["learn"]) / (bc(np.where(has_next, 1.0 - gamma, 0.0)) + a_),
        "guess": (bc((1.0 - gamma) * o) + a_ * init["guess"]) / (g0_all + a_),
        "slip": (bc(gamma * (1.0 - o)) + a_ * init["slip"]) / (g1_all + a_),
    }
    if forgetting:
        new["forget"] = (bc(xi10) + a_ * init["forget"]) / (bc(np.where(has_next, gamma, 0.0)) + a_)
    else:
        new["forget"] = np.zeros(n_concepts)
    loglik = np.bincount(sc, weights=ll, minlength=n_concepts)
    return new, loglik


class BKT(BaseTracer):
    """Bayesian Knowledge Tracing: one four-parameter HMM per concept (+ forgetting).

    Parameters
    ----------
    forgetting : bool, default False
        Also estimate P(F), the chance of losing a mastered concept between answers.
    max_iter : int
        EM iterations at most.
    tol : float
        Stop when the mean log-likelihood per observation improves by less.
    n_init : int
        Random restarts (the best log-likelihood is kept per concept); the first start
        is the deterministic initial values.
    init : dict, optional
        Initial parameter values (default prior 0.4, learn 0.1, guess 0.2, slip 0.1,
        forget 0.01 when forgetting).
    max_guess, max_slip : float
        Upper bounds (default 0.5 each, which keeps guess + slip < 1).
    prior_strength : float
        Pseudo-answers of the Beta prior towards ``init`` in every M-step.
    merge_expanded : bool
        Merge expanded multi-concept rows into answers (see
        :mod:`edu_recsys.mastery.answers`).
    random_state : int or None
        Seeds the random restarts.

    Attributes
    ----------
    params_ : DataFrame
        One row per concept: prior, learn, guess, slip, forget, n_obs, loglik.
    warnings_ : list of str
        Degenerate-fit warnings.

    Examples
    --------
    >>> df = pd.DataFrame({"student_id": list("aaaabbbb"), "item_id": list("xyzwxyzw"),
    ...                    "concept_ids": [("c",)] * 8, "correct": [0, 0, 1, 1, 0, 1, 1, 1]})
    >>> bkt = BKT().fit(df)
    >>> bkt.params_.loc["c", ["prior", "learn", "guess", "slip"]].between(0, 1).all()
    np.True_
    >>> m = bkt.mastery(df)
    >>> bool(m.loc[m.student_id == "b", "mastery"].iloc[0] > 0.5)
    True
    """

    def __init__(
        self,
        forgetting: bool = False,
        max_iter: int = 100,
        tol: float = 1e-5,
        n_init: int = 1,
        init: dict | None = None,
        max_guess: float = 0.5,
        max_slip: float = 0.5,
        prior_strength: float = 1.0,
        merge_expanded: bool = True,
        random_state=0,
    ) -> None:
        self.forgetting = forgetting
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.init = init
        self.max_guess = max_guess
        self.max_slip = max_slip
        self.prior_strength = prior_strength
        self.merge_expanded = merge_expanded
        self.random_state = random_state

    # ------------------------------------------------------------------ helpers
    def _init_values(self) -> dict:
        base = {"prior": 0.4, "learn": 0.1, "guess": 0.2, "slip": 0.1, "forget": 0.0}
        if self.forgetting:
            base["forget"] = 0.01
        base.update(self.init or {})
        return base

    def _clip(self, P: dict) -> dict:
        P["prior"] = np.clip(P["prior"], _LO, 1 - _LO)
        P["learn"] = np.clip(P["learn"], _LO, 1 - _LO)
        P["guess"] = np.clip(P["guess"], _LO, self.max_guess)
        P["slip"] = np.clip(P["slip"], _LO, self.max_slip)
        P["forget"] = np.clip(P["forget"], 0.0, 1 - _LO) if self.forgetting else P["forget"] * 0
        return P

    def _sequences(self, ans: Answers, cmap: np.ndarray):
        """Sequence id per pair (student, concept), concept (fitted index) per sequence."""
        pc = cmap[ans.pair_concept]
        ok = pc >= 0
        stu = ans.student[ans.pair_answer]
        key = stu * max(len(cmap), 1) + ans.pair_concept
        seq, uniq = pd.factorize(key[ok])
        concept_of_seq = np.empty(len(uniq), np.int64)
        concept_of_seq[seq] = pc[ok]
        return seq.astype(np.int64), concept_of_seq, ok

    # ---------------------------------------------------------------------- fit
    def fit(self, X: pd.DataFrame, y=None):
        """Estimate the parameters of every concept by EM."""
        check_interactions(X, need_correct=y is None)
        if self.max_guess + self.max_slip >= 1.0:
            log.info("bounds allow guess + slip >= 1; degenerate fits will be reported")
        ans = build_answers(X, merge_expanded=self.merge_expanded)
        if y is not None:
            yy = np.asarray(y, dtype=float)
            if yy.shape != (len(X),):
                raise InvalidDataError(f"y has shape {yy.shape}, expected ({len(X)},)")
            ans.y = yy[ans.first_row]
        if ans.n_answers == 0:
            raise InvalidDataError("no interactions to fit on")
        concepts = np.asarray(ans.concept_ids, dtype=object)
        nC = len(concepts)
        seq, conc_of_seq, ok = self._sequences(ans, np.arange(nC))
        obs = ans.y[ans.pair_answer][ok]
        L = _layout(seq, obs, conc_of_seq)
        init = {k: np.full(nC, v, dtype=float) for k, v in self._init_values().items()}
        rng = np.random.default_rng(self.random_state)
        best_P, best_ll = None, np.full(nC, -np.inf)
        n_iter = 0
        for start in range(max(1, int(self.n_init))):
            P = {k: v.copy() for k, v in init.items()}
            if start > 0:
                P["prior"] = rng.uniform(0.1, 0.9, nC)
                P["learn"] = rng.uniform(0.01, 0.4, nC)
                P["guess"] = rng.uniform(0.05, min(0.4, self.max_guess), nC)
                P["slip"] = rng.uniform(0.02, min(0.3, self.max_slip), nC)
            P = self._clip(P)
            prev = -np.inf
            it = 0
            while it < self.max_iter:
                it += 1
                new, ll = _em_step(L, P, nC, self.forgetting, self.prior_strength, init)
                P = self._clip(new)
                total = ll.sum() / max(len(obs), 1)
                if total - prev < self.tol:
                    break
                prev = total
            _, _, ll_seq = _forward(L, P)
            ll = np.bincount(L.seq_concept, weights=ll_seq, minlength=nC)
            n_iter = max(n_iter, it)
            if best_P is None:
                best_P, best_ll = P, ll
            else:
                better = ll > best_ll
                for k in _P:
                    best_P[k] = np.where(better, P[k], best_P[k])
                best_ll = np.where(better, ll, best_ll)
        P = best_P
        n_obs = np.bincount(L.concept, minlength=nC)
        wins = np.bincount(L.concept, weights=L.obs, minlength=nC)
        self.params_ = pd.DataFrame(
            {k: P[k] for k in _P} | {"n_obs": n_obs, "loglik": best_ll},
            index=pd.Index(concepts, name="concept_id"),
        )
        # fallback for unknown concepts: observation-weighted mean parameters
        wts = np.maximum(n_obs, 1)
        self.default_params_ = {k: float(np.average(P[k], weights=wts)) for k in _P}
        self._P = P
        self._concept_index = pd.Index(concepts, dtype=object)
        self.n_iter_ = n_iter
        self.classes_ = np.array([0, 1])
        self._report_degenerate(P, n_obs, wins, concepts)
        return self

    def _report_degenerate(self, P, n_obs, wins, concepts) -> None:
        msgs = []
        bad = np.flatnonzero(P["guess"] + P["slip"] >= 1.0)
        if len(bad):
            msgs.append(
                f"{len(bad)} concept(s) with guess + slip >= 1 (mastery falls after a right "
                f"answer): {', '.join(map(str, concepts[bad][:5]))}"
            )
        for what, sel in (("wrong", wins == 0), ("right", wins == n_obs)):
            idx = np.flatnonzero((n_obs > 0) & sel)
            if len(idx):
                shown = ", ".join(map(str, concepts[idx][:5]))
                msgs.append(f"{len(idx)} concept(s) answered only {what}: {shown}")
        self.warnings_ = msgs
        for m in msgs:
            warnings.warn(f"BKT: {m}", RuntimeWarning, stacklevel=3)

    # ------------------------------------------------------------------ predict
    def _params_for(self, cidx: np.ndarray) -> dict:
        return {
            k: np.where(cidx >= 0, self._P[k][np.maximum(cidx, 0)], self.default_params_[k])
            for k in _P
        }

    def _run(self, ans: Answers):
        """Per pair: concept index (-1 unknown), pk before, post after, sequence id."""
        cmap = self._concept_index.get_indexer(pd.Index(ans.concept_ids, dtype=object))
        nloc = max(len(ans.concept_ids), 1)
        key = ans.student[ans.pair_answer] * nloc + ans.pair_concept
        seq, uniq = pd.factorize(key)
        conc_local = (uniq % nloc).astype(np.int64)
        cidx_seq = cmap[conc_local] if len(conc_local) else np.zeros(0, np.int64)
        # unknown concepts get their own slot with the default parameters
        nC = len(self._concept_index)
        P = {k: np.r_[self._P[k], self.default_params_[k]] for k in _P}
        conc_of_seq = np.where(cidx_seq >= 0, cidx_seq, nC)
        obs = ans.y[ans.pair_answer]
        L = _layout(seq.astype(np.int64), np.nan_to_num(obs), conc_of_seq)
        pk, post, _ = _forward(L, P)
        pcidx = cmap[ans.pair_concept] if len(ans.pair_concept) else ans.pair_concept
        return pcidx, pk[L.event_pos], post[L.event_pos], seq, conc_of_seq, P, L

    def _answer_proba(self, X: pd.DataFrame):
        ans = build_answers(X, merge_expanded=self.merge_expanded)
        pcidx, pk, _, _, _, _, _ = self._run(ans)
        Pp = self._params_for(pcidx)
        pc = pk * (1 - Pp["slip"]) + (1 - pk) * Pp["guess"]
        n = ans.n_answers
        cnt = np.bincount(ans.pair_answer, minlength=n)
        s = np.bincount(ans.pair_answer, weights=pc, minlength=n)
        prior_p = self.default_params_["prior"]
        fallback = (
            prior_p * (1 - self.default_params_["slip"])
            + (1 - prior_p) * self.default_params_["guess"]
        )
        return np.where(cnt > 0, s / np.maximum(cnt, 1), fallback), ans

    def _fitted_concepts(self) -> np.ndarray:
        return np.asarray(self._concept_index, dtype=object)

    def _state(self, history: pd.DataFrame) -> dict:
        """student -> {concept: (P(L) before the next answer, answers so far)}."""
        ans = build_answers(history, merge_expanded=self.merge_expanded)
        state: dict[str, dict[str, tuple[float, int]]] = {}
        if ans.n_answers == 0:
            return state
        pcidx, pk, post, seq, conc_of_seq, P, L = self._run(ans)
        # last event of every sequence -> knowledge before the next answer
        last = np.zeros(seq.max() + 1, np.int64)
        last[seq] = np.arange(len(seq))  # events of a sequence are in time order
        c = conc_of_seq
        q = post[last]
        nxt = q * (1 - P["forget"][c]) + (1 - q) * P["learn"][c]
        counts = np.bincount(seq)
        stu = ans.student[ans.pair_answer][last]
        cid = ans.concept_ids[ans.pair_concept[last]]
        for s, cc, v, k in zip(ans.student_ids[stu], cid, nxt, counts):
            state.setdefault(str(s), {})[str(cc)] = (float(v), int(k))
        return state

    def _concept_p(self, concept: str, pL: float | None) -> tuple[float, bool]:
        j = self._concept_index.get_indexer([concept])[0]
        if j >= 0:
            pr, g, s = self._P["prior"][j], self._P["guess"][j], self._P["slip"][j]
        else:
            d = self.default_params_
            pr, g, s = d["prior"], d["guess"], d["slip"]
        p = pr if pL is None else pL
        return p * (1 - s) + (1 - p) * g, j < 0

    def _query(self, state: dict, students, items, concepts):
        n = len(students)
        p = np.empty(n)
        unseen_s = np.zeros(n, bool)
        unseen_c = np.zeros(n, bool)
        evidence = np.zeros(n)
        # vectorised over queries: group by concept
        rows, codes, uniq = concept_pairs(pd.Series(list(concepts), dtype=object))
        cidx = self._concept_index.get_indexer(pd.Index(uniq, dtype=object))
        pc_idx = cidx[codes] if len(codes) else np.zeros(0, np.int64)
        Pp = self._params_for(pc_idx)
        st_of = [state.get(str(s)) for s in students]
        pL = np.empty(len(rows))
        ev = np.zeros(len(rows))
        for j, (r, code) in enumerate(zip(rows, codes)):
            d = st_of[r]
            v = d.get(uniq[code]) if d is not None else None
            if v is None:
                pL[j] = np.nan
            else:
                pL[j], ev[j] = v
        pL = np.where(np.isnan(pL), Pp["prior"], pL)
        pcs = pL * (1 - Pp["slip"]) + (1 - pL) * Pp["guess"]
        cnt = np.bincount(rows, minlength=n)
        s = np.bincount(rows, weights=pcs, minlength=n)
        d = self.default_params_
        fb = d["prior"] * (1 - d["slip"]) + (1 - d["prior"]) * d["guess"]
        p = np.where(cnt > 0, s / np.maximum(cnt, 1), fb)
        evidence = np.divide(
            np.bincount(rows, weights=ev, minlength=n), cnt, out=np.zeros(n), where=cnt > 0
        )
        unseen_s = np.array([x is None for x in st_of], dtype=bool)
        unseen_c = (cnt == 0) | (np.bincount(rows, weights=(pc_idx < 0), minlength=n) > 0)
        flags = {
            "unseen_student": unseen_s,
            "unseen_item": np.zeros(n, bool),
            "unseen_concept": unseen_c,
        }
        return p, flags, evidence

    def online_state(self, history: pd.DataFrame | None = None) -> BKTOnlineState:
        """A :class:`BKTOnlineState` seeded with ``history``."""
        check_is_fitted(self)
        state = self._state(history) if history is not None and len(history) else {}
        return BKTOnlineState(self, state)


class BKTOnlineState:
    """Per student and concept: P(L) before the next answer; O(1) updates."""

    def __init__(self, model: BKT, state: dict) -> None:
        self.model = model
        self._s = state
        self._params: dict[str, tuple] = {}

    def _par(self, c: str) -> tuple:
        v = self._params.get(c)
        if v is None:
            m = self.model
            j = m._concept_index.get_indexer([c])[0]
            if j >= 0:
                v = tuple(float(m._P[k][j]) for k in _P)
            else:
                v = tuple(m.default_params_[k] for k in _P)
            self._params[c] = v
        return v

    def update(self, student_id, item_id, concept_ids, correct, timestamp=None) -> None:
        """Fold one answer in: Bayes' rule on each concept, then the transition."""
        if isinstance(concept_ids, str):
            concept_ids = (concept_ids,)
        d = self._s.setdefault(str(student_id), {})
        y = bool(int(correct))
        for c in dict.fromkeys(str(x) for x in concept_ids):
            prior, learn, guess, slip, forget = self._par(c)
            pL, n = d.get(c, (prior, 0))
            if y:
                num = pL * (1 - slip)
                post = num / (num + (1 - pL) * guess)
            else:
                num = pL * slip
                post = num / (num + (1 - pL) * (1 - guess))
            d[c] = (post * (1 - forget) + (1 - post) * learn, n + 1)

    def predict(self, student_id, item_id, concept_ids) -> float:
        """P(correct) of the student's next answer on these concepts."""
        if isinstance(concept_ids, str):
            concept_ids = (concept_ids,)
        d = self._s.get(str(student_id), {})
        ps = []
        for c in concept_ids:
            prior, _, guess, slip, _ = self._par(str(c))
            pL = d.get(str(c), (prior, 0))[0]
            ps.append(pL * (1 - slip) + (1 - pL) * guess)
        if not ps:
            dp = self.model.default_params_
            return dp["prior"] * (1 - dp["slip"]) + (1 - dp["prior"]) * dp["guess"]
        return float(np.mean(ps))

    def mastery(self, student_id, concepts=None) -> dict[str, float]:
        """Concept -> P(correct on the concept next) for one student."""
        d = self._s.get(str(student_id), {})
        cs = (
            list(concepts)
            if concepts is not None
            else list(dict.fromkeys(list(self.model._concept_index) + list(d)))
        )
        return {str(c): self.predict(student_id, None, (str(c),)) for c in cs}

    def p_known(self, student_id) -> dict[str, float]:
        """Concept -> P(L), the probability that the concept is known (BKT's own state)."""
        return {c: v[0] for c, v in self._s.get(str(student_id), {}).items()}

    @property
    def students(self) -> list[str]:
        return list(self._s)
