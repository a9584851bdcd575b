"""Working days on China's official calendar: holidays off, 调休 make-up days on, both ends counted; years after the
bundled calendar come from the State Council notice, added with ``renewal calendar import`` (both stores)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from geo.cli import app as cli
from geo.errors import ConflictError, DataError
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.progress.calendar import BUNDLED_YEARS, is_working_day, load_calendar, working_days
from geo.progress.rules import check_stage
from geo.progress.store import record_stage
from geo.stores import Store

FIXTURE_2027 = Path(__file__).with_name("fixtures") / "holidays_2027.csv"
CHUXIONG = load_profile("chuxiong-2020")
D = dt.date


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


def test_year_outside_the_published_calendar_names_the_year_and_the_command() -> None:
    with pytest.raises(DataError) as err:
        working_days(start=dt.date(2099, 1, 2), end=dt.date(2099, 1, 9))
    assert "2099" in err.value.message("zh") and "renewal calendar import" in err.value.message("zh")
    with pytest.raises(DataError, match="2027年的官方节假日安排"):
        # Only the end of the period falls in an uncovered year.
        working_days(start=dt.date(2026, 12, 28), end=dt.date(2027, 1, 4))


def test_end_before_start_is_refused() -> None:
    with pytest.raises(DataError):
        working_days(start=dt.date(2024, 5, 10), end=dt.date(2024, 5, 9))


def test_a_publicity_rule_without_a_day_count_never_needs_the_calendar() -> None:
    # Chuxiong's first consent is publicised with no number of days set: a 2030 period (no calendar) is accepted.
    assert 2030 not in BUNDLED_YEARS
    check_stage(
        CHUXIONG,
        history=[{"event_id": 1, "stage": "survey", "date": "2030-01-07", "corrects": None}],
        stage="consent_1",
        date=D(2030, 3, 1),
        evidence={
            "households_agree": 2,
            "households_total": 3,
            "publicity_start": "2030-02-01",
            "publicity_end": "2030-02-10",
        },
    )


# --- years added from the notice --------------------------------------------------------------------------------


@pytest.fixture
def chuxiong_store(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """One Chuxiong compound designed in 2026, ready for its second consent (publicity of 5 working days)."""
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: store)
    gpd.GeoDataFrame(
        {"id": ["C1"], "name": ["鹿城小区"], "households": [30]},
        geometry=[shapely.box(101.540, 25.030, 101.541, 25.031)],
        crs=4490,
    ).to_file(tmp_path / "c.geojson", driver="GeoJSON")
    import_layer(store, "communities", tmp_path / "c.geojson")
    vote = {"households_agree": 20, "households_total": 30}
    for stage, day, evidence in (
        ("survey", D(2026, 3, 2), {}),
        ("consent_1", D(2026, 4, 1), vote | {"publicity_start": "2026-03-20", "publicity_end": "2026-03-31"}),
        ("annual_plan", D(2026, 6, 1), {}),
        ("design", D(2026, 11, 2), {}),
    ):
        record_stage(store, community_id="C1", stage=stage, date=day, evidence=evidence, actor="t", profile=CHUXIONG)
    return store


def _second_consent(store: Store, start: str, end: str) -> dict:
    evidence = {"households_agree": 25, "households_total": 30, "publicity_start": start, "publicity_end": end}
    return record_stage(
        store,
        community_id="C1",
        stage="consent_2",
        date=D(2027, 2, 22),
        evidence=evidence,
        actor="t",
        profile=CHUXIONG,
    )


def test_2027_added_from_a_file_counts_publicity_across_the_spring_festival(chuxiong_store: Store) -> None:
    store = chuxiong_store
    before = store.fingerprint()
    with pytest.raises(DataError) as err:
        _second_consent(store, "2027-02-01", "2027-02-16")
    assert "2027年" in err.value.message("zh") and "renewal calendar import" in err.value.message("zh")
    assert "2027" in err.value.message("en") and "renewal calendar import FILE" in err.value.message("en")
    assert store.fingerprint() == before

    result = CliRunner().invoke(cli, ["calendar", "import", str(FIXTURE_2027), "--actor", "张工"])
    assert result.exit_code == 0, result.output
    assert "2027年：假日 29 天，调休上班 5 天" in result.output

    calendar = load_calendar(store)
    assert calendar.is_working_day(D(2027, 1, 31))  # Sunday, make-up working day
    assert not calendar.is_working_day(D(2027, 2, 8))  # Monday, Spring Festival
    assert not calendar.is_working_day(D(2027, 2, 14))  # plain Sunday
    # Thursday 4 Feb and Monday 15 Feb only: 2 working days, though a Monday–Friday count gives 8.
    with pytest.raises(ConflictError) as err:
        _second_consent(store, "2027-02-04", "2027-02-15")
    assert "仅 2 个工作日" in err.value.message("zh") and "楚市政办通〔2020〕5号 六(四)" in err.value.message("zh")
    # 1–4 Feb and 15–16 Feb: 6 working days, at least Chuxiong's 5.
    event = _second_consent(store, "2027-02-01", "2027-02-16")
    assert event["stage"] == "consent_2"

    shown = CliRunner().invoke(cli, ["calendar", "show", "2027"])
    assert shown.exit_code == 0
    assert "2027-02-05  假日" in shown.output and "春节" in shown.output and "测试样例（非真实通知）" in shown.output
    assert "2027-01-31  调休上班" in shown.output
    bundled = CliRunner().invoke(cli, ["calendar", "show", "2026", "--lang", "en"])
    assert "2026-02-14  make-up working day" in bundled.output and "chinesecalendar" in bundled.output
    missing = CliRunner().invoke(cli, ["calendar", "show", "2028", "--lang", "en"])
    assert missing.exit_code == 2 and "2028" in missing.output and "renewal calendar import FILE" in missing.output


def test_importing_a_year_again_replaces_it(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: store)
    assert CliRunner().invoke(cli, ["calendar", "import", str(FIXTURE_2027)]).exit_code == 0
    corrected = pd.read_csv(FIXTURE_2027, dtype=str, keep_default_na=False)
    corrected = corrected[corrected["名称"] != "端午节"]  # a notice without the Dragon Boat day: warned, not refused
    path = tmp_path / "2027.xlsx"
    corrected.to_excel(path, index=False)
    result = CliRunner().invoke(cli, ["calendar", "import", str(path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "2027: 28 holidays, 5 make-up working days" in result.output and "端午" in result.output
    assert load_calendar(store).is_working_day(D(2027, 6, 9))


def test_a_bad_holiday_file_names_every_bad_row_and_stores_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: store)
    before = store.fingerprint()
    path = tmp_path / "bad.csv"
    pd.DataFrame(
        {
            "日期": ["2027-02-05", "2027-02-08", "2026-10-01", "2027-13-01", "2027-03-01", "2027-02-06"],
            "类型": ["假日", "调休上班", "假日", "假日", "休养", "假日"],
            "名称": ["春节", "春节", "国庆节", "春节", "春节", "春节"],
            "依据": ["国办发明电〔2026〕1号", "国办发明电〔2026〕1号", "x", "x", "x", ""],
        }
    ).to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["calendar", "import", str(path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "第 3 行：调休上班日 2027-02-08 不是周六或周日" in text
    assert "第 4 行：2026年已由内置日历（chinesecalendar）覆盖" in text
    assert "第 5 行：日期“2027-13-01”无法识别" in text
    assert "第 6 行：类型“休养”应为 假日 或 调休上班" in text
    assert "第 7 行：缺少依据" in text
    assert store.fingerprint() == before
