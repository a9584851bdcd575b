"""Features as GeoJSON text, built where it is cheapest: in SQL on PostGIS, with vectorised shapely on SQLite.

The OGC API hands these bytes on without parsing them again. Both stores give the same documents: the same
features in ``fid`` order, the same properties (layer columns, ``version``, and the ``extra`` properties kept from
the source, flattened, the layer's own columns winning), the same coordinates (shortest round-trip decimals, no
rounding). Geographic output (CRS84, EPSG:4326, EPSG:4490) is the stored numbers, only reordered when the CRS puts
latitude first, because CGCS2000 and WGS84 differ by centimetres and PROJ applies no shift between them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from sqlalchemy import Text, and_, case, cast, func, literal, literal_column, select, true
from sqlalchemy.dialects.postgresql import JSONB

from geo.model import LAYERS, STORAGE_EPSG
from geo.stores.base import BBox, Store

#: Decimal places ST_AsGeoJSON may print; enough for the shortest round-trip form of any coordinate.
_MAX_DECIMALS = 15


def lat_first(crs: pyproj.CRS) -> bool:
    """Whether coordinates in ``crs`` are written northing/latitude first (EPSG:4326, 4490, the GK zones).

    OGC API – Features Part 2 follows the CRS definition, unlike plain GeoJSON, which is always longitude first
    (CRS84).
    """
    return crs.axis_info[0].direction.lower() in ("north", "south")


@dataclass(frozen=True)
class OutputCRS:
    """The CRS features are written in: a pyproj CRS, whether axes are swapped, and whether to reproject."""

    crs: pyproj.CRS
    epsg: int | None

    @property
    def swap(self) -> bool:
        return lat_first(self.crs)

    @property
    def geographic(self) -> bool:
        return self.crs.is_geographic


@dataclass(frozen=True)
class FeatureQuery:
    """Which features of a layer: a bbox (EPSG:4490), equality filters, one fid, and a page."""

    layer: str
    bbox: BBox | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    fid: int | None = None
    limit: int | None = None
    offset: int = 0
    include_retired: bool = False


def property_columns(layer: str) -> list[str]:
    """Columns published as properties, in order: the layer's columns, ``version`` and, for communities, the link."""
    cols = [*LAYERS[layer].column_names, "version"]
    if layer == "communities":
        cols += ["retired", "merged_into"]
    return cols


def feature_texts(store: Store, query: FeatureQuery, *, out: OutputCRS) -> Iterator[bytes]:
    """One GeoJSON Feature per matching row, as UTF-8 bytes, in ``fid`` order, streamed from the database."""
    if store.dialect == "postgresql":
        yield from _postgis_texts(store, query, out)
    else:
        yield from _sqlite_texts(store, query, out)


def feature_page(store: Store, query: FeatureQuery, *, out: OutputCRS) -> tuple[int, bytes]:
    """``numberMatched`` and the page's features joined by commas (the inside of a ``features`` array).

    On PostGIS both come from one statement (one round trip): a count subquery beside a ``string_agg`` of the
    feature texts, so one row and one string cross the wire and Python never touches individual features.
    """
    if store.dialect != "postgresql":
        gdf = _sqlite_frame(store, query)
        return len(gdf), b",".join(_sqlite_feature_texts(gdf, query, out))
    table = store.tables[query.layer]
    matched = select(func.count()).select_from(table).where(_conditions(store, query)).scalar_subquery()
    inner = _postgis_statement(store, query, out).subquery()
    stmt = select(matched, func.coalesce(func.string_agg(inner.c.feature, literal(",")), literal("")))
    with store.engine.connect() as conn:
        count, text = conn.execute(stmt).one()
    return int(count), text.encode("utf-8")


def collection_sql(store: Store, query: FeatureQuery, *, out: OutputCRS) -> Any:
    """A statement returning the whole page as one FeatureCollection text (``string_agg`` of the feature texts)."""
    inner = _postgis_statement(store, query, out).subquery()
    return select(
        literal('{"type":"FeatureCollection","features":[')
        + func.coalesce(func.string_agg(inner.c.feature, literal(",")), literal(""))
        + literal("]}")
    )


