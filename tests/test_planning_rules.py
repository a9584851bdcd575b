"""Planning rules as the seeds write them, end to end on a small hand-drawn city in a store (both back ends).

The city (boxes in metres around 120.15E 30.27N, EPSG:4549, stored in EPSG:4490), one street 玉城街道:
- E00–E09: built 1990, 400 households each, roofs deficient, 300 m apart (each a unit and a package of its own);
- Y0–Y3: built 2010, 400 households each, roofs deficient — admitted by Yulin's 四(一) share, Jingyuan's and
  Lucheng's extensions do not admit them (no neighbour, no support figures);
- W1–W3: three walk-ups of 24, 27 and 30 households sharing walls, built 1985, gas deficient;
- S: built 1990, surveyed with nothing deficient; U: built 1990, never surveyed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from pyproj import Transformer
from shapely.geometry import box
from typer.testing import CliRunner

from geo.analysis import analyse, load_city, plan_streets, plan_year_of, save_plan
from geo.cli import app
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.stores import Store
from tests.test_api_features import client_for

X0, Y0 = Transformer.from_crs(4490, 4549, always_xy=True).transform(120.15, 30.27)
STREET = "玉城街道"
runner = CliRunner()


def _city(tmp_path: Path) -> tuple[Path, Path]:
    rows: list[dict[str, Any]] = []
    for k in range(10):
        rows.append({"id": f"E{k:02d}", "year_built": 1990, "households": 400, "x": 300 * k, "y": 0})
    for k in range(4):
        rows.append({"id": f"Y{k}", "year_built": 2010, "households": 400, "x": 300 * k, "y": 600})
    for k, hh in enumerate([24, 27, 30]):
        rows.append({"id": f"W{k + 1}", "year_built": 1985, "households": hh, "x": 30 * k, "y": 1200, "w": 30})
    rows.append({"id": "S", "year_built": 1990, "households": 400, "x": 1500, "y": 1200})
    rows.append({"id": "U", "year_built": 1990, "households": 400, "x": 2100, "y": 1200})
    geoms = [box(X0 + r["x"], Y0 + r["y"], X0 + r["x"] + r.get("w", 100), Y0 + r["y"] + 20) for r in rows]
    frame = pd.DataFrame(rows).drop(columns=["x", "y", "w"])
    frame["name"] = frame["id"] + "小区"
    frame["street"] = STREET
    frame["floor_area_m2"] = frame["households"] * 70.0
    comms = gpd.GeoDataFrame(frame, geometry=geoms, crs=4549).to_crs(4490)
    comms_path = tmp_path / "小区.geojson"
    comms.to_file(comms_path, driver="GeoJSON")
    survey = [{"community_id": r["id"], "屋面": "是"} for r in rows if r["id"][0] in "EY"]
    survey += [{"community_id": f"W{k}", "燃气": "是"} for k in (1, 2, 3)]
    survey += [{"community_id": "S", "屋面": "否"}]
    survey_path = tmp_path / "调查表.csv"
    pd.DataFrame(survey).to_csv(survey_path, index=False, encoding="utf-8")
    return comms_path, survey_path


@pytest.fixture
def city(store: Store, tmp_path: Path) -> Store:
    comms, survey = _city(tmp_path)
    import_layer(store, "communities", comms)
    import_layer(store, "survey", survey)
    return store


def test_yulin_plans_conditional_compounds_within_the_share(city: Store) -> None:
    analysis = analyse(load_city(city), profile=load_profile("yulin-2022"))
    status = analysis.candidates.set_index("community_id")["status"]
    assert status[[f"Y{k}" for k in range(4)]].tolist() == ["conditional"] * 4
    assert (status["S"], status["U"]) == ("excluded", "conditional")
    plan = plan_streets(analysis, streets=None, year_from=2026, budget_per_year=None)
    # No budget: 2026 takes the 10 E's and the walk-up unit (13 communities); each capped Y then needs
    # capped ≤ 1/5 of the year's communities, itself included: 1 of 14, 2 of 15, 3 of 16 fit; 4 of 17 does not.
    row = plan.years.set_index("year").loc[2026]
    assert (row["communities"], row["conditional_communities"]) == (16, 3)
    units = plan.units.set_index("unit_id")
    assert units.loc[["U-Y0", "U-Y1", "U-Y2"], "year"].tolist() == [2026] * 3
    assert pd.isna(units.loc["U-Y3", "year"])
    assert units.loc[["U-Y0", "U-Y1", "U-Y2", "U-Y3"], "conditional"].all()
    assert not units.loc["U-E00", "conditional"]
    assert any("暂未列入年度计划" in w for w in plan.warnings)
    # U is conditional only until surveyed: listed, not planned.
    assert "U" not in {m for ms in plan.units["members"] for m in ms}

    eligible_only = analyse(load_city(city), profile=load_profile("yulin-2022"), include_conditional=False)
    plan = plan_streets(eligible_only, streets=None, year_from=2026, budget_per_year=None)
    assert plan.years.set_index("year").loc[2026, ["communities", "conditional_communities"]].tolist() == [13, 0]


def test_walk_ups_become_one_unit_and_the_candidate_list_says_it_is_short(city: Store) -> None:
    analysis = analyse(load_city(city), profile=load_profile("jingyuan-2023"))
    cands = analysis.candidates.set_index("community_id")
    assert cands.loc[["W1", "W2", "W3"], "unit_id"].tolist() == ["U-W1"] * 3
    note = cands.loc["W2", "reasons"][-1]
    assert note["code"] == "unit_not_viable"
    assert note["text"] == (
        "所在改造单元U-W1：3个相邻小区拆墙连片，合计81户，不足物业管理规模（需≥300户，差219户），单独难以维持物业管理"
    )
    assert note["source"].startswith("靖政发〔2023〕75号 二(四)")
    unit = analysis.units.set_index("unit_id").loc["U-W1"]
    assert (bool(unit["viable"]), int(unit["shortfall_households"])) == (False, 219)


def test_cli_plan_marks_conditional_compounds_and_can_leave_them_out(
    city: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo import settings

    monkeypatch.setenv("RENEWAL_DATABASE_URL", city.engine.url.render_as_string(hide_password=False))
    settings.database_settings.cache_clear()
    try:
        out = tmp_path / "plan"
        args = ["plan", "--all", "--profile", "yulin-2022", "--year-from", "2026", "--output", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "其中有条件纳入" in result.output
        years = pd.read_csv(out / "plan_years.csv", encoding="utf-8-sig")
        assert years.set_index("年度").loc[2026, ["小区数", "其中有条件纳入"]].tolist() == [16, 3]
        units = gpd.read_file(out / "plan_units.geojson").set_index("改造单元")  # Chinese names and values
        assert units["含有条件纳入小区"].to_dict() == {u: "是" if u.startswith("U-Y") else "否" for u in units.index}
        assert units.loc["U-W1", "距物业管理规模差（户）"] == 219
        # The candidate list XLSX shows them as 有条件纳入, each in its unit.
        xlsx = tmp_path / "玉城街道.xlsx"
        result = runner.invoke(
            app,
            ["candidates", "--street", STREET, "--profile", "yulin-2022", "--format", "xlsx", "--output", str(xlsx)],
        )
        assert result.exit_code == 0, result.output
        sheet = load_workbook(xlsx).worksheets[0]
        header = [c.value for c in sheet[3]]  # a title, the heading line, then the header
        rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=4, values_only=True)}
        assert rows["Y0"]["认定结果"] == "有条件纳入" and rows["Y0"]["连片单元"] == "U-Y0"
        assert "差219户" in rows["W1"]["认定理由"]

        out2 = tmp_path / "plan2"
        result = runner.invoke(app, [*args[:-1], str(out2), "--no-include-conditional"])
        assert result.exit_code == 0, result.output
        years = pd.read_csv(out2 / "plan_years.csv", encoding="utf-8-sig")
        assert years.set_index("年度").loc[2026, ["小区数", "其中有条件纳入"]].tolist() == [13, 0]
    finally:
        settings.database_settings.cache_clear()


def test_api_plan_takes_include_conditional(city: Store) -> None:
    planner = client_for(city, "planner")
    body = {"name": "玉林2026", "all": True, "profile": "yulin-2022", "year_from": 2026}
    marked = planner.post("/plans", json=body)
    assert marked.status_code == 201, marked.text
    assert [(y["communities"], y["conditional_communities"]) for y in marked.json()["years"]] == [(16, 3)]
    stored = planner.get(f"/plans/{marked.json()['id']}").json()
    assert {u["unit_id"] for u in stored["units"] if u["conditional"] and u["year"] == 2026} == {
        "U-Y0",
        "U-Y1",
        "U-Y2",
    }
    left_out = planner.post("/plans", json={**body, "include_conditional": False})
    assert left_out.status_code == 201
    assert [(y["communities"], y["conditional_communities"]) for y in left_out.json()["years"]] == [(13, 0)]
    assert left_out.json()["version"] == 2
    assert planner.post("/plans", json={**body, "include_conditional": "sometimes"}).status_code == 422


def test_stage_show_takes_the_plan_year_from_the_latest_saved_plan(city: Store) -> None:
    analysis = analyse(load_city(city), profile=load_profile("yulin-2022"))
    plan = plan_streets(analysis, streets=None, year_from=2027, budget_per_year=None)
    save_plan(city, name="玉林", profile="yulin-2022", params={}, plan=plan)
    assert plan_year_of(city, community_id="E03", profile="yulin-2022") == 2027
    assert plan_year_of(city, community_id="Y3", profile="yulin-2022") is None  # beyond the share
    assert plan_year_of(city, community_id="E03", profile="mangshi-2020") is None  # no plan of that profile


def test_profile_targets_over_several_years_cap_the_years_together(city: Store) -> None:
    # Mangshi's target is "从2019年至2021年……105个老旧小区" — one total for the span. The same rule on this small
    # city, scaled to 5 communities over 2026–2027: the two years hold 5 together (10 E singles fill every
    # place), and the other 8 communities go to 2028; reading it per year would have planned 10 in the span.
    mangshi = load_profile("mangshi-2020")
    target = mangshi.targets[0].model_copy(update={"years": (2026, 2027), "communities": 5})
    profile = mangshi.model_copy(update={"targets": (target,)})
    analysis = analyse(load_city(city), profile=profile)
    plan = plan_streets(analysis, streets=None, year_from=2026, budget_per_year=None)
    counts = plan.years.set_index("year")["communities"]
    assert counts[[2026, 2027]].sum() == 5 and counts[2028] == 8


def test_api_unit_properties_show_viability_shortfall_and_conditional_members(city: Store) -> None:
    viewer = client_for(city)
    walk_ups = viewer.get("/collections/units/items/U-W1", params={"profile": "jingyuan-2023"})
    assert walk_ups.status_code == 200, walk_ups.text
    props = walk_ups.json()["properties"]
    assert (props["viable"], props["shortfall_households"], props["n_members"]) == (False, 219, 3)
    assert "差219户" in props["reason"]
    yulin = viewer.get("/collections/units/items/U-Y0", params={"profile": "yulin-2022"}).json()["properties"]
    assert (yulin["conditional"], yulin["n_conditional"]) == (True, 1)


def test_api_records_a_mangshi_consent_below_two_thirds_with_the_advisory(city: Store) -> None:
    planner = client_for(city, "planner")
    fid = int(city.read_layer("communities", filters={"id": "E01"})["fid"].iloc[0])
    url = f"/communities/{fid}/stages?profile=mangshi-2020"
    assert planner.post(url, json={"stage": "survey", "date": "2020-08-03"}).status_code == 201
    poll = planner.post(
        url, json={"stage": "consent_1", "date": "2020-09-15", "households_agree": 50, "households_total": 90}
    )
    assert poll.status_code == 201, poll.text
    doc = poll.json()
    assert doc["evidence"] == {"households_agree": 50, "households_total": 90}
    assert len(doc["advisories"]) == 1 and "50/90（55.55%）低于参考门槛 2/3" in doc["advisories"][0]
    chuxiong = planner.post(
        f"/communities/{fid}/stages?profile=chuxiong-2020", json={"stage": "survey", "date": "2020-08-04"}
    )
    assert chuxiong.status_code == 201 and chuxiong.json()["advisories"] == []
