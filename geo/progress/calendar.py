"""Working days (工作日) on China's official calendar, as publicity periods (公示期) are counted.

Weekends and public holidays are off and the State Council's make-up working days (调休, e.g. some Saturdays and
Sundays around National Day) are on, so a plain Monday–Friday count is wrong around every long holiday. The General
Office of the State Council publishes each year's schedule in the autumn before (国务院办公厅关于某年部分节假日安排的
通知). The calendar is the project's own data with two sources:

- the years the ``chinese_calendar`` package carries (2004–2026 in version 1.11) come from it;
- later years come from the notice, typed by the bureau into a small file and loaded with
  ``renewal calendar import FILE`` (:func:`import_calendar`) into the store's ``calendar_days`` table, so every
  process (CLI, API workers) sees the same days.

A date in a year neither source holds is refused, naming the year and the command that adds it: a schedule is never
guessed, because one wrong Friday changes whether a publicity period was long enough.

Holiday file (CSV, UTF-8 or GBK, or XLSX; one row per day or per run of days; Chinese or English headers):

=========================  =====================================================================================
``日期`` / ``date``          the day (``2027-02-05``, ``2027/2/5``, ``2027.02.05``, ``2027年2月5日`` or a date cell)
``结束日期`` / ``end``        optional: last day of a run (the row then covers 日期…结束日期, both included)
``类型`` / ``kind``          ``假日`` (holiday, also 放假/休息/holiday) or ``调休上班`` (make-up working day, also
                            上班/补班/workday)
``名称`` / ``name``          the festival (春节, 国庆节 …); required for holidays
``依据`` / ``source``        the notice, e.g. ``国办发明电〔2026〕7号``
``年度`` / ``year``          optional: the notice's year when a day falls in the December before it (元旦 runs)
=========================  =====================================================================================

Importing a year again replaces that year (a corrected notice); years the package holds cannot be overridden.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import chinese_calendar
import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, select

from geo.errors import DataError
from geo.io.normalise import raise_row_errors
from geo.progress.dates import parse_date

if TYPE_CHECKING:
    from geo.stores import Store

Kind = Literal["holiday", "workday"]

#: Years the bundled package holds (its data is authoritative for them).
BUNDLED_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
#: The command a user runs to add a year (named in every refusal).
IMPORT_COMMAND = "renewal calendar import FILE"
#: Festivals every notice schedules; a year missing one is imported with a warning (the file may be incomplete).
FESTIVALS = ("元旦", "春节", "清明", "劳动", "端午", "中秋", "国庆")

_KIND_WORDS: dict[str, Kind] = {
    "假日": "holiday",
    "放假": "holiday",
    "休息": "holiday",
    "休假": "holiday",
    "holiday": "holiday",
    "调休上班": "workday",
    "上班": "workday",
    "补班": "workday",
    "调休": "workday",
    "workday": "workday",
}
_HEADERS = {
    "日期": "date",
    "开始日期": "date",
    "date": "date",
    "结束日期": "end",
    "至": "end",
    "end": "end",
    "类型": "kind",
    "kind": "kind",
    "名称": "name",
    "name": "name",
    "依据": "source",
    "来源": "source",
    "source": "source",
    "年度": "year",
    "year": "year",
}
_BUNDLED_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}


@dataclass(frozen=True)
class CalendarDay:
    """A day the official schedule sets apart: a holiday (off) or a make-up working day (on)."""

    date: dt.date
    kind: Kind
    name: str | None
    source: str
    year: int


@dataclass(frozen=True)
class WorkCalendar:
    """The bundled years plus the years the bureau added (``added``: notice year -> its days)."""

    added: Mapping[int, tuple[CalendarDay, ...]] = field(default_factory=dict)

    def covers(self, year: int) -> bool:
        return year in BUNDLED_YEARS or year in self.added

    def require(self, year: int) -> None:
        """Raise the refusal naming ``year`` and the command that adds it when no source holds it."""
        if not self.covers(year):
            raise DataError(
                f"{year}年的官方节假日安排（国务院办公厅关于{year}年部分节假日安排的通知）尚未导入，无法计算工作日；"
                f"请按通知整理假日和调休上班日，用 `renewal calendar import 文件` 导入"
                f"（内置日历覆盖 {BUNDLED_YEARS.start}–{BUNDLED_YEARS.stop - 1} 年）。",
                f"China's official holiday schedule for {year} (the State Council General Office notice) has not "
                f"been added, so working days cannot be counted; type the notice's holidays and make-up working "
                f"days into a file and add it with `{IMPORT_COMMAND}` (the bundled calendar covers "
                f"{BUNDLED_YEARS.start}–{BUNDLED_YEARS.stop - 1}).",
            )

    def _listed(self) -> dict[dt.date, CalendarDay]:
        return {d.date: d for days in self.added.values() for d in days}

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day (调休 make-up days included).

        Raises
        ------
        DataError
            No source holds the year (the message names it and the import command).
        """
        return self.working_days(start=day, end=day) == 1

    def working_days(self, *, start: dt.date, end: dt.date) -> int:
        """Working days from ``start`` to ``end``, both days counted ("公示期：X月X日至X月Y日，共N个工作日").

        Raises
        ------
        DataError
            ``end`` is before ``start``, or a year in between is held by no source.
        """
        check_period(start=start, end=end)
        for year in range(start.year, end.year + 1):
            self.require(year)
        listed = self._listed()
        total = 0
        for year in range(start.year, end.year + 1):
            first, last = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
            if year in BUNDLED_YEARS:
                total += len(chinese_calendar.get_workdays(first, last))
                continue
            inside = [d for d in listed.values() if first <= d.date <= last]
            off = [d.date for d in inside if d.kind == "holiday"]
            total += int(np.busday_count(first, last + dt.timedelta(days=1), holidays=off))
            total += sum(1 for d in inside if d.kind == "workday" and d.date.weekday() >= 5)
        return total

    def days(self, year: int) -> list[CalendarDay]:
        """The holidays and make-up working days of ``year``, by date (the bundled years named in Chinese)."""
        self.require(year)
        if year in BUNDLED_YEARS:
            source = f"chinesecalendar {version('chinesecalendar')}（国务院办公厅通知）"
            found = [
                CalendarDay(d, kind, _BUNDLED_NAMES.get(name, name), source, year)
                for kind, table in (("holiday", chinese_calendar.holidays), ("workday", chinese_calendar.workdays))
                for d, name in table.items()
                if d.year == year
            ]
            return sorted(found, key=lambda d: d.date)
        return sorted(self.added[year], key=lambda d: d.date)


