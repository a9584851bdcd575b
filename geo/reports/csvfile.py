"""CSV for Excel users: UTF-8 with a BOM (so Excel reads Chinese), every cell through :func:`geo.io.cells.csv_cell`
(formula-like text kept as text)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from geo.io.cells import csv_rows, plain


def write_csv(frame: pd.DataFrame, header: Sequence[str], path: str | Path) -> Path:
    """Write ``frame``'s rows under ``header``; blanks stay blank; the output folder is created if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerows(csv_rows([header]))
        writer.writerows(csv_rows([plain(v) for v in row] for row in frame.itertuples(index=False, name=None)))
    return path
