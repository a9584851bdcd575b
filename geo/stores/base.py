"""The store interface: one behaviour over SQLite (embedded default) and PostGIS.

Rows travel as GeoDataFrames in EPSG:4490 whose columns are the layer's columns from :mod:`geo.model`, plus
``fid``, ``version``, ``extra`` (other properties kept from the source) and, for communities, ``retired`` and
``merged_into``. Both stores return the same frames for the same data: same columns, same dtypes, same order (by
``fid``), byte-identical geometry (WKB round trip).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, Table, and_, event, func, select, text, true, union_all
from sqlalchemy import inspect as sa_inspect

from geo.errors import NotFoundError
from geo.model import LAYERS, SPATIAL_LAYERS, STORAGE_EPSG
from geo.stores.changes import CHANGESET_KEY, PG_LOCK_KEY, Change, ChangeSet, written_table
from geo.stores.schema import build_metadata

BBox = tuple[float, float, float, float]
#: Spatial predicates both stores evaluate exactly in SQL (CQL2's ``S_*`` operators).
SPATIAL_PREDICATES = ("INTERSECTS", "DISJOINT", "CONTAINS", "WITHIN", "TOUCHES", "CROSSES", "OVERLAPS", "EQUALS")
_MIGRATIONS = Path(__file__).with_name("migrations")
_PANDAS_TYPES = {"text": "object", "int": "Int64", "float": "float64", "bool": "boolean", "json": "object"}


def layer_columns(layer: str) -> list[str]:
    """Stored attribute columns of a spatial layer, in table order (without geometry)."""
    cols = ["fid", *LAYERS[layer].column_names, "extra", "version"]
    if layer == "communities":
        cols += ["retired", "merged_into"]
    return cols


def dumps_json(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Store(ABC):
    """Data access shared by both back ends; subclasses supply the spatial SQL and the bulk loader."""

    dialect: str

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.metadata: MetaData = build_metadata(self.dialect)
        self.tables: Mapping[str, Table] = self.metadata.tables
        event.listen(engine, "before_cursor_execute", self._watch_writes)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def is_initialised(self) -> bool:
        return sa_inspect(self.engine).has_table("communities")

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all, with its rows of the change log.

        Every data write goes through here: what it wrote is logged in ``changes`` (see :mod:`geo.stores.changes`)
        as the transaction's last statement, so a reader sees the data and its change id together or neither.
        """
        with self._transaction() as conn:
            changes = ChangeSet()
            conn.info[CHANGESET_KEY] = changes
            try:
                yield conn
                rows = changes.rows()
                if rows:
                    self._log_changes(conn, rows)
            finally:
                conn.info.pop(CHANGESET_KEY, None)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # -- the change log --------------------------------------------------------------------------------------
    def note_change(self, conn: Connection, layer: str, *, streets: Sequence[Any] | None) -> None:
        """Say which streets a write to ``layer`` in this transaction touched (None: any street).

        Only needed where the writer knows better than "somewhere": writes are logged without this call too.
        """
        changes = conn.info.get(CHANGESET_KEY)
        if changes is None:
            raise RuntimeError("note_change outside Store.begin()")
        changes.note(layer, streets)

    def change_stamp(self, layers: Sequence[str] | None = None) -> int:
        """The newest change id (of ``layers`` only, when given); 0 before any change. Cheap: index lookups."""
        table = self.tables["changes"]
        if layers is None:
            stmt = select(func.max(table.c.change_id))
        else:
            newest = union_all(
                *(select(func.max(table.c.change_id).label("newest")).where(table.c.layer == n) for n in layers)
            ).subquery()
            stmt = select(func.max(newest.c.newest))
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def changes_since(self, change_id: int) -> list[Change]:
        """The changes committed after ``change_id``, oldest first (what an incremental analysis must redo)."""
        table = self.tables["changes"]
        stmt = select(table.c.change_id, table.c.layer, table.c.streets).where(table.c.change_id > change_id)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(table.c.change_id)).all()
        return [Change(int(i), layer, None if streets is None else tuple(streets)) for i, layer, streets in rows]

    def _touch(self, conn: Connection, layer: str) -> None:
        changes = conn.info.get(CHANGESET_KEY)
        if changes is not None:
            changes.touch(layer)

    def _watch_writes(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        """Engine hook: an INSERT/UPDATE/DELETE inside `begin` marks its table as written."""
        changes = conn.info.get(CHANGESET_KEY)
        if changes is not None:
            table = written_table(statement)
            if table is not None and table in self.tables:
                changes.touch(table)

    def _log_changes(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        conn.execute(self.tables["changes"].insert(), rows)

    # -- writing ---------------------------------------------------------------------------------------------
    def write_layer(self, conn: Connection, layer: str, gdf: gpd.GeoDataFrame) -> int:
        """Insert rows (geometry already valid, 2D, EPSG:4490) inside the caller's transaction."""
        if gdf.empty:
            return 0
        cols = [c for c in layer_columns(layer) if c not in ("fid", "version", "retired", "merged_into")]
        frame = pd.DataFrame({c: gdf[c] if c in gdf.columns else None for c in cols}, index=gdf.index)
        frame["extra"] = frame["extra"].map(dumps_json)
        for c in LAYERS[layer].columns:
            if c.type != "text":
                frame[c.name] = frame[c.name].astype(_PANDAS_TYPES[c.type])
        self._bulk_insert(conn, layer, frame, shapely.set_srid(np.asarray(gdf.geometry.values), STORAGE_EPSG))
        self._touch(conn, layer)  # PostGIS loads with COPY on the raw cursor, which the statement hook cannot see
        return len(frame)

    @abstractmethod
    def _bulk_insert(self, conn: Connection, layer: str, frame: pd.DataFrame, geoms: np.ndarray) -> None:
        """Insert ``frame`` with ``geoms`` (EPSG:4490) as fast as the back end allows."""

    @contextmanager
    def deferred_spatial_index(self, conn: Connection, layer: str) -> Iterator[None]:
        """Load into an empty layer without maintaining its spatial index row by row; rebuild it once after."""
        empty = conn.execute(select(self.tables[layer].c.fid).limit(1)).first() is None
        if not empty:
            yield
            return
        self._drop_spatial_index(conn, layer)
        yield
        self._build_spatial_index(conn, layer)

    @abstractmethod
    def _drop_spatial_index(self, conn: Connection, layer: str) -> None:
        """Drop the layer's spatial index (inside the caller's transaction)."""

    @abstractmethod
    def _build_spatial_index(self, conn: Connection, layer: str) -> None:
        """Create the layer's spatial index from the rows present."""

    def delete_all(self, conn: Connection, layer: str) -> None:
        conn.execute(self.tables[layer].delete())

    def existing_ids(self, conn: Connection, name: str, ids: Sequence[str]) -> list[str]:
        """Which of ``ids`` are already keys of table ``name`` (``id``, or the survey's ``community_id``)."""
        table = self.tables[name]
        key = table.c.id if "id" in table.c else next(iter(table.primary_key.columns))
        found: list[str] = []
        for start in range(0, len(ids), 5000):
            chunk = list(ids[start : start + 5000])
            found += conn.execute(select(key).where(key.in_(chunk))).scalars().all()
        return sorted(found)

    def all_ids(self, conn: Connection, name: str) -> set[str]:
        """Every key of table ``name`` (one query; an import checks its ids against this set)."""
        table = self.tables[name]
        key = table.c.id if "id" in table.c else next(iter(table.primary_key.columns))
        return set(conn.execute(select(key)).scalars())

    def read_attributes(self, layer: str, columns: Sequence[str], *, conn: Connection | None = None) -> pd.DataFrame:
        """Some attribute columns of a layer's current rows, without geometry, ordered by ``fid``."""
        table = self.tables[layer]
        stmt = (
            select(*(table.c[c] for c in columns)).where(and_(true(), *self._conditions(table))).order_by(table.c.fid)
        )
        if conn is None:
            with self.engine.connect() as own:
                rows = own.execute(stmt).all()
        else:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=list(columns))
        spec = LAYERS[layer]
        for c in columns:
            if c in spec.column_names:
                frame[c] = frame[c].astype(_PANDAS_TYPES[spec.column(c).type])
        return frame

    def update_columns(self, conn: Connection, layer: str, values: pd.DataFrame) -> int:
        """Set columns of existing rows by ``id`` (``values`` has an ``id`` column and the columns to set)."""
        if values.empty:
            return 0
        table = self.tables[layer]
        cols = [c for c in values.columns if c != "id"]
        stmt = table.update().where(table.c.id == _bind("b_id")).values({c: _bind(f"b_{c}") for c in cols})
        rows = [{f"b_{k}": _py(v) for k, v in rec.items()} for rec in values.to_dict(orient="records")]
        conn.execute(stmt, rows)
        return len(rows)

    def write_table(self, conn: Connection, name: str, frame: pd.DataFrame) -> int:
        """Insert plain (non-spatial) rows such as survey answers."""
        if frame.empty:
            return 0
        table = self.tables[name]
        rows = [{k: _py(v) for k, v in rec.items() if k in table.c} for rec in frame.to_dict(orient="records")]
        conn.execute(table.insert(), rows)
        return len(rows)

    # -- reading ---------------------------------------------------------------------------------------------
    def read_layer(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        filters: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
        include_retired: bool = False,
        conn: Connection | None = None,
    ) -> gpd.GeoDataFrame:
        """Rows of a layer in EPSG:4490, ordered by ``fid``; ``bbox`` keeps those intersecting it."""
        if layer not in SPATIAL_LAYERS:
            raise NotFoundError(f"未知图层：{layer}", f"unknown layer: {layer}")
        table = self.tables[layer]
        cols = layer_columns(layer)
        stmt = select(*(table.c[c] for c in cols), self._geom_out(table).label("geom"))
        conds = self._conditions(table, bbox=bbox, filters=filters, ids=ids, include_retired=include_retired)
        stmt = stmt.where(and_(true(), *conds)).order_by(table.c.fid)
        if conn is None:
            with self.engine.connect() as own:
                rows = own.execute(stmt).all()
        else:
            rows = conn.execute(stmt).all()
        return self._frame(layer, cols, rows, bbox=bbox)

    def iter_layer(self, layer: str, *, batch_size: int = 20_000, **kwargs: Any) -> Iterator[gpd.GeoDataFrame]:
        """Batches by ``fid`` (keyset pagination), so an export never holds the whole layer in memory."""
        table = self.tables[layer]
        cols = layer_columns(layer)
        last = 0
        while True:
            stmt = (
                select(*(table.c[c] for c in cols), self._geom_out(table).label("geom"))
                .where(and_(true(), table.c.fid > last, *self._conditions(table, **kwargs)))
                .order_by(table.c.fid)
                .limit(batch_size)
            )
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).all()
            if not rows:
                return
            last = rows[-1][0]
            yield self._frame(layer, cols, rows, bbox=kwargs.get("bbox"))

    def count(self, layer: str, *, bbox: BBox | None = None, filters: Mapping[str, Any] | None = None) -> int:
        """Current features of a layer, counted in SQL (``bbox``: exact intersection, index-backed)."""
        table = self.tables[layer]
        conds = self._conditions(table, filters=filters)
        if bbox is not None:
            conds.append(self.spatial_condition(table, "INTERSECTS", shapely.box(*bbox)))
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(and_(true(), *conds))).scalar_one())

    def counts(self) -> dict[str, int]:
        out = {}
        with self.engine.connect() as conn:
            for name in (*SPATIAL_LAYERS, "survey"):
                table = self.tables[name]
                out[name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        return out

    def read_table(self, name: str, *, conn: Connection | None = None) -> pd.DataFrame:
        table = self.tables[name]
        key = next(iter(table.primary_key.columns))
        stmt = select(table).order_by(key)
        if conn is None:
            with self.engine.connect() as own:
                rows = own.execute(stmt).all()
        else:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=list(table.c.keys()))
        if name == "survey":
            for c in LAYERS["survey"].columns:
                if c.name in frame.columns:
                    frame[c.name] = frame[c.name].astype(_PANDAS_TYPES[c.type])
        return frame

    def extent(self, layer: str) -> BBox | None:
        """Bounds of a layer in EPSG:4490, or None when empty."""
        with self.engine.connect() as conn:
            row = conn.execute(self._extent_sql(layer)).one()
        return None if row[0] is None else tuple(float(v) for v in row)  # type: ignore[return-value]

    def fingerprint(self) -> str:
        """A digest of every row of every table: equal before and after a refused write."""
        import hashlib

        digest = hashlib.sha256()
        with self.engine.connect() as conn:
            for name in sorted(self.tables):
                table = self.tables[name]
                key = next(iter(table.primary_key.columns))
                cols = [self._geom_out(table) if c.name == "geom" else c for c in table.c]
                for row in conn.execute(select(*cols).order_by(key)):
                    digest.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode())
            for name in SPATIAL_LAYERS:
                digest.update(f"{name}:{self._sequence_state(conn, name)}".encode())
        return digest.hexdigest()

    # -- helpers for subclasses ------------------------------------------------------------------------------
    def _conditions(
        self,
        table: Table,
        *,
        bbox: BBox | None = None,
        filters: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
        include_retired: bool = False,
    ) -> list[Any]:
        conds: list[Any] = []
        if bbox is not None:
            conds.append(self._bbox_condition(table, tuple(float(v) for v in bbox)))  # type: ignore[arg-type]
        for key, value in (filters or {}).items():
            if key not in table.c or key == "geom":
                raise NotFoundError(f"未知属性：{key}", f"unknown property: {key}")
            conds.append(table.c[key] == value)
        if ids is not None:
            conds.append(table.c.id.in_(list(ids)))
        if "retired" in table.c and not include_retired:
            conds.append(table.c.retired.is_(False))
        return conds

    def _frame(self, layer: str, cols: list[str], rows: Sequence[Any], *, bbox: BBox | None) -> gpd.GeoDataFrame:
        data = pd.DataFrame([tuple(r) for r in rows], columns=[*cols, "geom"])
        wkb = data.pop("geom").map(lambda b: bytes(b) if b is not None else None)
        geoms = shapely.from_wkb(wkb.to_numpy())
        gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, index=data.index), crs=STORAGE_EPSG)
        for c in LAYERS[layer].columns:
            gdf[c.name] = gdf[c.name].astype(_PANDAS_TYPES[c.type])
        gdf["fid"] = gdf["fid"].astype("int64")
        gdf["version"] = gdf["version"].astype("int64")
        gdf["extra"] = gdf["extra"].map(lambda v: json.loads(v) if isinstance(v, str) else v)
        if "retired" in gdf.columns:
            gdf["retired"] = gdf["retired"].astype(bool)
        if bbox is not None and self.dialect == "sqlite" and len(gdf):
            gdf = gdf[shapely.intersects(gdf.geometry.values, shapely.box(*bbox))]
        return gdf.reset_index(drop=True)

    @abstractmethod
    def _geom_out(self, table: Table) -> Any:
        """SQL expression returning the geometry as WKB."""

    @abstractmethod
    def _bbox_condition(self, table: Table, bbox: BBox) -> Any:
        """Index-backed bbox condition (exact on PostGIS, candidates on SQLite)."""

    @abstractmethod
    def spatial_condition(self, table: Table, predicate: str, geom: Any) -> Any:
        """Exact, index-backed SQL condition ``predicate(feature geometry, geom)``; ``geom`` is EPSG:4490.

        ``predicate`` is one of ``SPATIAL_PREDICATES`` (the CQL2 spatial operators without the ``S_``).
        """

    @abstractmethod
    def _extent_sql(self, layer: str) -> Any:
        """SQL returning minx, miny, maxx, maxy of a layer."""

    def _sequence_state(self, conn: Connection, layer: str) -> Any:
        return conn.execute(text(f"SELECT max(fid) FROM {layer}")).scalar()


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _py(value: Any) -> Any:
    """Plain Python value for a DB-API parameter (pandas NA and numpy scalars are not accepted by drivers)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
