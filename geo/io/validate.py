"""Geometry checks for imports and edits: present, not empty, of the layer's type, valid (or fixed on request)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

#: Vertex count above which one feature is refused (a "geometry bomb", not a compound outline).
MAX_VERTICES = 200_000

_TYPES = {"polygon": ("Polygon", "MultiPolygon"), "line": ("LineString", "MultiLineString")}
_TYPE_ZH = {"polygon": "面", "line": "线"}


def check_geometries(
    gdf: gpd.GeoDataFrame, *, kind: str, fix: bool = False
) -> tuple[gpd.GeoDataFrame, list[tuple[object, str, str]], list[object]]:
    """Return the (possibly fixed, always 2D) frame, the bad rows as ``(row, zh, en)``, and the rows fixed."""
    errors: list[tuple[object, str, str]] = []
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for row in gdf.index[missing]:
        errors.append((row, "几何为空", "empty or missing geometry"))
    geoms = shapely.force_2d(geoms)
    counts = shapely.get_num_coordinates(geoms)
    for row in gdf.index[counts > MAX_VERTICES]:
        errors.append((row, f"几何顶点过多（超过 {MAX_VERTICES}）", f"too many vertices (over {MAX_VERTICES})"))
    allowed = _TYPES[kind]
    types = shapely.get_type_id(geoms)
    names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ]
    )
    type_names = np.where(types >= 0, names[np.clip(types, 0, 7)], "")
    wrong = ~missing & ~np.isin(type_names, allowed)
    for row, t in zip(gdf.index[wrong], type_names[wrong], strict=True):
        errors.append((row, f"几何类型应为{_TYPE_ZH[kind]}，得到 {t}", f"geometry should be a {kind}, got {t}"))
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    for row in gdf.index[np.unique(owner[~np.isfinite(coords).all(axis=1)])]:
        errors.append((row, "坐标含有非数值（NaN/无穷大）", "coordinates contain NaN or infinity"))
    checkable = ~missing & ~wrong
    invalid = checkable & ~shapely.is_valid(geoms)
    fixed: list[object] = []
    if invalid.any():
        if fix:
            repaired = shapely.make_valid(geoms[invalid])
            repaired = _keep_kind(repaired, kind)
            geoms[invalid] = repaired
            still = shapely.is_empty(repaired) | ~shapely.is_valid(repaired)
            for row in gdf.index[invalid][still]:
                errors.append((row, "几何无效且无法修复", "invalid geometry that cannot be repaired"))
            fixed = list(gdf.index[invalid][~still])
        else:
            reasons = shapely.is_valid_reason(geoms[invalid])
            for row, why in zip(gdf.index[invalid], reasons, strict=True):
                errors.append(
                    (row, f"几何无效（{why}），可加 --fix 自动修复", f"invalid geometry ({why}); use --fix")
                )
    out = gdf.copy()
    out[gdf.geometry.name] = geoms
    return out, errors, fixed


def _keep_kind(geoms: np.ndarray, kind: str) -> np.ndarray:
    """make_valid may return collections with stray lines or points; keep the parts of the layer's kind."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    want = 3 if kind == "polygon" else 1
    ptypes = shapely.get_type_id(parts)
    keep = (ptypes == want) | (ptypes == want + 3)
    out = np.array([shapely.Polygon() if kind == "polygon" else shapely.LineString()] * len(geoms), dtype=object)
    if keep.any():
        grouped = gpd.GeoSeries(parts[keep]).groupby(index[keep]).agg(lambda s: shapely.union_all(s.values))
        out[grouped.index.to_numpy()] = grouped.to_numpy()
    return out
