"""The embedded default store: SQLite from the standard library, WKB geometry, R*Tree bounding boxes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, LargeBinary, Table, and_, column, create_engine, event, func, literal, select, text
from sqlalchemy import table as sql_table

from geo.stores.base import BBox, Store
from geo.stores.schema import rtree_ddl


class SQLiteStore(Store):
    """A file under ``./var/`` by default; exact spatial predicates are applied with shapely after the R*Tree."""

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _configure_connection)
        event.listen(engine, "begin", _begin)
        super().__init__(engine)
        self._writer = threading.RLock()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction: takes SQLite's write lock at BEGIN, so writers queue instead of failing late.

        Writers of this process first queue on a thread lock: SQLite's busy handler retries by sleeping, which lets
        a waiting writer starve behind luckier ones when many threads write at once; a blocking lock does not.
        """
        with self._writer, self.engine.connect() as conn:
            conn.execution_options(sqlite_write=True)
            with conn.begin():
                yield conn

    def _bulk_insert(self, conn: Connection, layer: str, frame: pd.DataFrame, geoms: np.ndarray) -> None:
        bounds = shapely.bounds(geoms)
        frame = frame.astype(object).where(frame.notna(), None)
        frame["geom"] = shapely.to_wkb(geoms)
        frame["minx"], frame["miny"], frame["maxx"], frame["maxy"] = bounds.T.tolist()
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        marks = ", ".join("?" for _ in frame.columns)
        conn.exec_driver_sql(f"INSERT INTO {layer} ({cols}) VALUES ({marks})", list(frame.itertuples(index=False)))

    def set_geometry(self, conn: Connection, layer: str, fid: int, geom: Any) -> None:
        minx, miny, maxx, maxy = shapely.bounds(geom)
        conn.execute(
            text(f"UPDATE {layer} SET geom=:g, minx=:a, miny=:b, maxx=:c, maxy=:d WHERE fid=:fid"),
            {"g": shapely.to_wkb(geom), "a": minx, "b": miny, "c": maxx, "d": maxy, "fid": fid},
        )

    def _drop_spatial_index(self, conn: Connection, layer: str) -> None:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {layer}_rtree_ins")

    def _build_spatial_index(self, conn: Connection, layer: str) -> None:
        conn.exec_driver_sql(f"DELETE FROM {layer}_rtree")
        conn.exec_driver_sql(f"INSERT INTO {layer}_rtree SELECT fid, minx, maxx, miny, maxy FROM {layer}")
        conn.exec_driver_sql(rtree_ddl(layer)[1])

    def _geom_out(self, table: Table) -> Any:
        return table.c.geom

    def _bbox_condition(self, table: Table, bbox: BBox) -> Any:
        minx, miny, maxx, maxy = bbox
        rtree = sql_table(
            f"{table.name}_rtree", column("fid"), column("minx"), column("maxx"), column("miny"), column("maxy")
        )
        hits = select(rtree.c.fid).where(
            rtree.c.maxx >= minx, rtree.c.minx <= maxx, rtree.c.maxy >= miny, rtree.c.miny <= maxy
        )
        return table.c.fid.in_(hits)

    def spatial_condition(self, table: Table, predicate: str, geom: Any) -> Any:
        """The R*Tree narrows to bounding-box candidates, then the exact predicate runs as a SQLite function.

        Every predicate but DISJOINT implies that the bounding boxes meet, so only those use the index.
        """
        exact = getattr(func, f"renewal_{predicate.lower()}")(
            table.c.geom, literal(shapely.to_wkb(geom), LargeBinary)
        )
        if predicate == "DISJOINT":
            return exact == 1
        return and_(self._bbox_condition(table, tuple(shapely.bounds(geom))), exact == 1)

    def _extent_sql(self, layer: str) -> Any:
        return text(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {layer}")


def _begin(conn: Connection) -> None:
    """Reads begin a deferred transaction (no lock until needed); :meth:`SQLiteStore.begin` an immediate one."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "BEGIN")


@lru_cache(maxsize=64)
def _prepared(wkb: bytes) -> Any:
    """A filter's geometry, parsed and prepared once for the many rows it is tested against."""
    geom = shapely.from_wkb(wkb)
    shapely.prepare(geom)
    return geom


def _predicate(test: Callable[[Any, Any], Any]) -> Callable[[bytes | None, bytes | None], int | None]:
    """A SQLite function ``f(row WKB, filter WKB)`` evaluating ``test(prepared filter geometry, row geometry)``."""

    def call(row: bytes | None, other: bytes | None) -> int | None:
        if row is None or other is None:
            return None
        try:
            return int(test(_prepared(bytes(other)), shapely.from_wkb(bytes(row))))
        except shapely.errors.ShapelyError:
            return None

    return call


#: ``renewal_<predicate>(row, filter)`` for each CQL2 spatial predicate; the filter geometry comes first in the
#: shapely call so that its prepared form is used, hence the converse for CONTAINS and WITHIN.
_SPATIAL_FUNCTIONS = {
    "intersects": shapely.intersects,
    "disjoint": shapely.disjoint,
    "contains": shapely.within,
    "within": shapely.contains,
    "touches": shapely.touches,
    "crosses": shapely.crosses,
    "overlaps": shapely.overlaps,
    "equals": shapely.equals,
}


def _configure_connection(dbapi_conn: Any, _record: Any) -> None:
    # Transactions are begun by the "begin" event (see _begin), not implicitly by the driver.
    dbapi_conn.isolation_level = None
    for name, test in _SPATIAL_FUNCTIONS.items():
        dbapi_conn.create_function(f"renewal_{name}", 2, _predicate(test), deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # LIKE compares case-sensitively, as on PostgreSQL (CQL2 filters give the same answer on both stores).
    cur.execute("PRAGMA case_sensitive_like=ON")
    cur.close()
