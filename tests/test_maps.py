"""Plan and progress maps: self-contained HTML, compact data that decodes to the right places and figures."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis import Analysis, City, analyse, load_city, plan_streets
from geo.crs import wgs84_to_gcj02
from geo.errors import DataError, NotFoundError
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.stores import open_store
from maps.plan import render_plan_map
from maps.progress import community_progress, render_progress_map

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "boundaries"
MANGSHI = load_profile("mangshi-2020")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[City, Analysis]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('maps') / 'city.sqlite'}")
    for layer in ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads"):
        import_layer(store, layer, SAMPLE / f"{layer}.geojson")
    import_layer(store, "survey", SAMPLE / "survey.xlsx")
    city = load_city(store)
    store.dispose()
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


EXTERNAL = re.compile(r"<script[^>]+src=|<link[^>]+href=[\"']?https?:|@import|url\([\"']?https?:", re.I)


def test_plan_map_is_self_contained_and_complete(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    plan = plan_streets(analysis, streets=None, year_from=2021, budget_per_year=30_000_000)
    html = render_plan_map(analysis=analysis, plan=plan, city=city)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not EXTERNAL.search(html)
    assert "L.map" in html and ".leaflet-container" in html  # Leaflet itself is inlined
    data = _data(html)
    communities = _layer(data, "communities")
    assert len(communities["geom"]["g"]) == len(analysis.candidates)
    assert {"streets", "zones", "units", "packages", "scattered"} <= {layer["id"] for layer in data["layers"]}
    # Popups are built from the data: the first community's reasons and sources are in it.
    first = analysis.candidates.iloc[0]
    strings = data["strings"]
    reason = first["reasons"][0]
    assert [strings[i] for i in communities["props"]["reasons"][0][0]] == [reason["text"], reason["source"]]
    assert communities["props"]["cost"][0] == int(first["cost_yuan"])
    # Coordinates: quantised to 1e-6 degree, first vertex of the first community where the store has it.
    x, y = _first_vertex(communities, data["scale"])
    ring = shapely.get_coordinates(first.geometry)
    assert np.abs(ring - [x, y]).sum(axis=1).min() < 2e-6
    assert data["labels"]["legend"] == "图例"


def test_plan_map_for_one_street_in_english(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    street = city.streets["name"].iloc[0]
    data = _data(render_plan_map(analysis=analysis, city=city, street=street, lang="en"))
    expected = int((analysis.candidates["street"] == street).sum())
    assert len(_layer(data, "communities")["geom"]["g"]) == expected
    assert data["streets"] == [street] and data["labels"]["legend"] == "Legend"
    with pytest.raises(NotFoundError):
        render_plan_map(analysis=analysis, city=city, street="没有这个街道")


def test_amap_basemap_shifts_geometry_to_gcj02(
    sample: tuple[City, Analysis], monkeypatch: pytest.MonkeyPatch
) -> None:
    city, analysis = sample
    plain = _data(render_plan_map(analysis=analysis, city=city))
    shifted = _data(render_plan_map(analysis=analysis, city=city, basemap="amap"))
    x, y = _first_vertex(_layer(plain, "communities"), plain["scale"])
    gx, gy = wgs84_to_gcj02(x, y)
    sx, sy = _first_vertex(_layer(shifted, "communities"), shifted["scale"])
    assert abs(sx - gx) < 2e-6 and abs(sy - gy) < 2e-6 and abs(sx - x) > 1e-3
    assert "autonavi" in shifted["tiles"][0]["url"]
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(DataError, match="TIANDITU_KEY"):
        render_plan_map(analysis=analysis, city=city, basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    tianditu = _data(render_plan_map(analysis=analysis, city=city, basemap="tianditu"))
    assert all("tk=abc123" in t["url"] for t in tianditu["tiles"])


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
    # No plan, so only the deadline after acceptance can be dated: handover by 2022-04-20, 11 days late.
    assert by_id.loc[stages["community_id"][2], "status"] == "overdue"
    assert "已逾期11天" in by_id.loc[stages["community_id"][2], "reason"]
    assert by_id.loc[stages["community_id"][0], "status"] == "on_track"
    assert progress["status"].notna().sum() == 3


def test_progress_map_panel_follows_streets(sample: tuple[City, Analysis]) -> None:
    city, analysis = sample
    stages, street = _stages(analysis)
    html = render_progress_map(
        analysis=analysis, city=city, stages=stages, as_of=dt.date(2021, 5, 1), profile=MANGSHI
    )
    assert not EXTERNAL.search(html)
    data = _data(html)
    assert data["subtitle"] == "数据截至 2021-05-01"
    rows = {r[0]: r[1] for r in data["panel"]["rows"][street]}
    households = analysis.candidates.set_index("community_id").loc[stages["community_id"], "households"]
    # Under construction or beyond: the first and third communities (hand count).
    assert rows["受益户数"] == f"{int(households.iloc[0]) + int(households.iloc[2]):,}"
    assert rows["施工"] == "1" and rows["竣工验收"] == "1" and rows["规划设计及上报年度实施计划"] == "1"
    assert rows["小区总数"] == f"{int((analysis.candidates['street'] == street).sum()):,}"
    whole = {r[0]: r[1] for r in data["panel"]["rows"][""]}
    assert whole["小区总数"] == f"{len(analysis.candidates):,}"
    # Mangshi's target: 105 communities in 2019–2021; one started in 2021.
    assert whole["2019–2021年目标完成（已开工）"] == "1 / 105 (1.0%)"
    communities = _layer(data, "communities")
    overdue_stroke = communities["strokes"][0]
    assert overdue_stroke["color"] == "#d7191c"
