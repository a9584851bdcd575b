"""Features as GeoJSON text, built where it is cheapest: in SQL on PostGIS, with vectorised shapely on SQLite.

The OGC API hands these bytes on without parsing them again. Both stores give the same documents: the same
features in the same order (``sortby``, then ``fid``), the same properties in the same order (layer columns,
``version``, then the ``extra`` properties kept from the source in key order, the layer's own columns winning), the
same coordinates (shortest round-trip decimals, no
rounding). Geographic output (CRS84, EPSG:4326, EPSG:4490) is the stored numbers, only reordered when the CRS puts
latitude first, because CGCS2000 and WGS84 differ by centimetres and PROJ applies no shift between them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from sqlalchemy import Text, and_, case, cast, func, literal, literal_column, select, true
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by

from geo.errors import NotFoundError
from geo.model import LAYERS, STORAGE_EPSG
from geo.stores.base import BBox, Store, layer_columns

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
    """Which features of a layer, and how they are written.

    Selection: ``bbox`` (EPSG:4490 lon/lat) or ``region`` (any EPSG:4490 geometry, for a bbox given in a projected
    CRS) the features must intersect, equality ``filters``, a SQL condition ``where`` (a CQL2 filter from
    `geo.stores.cql2`), ``changed`` (an interval of the last change, ``datetime``), one ``fid``. Order: ``sortby``
    as (property, descending) pairs, then ``fid``. Output: only ``properties`` when given, no geometry with
    ``skip_geometry``. Paging: ``limit``/``offset``.
    """

    layer: str
    bbox: BBox | None = None
    region: Any = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    where: Any = None
    changed: tuple[datetime | None, datetime | None] | None = None
    sortby: tuple[tuple[str, bool], ...] = ()
    properties: tuple[str, ...] | None = None
    skip_geometry: bool = False
    fid: int | None = None
    limit: int | None = None
    offset: int = 0
    include_retired: bool = False

    @property
    def area(self) -> Any:
        """The geometry features must intersect (EPSG:4490), or None."""
        if self.region is not None:
            return self.region
        return None if self.bbox is None else shapely.box(*self.bbox)

    def output_columns(self) -> list[str]:
        """Property columns written for each feature, in order."""
        return list(self.properties) if self.properties is not None else property_columns(self.layer)


def property_columns(layer: str) -> list[str]:
    """Columns published as properties, in order: the layer's columns, ``version`` and, for communities, the link.

    Both stores write them in this order, followed by the ``extra`` properties kept from the source in key order.
    """
    cols = [*LAYERS[layer].column_names, "version"]
    if layer == "communities":
        cols += ["retired", "merged_into"]
    return cols


def feature_texts(store: Store, query: FeatureQuery, *, out: OutputCRS) -> Iterator[bytes]:
    """One GeoJSON Feature per matching row, as UTF-8 bytes, in the query's order."""
    if store.dialect == "postgresql":
        yield from _postgis_texts(store, query, out)
    else:
        with store.engine.connect() as conn:
            gdf = _sqlite_rows(store, conn, query)
        yield from _sqlite_feature_texts(gdf, query, out)


def feature_page(store: Store, query: FeatureQuery, *, out: OutputCRS) -> tuple[int, bytes]:
    """``numberMatched`` and the page's features joined by commas (the inside of a ``features`` array).

    Selection, order, count and page run in SQL on both stores, so a page costs what it holds, not what the layer
    holds. On PostGIS both come from one statement (one round trip): a count subquery beside a ``string_agg`` of
    the feature texts built in SQL. On SQLite a count and the page's rows (R*Tree for the area, exact predicates
    as SQLite functions) are two statements on one connection; only the page's rows reach Python.
    """
    table = store.tables[query.layer]
    matched = select(func.count()).select_from(table).where(_conditions(store, query))
    if store.dialect != "postgresql":
        with store.engine.connect() as conn:
            count = int(conn.execute(matched).scalar_one())
            gdf = _sqlite_rows(store, conn, query)
        return count, b",".join(_sqlite_feature_texts(gdf, query, out))
    inner = _postgis_statement(store, query, out).subquery()
    joined = func.string_agg(inner.c.feature, aggregate_order_by(literal(","), inner.c.n))
    stmt = select(matched.scalar_subquery(), func.coalesce(joined, literal("")))
    with store.engine.connect() as conn:
        count, text = conn.execute(stmt).one()
    return int(count), text.encode("utf-8")


