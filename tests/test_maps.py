"""Plan and progress maps: folium pages with every library inlined, compact data that decodes to the right places
and figures, the saved plan shown (never a re-plan), and the side panel's tables and charts."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from geo.analysis import Analysis, City, analyse, load_city, plan_streets
from geo.cli import app
from geo.crs import wgs84_to_gcj02
from geo.errors import DataError, NotFoundError
from geo.policy.profiles import SOURCE_EN_MARK, load_profile, source_text
from geo.stores import open_store
from maps.plan import render_plan_map
from maps.progress import community_progress, render_progress_map, stage_colours
from tests.test_api_features import load_sample

MANGSHI = load_profile("mangshi-2020")
CHUXIONG = load_profile("chuxiong-2020")


def load(store_url: str) -> City:
    """The sample city imported into the store at ``store_url``, as the maps read it back."""
    store = open_store(store_url)
    try:
        load_sample(store)
        return load_city(store)
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[City, Analysis]:
    city = load(f"sqlite:///{tmp_path_factory.mktemp('maps') / 'city.sqlite'}")
    return city, analyse(city, profile=MANGSHI)


def _data(html: str) -> dict[str, Any]:
    block = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert block is not None
    return json.loads(block.group(1))


def _layer(data: dict[str, Any], layer_id: str) -> dict[str, Any]:
    return next(layer for layer in data["layers"] if layer["id"] == layer_id)


def _first_vertex(layer: dict[str, Any], scale: int) -> tuple[float, float]:
    c = layer["geom"]["c"]
    return c[0] / scale, c[1] / scale


EXTERNAL = re.compile(r"<script[^>]+src=|<link[^>]+href=|@import|url\([\"']?https?:|renewal-asset:", re.I)


def test_plan_map_is_folium_self_contained_and_complete(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    plan = plan_streets(analysis, streets=None, year_from=2021, budget_per_year=30_000_000)
    html = render_plan_map(analysis=analysis, plan=plan, city=city)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not EXTERNAL.search(html)  # every script and stylesheet inlined, nothing fetched
    # folium's page and controls, its plugins' libraries inlined from the installed packages.
    assert "folium-map" in html and "L.control.scale()" in html and "L.control.layers(" in html
    for plugin in ("L.Control.Search", "L.Control.MiniMap", "L.Control.Measure", "L.control.fullscreen"):
        assert f"new {plugin}(" in html or f"{plugin}(" in html
    assert "renewal.fill(" in html and ".leaflet-container" in html
    data = _data(html)
    communities = _layer(data, "communities")
    assert len(communities["geom"]["g"]) == len(analysis.candidates)
    assert {"streets", "zones", "roads", "units", "packages", "scattered"} <= {
        layer["id"] for layer in data["layers"]
    }
    # Outlines drawn over the compounds never take the click: it reaches the compound underneath.
    assert _layer(data, "packages")["interactive"] is False and _layer(data, "units")["interactive"] is False
    assert "#b2182b" not in {s["color"] for s in _layer(data, "packages")["strokes"]}  # zones' red is theirs alone
    # Popups are built from the data: the first community's reasons, money and plan year are in it.
    first = analysis.candidates.iloc[0]
    strings = data["strings"]
    reason = first["reasons"][0]
    source = source_text(reason["source"], "zh")  # a Chinese page cites the Chinese part of a bilingual source
    assert [strings[i] for i in communities["props"]["reasons"][0][0]] == [reason["text"], source]
    assert SOURCE_EN_MARK in reason["source"] and not any(SOURCE_EN_MARK in s for s in strings)
    assert communities["props"]["cost"][0] == int(first["cost_yuan"])
    year_of = plan.units[["members", "year"]].explode("members").set_index("members")["year"]
    planned = analysis.candidates["community_id"].map(year_of)
    assert communities["props"]["year"] == [None if pd.isna(y) else int(y) for y in planned]
    # Coordinates: quantised to 1e-6 degree, first vertex of the first community where the store has it.
    x, y = _first_vertex(communities, data["scale"])
    ring = shapely.get_coordinates(first.geometry)
    assert np.abs(ring - [x, y]).sum(axis=1).min() < 2e-6
    # Roads decode to as many features as the city has; street labels sit inside their streets.
    assert len(_layer(data, "roads")["geom"]["g"]) == len(city.roads)
    for name, lat, lon in data["street_labels"]:
        outline = city.streets.loc[city.streets["name"] == name].geometry.iloc[0]
        assert outline.contains(shapely.Point(lon, lat))
    # The side panel: plan years with their compounds and money, the title names the district.
    years = plan.years
    assert "楚雄市城镇老旧小区改造规划图" in html
    panel = html[html.index("分年度计划") :]
    for row in years.itertuples():
        assert f"<td>{row.year}</td>" in panel and f"{row.cost_yuan / 10_000:,.1f}" in panel


def test_without_npm_the_map_leaves_its_tools_out_and_says_so(
    sample: tuple[City, Analysis], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After a plain pip install (no Node.js) the demo's maps still work: Leaflet and the data, no npm tools."""
    from maps import _assets

    gone = {name: tmp_path / "node_modules" / name for names in _assets.TOOLS.values() for name in names}
    monkeypatch.setattr(_assets, "ASSETS", {**_assets.ASSETS, **gone})
    city, analysis = sample
    plan = plan_streets(analysis, streets=None, year_from=2021, budget_per_year=30_000_000)
    html = render_plan_map(analysis=analysis, plan=plan, city=city)
    assert not EXTERNAL.search(html) and "renewal.fill(" in html and "L.control.layers(" in html
    for plugin in ("L.Control.Search", "L.Control.MiniMap", "L.Control.Measure", "L.control.fullscreen"):
        assert plugin not in html
    assert len(_layer(_data(html), "communities")["geom"]["g"]) == len(analysis.candidates)
    assert _assets.missing_tools() == ["fullscreen", "measure", "minimap", "search"]
    assert "npm ci --prefix api/web" in _assets.missing_tools_note("zh")
    monkeypatch.undo()
    assert _assets.missing_tools() == [] and _assets.missing_tools_note() is None


