"""The plan table (计划表): one row per planned compound with what is done to it, when and for how much; printable
(title, formats, subtotals per street and year, totals, a summary by year) — on both stores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from geo.analysis import analyse, load_city
from geo.io.cells import csv_cell, plain
from geo.pipeline import run_city
from geo.plan_store import find_plan, plan_years
from geo.policy.profiles import load_profile
from geo.reports.plan_table import works
from geo.stores import Store
from tests.conftest import SAMPLE

CHUXIONG = load_profile("chuxiong-2020")


@pytest.fixture
def planned(store: Store, tmp_path: Path) -> tuple[Store, Path]:
    out = tmp_path / "out"
    run_city(SAMPLE, store=store, profile=CHUXIONG, out=out, year_from=2026, budget_per_year=60_000_000)
    return store, out


def test_plan_table_rows_are_the_planned_compounds_with_their_works_and_money(planned) -> None:
    store, out = planned
    table = pd.read_csv(out / "计划表.csv", encoding="utf-8-sig")
    assert list(table.columns) == [
        "街道", "社区", "小区编号", "小区", "改造单元", "项目包", "计划年度", "改造内容",
        "投资估算（元）", "投资估算（万元）", "居民出资（元）", "财政补助（元）", "户数", "建筑面积（平方米）",
        "认定依据",
    ]  # fmt: skip
    years = plan_years(find_plan(store, profile=CHUXIONG.id).units)
    assert dict(zip(table["小区编号"], table["计划年度"], strict=True)) == years.astype(int).to_dict()
    assert (table["居民出资（元）"] + table["财政补助（元）"] == table["投资估算（元）"]).all()
    # 改造内容: the deficient items still to do, by Chuxiong's three categories, in Chinese
    city = load_city(store)
    analysis = analyse(city, profile=CHUXIONG)
    deficient = works(city.communities, survey=city.survey, profile=CHUXIONG, lang="zh")
    assert dict(zip(table["小区编号"], table["改造内容"], strict=True)) == deficient[table["小区编号"]].to_dict()
    unsurveyed = ~table["小区编号"].isin(city.survey["community_id"])
    assert (table.loc[unsurveyed, "改造内容"] == "无调查数据").all() and unsurveyed.sum() < len(table) / 10
    assert table.loc[~unsurveyed, "改造内容"].str.contains("安全工程：|功能提升：|环境整治：").all()
    assert not table["改造内容"].str.contains("[a-z_]{4,}", regex=True).any()
    assert table["认定依据"].str.startswith("符合条件：\n1. 建成于").all()
    assert not table["认定依据"].str.contains("assumption").any()
    cands = analysis.candidates.set_index("community_id")
    assert (
        table["投资估算（元）"].to_numpy() == cands.loc[table["小区编号"], "cost_yuan"].astype(int).to_numpy()
    ).all()


def test_plan_table_workbook_is_printable(planned) -> None:
    _store, out = planned
    table = pd.read_csv(out / "计划表.csv", encoding="utf-8-sig")
    book = load_workbook(out / "计划表.xlsx")
    assert book.sheetnames == ["计划表", "年度汇总"]
    ws = book["计划表"]
    assert ws["A1"].value == "楚雄市城镇老旧小区改造计划表"
    assert "城市：楚雄市" in ws["A2"].value and "楚市政办通〔2020〕5号" in ws["A2"].value
    assert f"数据截至：{dt.date.today().isoformat()}" in ws["A2"].value
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    header = [c.value for c in ws[3]]
    col = {h: i for i, h in enumerate(header)}
    assert ws.auto_filter.ref.startswith("A3:O")
    rows = list(ws.iter_rows(min_row=4))
    data = [r for r in rows if r[col["小区编号"]].value]
    formats = {h: data[0][i].number_format for h, i in col.items()}
    assert formats["投资估算（元）"] == "#,##0" and formats["投资估算（万元）"] == "#,##0.00"
    assert formats["建筑面积（平方米）"] == "#,##0.0" and formats["户数"] == "#,##0" and formats["计划年度"] == "0"
    assert len(data) == len(table)

    # a subtotal after each year of each street and after each street, then the total
    labels = [r[0].value for r in rows if not r[col["小区编号"]].value]
    pairs = table.groupby(["街道", "计划年度"], sort=False).size()
    for (street, year), n in pairs.items():
        assert f"{street} {year}年 小计（{n}个小区）" in labels
    for street, n in table.groupby("街道").size().items():
        assert f"{street} 小计（{n}个小区）" in labels
    assert labels[-1] == f"合计（{len(table)}个小区）" and len(labels) == len(pairs) + table["街道"].nunique() + 1
    first_street, first_year = pairs.index[0]
    sub = next(r for r in rows if r[0].value == f"{first_street} {first_year}年 小计（{pairs.iloc[0]}个小区）")
    part = table[(table["街道"] == first_street) & (table["计划年度"] == first_year)]
    assert sub[col["投资估算（元）"]].value == part["投资估算（元）"].sum()
    assert sub[col["户数"]].value == part["户数"].sum()
    total = rows[-1]
    assert total[col["投资估算（元）"]].value == table["投资估算（元）"].sum()
    assert total[col["投资估算（万元）"]].value == pytest.approx(table["投资估算（元）"].sum() / 10_000)
    assert total[col["建筑面积（平方米）"]].value == pytest.approx(table["建筑面积（平方米）"].sum(), abs=0.05)
    assert total[col["计划年度"]].value is None

    summary = book["年度汇总"]
    head = [c.value for c in summary[3]]
    assert head[:3] == ["年度", "街道", "项目包"] and "投资估算（万元）" in head
    srows = [[c.value for c in r] for r in summary.iter_rows(min_row=4)]
    by_year = table.groupby("计划年度")["投资估算（元）"].sum()
    for year, yuan in by_year.items():
        line = next(
            r
            for r in srows
            if r[0] == f"{year}年 小计（{(table.drop_duplicates(['计划年度', '街道'])['计划年度'] == year).sum()}条）"
        )
        assert line[head.index("投资估算（万元）")] == pytest.approx(yuan / 10_000)
        assert line[head.index("小区数")] == (table["计划年度"] == year).sum()


def test_every_text_cell_goes_through_one_escaping_function() -> None:
    cell = lambda v: csv_cell(plain(v))  # noqa: E731 - what the CSV writer does to each cell
    assert cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [cell(v) for v in ("+1", "-1", "@SUM(A1)", "华庭街道", "")] == ["'+1", "'-1", "'@SUM(A1)", "华庭街道", ""]
    assert cell(-1) == -1 and cell(float("nan")) is None and cell(pd.NA) is None
    assert cell(dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)
