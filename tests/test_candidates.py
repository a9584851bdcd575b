"""Candidate lists and their files: contract fields, ranking, exclusions last, XLSX/CSV/JSON/GeoJSON output."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from pyproj import Transformer
from shapely.geometry import box

from geo.errors import NotFoundError
from geo.policy.candidates import CANDIDATE_FIELDS, candidate_list
from geo.policy.profiles import load_profile
from geo.reports.candidates import write_candidates

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


def test_xlsx_has_frozen_header_and_rules_sheet(city, tmp_path):
    profile = load_profile("lucheng-2020")
    out = candidate_list(**city, profile=profile, street="江滨街道")
    path = write_candidates(out, tmp_path / "c.xlsx", format="xlsx", profile=profile)
    wb = load_workbook(path)
    assert wb.sheetnames == ["候选名单", "评分与规则说明"]
    ws = wb["候选名单"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].value == "小区编号" and ws["I1"].value == "认定理由"
    assert ws["A2"].value == "C" and ws["H2"].value == "符合条件"
    assert ws.column_dimensions["I"].width >= 60
    e_row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "E")
    assert e_row[8].startswith("1. 楼栋 E-1 为C/D级危房（温鹿政办〔2020〕21号 二(一)")
    rules = [r for r in wb["评分与规则说明"].iter_rows(values_only=True)]
    assert ("资金到位", 15, "居民已缴资金/居民应出资额", None) in rules
    assert any(r[0] == "dangerous_building" and "温鹿政办〔2020〕21号" in r[3] for r in rules)


def test_csv_json_geojson(city, tmp_path):
    profile = load_profile("lucheng-2020")
    out = candidate_list(**city, profile=profile, street="江滨街道")
    csv_path = write_candidates(out, tmp_path / "c.csv", format="csv", profile=profile)
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(csv_path, encoding="utf-8-sig")
    assert table.columns[0] == "小区编号" and table["小区编号"].tolist() == ["C", "A", "B", "D", "E"]

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
    assert gj["features"][0]["properties"]["score_breakdown"] == records[0]["score_breakdown"]
