"""Map layers and lists of the plan for GIS users: merged units and packages as GeoJSON, scattered old buildings
as CSV, with property names and values in one language (Chinese by default)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.reports.csvfile import write_csv
from geo.reports.labels import SCATTERED_ACTION, SCATTERED_SITUATION, YES_NO, words

UNIT_FIELDS: dict[str, tuple[str, str]] = {
    "unit_id": ("改造单元", "unit_id"),
    "street": ("街道", "street"),
    "package_id": ("项目包", "package_id"),
    "year": ("计划年度", "year"),
    "members": ("包含小区", "members"),
    "n_members": ("小区数", "n_members"),
    "households": ("户数", "households"),
    "floor_area_m2": ("建筑面积（平方米）", "floor_area_m2"),
    "cost_yuan": ("改造费用（元）", "cost_yuan"),
    "residents_yuan": ("居民出资（元）", "residents_yuan"),
    "subsidy_yuan": ("财政补助（元）", "subsidy_yuan"),
    "score": ("评分", "score"),
    "shared_boundary_m": ("共用边界（米）", "shared_boundary_m"),
    "viable": ("达到物业管理规模", "viable"),
    "shortfall_households": ("距物业管理规模差（户）", "shortfall_households"),
    "conditional": ("含有条件纳入小区", "conditional"),
    "n_conditional": ("其中有条件纳入（个）", "n_conditional"),
    "reason": ("说明", "reason"),
}
PACKAGE_FIELDS: dict[str, tuple[str, str]] = {
    "package_id": ("项目包", "package_id"),
    "street": ("街道", "street"),
    "year": ("计划年度", "year"),
    "units": ("改造单元", "units"),
    "n_units": ("单元数", "n_units"),
    "communities": ("小区数", "communities"),
    "conditional_communities": ("其中有条件纳入（个）", "conditional_communities"),
    "households": ("户数", "households"),
    "floor_area_m2": ("建筑面积（平方米）", "floor_area_m2"),
    "cost_yuan": ("总投资（元）", "cost_yuan"),
    "residents_yuan": ("居民出资（元）", "residents_yuan"),
    "subsidy_yuan": ("财政补助（元）", "subsidy_yuan"),
    "score": ("评分", "score"),
}
SCATTERED_FIELDS: dict[str, tuple[str, str]] = {
    "building_id": ("楼栋编号", "building_id"),
    "community_id": ("所在小区", "community_id"),
    "year_built": ("建成年份", "year_built"),
    "households": ("户数", "households"),
    "floor_area_m2": ("建筑面积（平方米）", "floor_area_m2"),
    "situation": ("位置", "situation"),
    "action": ("处理方式", "action"),
    "unit_id": ("改造单元", "unit_id"),
    "distance_m": ("距改造单元（米）", "distance_m"),
    "reason": ("说明", "reason"),
}


def _joined(values: Any, lang: str) -> Any:
    if isinstance(values, list | tuple):
        return ("," if lang == "en" else "、").join(map(str, values))
    return values


def _localised(
    frame: pd.DataFrame,
    fields: Mapping[str, tuple[str, str]],
    lang: str,
    values: Mapping[str, Callable[[pd.Series], pd.Series]],
) -> pd.DataFrame:
    k = 1 if lang == "en" else 0
    keys = [f for f in fields if f in frame.columns]
    out = pd.DataFrame({f: frame[f] for f in keys})
    for key, fn in values.items():
        if key in out:
            out[key] = fn(out[key])
    return out.rename(columns={f: fields[f][k] for f in keys})


def write_units(units: gpd.GeoDataFrame, path: str | Path, *, lang: str = "zh") -> Path:
    """Merged units (拆墙连片) as GeoJSON (EPSG:4326): members listed, viability as 是/否 in Chinese."""
    props = _localised(
        units,
        UNIT_FIELDS,
        lang,
        {
            "members": lambda s: s.map(lambda m: _joined(m, lang)),
            "viable": lambda s: words(YES_NO, s.astype(object), lang),
            "conditional": lambda s: words(YES_NO, s.astype(object), lang),
        },
    )
    return _geojson(props, units, path)


def write_packages(packages: gpd.GeoDataFrame, path: str | Path, *, lang: str = "zh") -> Path:
    """Implementation packages with their plan year as GeoJSON (EPSG:4326)."""
    props = _localised(packages, PACKAGE_FIELDS, lang, {"units": lambda s: s.map(lambda m: _joined(m, lang))})
    return _geojson(props, packages, path)


def write_scattered(scattered: pd.DataFrame, path: str | Path, *, lang: str = "zh") -> Path:
    """Scattered old buildings (插花式老旧楼栋) as CSV for Excel, situation and action in words."""
    frame = _localised(
        scattered,
        SCATTERED_FIELDS,
        lang,
        {
            "situation": lambda s: words(SCATTERED_SITUATION, s, lang),
            "action": lambda s: words(SCATTERED_ACTION, s, lang),
        },
    )
    return write_csv(frame, list(frame.columns), path)


def _geojson(props: pd.DataFrame, source: gpd.GeoDataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    gdf = gpd.GeoDataFrame(props, geometry=source.geometry.values, crs=source.crs).to_crs(4326)
    gdf.to_file(path, driver="GeoJSON")
    return path
