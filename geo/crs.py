"""Coordinate reference systems: storage in CGCS2000, metric work in its 3° Gauss–Krüger zone."""

from __future__ import annotations

import geopandas as gpd
import pyproj

from geo.model import STORAGE_EPSG


def gk_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss–Krüger zone (central meridian 75°E–135°E) that holds ``lon``."""
    cm = int(round(lon / 3.0)) * 3
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3


def metric_crs(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> pyproj.CRS:
    """The GK zone picked from the data's centroid (of its bounds, in storage coordinates)."""
    geo = gdf.to_crs(STORAGE_EPSG) if gdf.crs is not None and gdf.crs.to_epsg() != STORAGE_EPSG else gdf
    minx, _miny, maxx, _maxy = geo.total_bounds
    return pyproj.CRS.from_epsg(gk_zone_epsg((minx + maxx) / 2.0))
