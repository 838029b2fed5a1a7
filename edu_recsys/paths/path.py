"""Learning paths: ordered steps with items, resources, expected gains and reasons.

Text seen by students and teachers is Simplified Chinese first (``reason``,
``message``), English on request (``reason_en``, ``message_en``, ``lang="en"``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

__all__ = ["PathStep", "LearningPath", "STATUSES"]

#: Possible values of :attr:`LearningPath.status`.
STATUSES = ("planned", "partial", "already_mastered", "budget_exhausted", "no_path")


@dataclass
class PathStep:
    """One step of a learning path: study one concept (possibly with a few items).

    Attributes
    ----------
    concept_id, name, name_en : str
    role : str
        ``"target"``, ``"prerequisite"`` (an unmastered prerequisite of a target) or
        ``"reinforce"`` (already mastered; strengthening it speeds up what depends on it).
    practice : int
        Study steps merged into this step (consecutive steps on the same concept).
    items, resources : list of str
        Items to practise (predicted success in the productive band where the bank
        allows) and resources to study, when an item bank / catalogue is known.
    expected_gain : float
        Expected change of the success probability on a typical item of the concept.
    mastery_before, mastery_after : float
        Expected success probability on a typical item before and after the step.
    minutes : float
        Estimated time.
    reason, reason_en : str
    """

    concept_id: str
    name: str
    name_en: str
    role: str
    practice: int
    items: list[str]
    resources: list[str]
    expected_gain: float
    mastery_before: float
    mastery_after: float
    minutes: float
    reason: str
    reason_en: str

    def text(self, lang: str = "zh") -> str:
        return self.reason_en if lang == "en" else self.reason


@dataclass
class LearningPath:
    """An ordered route to the targets.

    Attributes
    ----------
    targets : list of str
    steps : list of PathStep
    status : str
        One of :data:`STATUSES`: ``planned`` (the targets are expected to be mastered
        at the end); ``partial`` (``max_steps`` ends first: the path is the start of
        the route); ``already_mastered`` (empty path: every target is mastered);
        ``budget_exhausted`` (the time budget ends first; the path is the best use of
        it); ``no_path`` (nothing can be studied: no eligible concept).
    message, message_en : str
        A one-line summary for the student or teacher.
    expected_targets_mastered : float
        Expected number of targets mastered at the end of the path.
    total_minutes : float
    student_id : str or None
    fallback : str
        ``""``, or ``"unseen_concepts"`` when some relevant concepts had no mastery value
        and started from the population prior (``fallback_concepts`` lists them).
    fallback_concepts : list of str
    """

    targets: list[str]
    steps: list[PathStep]
    status: str
    message: str
    message_en: str
    expected_targets_mastered: float
    total_minutes: float
    student_id: str | None = None
    fallback: str = ""
    fallback_concepts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    @property
    def concepts(self) -> list[str]:
        """The concept of each step, in order."""
        return [s.concept_id for s in self.steps]

    def to_frame(self) -> pd.DataFrame:
        """One row per step (with ``step`` numbered from 1)."""
        cols = [f for f in PathStep.__dataclass_fields__]
        df = pd.DataFrame([asdict(s) for s in self.steps], columns=cols)
        df.insert(0, "step", range(1, len(df) + 1))
        return df

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        d = asdict(self)
        d["steps"] = [asdict(s) for s in self.steps]
        return d

    def text(self, lang: str = "zh") -> str:
        """The path as numbered lines, with the summary first."""
        lines = [self.message_en if lang == "en" else self.message]
        for i, s in enumerate(self.steps, 1):
            unit = "min" if lang == "en" else "分钟"
            lines.append(f"{i}. {s.text(lang)} (~{s.minutes:.0f} {unit})")
        return "\n".join(lines)
