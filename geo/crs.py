"""Coordinate reference systems: storage in CGCS2000, metric work in its 3° Gauss–Krüger zone.

Input arrives in whatever the user's tool wrote: EPSG codes, OGC URIs, CGCS2000 Gauss–Krüger zones, or the two
obfuscated web-map systems used in China, GCJ-02 (AMap/Tencent) and BD-09 (Baidu), which have no EPSG code and
which PROJ does not know. Everything is brought to EPSG:4490 for storage (`to_storage`) and taken out again in the
system a consumer asks for (`from_storage`). Every conversion works on all vertices at once (numpy arrays through
``shapely.transform`` or PROJ), never geometry by geometry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.errors import CRSError
from geo.model import STORAGE_EPSG

Special = Literal["gcj02", "bd09"]
FloatArray = NDArray[np.float64]

#: Box (lon_min, lat_min, lon_max, lat_max) that every stored coordinate must fall in: China with a margin.
CHINA_EXTENT = (73.0, 3.0, 136.0, 54.0)

# GCJ-02: Krasovsky 1940 ellipsoid as used by the published obfuscation formula.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# The region where GCJ-02 differs from WGS84 by the usual rule (outside it the two coincide).
_GCJ_LON = (72.004, 137.8347)
_GCJ_LAT = (0.8293, 55.8271)
# BD-09 is a further rotation/scaling of GCJ-02.
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

_INVERSE_TOLERANCE_DEG = 1e-11
_INVERSE_MAX_ITERATIONS = 10
# A "degree" beyond this is certainly a projected coordinate in metres (eastings/northings run to millions).
_DEGREES_TOO_LARGE = 1000.0

_SPECIAL_ALIASES: dict[str, Special] = {
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
}
_NAMED_CRS: dict[str, str] = {
    "wgs84": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
    "crs84": "OGC:CRS84",
    "ogc:crs84": "OGC:CRS84",
}
_EPSG_CODE = re.compile(r"^(?:epsg:+)?(\d{4,6})$")
_EPSG_URI = re.compile(r"^(?:https?://www\.opengis\.net/def/crs/epsg/[^/]+/|urn:ogc:def:crs:epsg:[^:]*:)(\d{4,6})$")
_CRS84_URI = re.compile(r"^(?:https?://www\.opengis\.net/def/crs/ogc/1\.3/|urn:ogc:def:crs:ogc:1\.3:)crs84$")


@dataclass(frozen=True)
class CRSSpec:
    """A parsed coordinate reference system: either a PROJ-known CRS or one of the special Chinese web systems.

    GCJ-02 and BD-09 are deliberately not expressible as PROJ definitions (their offsets are a published but
    non-geodetic formula), so they are carried by name and converted by the functions in this module.
    """

    crs: pyproj.CRS | None = None
    special: Special | None = None

    def __post_init__(self) -> None:
        if (self.crs is None) == (self.special is None):
            raise ValueError("CRSSpec needs exactly one of crs and special")

    @property
    def label(self) -> str:
        """Short name for messages: ``gcj02``, ``bd09`` or ``EPSG:nnnn`` (or PROJ's authority string)."""
        if self.special is not None:
            return self.special
        assert self.crs is not None
        authority = self.crs.to_authority()
        return ":".join(authority) if authority else self.crs.name


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


def parse_crs(value: str | int | pyproj.CRS | None) -> CRSSpec:
    """Read a CRS the way users write it on the command line, in a file or in an OGC API request.

    Accepted (case-insensitive): EPSG codes as ``4490``, ``"4490"`` or ``"EPSG:4490"`` (including every CGCS2000
    Gauss–Krüger zone, EPSG:4491–4554); ``"wgs84"``; ``"cgcs2000"``; ``"CRS84"`` and the OGC URIs
    ``http://www.opengis.net/def/crs/OGC/1.3/CRS84`` and ``http://www.opengis.net/def/crs/EPSG/0/NNNN`` (and their
    ``urn:ogc:def:crs:`` forms); ``"gcj02"`` (AMap/Tencent) and ``"bd09"`` (Baidu); or a ``pyproj.CRS`` already read
    from a file. Free-form PROJ strings are refused on purpose: a typo there silently yields a wrong CRS.

    Raises
    ------
    CRSError
        When the value is missing or names no known CRS; the message quotes the value.
    """
    if value is None:
        raise CRSError(
            "缺少坐标系：数据未声明坐标系，请用 --crs 指定（如 4490、4326、gcj02、bd09）。",
            "Missing CRS: the data declares none; supply one with --crs (e.g. 4490, 4326, gcj02, bd09).",
        )
    if isinstance(value, pyproj.CRS):
        return CRSSpec(crs=value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _unknown_crs(value)
    if isinstance(value, int):
        return CRSSpec(crs=_crs_from_user_input(f"EPSG:{value}", value))
    text = value.strip().lower()
    compact = re.sub(r"[\s_-]", "", text)
    if compact in _SPECIAL_ALIASES:
        return CRSSpec(special=_SPECIAL_ALIASES[compact])
    if compact in _NAMED_CRS:
        return CRSSpec(crs=_crs_from_user_input(_NAMED_CRS[compact], value))
    if _CRS84_URI.match(text):
        return CRSSpec(crs=_crs_from_user_input("OGC:CRS84", value))
    match = _EPSG_CODE.match(compact) or _EPSG_URI.match(text)
    if match:
        return CRSSpec(crs=_crs_from_user_input(f"EPSG:{match.group(1)}", value))
    raise _unknown_crs(value)


def _crs_from_user_input(definition: str, original: object) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(definition)
    except pyproj.exceptions.CRSError as exc:
        raise _unknown_crs(original) from exc


def _unknown_crs(value: object) -> CRSError:
    return CRSError(
        f"无法识别的坐标系：{value!r}。可用 EPSG 代码（如 4490、4326、4549）、wgs84、cgcs2000、CRS84、gcj02、bd09。",
        f"Unknown CRS: {value!r}. Use an EPSG code (e.g. 4490, 4326, 4549), wgs84, cgcs2000, CRS84, gcj02 or bd09.",
    )


# --- GCJ-02 and BD-09 ------------------------------------------------------------------------------------------


def _outside_gcj_region(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    return (lon < _GCJ_LON[0]) | (lon > _GCJ_LON[1]) | (lat < _GCJ_LAT[0]) | (lat > _GCJ_LAT[1])


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The published GCJ-02 offset (degrees) at WGS84 ``lon``/``lat``; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    waves = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + waves
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + waves
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = _outside_gcj_region(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _as_floats(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: FloatArray,
    lat: FloatArray,
    start: tuple[FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(x) == (lon, lat)`` by fixed-point iteration from ``start``.

    The offsets vary by a few metres per kilometre, so each step shrinks the error by about three orders of
    magnitude; three or four steps reach the 1e-11° tolerance (about a micrometre). NaN coordinates are left alone.
    """
    x, y = start
    for _ in range(_INVERSE_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if not (np.any(np.abs(dx) >= _INVERSE_TOLERANCE_DEG) or np.any(np.abs(dy) >= _INVERSE_TOLERANCE_DEG)):
            break
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 → GCJ-02 (the exact published forward formula); points outside China are returned unchanged."""
    lon, lat = _as_floats(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → WGS84 by iterating the forward formula to < 1e-11° (the one-step inverse is off by metres)."""
    lon, lat = _as_floats(lon, lat)
    return _invert(wgs84_to_gcj02, lon, lat, (lon, lat))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → BD-09 (Baidu's published forward formula)."""
    x, y = _as_floats(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 → GCJ-02: the usual closed-form approximation, refined by iterating the forward formula."""
    lon, lat = _as_floats(lon, lat)
    x, y = lon - _BD_DLON, lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return _invert(gcj02_to_bd09, lon, lat, (z * np.cos(theta), z * np.sin(theta)))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 → WGS84, through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 → BD-09, through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


_TO_WGS84: dict[Special, Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]] = {
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS84: dict[Special, Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]] = {
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def _transform_vertices(
    geoms: NDArray[np.object_], convert: Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]
) -> NDArray[np.object_]:
    """Apply a lon/lat → lon/lat function to every vertex of every geometry in one vectorised call."""

    def on_coords(coords: FloatArray) -> FloatArray:
        x, y = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, on_coords)


# --- Plausibility checks ---------------------------------------------------------------------------------------


def _row_labels(gdf: gpd.GeoDataFrame, id_column: str | None) -> NDArray[np.object_]:
    """What a user recognises a row by: its id value, else its 1-based row number."""
    if id_column is not None:
        return gdf[id_column].to_numpy(dtype=object)
    return np.arange(1, len(gdf) + 1).astype(object)


def _inside(minx: FloatArray, miny: FloatArray, maxx: FloatArray, maxy: FloatArray) -> NDArray[np.bool_]:
    lon_min, lat_min, lon_max, lat_max = CHINA_EXTENT
    return (minx >= lon_min) & (maxx <= lon_max) & (miny >= lat_min) & (maxy <= lat_max)


def _gk_zone_hint(x: float) -> str:
    """Suggest the zone when an easting carries a Gauss–Krüger zone-number prefix (e.g. 40 500 000 → zone 40).

    Without a prefix the zone cannot be told from the numbers, so the range of 3° zones is named instead.
    """
    zone = int(x // 1_000_000)
    if 25 <= zone <= 45:
        return f"EPSG:{4513 + zone - 25}"
    if 13 <= zone <= 23:
        return f"EPSG:{4491 + zone - 13}"
    return "EPSG:4534–4554"


def _check_extent(
    geoms: NDArray[np.object_], labels: NDArray[np.object_], *, projected_from: CRSSpec | None = None
) -> None:
    """Raise `CRSError` naming the rows whose coordinates (in degrees) are not in China, and why.

    ``projected_from`` names the projected CRS the degrees were computed from: then the declared CRS itself is
    the suspect (wrong zone, zone prefix, axis order), not the degrees.
    """
    bounds = shapely.bounds(geoms)
    minx, miny, maxx, maxy = bounds.T
    known = ~np.isnan(bounds).any(axis=1)
    bad = known & ~_inside(minx, miny, maxx, maxy)
    if not bad.any():
        return
    if projected_from is not None:
        label = projected_from.label
        raise CRSError(
            f"按坐标系 {label} 换算后坐标不在中国范围内；请检查 --crs（分带、中央经线、是否带带号）及 X/Y 是否颠倒。",
            f"Converted from {label}, the coordinates fall outside China; check --crs (zone, central meridian, "
            "zone-number prefix) and whether X/Y are swapped.",
            rows=list(labels[bad]),
        )
    swapped = bad & _inside(miny, minx, maxy, maxx)
    metres = bad & ~swapped & (np.abs(bounds) > _DEGREES_TOO_LARGE).any(axis=1)
    elsewhere = bad & ~swapped & ~metres
    lon_min, lat_min, lon_max, lat_max = CHINA_EXTENT
    if swapped.any():
        zh = "坐标不在中国范围内：经纬度顺序颠倒（先纬度后经度），请交换 X/Y 后重新导入。"
        en = "Coordinates are outside China: longitude and latitude look swapped (lat, lon); swap X/Y and re-import."
        primary = swapped
    elif metres.any():
        hint = _gk_zone_hint(float(np.abs(minx[metres][0])))
        zh = (
            "坐标值过大，像是以米为单位的投影坐标却被当作经纬度（度）；"
            f"请用 --crs 指定实际坐标系（如高斯–克吕格分带 {hint}）。"
        )
        en = (
            "Coordinates are far too large for degrees: they look like projected metres labelled as longitude/"
            f"latitude; supply the real CRS with --crs (e.g. a Gauss–Krüger zone: {hint})."
        )
        primary = metres
    else:
        zh = f"坐标不在中国范围内（经度 {lon_min:g}–{lon_max:g}°，纬度 {lat_min:g}–{lat_max:g}°），请检查坐标系。"
        en = (
            f"Coordinates are outside China (longitude {lon_min:g}–{lon_max:g}°, latitude {lat_min:g}–{lat_max:g}°);"
            " check the CRS."
        )
        primary = elsewhere
    others = int((bad & ~primary).sum())
    if others:
        zh += f"另有 {others} 行坐标也不在中国范围内。"
        en += f" {others} more rows are outside China too."
    raise CRSError(zh, en, rows=list(labels[primary]))


def _check_not_degrees(geoms: NDArray[np.object_], labels: NDArray[np.object_], spec: CRSSpec) -> None:
    """Raise when a projected (metre) CRS is declared but the coordinates are small enough to be degrees."""
    bounds = shapely.bounds(geoms)
    known = ~np.isnan(bounds).any(axis=1)
    degrees = (
        known & (np.abs(bounds[:, [0, 2]]) <= 180.0).all(axis=1) & (np.abs(bounds[:, [1, 3]]) <= 90.0).all(axis=1)
    )
    if degrees.any():
        raise CRSError(
            f"坐标系 {spec.label} 以米为单位，但坐标看起来是经纬度（度）；请用 --crs 4490 或 --crs 4326 指定。",
            f"CRS {spec.label} is in metres but the coordinates look like degrees; supply --crs 4490 or --crs 4326.",
            rows=list(labels[degrees]),
        )


def check_in_china(gdf: gpd.GeoDataFrame, *, id_column: str | None = None) -> None:
    """Refuse data that does not lie in China, saying what probably went wrong.

    Planning data for this service is always Chinese, so a coordinate outside the box `CHINA_EXTENT` is a CRS
    mistake, and the likely mistake is told apart: longitude and latitude swapped, projected metres declared as
    degrees, or simply the wrong place. Empty or missing geometries are not judged here.

    Parameters
    ----------
    gdf
        Frame in a geographic CRS (degrees), normally EPSG:4490.
    id_column
        Column whose values name the rows in the message; without it rows are numbered from 1.

    Raises
    ------
    CRSError
        Naming the offending rows; the message says 经纬度顺序颠倒 when swapping the axes would fix them.
    """
    _check_extent(np.asarray(gdf.geometry.array), _row_labels(gdf, id_column))


# --- Frames in and out of storage ------------------------------------------------------------------------------


def to_storage(
    gdf: gpd.GeoDataFrame, *, crs: str | int | None = None, id_column: str | None = None
) -> gpd.GeoDataFrame:
    """Bring an imported layer into the storage CRS (EPSG:4490, CGCS2000), 2D, checked to lie in China.

    ``crs`` overrides or supplies the CRS the coordinates are in (a file's own declaration is often missing or
    wrong). GCJ-02 and BD-09 input is converted vertex by vertex to WGS84 and then labelled CGCS2000: WGS84 and
    CGCS2000 agree to a few centimetres today (both are ITRF-aligned; PROJ itself uses a null "ballpark"
    transformation between them), far below the metre-level accuracy of any planning polygon. Z values carry no
    meaning for this service and are dropped.

    Parameters
    ----------
    gdf
        Layer as read from the user's file; not modified.
    crs
        CRS of the coordinates, in any form `parse_crs` accepts; ``None`` means the frame's own CRS.
    id_column
        Column whose values name rows in error messages; without it rows are numbered from 1.

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows and columns, geometries 2D in EPSG:4490.

    Raises
    ------
    CRSError
        No CRS at all, an unknown one, or coordinates that cannot be right for it (outside China, axes swapped,
        metres declared as degrees or the reverse), naming the rows concerned.
    """
    spec = parse_crs(crs if crs is not None else gdf.crs)
    labels = _row_labels(gdf, id_column)
    geoms = shapely.force_2d(np.asarray(gdf.geometry.array))
    if spec.special is not None:
        _check_extent(geoms, labels)
        geoms = _transform_vertices(geoms, _TO_WGS84[spec.special])
        source: pyproj.CRS = pyproj.CRS.from_epsg(4326)
    else:
        assert spec.crs is not None
        source = spec.crs
        if source.is_geographic:
            _check_extent(geoms, labels)
        else:
            _check_not_degrees(geoms, labels, spec)
    stored = gpd.GeoSeries(geoms, index=gdf.index, crs=source).to_crs(STORAGE_EPSG)
    if not source.is_geographic:
        _check_extent(np.asarray(stored.array), labels, projected_from=spec)
    return gdf.set_geometry(stored)


def from_storage(gdf: gpd.GeoDataFrame, *, crs: str | int) -> gpd.GeoDataFrame:
    """Give stored data out in the CRS a consumer asks for.

    Typical targets: ``"CRS84"``/EPSG:4326 for GeoJSON and web maps, EPSG:4490, the data's Gauss–Krüger zone for
    CAD/survey tools, ``"gcj02"`` to overlay on AMap/Tencent tiles or ``"bd09"`` on Baidu tiles. GCJ-02 and BD-09
    have no EPSG code, so a frame returned in them carries no CRS: its numbers are longitude/latitude in that
    system and must not be reprojected further. A frame without a CRS is taken to be in storage CRS (EPSG:4490).

    Parameters
    ----------
    gdf
        Stored layer (EPSG:4490); not modified.
    crs
        Target CRS in any form `parse_crs` accepts.
    """
    spec = parse_crs(crs)
    source = gdf if gdf.crs is not None else gdf.set_crs(STORAGE_EPSG)
    if spec.special is None:
        return source.to_crs(spec.crs)
    wgs = source.to_crs(4326)
    shifted = _transform_vertices(np.asarray(wgs.geometry.array), _FROM_WGS84[spec.special])
    return wgs.set_geometry(gpd.GeoSeries(shifted, index=wgs.index)).set_crs(None, allow_override=True)


# --- Measurements ----------------------------------------------------------------------------------------------


def _in_metric_crs(geoms: gpd.GeoSeries | gpd.GeoDataFrame) -> gpd.GeoSeries:
    if geoms.crs is None:
        raise CRSError(
            "无法计算面积/长度：数据缺少坐标系。",
            "Cannot measure area/length: the data has no CRS.",
        )
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    return series.to_crs(metric_crs(series))


def area_m2(geoms: gpd.GeoSeries | gpd.GeoDataFrame) -> pd.Series:
    """Area of each geometry in square metres, computed in the data's CGCS2000 3° Gauss–Krüger zone."""
    return _in_metric_crs(geoms).area


def length_m(geoms: gpd.GeoSeries | gpd.GeoDataFrame) -> pd.Series:
    """Length (perimeter, for polygons) of each geometry in metres, in the data's CGCS2000 3° GK zone."""
    return _in_metric_crs(geoms).length
