"""Dates as Chinese spreadsheets write them: ``2026-11-01``, ``2026年11月1日``, ``2026/11/1``, ``2026.11.01``, and
Excel date cells (read as dates, or as the serial day number when the cell has no date format)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from openpyxl.utils.datetime import from_excel

_PATTERN = re.compile(
    r"^\s*(?P<y>\d{4})\s*(?:年|-|/|\.)\s*(?P<m>\d{1,2})\s*(?:月|-|/|\.)\s*(?P<d>\d{1,2})\s*(?:日|号)?\s*"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$"
)
#: Excel serial day numbers of 1950-01-01 and 2100-12-31: a plain number outside them is not taken for a date.
_SERIAL_RANGE = (18264, 73415)


def parse_date(value: Any) -> dt.date | None:
    """The date in a cell, or None when the cell is blank.

    Raises
    ------
    ValueError
        The value is not a date in one of the accepted forms (or is not a real day, such as 2026年2月30日).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, int | float):
        if not (_SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]) or value != int(value):
            raise ValueError(f"not a date: {value!r}")
        return from_excel(int(value)).date()
    match = _PATTERN.match(str(value))
    if match is None:
        raise ValueError(f"not a date: {value!r}")
    return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