# -- PostGIS ------------------------------------------------------------------------------------------------------


def _conditions(store: Store, query: FeatureQuery) -> Any:
    table = store.tables[query.layer]
    conds = store._conditions(table, bbox=query.bbox, filters=query.filters, include_retired=query.include_retired)
    if query.fid is not None:
        conds.append(table.c.fid == query.fid)
    return and_(true(), *conds)


def _postgis_statement(store: Store, query: FeatureQuery, out: OutputCRS) -> Any:
    table = store.tables[query.layer]
    geom: Any = table.c.geom
    if out.epsg != STORAGE_EPSG and not out.geographic:
        geom = func.ST_Transform(geom, out.epsg)
    if out.swap:
        geom = func.ST_FlipCoordinates(geom)
    args: list[Any] = []
    for name in property_columns(query.layer):
        args += [literal(name, Text), table.c[name]]
    extra = cast(cast(table.c.extra, Text), JSONB)
    # Only a JSON object merges into the properties (an edit may have stored JSON null).
    extra = case((func.jsonb_typeof(extra) == "object", extra), else_=literal_column("'{}'::jsonb"))
    props = extra.op("||")(func.jsonb_build_object(*args, type_=JSONB))
    feature = (
        literal('{"type":"Feature","id":')
        + cast(table.c.fid, Text)
        + literal(',"geometry":')
        + func.ST_AsGeoJSON(geom, _MAX_DECIMALS, 0, type_=Text)
        + literal(',"properties":')
        + cast(props, Text)
        + literal("}")
    )
    stmt = select(feature.label("feature")).where(_conditions(store, query)).order_by(table.c.fid)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    if query.offset:
        stmt = stmt.offset(query.offset)
    return stmt


def _postgis_texts(store: Store, query: FeatureQuery, out: OutputCRS) -> Iterator[bytes]:
    stmt = _postgis_statement(store, query, out)
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(stmt)
        for (text,) in result:
            yield text.encode("utf-8")


# -- SQLite -------------------------------------------------------------------------------------------------------


def _sqlite_frame(store: Store, query: FeatureQuery) -> pd.DataFrame:
    filters = dict(query.filters)
    if query.fid is not None:
        filters["fid"] = query.fid
    return store.read_layer(query.layer, bbox=query.bbox, filters=filters, include_retired=query.include_retired)


def _sqlite_texts(store: Store, query: FeatureQuery, out: OutputCRS) -> Iterator[bytes]:
    return _sqlite_feature_texts(_sqlite_frame(store, query), query, out)


def _sqlite_feature_texts(gdf: pd.DataFrame, query: FeatureQuery, out: OutputCRS) -> Iterator[bytes]:
    stop = None if query.limit is None else query.offset + query.limit
    gdf = gdf.iloc[query.offset : stop]
    if gdf.empty:
        return
    geoms = np.asarray(gdf.geometry.array)
    if not out.geographic:
        geoms = np.asarray(gdf.geometry.to_crs(out.crs).array)
    if out.swap:
        geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
    geojson = shapely.to_geojson(geoms)
    cols = property_columns(query.layer)
    records = _plain_records(gdf, cols)
    for fid, extra, rec, geometry in zip(gdf["fid"], gdf["extra"], records, geojson, strict=True):
        props = {**extra, **rec} if isinstance(extra, dict) else rec
        yield (
            f'{{"type":"Feature","id":{int(fid)},"geometry":{geometry},"properties":'
            f"{json.dumps(props, ensure_ascii=False, separators=(',', ':'))}}}"
        ).encode()


def _plain_records(gdf: pd.DataFrame, cols: Sequence[str]) -> list[dict[str, Any]]:
    frame = gdf[list(cols)].astype(object)
    frame = frame.where(frame.notna(), None)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()}
        for rec in frame.to_dict(orient="records")
    ]


__all__ = [
    "FeatureQuery",
    "OutputCRS",
    "collection_sql",
    "feature_texts",
    "lat_first",
    "property_columns",
]
