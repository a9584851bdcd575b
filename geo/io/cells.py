"""Spreadsheet cells that stay text: no value from the data becomes a live formula in a CSV or XLSX we write.

A community named ``=HYPERLINK("http://…","点击")`` or an id ``=1+1``, ``+86…``, ``-2+3``, ``@SUM(…)`` (or text
starting with a tab or a carriage return) is a formula to Excel, LibreOffice and WPS when the cell holds text that
starts so (CSV/formula injection, OWASP). Every CSV and XLSX writer of the project puts its cells through here:

- CSV: such text gets a leading apostrophe (``'=1+1``), as OWASP recommends: a CSV cell has no type, so this is
  the only way to make a spreadsheet show the text instead of running it.
- XLSX: such text is written as a string cell with Excel's "quote prefix" style (what typing ``'=1+1`` makes), so
  the value is exactly the text, shown as text, and stays text when edited.

Numbers, booleans, dates and empty cells pass through unchanged: ``-5`` stays the number -5.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from openpyxl.cell import Cell

#: First characters that make a spreadsheet read text as a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain(value: Any) -> Any:
    """A cell's value as plain Python: NA/NaN → None, numpy and pandas scalars → their Python value.

    Writers call it before escaping (`csv_cell`) or before choosing a typed XLSX write.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str | bool | int | float | dt.date):
        return value
    if hasattr(value, "item"):  # numpy / pandas scalars
        return plain(value.item())
    return str(value)


def is_formula_like(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet would take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A CSV cell: formula-like text gets a leading ``'``; everything else as it is."""
    return "'" + value if is_formula_like(value) else value


def csv_rows(rows: Iterable[Sequence[Any]]) -> Iterable[list[Any]]:
    """Rows for ``csv.writer.writerows`` with every cell through `csv_cell`."""
    return ([csv_cell(v) for v in row] for row in rows)


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for ``DataFrame.to_csv`` with its text cells (and headers) through `csv_cell`."""
    out = pd.DataFrame(frame).rename(columns=csv_cell)
    for col in out.columns:
        kind = out[col].dtype
        if pd.api.types.is_object_dtype(kind) or pd.api.types.is_string_dtype(kind):
            out[col] = out[col].map(csv_cell)
    return out


def xlsx_cell(ws: Any, value: Any) -> Any:
    """An XLSX cell value for ``ws.append``: formula-like text as a quote-prefixed string cell, else the value.

    ``ws`` is the openpyxl worksheet the row goes to, normal or write-only (``append`` takes `Cell` objects in
    both).
    """
    if not is_formula_like(value):
        return value
    cell = Cell(ws, row=1, column=1, value=value)  # ``append`` puts it in its place
    cell.data_type = "s"  # openpyxl would otherwise store text starting with "=" as a formula
    cell.quotePrefix = True
    return cell


def xlsx_row(ws: Any, values: Iterable[Any]) -> list[Any]:
    """A row for ``ws.append`` with every cell through `xlsx_cell`."""
    return [xlsx_cell(ws, v) for v in values]


__all__ = [
    "FORMULA_STARTS",
    "csv_cell",
    "csv_frame",
    "csv_rows",
    "is_formula_like",
    "plain",
    "xlsx_cell",
    "xlsx_row",
]
