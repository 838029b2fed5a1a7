"""Project-wide documented defaults shared by several layers."""

from __future__ import annotations

__all__ = ["MASTERY_THRESHOLD", "PRODUCTIVE_BAND"]

#: A concept counts as *mastered* when the student's mastery (the predicted probability
#: of answering a typical item of that concept correctly now) is at least this value.
MASTERY_THRESHOLD: float = 0.8

#: Predicted success range in which practice is most productive (not too easy, not too
#: hard); used to pick items and resources.
PRODUCTIVE_BAND: tuple[float, float] = (0.6, 0.85)
