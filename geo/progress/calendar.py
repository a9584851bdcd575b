"""Working days (工作日) on China's official calendar, as publicity periods (公示期) are counted.

Weekends and public holidays are off and the State Council's make-up working days (调休, e.g. some Saturdays and
Sundays around National Day) are on, so a plain Monday–Friday count is wrong around every long holiday. The
official calendar is published year by year; the ``chinese_calendar`` package carries the published years, and a
date outside them is refused rather than guessed.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from geo.errors import DataError


def _uncovered(day: dt.date, exc: NotImplementedError) -> DataError:
    return DataError(
        f"官方节假日安排未覆盖{day.year}年（{exc}），无法计算工作日；请更新 chinesecalendar 软件包。",
        f"China's official holiday calendar for {day.year} is not available ({exc}), so working days cannot be "
        "counted; update the chinesecalendar package.",
    )


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day on the official calendar (调休 make-up days included).

    Raises
    ------
    DataError
        The year is not covered by the published calendar the package carries.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise _uncovered(day, exc) from exc


def working_days(*, start: dt.date, end: dt.date) -> int:
    """Working days from ``start`` to ``end``, both days counted ("公示期：X月X日至X月Y日，共N个工作日").

    Raises
    ------
    DataError
        ``end`` is before ``start``, or a year in between is not covered by the official calendar.
    """
    if end < start:
        raise DataError(
            f"结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}",
            f"end date {end.isoformat()} is before start date {start.isoformat()}",
        )
    for year in range(start.year, end.year + 1):
        # Probe each year once so an uncovered year fails loudly even when the period only touches it.
        is_working_day(max(start, dt.date(year, 1, 1)))
    return len(chinese_calendar.get_workdays(start, end))
