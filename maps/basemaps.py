"""Basemaps: none (default, works offline), OpenStreetMap, Tianditu (天地图, key from ``TIANDITU_KEY``), AMap (高德).

Each basemap says which coordinate system the overlay must be drawn in: Tianditu and OSM tiles are in
CGCS2000/WGS84 (the same to a few centimetres), AMap tiles are in GCJ-02, so on AMap the geometries are shifted
with :func:`geo.crs.from_storage` before they are encoded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from geo.crs import from_storage
from geo.errors import DataError

BASEMAPS = ("none", "osm", "tianditu", "amap")


@dataclass(frozen=True)
class Basemap:
    """A basemap: its tile layers (Leaflet ``L.tileLayer`` options) and the CRS overlays are drawn in."""

    name: str
    display_crs: str
    tiles: list[dict[str, Any]] = field(default_factory=list)

    def to_display(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Stored (EPSG:4490) frame in the coordinates this basemap's tiles use."""
        return from_storage(gdf, crs=self.display_crs)


def _tianditu(layer: str, key: str) -> dict[str, Any]:
    return {
        "url": f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}"
        f"&tk={key}",
        "subdomains": "01234567",
        "maxZoom": 18,
        "attribution": "© 天地图 Tianditu",
    }


def basemap(name: str) -> Basemap:
    """The basemap called ``name`` (one of :data:`BASEMAPS`).

    Raises
    ------
    DataError
        Unknown name, or ``tianditu`` without the ``TIANDITU_KEY`` environment variable.
    """
    if name == "none":
        return Basemap("none", "CRS84")
    if name == "osm":
        tile = {
            "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "maxZoom": 19,
            "attribution": "© OpenStreetMap contributors",
        }
        return Basemap("osm", "CRS84", [tile])
    if name == "tianditu":
        key = os.environ.get("TIANDITU_KEY", "").strip()
        if not key:
            raise DataError(
                "使用天地图底图需要设置环境变量 TIANDITU_KEY（天地图开发者密钥）",
                "the tianditu basemap needs the TIANDITU_KEY environment variable (a Tianditu developer key)",
            )
        return Basemap("tianditu", "CRS84", [_tianditu("vec", key), _tianditu("cva", key)])
    if name == "amap":
        tile = {
            "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            "subdomains": "1234",
            "maxZoom": 18,
            "attribution": "© 高德地图 AMap",
        }
        return Basemap("amap", "gcj02", [tile])
    raise DataError(
        f"未知底图“{name}”（可用：{'、'.join(BASEMAPS)}）",
        f"unknown basemap {name!r} (use one of {', '.join(BASEMAPS)})",
    )
