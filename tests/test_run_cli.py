"""``renewal run`` on a folder of raw files with Chinese names, as a planner runs it (both stores)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook
from rich.cells import cell_len
from typer.testing import CliRunner

from geo.cli import app
from geo.plan_store import find_plan
from geo.stores import Store
from tests.conftest import SAMPLE

runner = CliRunner()
STREETS = ["华庭街道", "梅宁街道", "德岭街道", "竹和街道"]


@pytest.fixture
def env(store: Store, cli_env: Callable[[Store], None]) -> Store:
    """The CLI pointed at the test store, run from a folder of its own, with no profile in the environment."""
    cli_env(store)
    return store


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """The sample city as a planner receives it: Chinese file names, mixed formats, a stray file."""
    folder = tmp_path / "楚雄市数据"
    folder.mkdir()
    formats = {
        "streets": ("街道.gpkg", "GPKG"),
        "neighbourhoods": ("社区.shp", "ESRI Shapefile"),
        "communities": ("小区.geojson", "GeoJSON"),
        "buildings": ("楼栋.fgb", "FlatGeobuf"),
        "zones": ("片区.gpkg", "GPKG"),
        "roads": ("道路.geojson", "GeoJSON"),
    }
    for layer, (name, driver) in formats.items():
        gpd.read_file(SAMPLE / f"{layer}.geojson").to_file(folder / name, driver=driver)
    shutil.copy(SAMPLE / "survey.xlsx", folder / "调查表.xlsx")
    (folder / "说明.txt").write_text("数据来源：住建局", encoding="utf-8")
    return folder


def test_run_on_a_folder_with_chinese_names_writes_every_output_and_they_read_back(
    env: Store, raw: Path, tmp_path: Path
) -> None:
    out = tmp_path / "成果"
    result = runner.invoke(
        app,
        [
            "run",
            str(raw),
            "--profile",
            "chuxiong-2020",
            "--year-from",
            "2026",
            "--budget-per-year",
            "60000000",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output

    counts = env.counts()
    sample = {layer: len(gpd.read_file(SAMPLE / f"{layer}.geojson")) for layer in ("streets", "communities")}
    assert counts["streets"] == sample["streets"] and counts["communities"] == sample["communities"]
    assert counts["buildings"] > 1000 and counts["survey"] > 150
    saved = find_plan(env, profile="chuxiong-2020")
    assert saved is not None and saved.name == "楚雄市数据" and saved.params["budget_per_year"] == 60_000_000

    # every output exists and reads back
    expected = [
        *(out / "candidates" / f"{s}.{ext}" for s in STREETS for ext in ("xlsx", "geojson")),
        out / "candidates_all.csv",
        out / "units.geojson",
        out / "scattered_buildings.csv",
        out / "plan_years.csv",
        out / "plan_packages.geojson",
        out / "计划表.xlsx",
        out / "计划表.csv",
        out / "台账.xlsx",
        out / "plan_map.html",
        out / "progress_map.html",
    ]
    for path in expected:
        assert path.is_file() and path.stat().st_size > 0, path
    for s in STREETS:
        wb = load_workbook(out / "candidates" / f"{s}.xlsx", read_only=True)
        assert wb.sheetnames == ["候选名单", "评分与规则说明"]
        gj = gpd.read_file(out / "candidates" / f"{s}.geojson")
        assert set(gj["所属街道"]) == {s} and {"街道内排序", "计划年度", "认定结果"} <= set(gj.columns)
    everything = pd.read_csv(out / "candidates_all.csv", encoding="utf-8-sig")
    assert len(everything) == counts["communities"]
    assert set(everything["认定结果"]) <= {"符合条件", "有条件纳入", "不纳入"}
    ranked = everything["全市排序"].dropna().astype(int)
    assert sorted(ranked) == list(range(1, len(ranked) + 1))
    planned = everything.dropna(subset=["计划年度"])
    plan_csv = pd.read_csv(out / "计划表.csv", encoding="utf-8-sig")
    assert sorted(plan_csv["小区编号"]) == sorted(planned["小区编号"])
    assert plan_csv["计划年度"].min() == 2026
    years = pd.read_csv(out / "plan_years.csv", encoding="utf-8-sig")
    assert years["总投资(元)"].sum() == plan_csv["投资估算（元）"].sum()
    assert (years["总投资(元)"] <= 60_000_000).all()
    packages = gpd.read_file(out / "plan_packages.geojson")
    assert packages["总投资（元）"].sum() == plan_csv["投资估算（元）"].sum()
    scattered = pd.read_csv(out / "scattered_buildings.csv", encoding="utf-8-sig")
    assert set(scattered["处理方式"]) <= {"随邻近改造单元一并改造", "作为单栋楼单独列入"}
    ledger = load_workbook(out / "台账.xlsx", read_only=True)
    assert ledger.sheetnames == ["项目基本情况", "年度计划", "改造进展", "改造效果", "阶段记录"]
    for kind in ("plan", "progress"):
        html = (out / f"{kind}_map.html").read_text(encoding="utf-8")
        assert html.lstrip().lower().startswith("<!doctype html") and "华庭街道" in html

    # the summary: where everything is, the budget, one language, 80 columns
    lines = result.stdout.splitlines()
    paths = [line for line in lines if str(tmp_path) in line or "://" in line]  # paths and URLs: never folded
    assert max(cell_len(line) for line in lines if line not in paths) <= 80
    text = result.stdout
    assert "年度预算 6,000 万元" in text and "计划“楚雄市数据”第1版" in text
    assert "总投资(万元)" in text and "财政补助(万元)" in text  # the year table is not cut at 80 columns
    assert "说明.txt" in text and f"{out}/" in text
    ignored = next(line for line in lines if line.startswith("未识别为图层"))
    assert ".dbf" not in ignored and ".shx" not in ignored  # a Shapefile's sidecars travel with it
    assert {"  计划表.xlsx", "  计划表.csv", "  台账.xlsx", "  plan_map.html"} <= set(lines)
    for english in ("Units", "merged", "streets", "communities", "Outputs", "budget"):
        assert english not in text


def test_a_bad_layer_leaves_the_store_as_it_was(env: Store, raw: Path, tmp_path: Path) -> None:
    first = runner.invoke(app, ["run", str(raw), "--profile", "chuxiong-2020", "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    before = env.fingerprint()
    plans = find_plan(env, profile="chuxiong-2020")

    buildings = gpd.read_file(raw / "楼栋.fgb")
    bowtie = shapely.Polygon([(101.6, 25.0), (101.602, 25.002), (101.602, 25.0), (101.6, 25.002)])
    buildings.loc[len(buildings) - 1, "geometry"] = bowtie
    (raw / "楼栋.fgb").unlink()
    buildings.to_file(raw / "楼栋.fgb", driver="FlatGeobuf")
    communities = gpd.read_file(raw / "小区.geojson")
    communities["name"] = communities["name"] + "（新）"
    communities.to_file(raw / "小区.geojson", driver="GeoJSON")

    result = runner.invoke(app, ["run", str(raw), "--profile", "chuxiong-2020", "--out", str(tmp_path / "b")])

    assert result.exit_code == 2
    assert "楼栋.fgb" in result.output and "所有图层均未导入" in result.output
    assert "Traceback" not in result.output
    assert env.fingerprint() == before  # communities (imported before buildings) rolled back too
    assert not env.read_layer("communities")["name"].str.endswith("（新）").any()
    assert find_plan(env, profile="chuxiong-2020").plan_id == plans.plan_id
    assert not (tmp_path / "b").exists()


def test_folder_problems_are_named(env: Store, raw: Path, tmp_path: Path) -> None:
    shutil.copy(raw / "小区.geojson", raw / "communities.geojson")
    twice = runner.invoke(app, ["run", str(raw), "--out", str(tmp_path / "o")])
    assert twice.exit_code == 2
    assert "小区.geojson" in twice.output and "communities.geojson" in twice.output
    (raw / "小区.geojson").unlink()
    (raw / "communities.geojson").unlink()
    none = runner.invoke(app, ["run", str(raw), "--out", str(tmp_path / "o")])
    assert none.exit_code == 2 and "没有小区图层文件" in none.output
    missing = runner.invoke(app, ["run", str(tmp_path / "不存在"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2 and "找不到文件夹" in missing.output
    assert env.counts()["communities"] == 0


def test_small_things_a_newcomer_meets(env: Store, raw: Path, tmp_path: Path, monkeypatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    empty = runner.invoke(app, ["serve", "--port", "8123"])
    assert empty.exit_code == 0
    assert "数据库中没有小区" in empty.output and "http://127.0.0.1:8123/edit" in empty.output
    assert "http://127.0.0.1:8123/maps/progress.html" in empty.output

    assert runner.invoke(app, ["run", str(raw), "--profile", "chuxiong-2020", "--out", "o"]).exit_code == 0
    served = runner.invoke(app, ["serve", "--port", "8123"])
    assert "数据库中没有小区" not in served.output and "communities 180" in served.output
    assert env.engine.url.database in served.output

    # no --profile: the list says which profile it used
    listed = runner.invoke(app, ["candidates", "--street", "华庭街道"])
    assert listed.exit_code == 0 and "未指定 --profile，使用政策配置 national-2020" in listed.output
    # a wrong street: one message listing the valid ones
    wrong = runner.invoke(app, ["candidates", "--street", "华亭街道", "--profile", "chuxiong-2020"])
    assert wrong.exit_code == 2 and all(s in wrong.output for s in STREETS) and wrong.output.count("错误") == 1
    # a missing output folder is created, and the saved plan gives the plan year
    deep = tmp_path / "新建" / "街道" / "华庭.xlsx"
    made = runner.invoke(
        app,
        [
            "candidates",
            "--street",
            "华庭街道",
            "--profile",
            "chuxiong-2020",
            "--format",
            "xlsx",
            "--output",
            str(deep),
        ],
    )
    assert made.exit_code == 0, made.output
    header = [c.value for c in load_workbook(deep)["候选名单"][3]]
    assert "计划年度" in header and "计划年度取自已保存的计划" in made.output
    records = json.loads(
        runner.invoke(app, ["candidates", "--street", "华庭街道", "--profile", "chuxiong-2020"]).stdout
    )
    assert {r["plan_year"] for r in records if r["status"] != "excluded"} - {None}


def test_a_plan_far_beyond_its_budget_is_said_once(env: Store, raw: Path) -> None:
    result = runner.invoke(
        app, ["run", str(raw), "--profile", "chuxiong-2020", "--budget-per-year", "3000000", "--out", "o"]
    )
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if line.startswith("注意")]
    assert len(notes) <= 3
    assert any("预算远小于总投资" in n and "全部实施需要" in n for n in notes)
    assert not any("项目包P-" in n and "排在" in n for n in notes)