def test_plan_map_marks_conditional_compounds_the_plan_takes(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    plan = plan_streets(analysis, streets=None, year_from=2021, budget_per_year=None)
    target = plan.units["members"].iloc[0][0]
    units = plan.units.copy()
    units["conditional"] = units["members"].map(lambda m: target in m)
    flagged = type(plan)(units=units, packages=plan.packages, years=plan.years, warnings=plan.warnings)
    data = _data(render_plan_map(analysis=analysis, plan=flagged, city=city))
    communities = _layer(data, "communities")
    ids = [data["strings"][i] for i in communities["props"]["id"]]
    marked = {ids[i] for i, s in enumerate(communities["stroke"]) if s == 1}
    assert target in marked
    assert communities["strokes"][1]["dashArray"]  # a dashed outline, listed in the legend
    assert "有条件纳入并列入规划" in render_plan_map(analysis=analysis, plan=flagged, city=city)


def test_plan_map_for_one_street_in_english(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    street = city.streets["name"].iloc[0]
    html = render_plan_map(analysis=analysis, city=city, street=street, lang="en")
    data = _data(html)
    expected = int((analysis.candidates["street"] == street).sum())
    assert len(_layer(data, "communities")["geom"]["g"]) == expected
    assert f"<option>{street}</option>" in html and data["labels"]["legend"] == "Legend"
    assert '<html lang="en">' in html and f"楚雄市 {street} — renovation plan map" in html
    with pytest.raises(NotFoundError, match="华庭街道"):
        render_plan_map(analysis=analysis, city=city, street="没有这个街道")


def test_amap_basemap_shifts_geometry_to_gcj02(
    sample: tuple[City, Analysis], monkeypatch: pytest.MonkeyPatch
) -> None:
    city, analysis = sample
    plain = _data(render_plan_map(analysis=analysis, city=city))
    shifted_html = render_plan_map(analysis=analysis, city=city, basemap="amap")
    shifted = _data(shifted_html)
    x, y = _first_vertex(_layer(plain, "communities"), plain["scale"])
    gx, gy = wgs84_to_gcj02(x, y)
    sx, sy = _first_vertex(_layer(shifted, "communities"), shifted["scale"])
    assert abs(sx - gx) < 2e-6 and abs(sy - gy) < 2e-6 and abs(sx - x) > 1e-3
    assert "autonavi" in shifted_html  # a folium tile layer
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(DataError, match="TIANDITU_KEY"):
        render_plan_map(analysis=analysis, city=city, basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    assert render_plan_map(analysis=analysis, city=city, basemap="tianditu").count("tk=abc123") >= 2


def _stages(analysis: Analysis) -> tuple[pd.DataFrame, str]:
    street = analysis.candidates["street"].iloc[0]
    ids = analysis.candidates.loc[analysis.candidates["street"] == street, "community_id"].tolist()[:3]
    stages = pd.DataFrame(
        {
            "community_id": ids,
            "stage": ["construction", "annual_plan", "acceptance"],
            "date": [dt.date(2021, 4, 1), dt.date(2020, 11, 2), dt.date(2022, 1, 20)],
        }
    )
    return stages, street


def test_community_progress_overdue_as_of_a_fixed_date(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    stages, _street = _stages(analysis)
    progress = community_progress(analysis=analysis, stages=stages, as_of=dt.date(2022, 5, 1), profile=MANGSHI)
    by_id = progress.set_index("community_id")
    late = stages["community_id"][2]
    # No plan, so only the deadline after acceptance can be dated: handover by 2022-04-20, 11 days late.
    assert by_id.loc[late, "status"] == "overdue"
    assert "已逾期11天" in by_id.loc[late, "reason"]
    assert by_id.loc[late, "due"] == dt.date(2022, 4, 20) and "芒市" not in by_id.loc[late, "clause"]
    assert "〔" in by_id.loc[late, "clause"]  # the clause names its document
    assert by_id.loc[stages["community_id"][0], "status"] == "on_track"
    assert progress["status"].notna().sum() == 3


def test_deadline_clauses_cite_their_source_in_the_page_language(sample: tuple[City, Analysis]) -> None:
    _city, analysis = sample
    plan = plan_streets(analysis, streets=None, year_from=2021, budget_per_year=30_000_000)
    nothing_recorded = pd.DataFrame({"community_id": [], "stage": [], "date": []}, dtype=object)
    clauses = {
        lang: set(
            community_progress(
                analysis=analysis,
                stages=nothing_recorded,
                as_of=dt.date(2021, 12, 1),
                profile=MANGSHI,
                plan=plan,
                lang=lang,
            )["clause"].dropna()
        )
        for lang in ("zh", "en")
    }
    # Mangshi's survey deadline reads "10月前" as the end of October, an assumption its source states in both
    # languages: each page cites its own language only.
    assert any("假设：“10月前”按10月底前理解" in c for c in clauses["zh"])
    assert any("assumption: '10月前' read as by the end of that month" in c for c in clauses["en"])
    assert not any(SOURCE_EN_MARK in c for lang in clauses for c in clauses[lang])


def test_progress_page_street_table_figures_charts_and_overdue_list(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    stages, street = _stages(analysis)
    html = render_progress_map(
        analysis=analysis, city=city, stages=stages, as_of=dt.date(2022, 5, 1), profile=MANGSHI
    )
    assert not EXTERNAL.search(html)
    assert "数据截至 2022-05-01" in html and "楚雄市城镇老旧小区改造进度图" in html
    households = analysis.candidates.set_index("community_id").loc[stages["community_id"], "households"]
    # The street's figures: under construction or beyond are the first and third communities (hand count).
    section = html[html.index(f"data-street='{street}'><h2>统计") :]
    section = section[: section.index("</table>")]
    assert f"<td>受益户数</td><td>{int(households.iloc[0]) + int(households.iloc[2]):,}</td>" in section
    # The street comparison table: one clickable row per street, the street's phases and its overdue compound.
    row = re.search(rf"<tr class='rn-pick' data-street='{street}'>(.*?)</tr>", html).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)
    n = int((analysis.candidates["street"] == street).sum())
    assert cells[:6] == [street, f"{n:,}", f"{n - 3:,}", "1", "1", "1"]  # not started, preparing, building, done
    assert "rn-bad'>1<" in cells[6]
    # Charts drawn as inline SVG; the overdue list names the deadline and its clause.
    assert html.count("<svg class='rn-chart'") == 2 and "各街道小区改造阶段" in html and "分年度投资" in html
    assert "逾期小区（1）" in html
    data = _data(html)
    ids = [data["strings"][i] for i in _layer(data, "communities")["props"]["id"]]
    [(index, days, due, clause)] = data["overdue"]["rows"]
    assert ids[index] == stages["community_id"][2] and days == 11
    assert data["strings"][due] == "2022-04-20" and "芒政办发〔2020〕28号" in data["strings"][clause]


def test_progress_page_in_english_names_stages_not_codes(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    stages, _street = _stages(analysis)
    html = render_progress_map(
        analysis=analysis, city=city, stages=stages, as_of=dt.date(2021, 5, 1), profile=MANGSHI, lang="en"
    )
    data = _data(html)
    shown = {data["strings"][i] for i in _layer(data, "communities")["props"]["stage"] if i >= 0}
    assert shown == {"construction", "annual plan", "acceptance"}  # English names (two equal their codes)
    assert "annual_plan" not in shown and "Settlement audit".lower() in html.lower()


def test_stage_colours_stay_apart_at_the_end_of_the_scale() -> None:
    for profile in (MANGSHI, CHUXIONG):
        colours = stage_colours(profile)
        assert len(colours) == len(profile.stages) == len(set(colours))
        rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=float)
        steps = np.abs(np.diff(rgb, axis=0)).sum(axis=1)
        assert steps.min() > 60  # every neighbour differs visibly, the last ones included


@pytest.fixture
def cli_store(tmp_path: Path, cli_env: Callable[[str], None]) -> Path:
    """The sample city in a SQLite store of its own, the CLI pointed at it (run from ``tmp_path``)."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    load(url)
    cli_env(url)
    return tmp_path


def test_map_plan_shows_the_saved_seven_year_plan(cli_store: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["map", "plan", "--profile", "chuxiong-2020", "--output", str(cli_store / "a.html")])
    assert empty.exit_code == 0, empty.output
    page = (cli_store / "a.html").read_text(encoding="utf-8")
    assert "尚无已保存的规划" in page and "packages" not in {layer["id"] for layer in _data(page)["layers"]}
    saved = runner.invoke(
        app, ["plan", "--all", "--budget-per-year", "60000000", "--profile", "chuxiong-2020", "--year-from", "2026"]
    )
    assert saved.exit_code == 0, saved.output
    out = cli_store / "plan.html"
    result = runner.invoke(app, ["map", "plan", "--profile", "chuxiong-2020", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "编号1" in result.output
    page = out.read_text(encoding="utf-8")
    data = _data(page)
    years = sorted({y for y in _layer(data, "communities")["props"]["year"] if y is not None})
    assert years == list(range(2026, 2033))  # seven years within 60 million a year, not one year for all
    assert "2026–2032年，年度预算60,000,000元" in page
    assert len(_layer(data, "packages")["strokes"]) == 7 + 1
    # The progress map plans this year from the same plan: its target is the plan's 2026 compounds.
    progress = cli_store / "progress.html"
    shown = runner.invoke(app, ["map", "progress", "--plan", "1", "--as-of", "2026-06-01", "--output", str(progress)])
    assert shown.exit_code == 0, shown.output
    page = progress.read_text(encoding="utf-8")
    planned_2026 = sum(1 for y in _layer(data, "communities")["props"]["year"] if y == 2026)
    assert f"0 / {planned_2026:,} (0.0%)" in page
    missing = runner.invoke(app, ["map", "plan", "--plan", "99", "--output", str(out)])
    assert missing.exit_code == 2 and "99" in missing.output
    other = runner.invoke(app, ["map", "plan", "--plan", "1", "--profile", "mangshi-2020", "--output", str(out)])
    assert other.exit_code == 2 and "chuxiong-2020" in other.output
