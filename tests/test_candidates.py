"""Candidate lists and their files: contract fields, ranking, exclusions last, XLSX/CSV/JSON/GeoJSON output."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pyproj import Transformer
from shapely.geometry import box

from geo.errors import NotFoundError
from geo.policy.candidates import CANDIDATE_FIELDS, candidate_list
from geo.policy.profiles import load_profile
from geo.reports.candidates import write_candidates
from geo.reports.xlsx import Context

X0, Y0 = Transformer.from_crs(4490, 4549, always_xy=True).transform(120.15, 30.27)


def layer(*rows: dict) -> gpd.GeoDataFrame:
    geoms = [
        box(X0 + r["x"], Y0 + r["y"], X0 + r["x"] + r.get("w", 100), Y0 + r["y"] + r.get("h", 100)) for r in rows
    ]
    attrs = pd.DataFrame([{k: v for k, v in r.items() if k not in ("x", "y", "w", "h")} for r in rows])
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs=4549).to_crs(4490)


@pytest.fixture
def city():
    def c(cid, year, x, street="江滨街道", hh=100, **extra):
        return {
            "id": cid,
            "name": f"{cid}小区",
            "street": street,
            "neighbourhood": "滨江社区",
            "year_built": year,
            "households": hh,
            "floor_area_m2": 1000.0,
            "x": x,
            "y": 0,
            **extra,
        }

    communities = layer(
        c("A", 1990, 0),
        c("B", 1990, 1000),
        c("C", 1990, 2000, hh=300),
        c("D", 2005, 3000),
        c("E", 1985, 4000),
        c("F", 1990, 5000, street="五马街道"),
    )
    buildings = layer({"id": "E-1", "community_id": "E", "safety_grade": "D", "x": 4010, "y": 10, "w": 20, "h": 20})
    zones = layer({"id": "z", "name": "老城自建房片", "kind": "self_built", "x": 1000, "y": 0, "w": 100, "h": 100})
    # A and C tie on deficiencies and support; C has more households. Water (basic 30/m²) on 1000 m² = 30000,
    # residents 10 % = 3000, subsidy 27000.
    survey = pd.DataFrame(
        [
            {"community_id": cid, "water_supply": "是", "support_households": 100 if cid != "C" else 300}
            for cid in "ABCDEF"
        ]
    )
    return {"communities": communities, "buildings": buildings, "zones": zones, "survey": survey}


def test_fields_ranking_and_exclusions(city):
    out = candidate_list(**city, profile=load_profile("lucheng-2020"), street="江滨街道", units={"A": "U-1"})
    assert list(out.columns) == [*CANDIDATE_FIELDS, "geometry"]
    assert out.crs.to_epsg() == 4490
    assert out["community_id"].tolist() == ["C", "A", "B", "D", "E"]
    assert out["rank"].tolist()[:2] == [1, 2]
    assert out["rank"].iloc[2:].isna().all()
    excluded = out.set_index("community_id")
    assert excluded.loc["B", "status"] == "excluded" and excluded.loc["B", "reasons"][0]["code"] == "zone:self_built"
    assert excluded.loc["E", "reasons"][0]["text"] == "楼栋 E-1 为C/D级危房"
    assert excluded.loc["D", "reasons"][0]["code"] == "built_after_cutoff"
    assert excluded.loc["A", "unit_id"] == "U-1" and excluded.loc["C", "unit_id"] is None
    assert (
        int(excluded.loc["A", "cost_yuan"]),
        int(excluded.loc["A", "residents_yuan"]),
        int(excluded.loc["A", "subsidy_yuan"]),
    ) == (30000, 3000, 27000)
    assert pd.isna(excluded.loc["B", "cost_yuan"])
    assert sum(excluded.loc["A", "score_breakdown"].values()) == pytest.approx(excluded.loc["A", "score"])


def test_unknown_street(city):
    with pytest.raises(NotFoundError):
        candidate_list(**city, profile=load_profile("lucheng-2020"), street="不存在街道")


def test_english_list(city):
    out = candidate_list(**city, profile=load_profile("lucheng-2020"), street="江滨街道", lang="en")
    e = out.set_index("community_id").loc["E", "reasons"][0]
    assert e["text"] == "Buildings E-1 are safety grade C/D (dangerous)"


def test_xlsx_is_printable_with_title_formats_totals_and_rules_sheet(city, tmp_path):
    profile = load_profile("lucheng-2020")
    out = candidate_list(**city, profile=profile, street="江滨街道")
    out["plan_year"] = pd.array([2027, 2026, None, None, None], dtype="Int64")
    context = Context.of(profile, city="鹿城区", data_as_of=dt.date(2026, 3, 1))
    path = write_candidates(out, tmp_path / "missing" / "c.xlsx", format="xlsx", profile=profile, context=context)
    wb = load_workbook(path)
    assert wb.sheetnames == ["候选名单", "评分与规则说明"]
    ws = wb["候选名单"]
    assert ws["A1"].value == "鹿城区江滨街道城镇老旧小区改造候选名单"
    details = ws["A2"].value
    for part in (
        "城市：鹿城区",
        "街道：江滨街道",
        "温鹿政办〔2020〕21号",
        "数据截至：2026-03-01",
        "排序为街道内排序",
    ):
        assert part in details
    header = [c.value for c in ws[3]]
    col = {h: i for i, h in enumerate(header)}
    assert header[:3] == ["小区编号", "小区名称", "所属街道"] and "街道内排序" in col and "计划年度" in col
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == f"A3:{get_column_letter(len(header))}8"
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.page_setup.fitToWidth in (None, 1)  # 1 is the default, left out of the file
    rows = [[c for c in r] for r in ws.iter_rows(min_row=4)]
    first = {h: rows[0][i] for h, i in col.items()}
    assert (
        first["小区编号"].value == "C" and first["认定结果"].value == "符合条件" and first["计划年度"].value == 2027
    )
    assert first["改造费用（元）"].number_format == "#,##0" and first["改造费用（万元）"].number_format == "#,##0.00"
    assert first["建筑面积（平方米）"].number_format == "#,##0.0" and first["建成年份"].number_format == "0"
    assert ws.column_dimensions[get_column_letter(col["认定理由"] + 1)].width >= 60
    e_row = next(r for r in rows if r[0].value == "E")
    assert e_row[col["认定理由"]].value.startswith("1. 楼栋 E-1 为C/D级危房（温鹿政办〔2020〕21号 二(一)")
    # excluded: no score, no rank (blank, not 0)
    assert e_row[col["评分"]].value is None and e_row[col["街道内排序"]].value is None
    totals = [c.value for c in rows[-1]]
    assert totals[0] == "合计（5个小区）"
    assert totals[col["户数"]] == int(out["households"].sum())
    assert totals[col["改造费用（元）"]] == int(out["cost_yuan"].sum())
    assert totals[col["改造费用（万元）"]] == pytest.approx(out["cost_yuan"].sum() / 10_000)
    assert totals[col["评分"]] is None and totals[col["建成年份"]] is None
    rules = [r for r in wb["评分与规则说明"].iter_rows(values_only=True)]
    assert ("资金到位", 15, "居民已缴资金/居民应出资额", None) in rules
    assert any(r[0] == "危房" and "温鹿政办〔2020〕21号" in r[3] for r in rules)
    text = " ".join(str(v) for r in rules for v in r if v is not None)
    assert "assumption" not in text and "dangerous_building" not in text and "DEFAULT_WEIGHTS" not in text
    assert "假设" in text


def test_english_xlsx_holds_the_english_sources(city, tmp_path):
    profile = load_profile("lucheng-2020")
    out = candidate_list(**city, profile=profile, street="江滨街道", lang="en")
    path = write_candidates(out, tmp_path / "c.xlsx", format="xlsx", profile=profile, lang="en")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Candidates", "Scoring and rules"]
    assert wb["Candidates"]["A3"].value == "Community ID"
    assert [c.value for c in wb["Candidates"][3]][11] == "Rank in street"
    rules = " ".join(str(v) for r in wb["Scoring and rules"].iter_rows(values_only=True) for v in r if v is not None)
    assert "assumption: default weights with funds readiness raised" in rules and "假设：" not in rules


def test_csv_json_geojson(city, tmp_path):
    profile = load_profile("lucheng-2020")
    out = candidate_list(**city, profile=profile, street="江滨街道")
    csv_path = write_candidates(out, tmp_path / "c.csv", format="csv", profile=profile)
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(csv_path, encoding="utf-8-sig")
    assert table.columns[0] == "小区编号" and table["小区编号"].tolist() == ["C", "A", "B", "D", "E"]
    assert table["认定结果"].tolist() == ["符合条件", "符合条件", "不纳入", "不纳入", "不纳入"]
    assert table["街道内排序"].tolist()[:2] == [1, 2] and table["街道内排序"].iloc[2:].isna().all()
    assert table["评分"].iloc[2:].isna().all()  # excluded: blank, not 0

    records = json.loads(
        write_candidates(out, tmp_path / "c.json", format="json", profile=profile).read_text("utf-8")
    )
    assert [r["community_id"] for r in records] == ["C", "A", "B", "D", "E"]
    assert records[0]["rank"] == 1 and records[2]["rank"] is None
    assert records[1]["cost_yuan"] == 30000 and isinstance(records[1]["reasons"], list)

    gj = json.loads(
        write_candidates(out, tmp_path / "c.geojson", format="geojson", profile=profile).read_text("utf-8")
    )
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 5
    lon, lat = gj["features"][0]["geometry"]["coordinates"][0][0]
    assert 120.1 < lon < 120.3 and 30.2 < lat < 30.4
    first = gj["features"][0]["properties"]
    assert first["小区编号"] == "C" and first["认定结果"] == "符合条件" and first["街道内排序"] == 1
    assert first["评分构成"].startswith("设施缺项")

    en = json.loads(
        write_candidates(out, tmp_path / "e.geojson", format="geojson", profile=profile, lang="en").read_text("utf-8")
    )
    assert en["features"][0]["properties"]["score_breakdown"] == records[0]["score_breakdown"]
