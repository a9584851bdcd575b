"""OGC API – Features, Part 1 (Core, GeoJSON) and Part 2 (CRS): landing page, conformance, collections, items.

Items are streamed: each feature arrives from the store as GeoJSON text (built in SQL on PostGIS) and is written
out between the collection's header and footer without being parsed again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from api.crs_params import CRS84, EPSG_URI, content_crs_header, offered_crs, parse_bbox, resolve
from api.deps import SettingsDep, StoreDep, Viewer, query_number
from geo.io.normalise import FALSE_WORDS, INT_LIMIT, TRUE_WORDS
from geo.model import LAYERS, STORAGE_EPSG
from geo.settings import APISettings, policy_settings
from geo.space.units import UNIT_COLUMNS
from geo.stores.features import (
    FeatureQuery,
    OutputCRS,
    feature_page,
    feature_texts,
    property_columns,
)

router = APIRouter(tags=["OGC API – Features"])

GEOJSON = "application/geo+json"
#: Collections backed by a store layer (roads too: GIS users want the barriers for merging).
LAYER_COLLECTIONS = ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads")
UNITS = "units"
#: Properties of a merged unit as served (its outline is the geometry).
UNIT_PROPERTIES = tuple(c for c in UNIT_COLUMNS if c != "geometry")
#: Query parameters of the standard (and ours) that are never property filters.
RESERVED = {
    "f",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "lang",
    "profile",
    "properties",
    "filter",
    "filter-lang",
    "filter-crs",
    "skipGeometry",
    "sortby",
    "token",
}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
]
_TITLES_EN = {
    "streets": "Streets",
    "neighbourhoods": "Neighbourhoods",
    "communities": "Residential communities",
    "buildings": "Buildings",
    "zones": "Zones",
    "roads": "Roads",
    UNITS: "Merged renewal units",
}


def _link(request: Request, path: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": str(request.base_url).rstrip("/") + path, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


@router.get("/", summary="Landing page")
def landing(request: Request, user: Viewer) -> dict[str, Any]:
    return {
        "title": "城镇老旧小区改造 / Old residential community renewal",
        "description": "OGC API – Features of streets, communities, buildings, zones and merged units.",
        "links": [
            _link(request, "/", "self", "application/json"),
            _link(request, "/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0"),
            _link(request, "/docs", "service-doc", "text/html"),
            _link(request, "/conformance", "conformance", "application/json"),
            _link(request, "/collections", "data", "application/json"),
        ],
    }


@router.get("/conformance", summary="Conformance classes")
def conformance(user: Viewer) -> dict[str, list[str]]:
    return {"conformsTo": CONFORMANCE}


def _collection(request: Request, cid: str, extent: tuple[float, ...] | None, crs: list[str]) -> dict[str, Any]:
    zh = LAYERS[cid].zh if cid in LAYERS else "连片改造单元"
    doc: dict[str, Any] = {
        "id": cid,
        "title": f"{zh} / {_TITLES_EN[cid]}",
        "itemType": "feature",
        "crs": crs,
        "storageCrs": EPSG_URI.format(code=STORAGE_EPSG),
        "links": [
            _link(request, f"/collections/{cid}", "self", "application/json"),
            _link(request, f"/collections/{cid}/items", "items", GEOJSON),
        ],
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return doc


def _units(request: Request, profile: str | None) -> pd.DataFrame:
    cache = request.app.state.analysis
    return cache.get(profile=profile or policy_settings().profile).units


def _check_collection(cid: str) -> None:
    if cid not in LAYER_COLLECTIONS and cid != UNITS:
        raise HTTPException(404, f"没有这个集合 / no such collection: {cid}")


@router.get("/collections", summary="Collections")
def collections(request: Request, store: StoreDep, user: Viewer) -> dict[str, Any]:
    crs = offered_crs(store)
    docs = [_collection(request, cid, store.extent(cid), crs) for cid in LAYER_COLLECTIONS]
    docs.append(_collection(request, UNITS, store.extent("communities"), crs))
    return {"links": [_link(request, "/collections", "self", "application/json")], "collections": docs}


@router.get("/collections/{cid}", summary="One collection")
def collection(cid: str, request: Request, store: StoreDep, user: Viewer) -> dict[str, Any]:
    _check_collection(cid)
    layer = cid if cid != UNITS else "communities"
    return _collection(request, cid, store.extent(layer), offered_crs(store))


def _filters(request: Request, cid: str) -> dict[str, Any]:
    """Property filters from query parameters, typed like their columns."""
    allowed = property_columns(cid) if cid != UNITS else list(UNIT_PROPERTIES)
    kinds = {c.name: c.type for c in LAYERS[cid].columns} if cid in LAYERS else {}
    kinds |= {"version": "int", "retired": "bool", "n_members": "int", "viable": "bool"}
    out: dict[str, Any] = {}
    for key, raw in request.query_params.items():
        if key in RESERVED:
            continue
        if key not in allowed:
            raise HTTPException(400, f"未知查询参数 / unknown query parameter: {key}")
        out[key] = _typed(key, raw, kinds.get(key, "text"))
    return out


def _typed(key: str, raw: str, kind: str) -> Any:
    if kind in ("int", "float"):
        return query_number(key, raw, kind)  # type: ignore[arg-type]
    if kind == "bool":
        word = raw.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise HTTPException(400, f"{key} 应为 true/false / {key} must be true or false: {raw}")
    return raw


def _page(request: Request, settings: APISettings) -> tuple[int, int]:
    try:
        limit = int(request.query_params.get("limit", settings.default_limit))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        raise HTTPException(400, "limit/offset 应为整数 / limit and offset must be integers") from None
    if limit < 1 or not 0 <= offset < INT_LIMIT:
        raise HTTPException(400, "limit ≥ 1，0 ≤ offset < 2^63 / limit must be ≥ 1 and offset in 0 … 2^63 - 1")
    return min(limit, settings.max_features_per_page), offset


def _page_links(request: Request, *, limit: int, offset: int, matched: int) -> list[dict[str, str]]:
    def href(new_offset: int) -> str:
        return str(request.url.include_query_params(limit=limit, offset=new_offset))

    links = [{"href": str(request.url), "rel": "self", "type": GEOJSON}]
    if offset + limit < matched:
        links.append({"href": href(offset + limit), "rel": "next", "type": GEOJSON})
    if offset > 0:
        links.append({"href": href(max(0, offset - limit)), "rel": "prev", "type": GEOJSON})
    return links


@router.get("/collections/{cid}/items", summary="Features of a collection", response_class=Response)
def items(
    cid: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    user: Viewer,
) -> Response:
    _check_collection(cid)
    uri, out = resolve(request.query_params.get("crs"), store)
    bbox_crs = request.query_params.get("bbox-crs")
    bbox = parse_bbox(request.query_params.get("bbox"), resolve(bbox_crs, store)[1] if bbox_crs else None)
    filters = _filters(request, cid)
    limit, offset = _page(request, settings)
    if cid == UNITS:
        frame = _select_units(_units(request, request.query_params.get("profile")), bbox=bbox, filters=filters)
        matched = len(frame)
        features = b",".join(_unit_texts(frame.iloc[offset : offset + limit], out))
    else:
        query = FeatureQuery(cid, bbox=bbox, filters=filters, limit=limit, offset=offset)
        matched, features = feature_page(store, query, out=out)
    head = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": max(0, min(limit, matched - offset)),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": _page_links(request, limit=limit, offset=offset, matched=matched),
    }
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    body = text[:-1].encode() + b',"features":[' + features + b"]}"
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": content_crs_header(uri)})


@router.get("/collections/{cid}/items/{fid}", summary="One feature", response_class=Response)
def item(cid: str, fid: str, request: Request, store: StoreDep, user: Viewer) -> Response:
    _check_collection(cid)
    uri, out = resolve(request.query_params.get("crs"), store)
    headers = {"Content-Crs": content_crs_header(uri)}
    if cid == UNITS:
        frame = _units(request, request.query_params.get("profile"))
        frame = frame[frame["unit_id"] == fid]
        if frame.empty:
            raise HTTPException(404, f"没有这个单元 / no such unit: {fid}")
        return Response(next(_unit_texts(frame, out)), media_type=GEOJSON, headers=headers)
    number = _fid(fid)
    texts = list(feature_texts(store, FeatureQuery(cid, fid=number, include_retired=True), out=out))
    if not texts:
        raise HTTPException(404, f"没有这个要素 / no such feature: {cid}/{fid}")
    table = store.tables[cid]
    with store.engine.connect() as conn:
        version = conn.execute(select(table.c.version).where(table.c.fid == number)).scalar_one()
    headers["ETag"] = f'"{version}"'
    return Response(texts[0], media_type=GEOJSON, headers=headers)


def _fid(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise HTTPException(404, f"要素编号应为整数 / feature ids are integers: {value}") from None
    if not 1 <= number < 2**63:
        raise HTTPException(404, f"没有这个要素 / no such feature: {value}")
    return number


# -- merged units (derived, read-only) -------------------------------------------------------------------------------


def _select_units(frame: pd.DataFrame, *, bbox: Any, filters: dict[str, Any]) -> pd.DataFrame:
    keep = np.ones(len(frame), dtype=bool)
    if bbox is not None:
        keep &= shapely.intersects(np.asarray(frame.geometry.array), shapely.box(*bbox))
    for key, value in filters.items():
        keep &= (frame[key] == value).fillna(False).to_numpy(dtype=bool)
    return frame[keep]


def _unit_texts(frame: pd.DataFrame, out: OutputCRS) -> Iterator[bytes]:
    if frame.empty:
        return
    series = frame.geometry if out.geographic else frame.geometry.to_crs(out.crs)
    geoms = np.asarray(series.array)
    if out.swap:
        geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
    table = frame[list(UNIT_PROPERTIES)].astype(object)
    records = json.loads(table.to_json(orient="records", force_ascii=False))
    for rec, geometry in zip(records, shapely.to_geojson(geoms), strict=True):
        props = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
        yield (
            f'{{"type":"Feature","id":{json.dumps(rec["unit_id"], ensure_ascii=False)},'
            f'"geometry":{geometry},"properties":{props}}}'
        ).encode()
