"""Item response models: the probability that a learner answers an item correctly.

The logistic family, vectorised with numpy broadcasting::

    P(correct) = c + (1 - c) / (1 + exp(-D * a * (theta - b)))

with ability ``theta``, item difficulty ``b``, discrimination ``a`` (1PL: ``a = 1``),
guessing ``c`` (1PL/2PL: ``c = 0``) and scaling constant ``D`` (1.0 for the logistic
metric; 1.7 makes it close to the normal ogive and is what KSS uses).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from edu_recsys.exceptions import InvalidDataError

__all__ = ["irt_proba", "irt_ability_for", "sample_responses"]


def irt_proba(
    theta: ArrayLike,
    difficulty: ArrayLike,
    discrimination: ArrayLike = 1.0,
    guessing: ArrayLike = 0.0,
    *,
    scale: float = 1.0,
) -> np.ndarray:
    """Probability of a correct answer under the 1PL-3PL logistic model.

    Parameters
    ----------
    theta : array_like
        Ability (any shape broadcastable with the item parameters).
    difficulty : array_like
        Item difficulty ``b``.
    discrimination : array_like, default 1.0
        Item discrimination ``a`` (1.0 for the 1PL model).
    guessing : array_like, default 0.0
        Lower asymptote ``c`` in [0, 1) (0 for 1PL/2PL).
    scale : float, default 1.0
        The constant ``D``.

    Returns
    -------
    ndarray
        Probabilities in ``[c, 1]``, of the broadcast shape.

    Examples
    --------
    >>> float(irt_proba(0.0, 0.0))
    0.5
    >>> irt_proba([0.0, 1.0], 0.0, discrimination=5, guessing=0.25, scale=1.7).round(3)
    array([0.625, 1.   ])
    """
    theta = np.asarray(theta, dtype=float)
    c = np.asarray(guessing, dtype=float)
    if np.any((c < 0) | (c >= 1)):
        raise InvalidDataError("guessing must lie in [0, 1)", column="guessing")
    z = scale * np.asarray(discrimination, dtype=float) * (theta - np.asarray(difficulty, float))
    # exp of a large negative z would overflow; the logistic saturates long before.
    return c + (1.0 - c) / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def irt_ability_for(
    p: ArrayLike,
    difficulty: ArrayLike,
    discrimination: ArrayLike = 1.0,
    guessing: ArrayLike = 0.0,
    *,
    scale: float = 1.0,
) -> np.ndarray:
    """The ability at which :func:`irt_proba` equals ``p`` (its inverse in ``theta``).

    ``p`` is clipped into ``(c, 1)`` first so that the result is finite.

    Examples
    --------
    >>> float(irt_ability_for(0.5, 1.0))
    1.0
    >>> th = irt_ability_for(0.8, 0.3, 2.0, 0.2)
    >>> float(irt_proba(th, 0.3, 2.0, 0.2).round(6))
    0.8
    """
    c = np.asarray(guessing, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), c + 1e-6, 1 - 1e-6)
    q = (p - c) / (1.0 - c)
    a = scale * np.asarray(discrimination, dtype=float)
    return np.asarray(difficulty, float) + np.log(q / (1.0 - q)) / a


def sample_responses(p: ArrayLike, random_state: np.random.Generator) -> np.ndarray:
    """Draw 0/1 answers with the given success probabilities.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sample_responses([0.0, 1.0, 1.0], rng).tolist()
    [0, 1, 1]
    """
    p = np.asarray(p, dtype=float)
    return (random_state.random(p.shape) < p).astype(np.int8)
