"""OGC API – Features Part 2 parameters: ``crs``, ``bbox-crs`` and ``Content-Crs``, with CRS axis order.

Offered CRSs: CRS84 (the default, longitude first), EPSG:4490 (storage), EPSG:4326, and the CGCS2000
Gauss–Krüger zone that holds the data. EPSG:4326 and EPSG:4490 are latitude first and the GK zones northing first,
as their EPSG definitions say; GDAL, QGIS and other Part 2 clients expect exactly that.
"""

from __future__ import annotations

import math
import weakref

import pyproj
from fastapi import HTTPException

from geo.crs import gk_zone_epsg
from geo.model import STORAGE_EPSG
from geo.stores import Store
from geo.stores.base import BBox
from geo.stores.features import OutputCRS, lat_first

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
#: Where the sample data is when a store is empty (a GK zone must still be offered).
_DEFAULT_LON = 117.0
#: Layers whose extent places the data.
_ZONE_LAYERS = ("communities", "streets")
#: The zone of each open store with the change id it was computed at.
_zones: weakref.WeakKeyDictionary[Store, tuple[int, int]] = weakref.WeakKeyDictionary()


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


def resolve(value: str | None, store: Store) -> tuple[str, OutputCRS]:
    """The offered URI and output CRS named by a ``crs``/``bbox-crs``/``Content-Crs`` value (CRS84 when None)."""
    uri = CRS84 if value is None else _match(value, offered_crs(store))
    code = _code(uri)
    crs = pyproj.CRS.from_user_input("OGC:CRS84" if code is None else f"EPSG:{code}")
    return uri, OutputCRS(crs=crs, epsg=code)


def content_crs_header(uri: str) -> str:
    return f"<{uri}>"


def parse_bbox(value: str | None, crs: OutputCRS | None) -> BBox | None:
    """A ``bbox`` query value (4 or 6 numbers in ``crs`` axis order) as an EPSG:4490 lon/lat box."""
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise HTTPException(400, f"bbox 应为 4 个数字 / bbox must be 4 numbers: {value}") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise HTTPException(400, f"bbox 应为 4 个数字 / bbox must be 4 numbers: {value}")
    a, b, c, d = numbers
    if crs is not None and lat_first(crs.crs):
        a, b, c, d = b, a, d, c
    if crs is not None and not crs.crs.is_geographic:
        to_geo = pyproj.Transformer.from_crs(crs.crs, STORAGE_EPSG, always_xy=True)
        a, b, c, d = to_geo.transform_bounds(a, b, c, d, densify_pts=21)
    if a > c or b > d:
        raise HTTPException(400, f"bbox 的最小值大于最大值 / bbox minimum exceeds maximum: {value}")
    return (a, b, c, d)