def collection_sql(store: Store, query: FeatureQuery, *, out: OutputCRS) -> Any:
    """A statement returning the whole page as one FeatureCollection text (``string_agg`` of the feature texts)."""
    inner = _postgis_statement(store, query, out).subquery()
    joined = func.string_agg(inner.c.feature, aggregate_order_by(literal(","), inner.c.n))
    return select(
        literal('{"type":"FeatureCollection","features":[') + func.coalesce(joined, literal("")) + literal("]}")
    )


def layer_time_range(store: Store, layer: str) -> tuple[datetime | None, datetime | None]:
    """Earliest and latest last-change time (``updated_at``, UTC) of a layer's current features."""
    table = store.tables[layer]
    conds = [table.c.retired.is_(False)] if "retired" in table.c else []
    stmt = select(func.min(table.c.updated_at), func.max(table.c.updated_at)).where(and_(true(), *conds))
    with store.engine.connect() as conn:
        low, high = conn.execute(stmt).one()
    return _utc(low), _utc(high)


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- selection and order (both stores) -------------------------------------------------------------------------------


def _conditions(store: Store, query: FeatureQuery) -> Any:
    table = store.tables[query.layer]
    conds: list[Any] = []
    if query.area is not None:
        conds.append(store.spatial_condition(table, "INTERSECTS", query.area))
    for key, value in query.filters.items():
        if key not in table.c or key in ("geom", "extra"):
            raise NotFoundError(f"未知属性：{key}", f"unknown property: {key}")
        conds.append(table.c[key] == value)
    if query.where is not None:
        conds.append(query.where)
    if query.changed is not None:
        low, high = query.changed
        if low is not None:
            conds.append(table.c.updated_at >= _time_bound(store, low))
        if high is not None:
            conds.append(table.c.updated_at <= _time_bound(store, high))
    if query.fid is not None:
        conds.append(table.c.fid == query.fid)
    if "retired" in table.c and not query.include_retired:
        conds.append(table.c.retired.is_(False))
    return and_(true(), *conds)


