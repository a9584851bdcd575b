"""The progress ledger (台账): exported in the national reporting shape, read back by ``renewal stage import``
(both stores), and the date forms Chinese spreadsheets use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from geo.cli import app
from geo.errors import DataError
from geo.pipeline import run_city
from geo.plan_store import find_plan, plan_years
from geo.policy.profiles import load_profile
from geo.progress.dates import parse_date
from geo.progress.rules import effective_events
from geo.progress.store import current_stages, import_ledger, record_stage, stage_events
from geo.stores import Store, open_store
from tests.conftest import SAMPLE

runner = CliRunner()
MANGSHI = load_profile("mangshi-2020")
D = dt.date


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-01", D(2026, 11, 1)),
        ("2026年11月1日", D(2026, 11, 1)),
        (" 2026 年 11 月 01 日 ", D(2026, 11, 1)),
        ("2026/11/1", D(2026, 11, 1)),
        ("2026.11.01", D(2026, 11, 1)),
        ("2026-11-01 00:00:00", D(2026, 11, 1)),
        (dt.datetime(2026, 11, 1, 9, 30), D(2026, 11, 1)),
        (D(2026, 11, 1), D(2026, 11, 1)),
        (46327, D(2026, 11, 1)),  # an Excel serial day in a cell without a date format
        (None, None),
        ("  ", None),
    ],
)
def test_dates_as_chinese_spreadsheets_write_them(text: object, day: dt.date | None) -> None:
    assert parse_date(text) == day


@pytest.mark.parametrize("bad", ["2026年2月30日", "11/1/2026", "明年", "2026-13-01", 12, True])
def test_what_is_not_a_date_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_date(bad)


@pytest.fixture
def city(store: Store, tmp_path: Path, cli_env: Callable[[Store], None]) -> Store:
    """The sample city run under Mangshi's policy (which has stage deadlines), plan years from 2021; the CLI
    pointed at it."""
    run_city(SAMPLE, store=store, profile=MANGSHI, out=tmp_path / "run", year_from=2021, budget_per_year=60_000_000)
    cli_env(store)
    return store


def _planned_in(store: Store, year: int) -> list[str]:
    years = plan_years(find_plan(store, profile=MANGSHI.id).units)
    return sorted(years[years == year].index)


def _record(store: Store, cid: str, stage: str, day: dt.date, **evidence: object) -> dict:
    return record_stage(
        store, community_id=cid, stage=stage, date=day, evidence=evidence, actor="clerk", profile=MANGSHI
    )


def _progress(store: Store) -> tuple[str, str, str]:
    """Three compounds of the 2021 plan: one late with its design, one done, one surveyed (date corrected)."""
    late, done, surveyed = _planned_in(store, 2021)[:3]
    for cid in (late, done):
        _record(store, cid, "survey", D(2020, 8, 3))
        _record(store, cid, "consent_1", D(2020, 9, 15), households_agree=20, households_total=30)
        _record(store, cid, "annual_plan", D(2020, 11, 2))
    for stage, day in (("design", D(2020, 12, 1)), ("tender", D(2021, 3, 1)), ("construction", D(2021, 4, 1))):
        _record(store, done, stage, day)
    _record(store, done, "acceptance", D(2021, 12, 20))
    wrong = _record(store, surveyed, "survey", D(2020, 8, 30))
    record_stage(
        store,
        community_id=surveyed,
        stage="survey",
        date=D(2020, 8, 10),
        evidence={},
        actor="clerk",
        profile=MANGSHI,
        corrects=wrong["event_id"],
    )
    return late, done, surveyed


def _sheet(path: Path, name: str) -> tuple[list[str], list[list[object]]]:
    rows = [list(r) for r in load_workbook(path)[name].iter_rows(values_only=True)]
    return rows[2], rows[3:]


def test_ledger_export_in_the_national_shape(city: Store, tmp_path: Path) -> None:
    late, done, surveyed = _progress(city)
    path = tmp_path / "报表" / "台账.xlsx"
    result = runner.invoke(
        app, ["ledger", "export", "--output", str(path), "--as-of", "2021年4月15日", "--profile", "mangshi-2020"]
    )
    assert result.exit_code == 0, result.output
    assert "年度计划取自已保存的计划" in result.output
    book = load_workbook(path)
    assert book.sheetnames == ["项目基本情况", "年度计划", "改造进展", "改造效果", "阶段记录"]
    programme = set(plan_years(find_plan(city, profile=MANGSHI.id).units).index)

    header, rows = _sheet(path, "项目基本情况")
    assert header[:6] == ["街道", "社区", "小区编号", "小区名称", "建成年份", "小区数"]
    assert {"栋数", "户数", "建筑面积（平方米）"} <= set(header)
    col = {h: i for i, h in enumerate(header)}
    data = [r for r in rows if r[col["小区编号"]] is not None]
    subtotals = [r for r in rows if str(r[0]).endswith("个小区）") and "小计" in str(r[0])]
    assert {r[col["小区编号"]] for r in data} == programme
    assert sorted(str(r[0]).split()[0] for r in subtotals) == sorted({r[0] for r in data})  # one per street
    assert rows[-1][0] == f"合计（{len(programme)}个小区）"
    assert rows[-1][col["小区数"]] == len(programme)
    assert rows[-1][col["户数"]] == sum(r[col["户数"]] for r in data)
    assert rows[-1][col["栋数"]] == sum(r[col["栋数"]] for r in data) > len(programme)
    ws = book["项目基本情况"]
    assert ws["A1"].value.endswith("城镇老旧小区项目基本情况台账") and "进度截至：2021-04-15" in ws["A2"].value
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$3:$3" and ws.page_setup.orientation == "landscape"

    header, rows = _sheet(path, "年度计划")
    col = {h: i for i, h in enumerate(header)}
    assert {"计划年度", "改造内容", "投资（元）", "投资（万元）", "居民出资（元）", "财政补助（元）"} <= set(header)
    mine = next(r for r in rows if r[col["小区编号"]] == late)
    assert mine[col["计划年度"]] == 2021 and "：" in mine[col["改造内容"]]

    header, rows = _sheet(path, "改造进展")
    col = {h: i for i, h in enumerate(header)}
    assert {"当前阶段", "是否逾期", "时限说明及依据", "工程设计日期", "民意调查日期"} <= set(header)
    late_row = next(r for r in rows if r[col["小区编号"]] == late)
    assert late_row[col["当前阶段"]] == "规划设计及上报年度实施计划"
    assert late_row[col["民意调查日期"]].date() == D(2020, 9, 15)
    assert late_row[col["是否逾期"]] == "是" and late_row[col["时限状态"]] == "已逾期"
    assert "已逾期15天" in late_row[col["时限说明及依据"]]
    assert "芒政办发〔2020〕28号 五(三)" in late_row[col["时限说明及依据"]]  # design by March (issue 13)
    done_row = next(r for r in rows if r[col["小区编号"]] == done)
    assert done_row[col["是否逾期"]] == "否" and done_row[col["竣工验收日期"]].date() == D(2021, 12, 20)
    # every 2021 compound but the finished one is late (Mangshi wants the poll by October of the year before)
    assert rows[-1][col["逾期（个）"]] == len(_planned_in(city, 2021)) - 1

    header, rows = _sheet(path, "改造效果")
    col = {h: i for i, h in enumerate(header)}
    assert [r[col["小区编号"]] for r in rows if r[col["小区编号"]]] == [done]
    assert rows[0][col["验收日期"]].date() == D(2021, 12, 20) and rows[0][col["受益户数"]] > 0

    header, rows = _sheet(path, "阶段记录")
    assert header[:3] == ["小区编号", "阶段", "日期"]
    surveyed_rows = [r for r in rows if r[0] == surveyed]
    assert len(surveyed_rows) == 1 and surveyed_rows[0][2].date() == D(2020, 8, 10)  # the correction, not both


def test_stage_import_reads_back_what_ledger_export_writes(city: Store, tmp_path: Path) -> None:
    _progress(city)
    path = tmp_path / "台账.xlsx"
    assert runner.invoke(app, ["ledger", "export", "--output", str(path), "--profile", "mangshi-2020"]).exit_code == 0

    # read back into the same store: everything is already recorded, nothing changes
    before = city.fingerprint()
    again = runner.invoke(app, ["stage", "import", str(path), "--profile", "mangshi-2020"])
    assert again.exit_code == 0, again.output
    assert "已记录 0 条" in again.output and city.fingerprint() == before

    # read into a fresh store holding the same city: the same stages, and the dates where they were
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    run_city(SAMPLE, store=fresh, profile=MANGSHI, out=tmp_path / "fresh", year_from=2021)
    events = import_ledger(fresh, path, profile=MANGSHI, actor="clerk")
    assert len(events) == len(effective_events(stage_events(city))) == 11
    assert current_stages(fresh).to_dict("records") == current_stages(city).to_dict("records")
    fresh.dispose()

    # a clerk adds a row with a Chinese date: only that row is recorded
    book = load_workbook(path)
    sheet = book["阶段记录"]
    late = _planned_in(city, 2021)[0]
    sheet.append([late, "工程设计", "2021年1月20日"])
    book.save(path)
    skipped: list[int] = []
    added = import_ledger(city, path, profile=MANGSHI, actor="clerk", skipped=skipped)
    assert [(e["community_id"], e["stage"], e["date"]) for e in added] == [(late, "design", "2021-01-20")]
    assert len(skipped) == sheet.max_row - 4


def test_ledger_import_accepts_chinese_date_forms(city: Store, tmp_path: Path) -> None:
    cid = _planned_in(city, 2021)[0]
    book = Workbook()
    sheet = book.active
    sheet.append(["小区编号", "阶段", "日期", "同意户数", "总户数"])
    sheet.append([cid, "摸底调查", "2020年8月3日"])
    sheet.append([cid, "民意调查", "2020/9/15", 20, 30])
    sheet.append([cid, "annual_plan", "2020.11.02"])
    sheet.append([cid, "design", dt.datetime(2020, 12, 1)])
    book.save(tmp_path / "台账.xlsx")
    events = import_ledger(city, tmp_path / "台账.xlsx", profile=MANGSHI, actor="clerk")
    assert [e["date"] for e in events] == ["2020-08-03", "2020-09-15", "2020-11-02", "2020-12-01"]

    sheet.append([cid, "tender", "2021年2月30日"])
    book.save(tmp_path / "台账.xlsx")
    before = city.fingerprint()
    with pytest.raises(DataError) as err:
        import_ledger(city, tmp_path / "台账.xlsx", profile=MANGSHI, actor="clerk")
    assert err.value.rows == [6] and "2021年2月30日" in err.value.message("zh")
    assert city.fingerprint() == before