def check_period(*, start: dt.date, end: dt.date) -> None:
    """Refuse a period that ends before it starts (a typo the calendar is not needed to see)."""
    if end < start:
        raise DataError(
            f"结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}",
            f"end date {end.isoformat()} is before start date {start.isoformat()}",
        )


def is_working_day(day: dt.date, *, calendar: WorkCalendar | None = None) -> bool:
    """Whether ``day`` is a working day on ``calendar`` (default: the bundled years only)."""
    return (calendar or WorkCalendar()).is_working_day(day)


def working_days(*, start: dt.date, end: dt.date, calendar: WorkCalendar | None = None) -> int:
    """Working days from ``start`` to ``end``, both counted, on ``calendar`` (default: the bundled years only)."""
    return (calendar or WorkCalendar()).working_days(start=start, end=end)


# -- the store --------------------------------------------------------------------------------------------------


def load_calendar(store: Store, conn: Connection | None = None) -> WorkCalendar:
    """The calendar with every year the store holds (a few dozen rows a year: read whole)."""
    table = store.tables["calendar_days"]
    stmt = select(table.c.date, table.c.kind, table.c.name, table.c.source, table.c.year).order_by(table.c.date)
    if conn is None:
        with store.engine.connect() as own:
            rows = own.execute(stmt).all()
    else:
        rows = conn.execute(stmt).all()
    added: dict[int, list[CalendarDay]] = {}
    for r in rows:
        added.setdefault(int(r.year), []).append(
            CalendarDay(dt.date.fromisoformat(r.date), r.kind, r.name, r.source, int(r.year))
        )
    return WorkCalendar({y: tuple(d) for y, d in added.items()})


