"""Pieces both maps share: labels in both languages, display coordinates, the street filter, outline layers."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.analysis import City
from geo.errors import NotFoundError
from geo.model import ZONE_KINDS
from maps._encode import SCALE, StringTable, encode_polygons
from maps.basemaps import Basemap

_UI: dict[str, dict[str, Any]] = {
    "zh": {
        "legend": "图例",
        "street": "街道",
        "all_streets": "全部街道",
        "search": "搜索小区名称或编号，回车定位",
        "score": "评分",
        "rank": "排名",
        "households": "户数",
        "cost": "估算投资",
        "residents": "居民出资",
        "subsidy": "财政补助",
        "yuan": "元",
        "unit": "改造单元",
        "stage": "当前阶段",
        "no_stage": "未开始",
        "date": "日期",
        "plan_year": "计划年度",
        "status": {
            "eligible": "符合改造条件",
            "conditional": "有条件纳入",
            "excluded": "不纳入改造",
            "overdue": "已逾期",
            "due_soon": "即将到期",
            "on_track": "按期推进",
        },
        "factors": ["缺项", "优先项目", "房龄", "户数规模", "居民意愿", "资金到位"],
        "streets": "街道边界",
        "zones": "排除片区",
        "communities": "小区",
    },
    "en": {
        "legend": "Legend",
        "street": "Street",
        "all_streets": "All streets",
        "search": "Search a community by name or id, Enter to go",
        "score": "Score",
        "rank": "rank",
        "households": "Households",
        "cost": "Estimated cost",
        "residents": "Residents pay",
        "subsidy": "Subsidy",
        "yuan": "yuan",
        "unit": "Merged unit",
        "stage": "Current stage",
        "no_stage": "not started",
        "date": "Date",
        "plan_year": "Plan year",
        "status": {
            "eligible": "eligible",
            "conditional": "conditional",
            "excluded": "excluded",
            "overdue": "overdue",
            "due_soon": "due soon",
            "on_track": "on track",
        },
        "factors": ["deficiencies", "priority items", "age", "households", "support", "funds"],
        "streets": "Street outlines",
        "zones": "Excluded zones",
        "communities": "Communities",
    },
}
FACTORS = ("deficiencies", "priority_items", "age", "households", "support", "funds")


def ui(lang: str) -> dict[str, Any]:
    return _UI["en" if lang == "en" else "zh"]


def select_street(city: City, street: str | None) -> gpd.GeoDataFrame:
    """The streets to draw (one when ``street`` is given), refusing a street the city does not have."""
    if street is None:
        return city.streets
    if street not in set(city.street_names()):
        raise NotFoundError(f"没有街道“{street}”", f"no street {street!r}")
    return city.streets[city.streets["name"] == street]


def within(frame: gpd.GeoDataFrame, area: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows of ``frame`` touching ``area`` (all rows when ``area`` is empty)."""
    if area.empty or frame.empty:
        return frame
    hull = shapely.union_all(np.asarray(area.geometry.array))
    return frame[shapely.intersects(np.asarray(frame.geometry.array), hull)]


def bounds(frames: list[gpd.GeoDataFrame]) -> list[float]:
    boxes = [f.total_bounds for f in frames if len(f)]
    stacked = np.vstack(boxes)
    return [
        float(stacked[:, 0].min()),
        float(stacked[:, 1].min()),
        float(stacked[:, 2].max()),
        float(stacked[:, 3].max()),
    ]


def streets_layer(streets: gpd.GeoDataFrame, bm: Basemap, lang: str) -> dict[str, Any]:
    shown = bm.to_display(streets)
    return {
        "id": "streets",
        "name": ui(lang)["streets"],
        "type": "polygon",
        "geom": encode_polygons(shown.geometry.values),
        "style": {"color": "#3d3d3d", "weight": 2.5, "fill": False, "interactive": False},
        "renderer": "svg",
    }


def zones_layer(zones: gpd.GeoDataFrame, bm: Basemap, lang: str, strings: StringTable) -> dict[str, Any]:
    shown = bm.to_display(zones)
    kinds = [ZONE_KINDS.get(k, k) if lang != "en" else k for k in shown["kind"]]
    texts = [
        f"{n}（{k}）" if lang != "en" else f"{n} ({k})" for n, k in zip(shown["name"].fillna(""), kinds, strict=True)
    ]
    return {
        "id": "zones",
        "name": ui(lang)["zones"],
        "type": "polygon",
        "geom": encode_polygons(shown.geometry.values),
        "style": {"color": "#b2182b", "weight": 1.5, "dashArray": "6 4", "fillOpacity": 0.6},
        "hatch": True,
        "renderer": "svg",
        "tooltip": strings.column(texts),
    }


def page_data(
    *,
    title: str,
    subtitle: str,
    lang: str,
    bm: Basemap,
    strings: StringTable,
    streets: list[str],
    layers: list[dict[str, Any]],
    legend: list[dict[str, Any]],
    extent: list[float],
    panel: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "lang": lang,
        "title": title,
        "subtitle": subtitle,
        "scale": SCALE,
        "tiles": bm.tiles,
        "labels": ui(lang),
        "streets": streets,
        "layers": layers,
        "legend": legend,
        "panel": panel,
        "bounds": [round(v, 6) for v in extent],
        "strings": strings.strings,
    }
