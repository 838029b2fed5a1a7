"""Exceptions raised by the store and the serving layer."""

from __future__ import annotations

from edu_recsys.exceptions import EduRecsysError

__all__ = ["StoreError", "NotAvailableError", "NoModelError", "ConflictError"]


class StoreError(EduRecsysError):
    """The database is not in a state the store can work with."""


class NotAvailableError(EduRecsysError):
    """A feature needs a part of the library that is not present in this build.

    Parameters
    ----------
    feature : str
        What was asked for (e.g. ``"class report"``).
    module : str
        The module that provides it (e.g. ``"edu_recsys.classroom"``).
    """

    def __init__(self, feature: str, module: str, detail: str = "") -> None:
        self.feature = feature
        self.module = module
        why = f"{module}: {detail}" if detail else f"{module} is missing"
        msg = f"{feature} is not available in this build ({why})"
        super().__init__(msg)


class NoModelError(EduRecsysError):
    """No fitted mastery model is stored yet (run a refit first)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "no fitted mastery model in the store; run a refit first "
            "(POST /api/v1/refit, or Store.refit() / edu_recsys.store.serving)"
        )


class ConflictError(EduRecsysError):
    """The request conflicts with what the store holds (e.g. an id of another kind)."""