@dataclass(frozen=True)
class CalendarImport:
    """What ``renewal calendar import`` stored: the years (each replacing any earlier import) and warnings."""

    years: dict[int, tuple[int, int]]
    warnings: list[str]

    def summary(self, lang: str = "zh") -> str:
        if lang == "en":
            return "; ".join(f"{y}: {h} holidays, {w} make-up working days" for y, (h, w) in self.years.items())
        return "；".join(f"{y}年：假日 {h} 天，调休上班 {w} 天" for y, (h, w) in self.years.items())


def import_calendar(store: Store, path: Path, *, actor: str, encoding: str | None = None) -> CalendarImport:
    """Load a holiday file (format in the module docstring) into the store, all or nothing.

    Each year in the file replaces what the store held for it. Rows are checked first and every bad one is named
    (unreadable date, unknown kind, no source, a make-up working day that is not a Saturday or Sunday, a day listed
    twice, a day in a year the bundled calendar holds).
    """
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise DataError(
            f"节假日文件须为 CSV 或 XLSX：{path.name}", f"a holiday file must be CSV or XLSX: {path.name}"
        )
    from geo.io._readers import read_table

    days = parse_holiday_table(read_table(path, encoding=encoding), source=path.name)
    table = store.tables["calendar_days"]
    years = sorted({d.year for d in days})
    with store.begin() as conn:
        conn.execute(delete(table).where(table.c.year.in_(years)))
        taken = {
            r.date: int(r.year)
            for r in conn.execute(
                select(table.c.date, table.c.year).where(table.c.date.in_([d.date.isoformat() for d in days]))
            )
        }
        if taken:
            raise DataError(
                "这些日期已由其他年度的通知导入：" + "、".join(f"{k}（{v}年）" for k, v in sorted(taken.items())),
                "these days were already added by another year's notice: "
                + ", ".join(f"{k} ({v})" for k, v in sorted(taken.items())),
            )
        conn.execute(
            table.insert(),
            [
                {
                    "date": d.date.isoformat(),
                    "year": d.year,
                    "kind": d.kind,
                    "name": d.name,
                    "source": d.source,
                    "actor": actor,
                }
                for d in days
            ],
        )
    kinds = pd.DataFrame({"year": [d.year for d in days], "kind": [d.kind for d in days]})
    counts = {
        y: (int((g["kind"] == "holiday").sum()), int((g["kind"] == "workday").sum()))
        for y, g in kinds.groupby("year")
    }
    return CalendarImport(counts, _incomplete(days))


def parse_holiday_table(raw: pd.DataFrame, *, source: str) -> list[CalendarDay]:
    """Rows of a holiday file (text cells, index = spreadsheet row) as calendar days; bad rows refused together."""
    frame = raw.rename(columns=lambda h: _HEADERS.get(str(h).strip().lower(), str(h).strip()))
    missing = [h for h, key in (("日期", "date"), ("类型", "kind"), ("依据", "source")) if key not in frame.columns]
    if missing:
        raise DataError(
            f"{source} 缺少列：{'、'.join(missing)}（需要 日期、类型、名称、依据，可选 结束日期、年度）",
            f"{source} lacks column(s) {', '.join(missing)} (needs date, kind, name, source; optional end, year)",
        )
    errors: list[tuple[object, str, str]] = []
    days: list[CalendarDay] = []
    seen: dict[dt.date, object] = {}
    for row, rec in frame.iterrows():
        days += _row_days(row, rec, errors, seen)
    raise_row_errors(errors, source=source)
    if not days:
        raise DataError(f"{source} 中没有日期", f"{source} lists no days")
    return days


