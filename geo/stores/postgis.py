"""The production store: PostGIS through SQLAlchemy 2 + GeoAlchemy2 + psycopg2, bulk loads with COPY."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, LargeBinary, Table, create_engine, func, literal, text

from geo.model import LAYERS, STORAGE_EPSG
from geo.stores._pgcopy import column_payload, copy_buffer
from geo.stores.base import BBox, Store
from geo.stores.schema import gist_ddl

COPY_BATCH = 10_000


class PostGISStore(Store):
    """Spatial filters, unions and GeoJSON run in SQL; geometry is ``geometry(Geometry, 4490)`` with GiST."""

    dialect = "postgresql"

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000, pool_size: int = 5) -> None:
        engine = create_engine(
            url,
            pool_size=pool_size,
            pool_pre_ping=True,
            connect_args={"options": f"-c statement_timeout={statement_timeout_ms}", "connect_timeout": 5},
        )
        super().__init__(engine)
        self._deferred: dict[str, tuple[list[Any], list[Any]]] = {}

    def migrate(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        super().migrate()

    def _bulk_insert(self, conn: Connection, layer: str, frame: pd.DataFrame, geoms: np.ndarray) -> None:
        """Binary COPY built column-wise with numpy; geometry travels as EWKB, which PostGIS takes as is.

        The next slice's buffer is built in a worker thread while the server ingests the current one (numpy and
        libpq both release the GIL), so encoding and loading overlap on two cores.
        """
        kinds = {c.name: c.type for c in LAYERS[layer].columns} | {"extra": "json"}
        names = ", ".join(f'"{c}"' for c in [*frame.columns, "geom"])
        sql = f"COPY {layer} ({names}) FROM STDIN (FORMAT binary)"

        def build(start: int) -> bytes:
            part = frame.iloc[start : start + COPY_BATCH]
            columns = [column_payload(part[c], kinds[c]) for c in part.columns]
            wkb = shapely.to_wkb(geoms[start : start + COPY_BATCH], include_srid=True)
            return copy_buffer([*columns, column_payload(wkb, "bytes")])

        starts = list(range(0, len(frame), COPY_BATCH))
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                pending = pool.submit(build, starts[0])
                for i in range(len(starts)):
                    buffer = pending.result()
                    if i + 1 < len(starts):
                        pending = pool.submit(build, starts[i + 1])
                    cursor.copy_expert(sql, io.BytesIO(buffer))
        finally:
            cursor.close()

    def set_geometry(self, conn: Connection, layer: str, fid: int, geom: Any) -> None:
        conn.execute(
            text(f"UPDATE {layer} SET geom=ST_GeomFromEWKB(:g) WHERE fid=:fid"),
            {"g": shapely.to_wkb(shapely.set_srid(geom, STORAGE_EPSG), include_srid=True), "fid": fid},
        )

    def _drop_spatial_index(self, conn: Connection, layer: str) -> None:
        """Drop every secondary index and unique constraint; their definitions are kept to rebuild them."""
        self._deferred[layer] = (
            conn.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = CAST(:t AS regclass) AND contype = 'u'"
                ),
                {"t": layer},
            ).all(),
            conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass))"
                ),
                {"t": layer},
            ).all(),
        )
        constraints, indexes = self._deferred[layer]
        for name, _ in constraints:
            conn.exec_driver_sql(f'ALTER TABLE {layer} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')

    def _build_spatial_index(self, conn: Connection, layer: str) -> None:
        constraints, indexes = self._deferred.pop(layer, ([], []))
        for name, definition in constraints:
            conn.exec_driver_sql(f'ALTER TABLE {layer} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            conn.exec_driver_sql(definition)
        conn.exec_driver_sql(gist_ddl(layer))

    def _geom_out(self, table: Table) -> Any:
        return func.ST_AsBinary(table.c.geom, type_=LargeBinary)

    def _bbox_condition(self, table: Table, bbox: BBox) -> Any:
        env = func.ST_MakeEnvelope(*bbox, STORAGE_EPSG)
        return func.ST_Intersects(table.c.geom, env)

    def spatial_condition(self, table: Table, predicate: str, geom: Any) -> Any:
        literal_geom = func.ST_GeomFromWKB(literal(shapely.to_wkb(geom), LargeBinary), STORAGE_EPSG)
        return getattr(func, f"ST_{predicate.title()}")(table.c.geom, literal_geom)

    def _extent_sql(self, layer: str) -> Any:
        return text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM {layer}) s"
        )
