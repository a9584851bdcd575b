"""The main job and the command line, as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from geo.cli import app
from geo.demo import run_demo

runner = CliRunner()


@pytest.fixture
def in_tmp(tmp_path: Path, cli_env: Callable[[str], None]) -> Path:
    """The folder the command line runs from, with no store and no profile in the environment."""
    return tmp_path


def test_demo_writes_every_output_and_is_safe_to_rerun(in_tmp: Path) -> None:
    first = run_demo(out=in_tmp / "out")
    again = run_demo(out=in_tmp / "out")

    assert first.counts == again.counts
    assert first.counts["communities"] == 180 and first.counts["buildings"] >= 1000 and first.counts["survey"] > 150
    assert set(first.statuses) <= {"eligible", "conditional", "excluded"} and first.statuses["excluded"] > 0
    assert again.plan_version == 1  # a fresh demo store each run
    for path in first.outputs:
        assert path.exists() and path.stat().st_size > 0
    street_files = sorted((in_tmp / "out" / "candidates").glob("*.geojson"))
    assert len(street_files) == 4
    units = gpd.read_file(in_tmp / "out" / "units.geojson")
    assert first.merged_units > 0 and (units["小区数"] > 1).sum() == first.merged_units
    assert set(units["达到物业管理规模"]) <= {"是", "否"}
    years = pd.read_csv(in_tmp / "out" / "plan_years.csv")
    assert years["年度"].min() == 2026


def test_demo_urban_village_communities_are_excluded_with_the_zone_named(in_tmp: Path) -> None:
    run_demo(out=in_tmp / "out")
    cands = pd.read_csv(in_tmp / "out" / "candidates_all.csv", encoding="utf-8-sig")
    zones = gpd.read_file(Path(__file__).resolve().parents[1] / "data" / "boundaries" / "zones.geojson")
    # Chuxiong's policy (the demo default) excludes urban villages (楚市政办通〔2020〕5号), not village areas.
    village = zones[zones["kind"] == "urban_village"].iloc[0]
    comms = gpd.read_file(Path(__file__).resolve().parents[1] / "data" / "boundaries" / "communities.geojson")
    inside = comms[shapely.within(shapely.point_on_surface(comms.geometry.values), village.geometry)]["id"]
    assert len(inside) >= 3
    rows = cands[cands["小区编号"].isin(inside)]
    assert len(rows) == len(inside)
    assert (rows["认定结果"] == "不纳入").all()
    assert rows["认定理由"].str.contains(village["name"]).all()
    assert rows["全市排序"].isna().all() and rows["评分"].isna().all()


def test_cli_import_bad_file_exits_nonzero_naming_row_and_writes_nothing(in_tmp: Path) -> None:
    good = gpd.GeoDataFrame(
        {"id": ["A"], "name": ["一号院"]}, geometry=[shapely.box(101.5, 25.0, 101.501, 25.001)], crs=4326
    )
    good.to_file(in_tmp / "good.geojson")
    assert runner.invoke(app, ["import", "communities", str(in_tmp / "good.geojson")]).exit_code == 0
    bowtie = shapely.Polygon([(101.6, 25.0), (101.602, 25.002), (101.602, 25.0), (101.6, 25.002)])
    bad = gpd.GeoDataFrame(
        {"id": ["B", "C"], "name": ["二号院", "三号院"]},
        geometry=[shapely.box(101.51, 25.0, 101.511, 25.001), bowtie],
        crs=4326,
    )
    bad.to_file(in_tmp / "bad.geojson")

    result = runner.invoke(app, ["import", "communities", str(in_tmp / "bad.geojson")])

    assert result.exit_code == 2
    assert "第 2 行" in result.output and "Self-intersection" in result.output
    out = runner.invoke(app, ["export", "communities", "--format", "geojson", "--output", str(in_tmp / "e.geojson")])
    assert out.exit_code == 0
    assert gpd.read_file(in_tmp / "e.geojson")["id"].tolist() == ["A"]


def test_cli_candidates_json_for_a_street(in_tmp: Path, cli_env: Callable[[str], None]) -> None:
    run_demo(out=in_tmp / "out")
    cli_env("sqlite:///var/demo.sqlite")
    streets = gpd.read_file(Path(__file__).resolve().parents[1] / "data" / "boundaries" / "streets.geojson")
    name = streets["name"].iloc[0]
    result = runner.invoke(app, ["candidates", "--street", name, "--profile", "lucheng-2020"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert {r["street"] for r in records} == {name}
    ranks = [r["rank"] for r in records if r["rank"] is not None]
    assert ranks == list(range(1, len(ranks) + 1))
    assert all(r["rank"] is None for r in records if r["status"] == "excluded")
    for r in records:
        assert abs(sum(r["score_breakdown"].values()) - r["score"]) < 1e-9
        if r["cost_yuan"] is not None:
            assert r["residents_yuan"] + r["subsidy_yuan"] == r["cost_yuan"]
    bad = runner.invoke(app, ["candidates", "--street", "不存在街道"])
    assert bad.exit_code == 2 and "不存在街道" in bad.output
