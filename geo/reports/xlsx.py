"""The one look of every workbook handed to people: a sheet a leader can print without editing it.

Each table sheet has a title row (what the table is), a line naming the city, street, policy, the date it was made
and the date its data is as of (数据截至), then the header (bold, repeated on every printed page), the rows with
number formats (yuan ``#,##0``, 万元 ``#,##0.00``, m² ``#,##0.0``, percentages ``0.0%``), subtotal rows where asked
and a totals row. Header frozen, auto-filter on the rows, A4 landscape fitted to the page width, page numbers in
the footer. Every cell value goes through :mod:`geo.io.cells` (formula-like text stays text).

Workbooks are written with XlsxWriter in its constant-memory mode: rows stream to disk as they are written, and
it writes about 2.5 times as fast as openpyxl's write-only mode (a 50,000-compound city's lists, plan table and
ledger hold some three million cells); openpyxl stays the reader (ledger import, tests). A workbook is written to
a temporary file beside its target and moved into place when complete, so a failure never leaves half a file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import xlsxwriter

from geo.io.cells import is_formula_like, plain
from geo.policy.profiles import Profile
from geo.reports.labels import policy_text

Kind = Literal["text", "wrap", "int", "count", "year", "yuan", "wan", "area", "score", "pct", "date"]

#: Excel number format of each kind of column (text kinds have none).
FORMATS: dict[str, str] = {
    "int": "0",
    "count": "#,##0",
    "year": "0",
    "yuan": "#,##0",
    "wan": "#,##0.00",
    "area": "#,##0.0",
    "score": "0.0",
    "pct": "0.0%",
    "date": "yyyy-mm-dd",
}
#: Kinds added up in subtotal and totals rows (counts, money, areas; never years, ranks, scores or shares).
SUMMED = frozenset({"count", "yuan", "wan", "area"})
DEFAULT_WIDTHS: dict[str, float] = {"text": 14, "wrap": 40, "date": 12, "year": 9, "int": 8, "score": 8, "pct": 9}
#: Row (1-based, as Excel numbers them) of the header; the title and the details line are above it.
HEADER_ROW = 3
A4 = 9
WORDS = {
    "zh": {
        "total": "合计",
        "subtotal": "小计",
        "page": "第 &P 页，共 &N 页",
        "sep": "；",
        "colon": "：",
        "(": "（",
        ")": "）",
    },
    "en": {
        "total": "Total",
        "subtotal": "subtotal",
        "page": "Page &P of &N",
        "sep": "; ",
        "colon": ": ",
        "(": " (",
        ")": ")",
    },
}


@dataclass(frozen=True)
class Column:
    """One column: the frame column it shows (``key``), its header, its kind (number format, totals) and width."""

    key: str
    header: str
    kind: Kind = "text"
    width: float | None = None

    @property
    def summed(self) -> bool:
        return self.kind in SUMMED


def columns_of(
    spec: Mapping[str, tuple[str, str, str]], lang: str, widths: Mapping[str, float] | None = None
) -> list[Column]:
    """Columns from a table spec ``{key: (Chinese header, English header, kind)}`` in ``lang``."""
    k = 1 if lang == "en" else 0
    return [Column(key, v[k], v[2], (widths or {}).get(key)) for key, v in spec.items()]  # type: ignore[arg-type]


@dataclass(frozen=True)
class Heading:
    """The two lines above a table: its title, and who/what/when (city, street, policy, date made, data as of)."""

    title: str
    details: tuple[tuple[str, str], ...] = ()

    def line(self, lang: str) -> str:
        words = WORDS[_lang(lang)]
        return words["sep"].join(f"{label}{words['colon']}{value}" for label, value in self.details if value)


@dataclass(frozen=True)
class Context:
    """Who and when, for every heading: the city, the policy, the day a file is made and the day its data is as of."""

    city: str | None
    policy: str
    data_as_of: dt.date | None = None
    made: dt.date = field(default_factory=dt.date.today)
    lang: str = "zh"

    @classmethod
    def of(
        cls, profile: Profile, *, city: str | None = None, data_as_of: dt.date | None = None, lang: str = "zh"
    ) -> Context:
        return cls(city=city, policy=policy_text(profile, lang), data_as_of=data_as_of, lang=lang)

    def heading(self, title: str, *, street: str | None = None, extra: Sequence[tuple[str, str]] = ()) -> Heading:
        """城市, 街道, 政策, 制表日期, 数据截至 (English labels with ``lang="en"``), then ``extra``."""
        en = self.lang == "en"
        labels = (
            ("City", "Street", "Policy", "Made on", "Data as of")
            if en
            else ("城市", "街道", "政策", "制表日期", "数据截至")
        )
        values = (
            self.city or "",
            street or ("all streets" if en else "全部街道"),
            self.policy,
            self.made.isoformat(),
            self.data_as_of.isoformat() if self.data_as_of else "",
        )
        return Heading(title, (*zip(labels, values, strict=True), *extra))


def city_name(streets: pd.DataFrame) -> str | None:
    """The city a store covers, from its streets' district (区县) column: one name, or several joined."""
    if "district" not in streets or streets.empty:
        return None
    names = [str(d) for d in pd.unique(streets["district"].dropna())]
    return "、".join(names) if names else None


