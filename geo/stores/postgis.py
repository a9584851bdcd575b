"""The production store: PostGIS through SQLAlchemy 2 + GeoAlchemy2 + psycopg2, bulk loads with COPY."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, LargeBinary, Table, create_engine, func, text

from geo.model import STORAGE_EPSG
from geo.stores.base import BBox, Store

COPY_BATCH = 50_000


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

    def migrate(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        super().migrate()

    def _bulk_insert(self, conn: Connection, layer: str, frame: pd.DataFrame, geoms: np.ndarray) -> None:
        """COPY in CSV batches; geometry as hex EWKB, which PostGIS parses without a function call per row."""
        frame = frame.copy()
        frame["geom"] = shapely.to_wkb(geoms, hex=True, include_srid=True)
        for c in frame.columns:
            if frame[c].dtype == "boolean":
                frame[c] = frame[c].map({True: "t", False: "f"}, na_action="ignore")
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(frame), COPY_BATCH):
                buf = io.StringIO()
                frame.iloc[start : start + COPY_BATCH].to_csv(buf, header=False, index=False, quoting=csv.QUOTE_MINIMAL)
                buf.seek(0)
                cursor.copy_expert(f"COPY {layer} ({cols}) FROM STDIN WITH (FORMAT csv)", buf)
        finally:
            cursor.close()

    def set_geometry(self, conn: Connection, layer: str, fid: int, geom: Any) -> None:
        conn.execute(
            text(f"UPDATE {layer} SET geom=ST_GeomFromEWKB(:g) WHERE fid=:fid"),
            {"g": shapely.to_wkb(shapely.set_srid(geom, STORAGE_EPSG), include_srid=True), "fid": fid},
        )

    def _geom_out(self, table: Table) -> Any:
        return func.ST_AsBinary(table.c.geom, type_=LargeBinary)

    def _bbox_condition(self, table: Table, bbox: BBox) -> Any:
        env = func.ST_MakeEnvelope(*bbox, STORAGE_EPSG)
        return func.ST_Intersects(table.c.geom, env)

    def _extent_sql(self, layer: str) -> Any:
        return text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM {layer}) s"
        )
