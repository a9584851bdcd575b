"""Errors that users see: each names the problem in Chinese (default) and English, and the rows concerned."""

from __future__ import annotations

from collections.abc import Sequence


class RenewalError(Exception):
    """Base class of every error the CLI and the API turn into a clear message (never a traceback, never a 500)."""

    def __init__(self, zh: str, en: str | None = None, *, rows: Sequence[object] = ()) -> None:
        self.zh = zh
        self.en = en or zh
        self.rows = list(rows)
        super().__init__(self.message("zh"))

    def message(self, lang: str = "zh") -> str:
        text = self.en if lang == "en" else self.zh
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:20])
            more = len(self.rows) - 20
            label = "rows" if lang == "en" else "行"
            text = f"{text} ({label}: {shown}{f' … +{more}' if more > 0 else ''})"
        return text


class DataError(RenewalError):
    """Input data is wrong: bad geometry, wrong CRS, missing columns, bad values. Nothing was written."""


class CRSError(DataError):
    """The coordinate reference system is missing, unknown or does not fit the coordinates."""


class NotFoundError(RenewalError):
    """A named feature, street, profile or plan does not exist."""


class ConflictError(RenewalError):
    """A write lost a race (stale version) or breaks a rule (overlap, stage order)."""
