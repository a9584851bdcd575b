"""OGC API – Features: Part 1 (Core, GeoJSON, HTML), Part 2 (CRS) and Part 3 (queryables, CQL2 filters).

Items are built where it is cheapest: each page is selected, ordered, counted and cut in SQL on both stores, and
its features arrive as GeoJSON text (built in SQL on PostGIS) that is written out between the collection's header
and footer without being parsed again.

The merged units (拆墙连片) depend on a policy profile, which GIS clients cannot pass: ``units`` is the units of
the configured profile (``RENEWAL_PROFILE``) and ``units-<profile>`` those of each other profile, each saying which
profile it is in its description.
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
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from api import html_pages
from api.crs_params import CRS84, EPSG_URI, content_crs_header, offered_crs, resolve
from api.deps import SettingsDep, StoreDep, Viewer
from api.items_params import ItemsParams, bad, items_params, output_format
from api.units_filter import UNIT_KINDS, select_units
from geo.model import LAYERS, STORAGE_EPSG
from geo.policy.profiles import list_profiles
from geo.settings import policy_settings
from geo.space.units import UNIT_COLUMNS
from geo.stores import Store
from geo.stores.cql2 import FilterError, queryables, to_sql
from geo.stores.features import (
    FeatureQuery,
    OutputCRS,
    feature_page,
    feature_texts,
    layer_time_range,
)

router = APIRouter(tags=["OGC API – Features"])

GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
#: Collections backed by a store layer (roads too: GIS users want the barriers for merging).
LAYER_COLLECTIONS = ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads")
UNITS = "units"
#: Properties of a merged unit as served (its outline is the geometry).
UNIT_PROPERTIES = tuple(c for c in UNIT_COLUMNS if c != "geometry")
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
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


def unit_collections() -> dict[str, str]:
    """Unit collection ids and their profile: ``units`` for the configured one, ``units-<id>`` for the others."""
    configured = policy_settings().profile
    return {UNITS: configured, **{f"{UNITS}-{p}": p for p in list_profiles() if p != configured}}


def collection_ids() -> list[str]:
    return [*LAYER_COLLECTIONS, *unit_collections()]


def kinds_of(cid: str) -> dict[str, str]:
    """Queryable properties of a collection and their JSON types (filters, sortby, properties)."""
    return dict(UNIT_KINDS) if cid in unit_collections() else queryables(cid)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(request: Request, path: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": _base(request) + path, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _answer(request: Request, doc: dict[str, Any], render: Any) -> Response:
    """JSON, or the HTML page ``render(doc)`` when asked for with ``f=html`` (or by a browser)."""
    if output_format(request) == "html":
        return HTMLResponse(render(doc))
    return JSONResponse(doc)


def _check_only(request: Request, *allowed: str) -> None:
    """Refuse parameters a resource does not take (a 400 naming them, never silently ignored)."""
    unknown = [k for k in request.query_params if k not in ("f", "lang", *allowed)]
    if unknown:
        raise bad(f"未知查询参数：{'、'.join(unknown)[:80]}", f"unknown query parameter: {', '.join(unknown)[:80]}")


@router.get("/", summary="Landing page")
def landing(request: Request, user: Viewer) -> Response:
    _check_only(request)
    doc = {
        "title": "城镇老旧小区改造 / Old residential community renewal",
        "description": "OGC API – Features of streets, communities, buildings, zones and merged units.",
        "links": [
            _link(request, "/", "self", "application/json"),
            _link(request, "/?f=html", "alternate", "text/html"),
            _link(request, "/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0"),
            _link(request, "/docs", "service-doc", "text/html"),
            _link(request, "/conformance", "conformance", "application/json"),
            _link(request, "/collections", "data", "application/json"),
        ],
    }
    return _answer(request, doc, html_pages.landing)


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, user: Viewer) -> Response:
    _check_only(request)
    return _answer(request, {"conformsTo": CONFORMANCE}, html_pages.conformance)


def check_collection(cid: str) -> None:
    if cid not in LAYER_COLLECTIONS and cid not in unit_collections():
        raise HTTPException(404, f"没有这个集合 / no such collection: {cid}")


def _extent(store: Store, cid: str) -> dict[str, Any]:
    layer = cid if cid in LAYER_COLLECTIONS else "communities"
    extent: dict[str, Any] = {}
    bounds = store.extent(layer)
    if bounds is not None:
        extent["spatial"] = {"bbox": [list(bounds)], "crs": CRS84}
    if cid in LAYER_COLLECTIONS:
        low, high = layer_time_range(store, cid)
        interval = [None if t is None else t.isoformat().replace("+00:00", "Z") for t in (low, high)]
        extent["temporal"] = {"interval": [interval], "trs": TRS}
    return extent


def _description(cid: str) -> str:
    if cid in LAYER_COLLECTIONS:
        return (
            f"{LAYERS[cid].zh}。时间范围与 datetime 参数指要素最后一次修改的时间（UTC）。 / "
            f"{_TITLES_EN[cid]}. The temporal extent and the datetime parameter refer to each feature's last change."
        )
    profile = unit_collections()[cid]
    return (
        f"按政策配置 {profile} 合并的连片改造单元（由小区计算得出，只读；无时间属性，不支持 datetime）。 / "
        f"Merged renewal units under policy profile {profile} (derived from the communities, read-only; "
        "no temporal property, so no temporal extent and no datetime parameter)."
    )


def _collection(request: Request, store: Store, cid: str, crs: list[str]) -> dict[str, Any]:
    zh = LAYERS[cid].zh if cid in LAYERS else "连片改造单元"
    en = _TITLES_EN.get(cid, _TITLES_EN[UNITS])
    title = f"{zh} / {en}" if cid in LAYERS or cid == UNITS else f"{zh}（{unit_collections()[cid]}） / {en}"
    path = f"/collections/{cid}"
    return {
        "id": cid,
        "title": title,
        "description": _description(cid),
        "itemType": "feature",
        "crs": crs,
        "storageCrs": EPSG_URI.format(code=STORAGE_EPSG),
        "extent": _extent(store, cid),
        "links": [
            _link(request, path, "self", "application/json"),
            _link(request, path + "?f=html", "alternate", "text/html"),
            _link(request, path + "/items", "items", GEOJSON),
            _link(request, path + "/items?f=html", "items", "text/html"),
            _link(request, path + "/queryables", QUERYABLES_REL, SCHEMA_JSON),
        ],
    }


@router.get("/collections", summary="Collections")
def collections(request: Request, store: StoreDep, user: Viewer) -> Response:
    _check_only(request)
    crs = offered_crs(store)
    doc = {
        "links": [
            _link(request, "/collections", "self", "application/json"),
            _link(request, "/collections?f=html", "alternate", "text/html"),
        ],
        "collections": [_collection(request, store, cid, crs) for cid in collection_ids()],
    }
    return _answer(request, doc, html_pages.collections)


@router.get("/collections/{cid}", summary="One collection")
def collection(cid: str, request: Request, store: StoreDep, user: Viewer) -> Response:
    check_collection(cid)
    _check_only(request)
    return _answer(request, _collection(request, store, cid, offered_crs(store)), html_pages.collection)


@router.get("/collections/{cid}/queryables", summary="Queryable properties of a collection (JSON Schema)")
def collection_queryables(cid: str, request: Request, user: Viewer) -> Response:
    check_collection(cid)
    _check_only(request)
    fmt = "geometry-multipolygon" if cid in unit_collections() else "geometry-any"
    props: dict[str, Any] = {"geometry": {"title": "geometry", "format": fmt}}
    for name, kind in kinds_of(cid).items():
        zh = LAYERS[cid].column(name).zh if cid in LAYERS and name in LAYERS[cid].column_names else name
        props[name] = {"title": zh, "type": kind}
    doc = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{_base(request)}/collections/{cid}/queryables",
        "type": "object",
        "title": cid,
        "properties": props,
        "additionalProperties": False,
    }
    if output_format(request) == "html":
        return HTMLResponse(html_pages.queryables(doc))
    return JSONResponse(doc, media_type=SCHEMA_JSON)


def _page_links(request: Request, *, limit: int, offset: int, matched: int, cid: str) -> list[dict[str, str]]:
    def href(new_offset: int) -> str:
        return str(request.url.include_query_params(limit=limit, offset=new_offset))

    links = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON},
        _link(request, f"/collections/{cid}", "collection", "application/json"),
    ]
    if offset + limit < matched:
        links.append({"href": href(offset + limit), "rel": "next", "type": GEOJSON})
    if offset > 0:
        links.append({"href": href(max(0, offset - limit)), "rel": "prev", "type": GEOJSON})
    return links


def _units(request: Request, cid: str) -> pd.DataFrame:
    profile = unit_collections()[cid]
    chosen = request.query_params.get("profile")
    if chosen is not None:
        if chosen not in list_profiles():
            raise HTTPException(
                404, f"没有策略配置 {chosen[:40]}（可用：{'、'.join(list_profiles())}） / no profile {chosen[:40]}"
            )
        profile = chosen
    return request.app.state.analysis.get(profile=profile).units


@router.get("/collections/{cid}/items", summary="Features of a collection", response_class=Response)
def items(cid: str, request: Request, store: StoreDep, settings: SettingsDep, user: Viewer) -> Response:
    check_collection(cid)
    params = items_params(request, store, settings, kinds=kinds_of(cid))
    if cid in unit_collections():
        if params.changed is not None:
            raise bad(
                "连片单元没有时间属性，不支持 datetime", "units have no temporal property: datetime unsupported"
            )
        frame = select_units(_units(request, cid), params)
        matched = len(frame)
        page = frame.iloc[params.offset : params.offset + params.limit]
        features = b",".join(_unit_texts(page, params))
    else:
        if request.query_params.get("profile") is not None:
            raise bad("profile 只用于连片单元集合", "profile applies to the units collections only")
        matched, features = feature_page(store, _feature_query(store, cid, params), out=params.out)
    head = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": max(0, min(params.limit, matched - params.offset)),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": _page_links(request, limit=params.limit, offset=params.offset, matched=matched, cid=cid),
    }
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    body = text[:-1].encode() + b',"features":[' + features + b"]}"
    if params.html:
        return HTMLResponse(html_pages.items(cid, json.loads(body)))
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": content_crs_header(params.crs_uri)})


def _feature_query(store: Store, cid: str, params: ItemsParams) -> FeatureQuery:
    where = None
    if params.filter is not None:
        try:
            where = to_sql(params.filter, store=store, layer=cid, geometry_in=params.filter_geometry_in)
        except FilterError as exc:
            raise bad(exc.zh, exc.en) from None
    return FeatureQuery(
        cid,
        region=params.area,
        filters=params.filters,
        where=where,
        changed=params.changed,
        sortby=params.sortby,
        properties=params.properties,
        skip_geometry=params.skip_geometry,
        limit=params.limit,
        offset=params.offset,
    )


def _with_links(request: Request, cid: str, fid: str, text: bytes) -> dict[str, Any]:
    feature = json.loads(text)
    feature["links"] = [
        _link(request, f"/collections/{cid}/items/{fid}", "self", GEOJSON),
        _link(request, f"/collections/{cid}/items/{fid}?f=html", "alternate", "text/html"),
        _link(request, f"/collections/{cid}", "collection", "application/json"),
    ]
    return feature


@router.get("/collections/{cid}/items/{fid}", summary="One feature", response_class=Response)
def item(cid: str, fid: str, request: Request, store: StoreDep, user: Viewer) -> Response:
    check_collection(cid)
    _check_only(request, "crs", *(("profile",) if cid in unit_collections() else ()))
    uri, out = resolve(request.query_params.get("crs"), store)
    headers = {"Content-Crs": content_crs_header(uri)}
    if cid in unit_collections():
        frame = _units(request, cid)
        frame = frame[frame["unit_id"] == fid]
        if frame.empty:
            raise HTTPException(404, f"没有这个单元 / no such unit: {fid[:40]}")
        text = next(_unit_texts(frame, None, out=out))
    else:
        number = _fid(fid)
        texts = list(feature_texts(store, FeatureQuery(cid, fid=number, include_retired=True), out=out))
        if not texts:
            raise HTTPException(404, f"没有这个要素 / no such feature: {cid}/{fid}")
        text = texts[0]
        table = store.tables[cid]
        with store.engine.connect() as conn:
            version = conn.execute(select(table.c.version).where(table.c.fid == number)).scalar_one()
        headers["ETag"] = f'"{version}"'
    feature = _with_links(request, cid, fid, text)
    if output_format(request) == "html":
        return HTMLResponse(html_pages.item(cid, feature), headers={k: v for k, v in headers.items() if k == "ETag"})
    body = json.dumps(feature, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, media_type=GEOJSON, headers=headers)


def _fid(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise HTTPException(404, f"要素编号应为整数 / feature ids are integers: {value[:40]}") from None
    if not 1 <= number < 2**63:
        raise HTTPException(404, f"没有这个要素 / no such feature: {value[:40]}")
    return number


# -- merged units (derived, read-only) -------------------------------------------------------------------------------


def _unit_texts(frame: pd.DataFrame, params: ItemsParams | None, *, out: OutputCRS | None = None) -> Iterator[bytes]:
    """GeoJSON features of units: always MultiPolygon outlines, properties in `UNIT_PROPERTIES` order."""
    if frame.empty:
        return
    out = out or (params.out if params else None)
    assert out is not None
    cols = list(params.properties) if params and params.properties is not None else list(UNIT_PROPERTIES)
    if params and params.skip_geometry:
        geometry: Any = ["null"] * len(frame)
    else:
        series = frame.geometry if out.geographic else frame.geometry.to_crs(out.crs)
        geoms = np.asarray(series.array)
        single = shapely.get_type_id(geoms) == 3
        if single.any():
            geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(int(single.sum())))
        if out.swap:
            geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
        geometry = shapely.to_geojson(geoms)
    table = frame[list(dict.fromkeys(["unit_id", *cols]))].astype(object)
    records = json.loads(table.to_json(orient="records", force_ascii=False))
    for rec, geom in zip(records, geometry, strict=True):
        unit_id = rec["unit_id"]
        props = json.dumps({c: rec[c] for c in cols}, ensure_ascii=False, separators=(",", ":"))
        yield (
            f'{{"type":"Feature","id":{json.dumps(unit_id, ensure_ascii=False)},'
            f'"geometry":{geom},"properties":{props}}}'
        ).encode()
