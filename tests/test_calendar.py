"""Working days on China's official calendar: holidays off, 调休 make-up days on, both ends counted."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.errors import DataError
from geo.progress.calendar import is_working_day, working_days


def test_national_day_2024_counted_by_the_official_calendar() -> None:
    # 2024 National Day: 1–7 October off; Sunday 29 September and Saturday 12 October are make-up working days.
    # 29 Sep (Sun, 调休) + 30 Sep (Mon) + 8 Oct (Tue) = 3 working days; a Monday–Friday count would give 7.
    assert working_days(start=dt.date(2024, 9, 29), end=dt.date(2024, 10, 8)) == 3
    assert is_working_day(dt.date(2024, 9, 29))
    assert not is_working_day(dt.date(2024, 10, 4))
    assert is_working_day(dt.date(2024, 10, 12))


def test_first_and_last_days_both_count() -> None:
    # Monday 2 December to Friday 6 December 2024: five working days, both ends included.
    assert working_days(start=dt.date(2024, 12, 2), end=dt.date(2024, 12, 6)) == 5
    assert working_days(start=dt.date(2024, 12, 2), end=dt.date(2024, 12, 2)) == 1


def test_year_outside_the_published_calendar_fails_loudly() -> None:
    with pytest.raises(DataError, match="2099"):
        working_days(start=dt.date(2099, 1, 2), end=dt.date(2099, 1, 9))
    with pytest.raises(DataError, match="官方节假日安排未覆盖"):
        # Only the end of the period falls in an uncovered year.
        working_days(start=dt.date(2024, 12, 28), end=dt.date(2099, 1, 2))


def test_end_before_start_is_refused() -> None:
    with pytest.raises(DataError):
        working_days(start=dt.date(2024, 5, 10), end=dt.date(2024, 5, 9))
