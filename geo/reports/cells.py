"""Cell values for files people open in Excel: one function every CSV and XLSX string cell goes through.

A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is read by Excel as a
formula (CSV injection: a compound named ``=HYPERLINK(...)`` would run when a leader opens the list). Such text is
written with a leading apostrophe, which Excel shows as plain text. Numbers, dates and empty cells pass unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value ready for a CSV or XLSX cell: NA/NaN → None, numpy scalars → Python, formula-like text escaped."""
    if value is None or value is _NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, bool | int | float | dt.date):
        return value
    if hasattr(value, "item"):  # numpy / pandas scalars
        return cell(value.item())
    return cell(str(value))


def _pandas_na() -> object:
    import pandas as pd

    return pd.NA


_NA = _pandas_na()
