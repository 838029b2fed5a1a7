"""Resource recommendation: candidates -> scorer -> reranker, with reasons.

The pipeline in :class:`Recommender` has three named stages (as in LensKit):

1. :class:`CandidateSelector` (:mod:`~edu_recsys.recommend.candidates`): concepts on
   the ready-to-learn frontier, weak concepts, concepts due for review, and a target's
   path; resources teaching them are the candidates.
2. a scorer (:mod:`~edu_recsys.recommend.scorers`): the default expected learning gain
   per time (mastery gap x relevance x quality x difficulty fit, with the collaborative
   signal of :mod:`~edu_recsys.recommend.collaborative`), or a baseline.
3. :class:`DiversityReranker` (:mod:`~edu_recsys.recommend.rerank`): diversity over
   concepts and types, per-type quotas.

Every row carries reasons with the numbers behind them (:mod:`~edu_recsys.recommend.
reasons`) and a ``fallback`` flag where a documented fallback was used.
"""

from edu_recsys.recommend.candidates import (
    DEFAULT_SOURCE_WEIGHTS,
    SOURCES,
    CandidateSelector,
)
from edu_recsys.recommend.collaborative import NeighbourSignal
from edu_recsys.recommend.reasons import reasons_for
from edu_recsys.recommend.recommender import (
    POLICIES,
    RECOMMENDATION_COLUMNS,
    SCORE_COLUMNS,
    Recommender,
    make_recommender,
)
from edu_recsys.recommend.rerank import DiversityReranker
from edu_recsys.recommend.scorers import (
    SCORERS,
    Batch,
    CollaborativeScorer,
    GainScorer,
    MasteryScorer,
    PopularityScorer,
    QualityScorer,
    RandomScorer,
    Scorer,
    TrainData,
    difficulty_fit,
    make_scorer,
    predicted_success,
)
from edu_recsys.recommend.space import DEFAULT_MASTERY

__all__ = [
    "Batch",
    "CandidateSelector",
    "CollaborativeScorer",
    "DEFAULT_MASTERY",
    "DEFAULT_SOURCE_WEIGHTS",
    "DiversityReranker",
    "GainScorer",
    "MasteryScorer",
    "NeighbourSignal",
    "POLICIES",
    "PopularityScorer",
    "QualityScorer",
    "RECOMMENDATION_COLUMNS",
    "RandomScorer",
    "Recommender",
    "SCORERS",
    "SCORE_COLUMNS",
    "SOURCES",
    "Scorer",
    "TrainData",
    "difficulty_fit",
    "make_recommender",
    "make_scorer",
    "predicted_success",
    "reasons_for",
]