class Book:
    """A workbook being written to ``path``: add table and notes sheets in order, then :meth:`save` (or use it as a
    context manager, which saves on success and discards on error).

    The parent folder is created; the file appears at ``path`` only when :meth:`save` completes.
    """

    def __init__(self, path: str | Path, *, lang: str = "zh") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".xlsx", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self.lang = lang
        self.workbook = xlsxwriter.Workbook(
            str(self._tmp), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        self._formats: dict[tuple[str, bool], Any] = {}
        base = {"font_name": "宋体" if lang != "en" else "Calibri", "font_size": 10}
        self._base = base
        self._title = self.workbook.add_format({**base, "bold": True, "font_size": 14})
        self._plain = self.workbook.add_format(base)
        self._header = self.workbook.add_format(
            {
                **base,
                "bold": True,
                "bg_color": "#DDEBF7",
                "border": 1,
                "text_wrap": True,
                "align": "center",
                "valign": "vcenter",
            }
        )
        self._wrap = self.workbook.add_format({**base, "text_wrap": True, "valign": "top"})
        # Text a spreadsheet would take for a formula: a string cell (never a formula with strings_to_formulas off)
        # with Excel's quote prefix, so it stays text when someone edits it (geo.io.cells).
        self._quoted = self.workbook.add_format({**base, "quote_prefix": True})

    def _format(self, kind: str, *, bold: bool) -> Any:
        key = (kind, bold)
        if key not in self._formats:
            spec: dict[str, Any] = dict(self._base)
            if kind in FORMATS:
                spec["num_format"] = FORMATS[kind]
            if kind == "wrap":
                spec.update(text_wrap=True, valign="top")
            if bold:
                spec.update(bold=True, bg_color="#F2F2F2", top=1)
            self._formats[key] = self.workbook.add_format(spec)
        return self._formats[key]

    def _sheet(self, name: str, columns: Sequence[Column], heading: Heading) -> Any:
        ws = self.workbook.add_worksheet(_sheet_title(name))
        for i, c in enumerate(columns):
            default = DEFAULT_WIDTHS.get(c.kind, max(10.0, len(c.header) * 1.6 + 2))
            ws.set_column(i, i, c.width or max(default, min(len(c.header) * 1.8 + 2, 30)))
        ws.freeze_panes(HEADER_ROW, 0)
        ws.repeat_rows(HEADER_ROW - 1)
        ws.set_landscape()
        ws.set_paper(A4)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer("&C" + WORDS[_lang(self.lang)]["page"])
        ws.write_string(0, 0, plain(heading.title) or "", self._title)
        ws.write_string(1, 0, plain(heading.line(self.lang)) or "", self._plain)
        for i, c in enumerate(columns):
            ws.write_string(HEADER_ROW - 1, i, plain(c.header) or "", self._header)
        ws.set_row(HEADER_ROW - 1, 30)
        return ws

    def table(
        self,
        name: str,
        *,
        heading: Heading,
        columns: Sequence[Column],
        frame: pd.DataFrame,
        subtotals: Sequence[str] = (),
        totals: bool = True,
        count_unit: str = "",
    ) -> int:
        """Write ``frame`` as a printable table sheet; returns the number of data rows.

        Parameters
        ----------
        subtotals
            Keys to subtotal by, outermost first (``("street", "year")`` gives a subtotal after each year of a
            street and one after each street). ``frame`` must already be sorted by them.
        totals
            Add a totals row (summed columns added up; the first column says 合计 and how many rows).
        count_unit
            What the rows are, shown after the row count in subtotal and totals labels
            (``"个小区"`` gives 合计（12个小区））.
        """
        ws = self._sheet(name, columns, heading)
        words = WORDS[_lang(self.lang)]
        width = len(columns)
        kinds = [c.kind for c in columns]
        formats = [self._format(k, bold=False) if (k in FORMATS or k == "wrap") else None for k in kinds]
        bold = [self._format(k, bold=True) for k in kinds]
        summed = [i for i, c in enumerate(columns) if c.summed]
        data = frame.reindex(columns=[c.key for c in columns])
        # one conversion to plain Python rows (blanks as None) instead of a pandas scalar per cell
        rows = data.astype(object).where(data.notna(), None).to_numpy().tolist()
        groups = [[_group_text(v) for v in frame[k]] for k in subtotals]
        running = [[0] * width for _ in subtotals]
        counts = [0] * len(subtotals)
        grand = [0] * width
        row = HEADER_ROW
        n = len(data)
        for i, values in enumerate(rows):
            _write_row(ws, row, values, formats, self._quoted)
            row += 1
            for k in summed:
                v = values[k]
                if v is not None:
                    grand[k] += v
                    for level in running:
                        level[k] += v
            for level in range(len(subtotals)):
                counts[level] += 1
            nxt = i + 1
            for level in reversed(range(len(subtotals))):
                if nxt < n and all(groups[j][nxt] == groups[j][i] for j in range(level + 1)):
                    continue
                label = " ".join(groups[j][i] for j in range(level + 1))
                text = f"{label} {words['subtotal']}{words['(']}{counts[level]}{count_unit}{words[')']}"
                _write_total(ws, row, running[level], text, columns, bold)
                row += 1
                running[level] = [0] * width
                counts[level] = 0
        ws.autofilter(HEADER_ROW - 1, 0, max(row - 1, HEADER_ROW), width - 1)
        if totals:
            text = f"{words['total']}{words['(']}{n}{count_unit}{words[')']}"
            _write_total(ws, row, grand, text, columns, bold)
        return n

    def notes(
        self,
        name: str,
        *,
        heading: Heading,
        header: Sequence[str],
        rows: Iterable[Sequence[Any]],
        widths: Sequence[float],
    ) -> None:
        """A sheet of explanations (rules, sources): wrapped text, same title and print setup, no totals."""
        columns = [Column(str(i), h, "wrap", w) for i, (h, w) in enumerate(zip(header, widths, strict=True))]
        ws = self._sheet(name, columns, heading)
        for r, values in enumerate(rows, start=HEADER_ROW):
            _write_row(ws, r, values, [self._wrap] * len(columns), self._quoted)

    def save(self) -> Path:
        """Close the workbook and move it into place."""
        try:
            self.workbook.close()
            os.replace(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)
        return self.path

    def __enter__(self) -> Book:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.save()
        else:
            self.discard()

    def discard(self) -> None:
        """Drop a workbook that could not be completed (nothing appears at ``path``)."""
        try:
            self.workbook.close()
        finally:
            self._tmp.unlink(missing_ok=True)


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _sheet_title(name: str) -> str:
    """Excel allows 31 characters and none of ``[]:*?/\\`` in a sheet name."""
    for ch in "[]:*?/\\":
        name = name.replace(ch, "_")
    return name[:31]


def _group_text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return str(value)


def _write_row(ws: Any, row: int, values: Sequence[Any], formats: Sequence[Any], quoted: Any) -> None:
    for col, (value, fmt) in enumerate(zip(values, formats, strict=True)):
        value = plain(value)
        if value is None or value == "":
            continue  # a blank cell needs no record (the column's width and the print setup do not depend on it)
        if isinstance(value, str):
            ws.write_string(row, col, value, quoted if is_formula_like(value) else fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, value, fmt)
        else:
            ws.write_number(row, col, value, fmt)


def _write_total(
    ws: Any, row: int, sums: Sequence[Any], label: str, columns: Sequence[Column], formats: Sequence[Any]
) -> None:
    for i, (c, fmt) in enumerate(zip(columns, formats, strict=True)):
        if i == 0:
            ws.write_string(row, i, plain(label), fmt)
        elif c.summed:
            ws.write_number(row, i, round(sums[i], 1) if c.kind == "area" else sums[i], fmt)
        else:
            ws.write_blank(row, i, None, fmt)
