"""OGC API – Features Part 2 parameters: ``crs``, ``bbox-crs`` and ``Content-Crs``, with CRS axis order.

Offered CRSs: CRS84 (the default, longitude first), EPSG:4490 (storage), EPSG:4326, and the CGCS2000
Gauss–Krüger zone that holds the data. EPSG:4326 and EPSG:4490 are latitude first and the GK zones northing first,
as their EPSG definitions say; GDAL, QGIS and other Part 2 clients expect exactly that.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np
import pyproj
import shapely
from fastapi import HTTPException

from geo.crs import gk_zone_epsg
from geo.model import STORAGE_EPSG
from geo.stores import Store
from geo.stores.features import OutputCRS, lat_first

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
#: Where the sample data is when a store is empty (a GK zone must still be offered).
_DEFAULT_LON = 117.0
#: Layers whose extent places the data.
_ZONE_LAYERS = ("communities", "streets")
#: The zone of each open store with the change id it was computed at.
_zones: weakref.WeakKeyDictionary[Store, tuple[int, int]] = weakref.WeakKeyDictionary()
#: Densify a projected area's edges to this length (metres) before bringing it to degrees.
_DENSIFY_M = 50.0


def data_zone(store: Store) -> int:
    """EPSG code of the GK zone of the communities (or streets) held; the central one when the store is empty.

    Remembered per store until the communities or streets change (the store's change counter, one index lookup),
    so every items request can name its CRS list without measuring the layers, and a store that was empty and is
    then filled offers its data's zone at once.
    """
    stamp = store.change_stamp(_ZONE_LAYERS)
    hit = _zones.get(store)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    zone = gk_zone_epsg(_DEFAULT_LON)
    for layer in _ZONE_LAYERS:
        extent = store.extent(layer)
        if extent is not None:
            zone = gk_zone_epsg((extent[0] + extent[2]) / 2.0)
            break
    _zones[store] = (stamp, zone)
    return zone


def offered_crs(store: Store) -> list[str]:
    """CRS URIs every collection offers, the default first."""
    return [CRS84, *(EPSG_URI.format(code=c) for c in (STORAGE_EPSG, 4326, data_zone(store)))]


def _code(uri: str) -> int | None:
    """EPSG code of an offered URI, None for CRS84."""
    return None if uri == CRS84 else int(uri.rsplit("/", 1)[1])


def _match(value: str, offered: list[str]) -> str:
    text = value.strip().strip("<>").strip()
    for uri in offered:
        code = _code(uri)
        aliases = {uri.lower()}
        if code is None:
            aliases |= {"crs84", "ogc:crs84", "urn:ogc:def:crs:ogc:1.3:crs84"}
        else:
            aliases |= {f"epsg:{code}", str(code), f"urn:ogc:def:crs:epsg::{code}"}
        if text.lower() in aliases:
            return uri
    raise HTTPException(
        400,
        f"不支持的坐标系：{value}（可用：{', '.join(offered)}） / unsupported CRS: {value} (use one of {offered})",
    )


def resolve(value: str | None, store: Store | None) -> tuple[str, OutputCRS]:
    """The offered URI and output CRS named by a ``crs``/``bbox-crs``/``Content-Crs`` value (CRS84 when None)."""
    uri = CRS84 if value is None or store is None else _match(value, offered_crs(store))
    code = _code(uri)
    crs = pyproj.CRS.from_user_input("OGC:CRS84" if code is None else f"EPSG:{code}")
    return uri, OutputCRS(crs=crs, epsg=code)


def content_crs_header(uri: str) -> str:
    return f"<{uri}>"


def to_storage(geom: Any, crs: OutputCRS) -> Any:
    """A geometry given in ``crs`` (its own axis order) in storage coordinates: EPSG:4490, longitude first.

    A projected geometry is densified before it is transformed, so a straight edge in the GK zone stays the same
    line on the ground (a box in metres is not a box in degrees).
    """
    if lat_first(crs.crs):
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    if crs.crs.is_geographic:
        return geom
    to_geo = pyproj.Transformer.from_crs(crs.crs, STORAGE_EPSG, always_xy=True)
    dense = shapely.segmentize(geom, max_segment_length=_DENSIFY_M)
    return shapely.transform(dense, lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1])))


def parse_bbox(value: str | None, crs: OutputCRS | None) -> Any:
    """A ``bbox`` query value (4 or 6 numbers in ``crs`` axis order) as the EPSG:4490 area features must meet.

    In a geographic CRS the area is the box itself (latitudes within ±90°, longitudes within ±180°); in a projected
    one (the GK zone) it is the box's exact outline transformed to storage, so features just outside the metric box
    are not returned because they meet its degree bounds.
    """
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise HTTPException(400, f"bbox 应为 4 个数字 / bbox must be 4 numbers: {value[:80]}") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise HTTPException(400, f"bbox 应为 4 个数字 / bbox must be 4 numbers: {value[:80]}")
    crs = crs or resolve(None, None)[1]
    a, b, c, d = numbers
    if a > c or b > d:
        raise HTTPException(400, f"bbox 的最小值大于最大值 / bbox minimum exceeds maximum: {value[:80]}")
    if crs.crs.is_geographic:
        lats, lons = ((a, c), (b, d)) if lat_first(crs.crs) else ((b, d), (a, c))
        if any(abs(v) > 90 for v in lats) or any(abs(v) > 180 for v in lons):
            raise HTTPException(
                400,
                f"bbox 超出经纬度范围（纬度 ±90°，经度 ±180°） / bbox outside latitude ±90° or longitude ±180°: "
                f"{value[:80]}",
            )
    return to_storage(shapely.box(a, b, c, d), crs)