def _row_days(
    row: object, rec: pd.Series, errors: list[tuple[object, str, str]], seen: dict[dt.date, object]
) -> list[CalendarDay]:
    first = _day(rec.get("date"))
    last = _day(rec.get("end")) if _text(rec.get("end")) else first
    kind = _KIND_WORDS.get((_text(rec.get("kind")) or "").lower())
    name, source = _text(rec.get("name")), _text(rec.get("source"))
    problems: list[tuple[str, str]] = []
    if first is None:
        problems.append((f"日期“{rec.get('date')}”无法识别", f"unreadable date {rec.get('date')!r}"))
    if last is None:
        problems.append((f"结束日期“{rec.get('end')}”无法识别", f"unreadable end date {rec.get('end')!r}"))
    if kind is None:
        problems.append(
            (
                f"类型“{rec.get('kind')}”应为 假日 或 调休上班",
                f"kind {rec.get('kind')!r} should be holiday or workday",
            )
        )
    if not source:
        problems.append(("缺少依据（国务院办公厅通知的文号）", "missing source (the notice's number)"))
    if kind == "holiday" and not name:
        problems.append(("假日须有名称（如 春节）", "a holiday needs a name (e.g. Spring Festival)"))
    if first is not None and last is not None and last < first:
        problems.append((f"结束日期 {last} 早于日期 {first}", f"end {last} is before date {first}"))
    if problems or first is None or last is None or kind is None or not source:
        errors += [(row, zh, en) for zh, en in problems]
        return []
    year = _notice_year(rec.get("year"), first, row, errors)
    out = []
    for day in pd.date_range(first, last).date:
        out.append(CalendarDay(day, kind, name, source, year))
        errors += _day_errors(row, day, kind, year, seen)
        seen.setdefault(day, row)
    return out


def _notice_year(value: object, first: dt.date, row: object, errors: list[tuple[object, str, str]]) -> int:
    text = _text(value)
    if text is None:
        return first.year
    if not re.fullmatch(r"\d{4}(\.0)?", text):
        errors.append((row, f"年度“{text}”应为四位年份", f"year {text!r} should be four digits"))
        return first.year
    return int(float(text))


def _day_errors(
    row: object, day: dt.date, kind: Kind, year: int, seen: Mapping[dt.date, object]
) -> list[tuple[object, str, str]]:
    out: list[tuple[object, str, str]] = []
    if day in seen:
        out.append((row, f"{day} 重复出现（另见第 {seen[day]} 行）", f"{day} is listed twice (see row {seen[day]})"))
    if day.year in BUNDLED_YEARS:
        out.append(
            (
                row,
                f"{day.year}年已由内置日历（chinesecalendar）覆盖，不能导入",
                f"{day.year} is covered by the bundled calendar (chinesecalendar) and cannot be imported",
            )
        )
    if not (day.year == year or (day.year == year - 1 and day.month == 12)):
        out.append((row, f"{day} 不属于{year}年的通知", f"{day} does not belong to the notice for {year}"))
    if kind == "workday" and day.weekday() < 5:
        out.append(
            (
                row,
                f"调休上班日 {day} 不是周六或周日（平日本就上班）",
                f"make-up working day {day} is not a Saturday or Sunday (weekdays are working days anyway)",
            )
        )
    return out


def _incomplete(days: Sequence[CalendarDay]) -> list[str]:
    """Warnings for years whose holidays leave out a festival every notice schedules."""
    out = []
    for year in sorted({d.year for d in days}):
        names = " ".join(d.name or "" for d in days if d.year == year and d.kind == "holiday")
        absent = [f for f in FESTIVALS if f not in names]
        if absent:
            out.append(
                f"{year}年的假日中没有：{'、'.join(absent)}，请核对通知 / "
                f"{year}: no holiday named {', '.join(absent)}; check the notice"
            )
    return out


def _day(value: object) -> dt.date | None:
    """A holiday file's date cell (:func:`geo.progress.dates.parse_date`), None when blank or unreadable."""
    try:
        return parse_date(value)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None