def _time_bound(store: Store, moment: datetime) -> Any:
    """A bound for ``updated_at``: SQLite keeps UTC text as ``YYYY-MM-DD HH:MM:SS``, PostGIS a timestamptz."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if store.dialect == "postgresql":
        return literal(utc)
    text = utc.strftime("%Y-%m-%d %H:%M:%S") + (f".{utc.microsecond:06d}" if utc.microsecond else "")
    return literal(text, Text)


def _order(store: Store, query: FeatureQuery) -> list[Any]:
    """``sortby`` keys (text in code-point order on both stores, empty values last), then ``fid``."""
    table = store.tables[query.layer]
    keys: list[Any] = []
    for name, descending in query.sortby:
        col: Any = table.c[name]
        if store.dialect == "postgresql" and isinstance(col.type, Text):
            col = col.collate("C")
        keys.append(col.desc().nulls_last() if descending else col.asc().nulls_last())
    keys.append(table.c.fid)
    return keys


# -- PostGIS ------------------------------------------------------------------------------------------------------


def _postgis_statement(store: Store, query: FeatureQuery, out: OutputCRS) -> Any:
    table = store.tables[query.layer]
    geom: Any = table.c.geom
    if out.epsg != STORAGE_EPSG and not out.geographic:
        geom = func.ST_Transform(geom, out.epsg)
    if out.swap:
        geom = func.ST_FlipCoordinates(geom)
    geometry = literal("null") if query.skip_geometry else func.ST_AsGeoJSON(geom, _MAX_DECIMALS, 0, type_=Text)
    feature = (
        literal('{"type":"Feature","id":')
        + cast(table.c.fid, Text)
        + literal(',"geometry":')
        + geometry
        + literal(',"properties":')
        + _postgis_properties(table, query)
        + literal("}")
    )
    order = _order(store, query)
    number = func.row_number().over(order_by=order).label("n")
    stmt = select(feature.label("feature"), number).where(_conditions(store, query)).order_by(*order)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    if query.offset:
        stmt = stmt.offset(query.offset)
    return stmt


def _postgis_properties(table: Any, query: FeatureQuery) -> Any:
    """The properties object as text: the columns in order, then the ``extra`` keys the columns do not hold."""
    cols = query.output_columns()
    args: list[Any] = []
    for name in cols:
        args += [literal(name, Text), table.c[name]]
    columns = cast(func.json_build_object(*args), Text)
    if query.properties is not None:
        return columns
    extra = cast(cast(table.c.extra, Text), JSONB)
    # Only a JSON object merges into the properties (an edit may have stored JSON null).
    extra = case((func.jsonb_typeof(extra) == "object", extra), else_=literal_column("'{}'::jsonb"))
    pairs = func.jsonb_each(extra).table_valued("key", "value").alias("kv")
    extras = (
        select(cast(func.json_object_agg(pairs.c.key, aggregate_order_by(pairs.c.value, pairs.c.key)), Text))
        .where(pairs.c.key.not_in(cols))
        .scalar_subquery()
    )
    merged = func.left(columns, -1) + literal(",") + func.substr(extras, 2)
    return case((extras.is_(None), columns), else_=merged)


def _postgis_texts(store: Store, query: FeatureQuery, out: OutputCRS) -> Iterator[bytes]:
    stmt = _postgis_statement(store, query, out)
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(stmt)
        for text, _ in result:
            yield text.encode("utf-8")


# -- SQLite -------------------------------------------------------------------------------------------------------


def _sqlite_rows(store: Store, conn: Any, query: FeatureQuery) -> pd.DataFrame:
    """The page's rows only: selection, order, limit and offset run in SQLite."""
    table = store.tables[query.layer]
    cols = layer_columns(query.layer)
    stmt = (
        select(*(table.c[c] for c in cols), table.c.geom)
        .where(_conditions(store, query))
        .order_by(*_order(store, query))
    )
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    if query.offset:
        stmt = stmt.offset(query.offset)
    return store._frame(query.layer, cols, conn.execute(stmt).all(), bbox=None)


def _sqlite_feature_texts(gdf: pd.DataFrame, query: FeatureQuery, out: OutputCRS) -> Iterator[bytes]:
    if gdf.empty:
        return
    if query.skip_geometry:
        geojson = np.full(len(gdf), "null", dtype=object)
    else:
        geoms = np.asarray(gdf.geometry.array)
        if not out.geographic:
            geoms = np.asarray(gdf.geometry.to_crs(out.crs).array)
        if out.swap:
            geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
        geojson = shapely.to_geojson(geoms)
    cols = query.output_columns()
    records = _plain_records(gdf, cols)
    with_extra = query.properties is None
    for fid, extra, rec, geometry in zip(gdf["fid"], gdf["extra"], records, geojson, strict=True):
        if with_extra and isinstance(extra, dict):
            rec |= {k: extra[k] for k in sorted(extra) if k not in rec}
        yield (
            f'{{"type":"Feature","id":{int(fid)},"geometry":{geometry},"properties":'
            f"{json.dumps(rec, ensure_ascii=False, separators=(',', ':'))}}}"
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
    "feature_page",
    "feature_texts",
    "lat_first",
    "layer_time_range",
    "property_columns",
]
