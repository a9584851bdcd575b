"""Table definitions shared by both stores, built for one SQL dialect.

PostGIS keeps geometry as ``geometry(Geometry, 4490)`` with a GiST index. SQLite keeps it as WKB in a BLOB, with
the bounding box in plain columns that triggers copy into a built-in R*Tree table (``<layer>_rtree``), so a bbox
query is an index lookup and the exact predicate is applied with shapely.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    Table,
    Text,
    func,
)
from sqlalchemy.types import TypeEngine

from geo.model import LAYERS, SPATIAL_LAYERS, STORAGE_EPSG

_TYPES: dict[str, type[TypeEngine]] = {"text": Text, "int": BigInteger, "float": Float, "bool": Boolean, "json": JSON}
BBOX_COLUMNS = ("minx", "miny", "maxx", "maxy")


def geometry_type(dialect: str) -> TypeEngine:
    if dialect == "postgresql":
        from geoalchemy2 import Geometry

        return Geometry(geometry_type="GEOMETRY", srid=STORAGE_EPSG, spatial_index=False)
    return LargeBinary()


def build_metadata(dialect: str) -> MetaData:
    """All tables for ``dialect`` (``"sqlite"`` or ``"postgresql"``)."""
    md = MetaData()
    for name in SPATIAL_LAYERS:
        layer = LAYERS[name]
        cols = [
            Column("fid", Integer, primary_key=True, autoincrement=True),
            Column("id", Text, nullable=False, unique=True),
            *(Column(c.name, _TYPES[c.type]) for c in layer.columns if c.name != "id"),
            Column("extra", JSON),
            Column("version", Integer, nullable=False, server_default="1"),
            Column("updated_at", DateTime(timezone=True), server_default=func.now()),
        ]
        if name == "communities":
            cols += [
                Column("retired", Boolean, nullable=False, server_default="0" if dialect == "sqlite" else "false"),
                Column("merged_into", Text),
            ]
        cols.append(Column("geom", geometry_type(dialect), nullable=False))
        if dialect == "sqlite":
            cols += [Column(c, Float, nullable=False) for c in BBOX_COLUMNS]
        table = Table(name, md, *cols)
        for attr in ("street", "community_id", "kind", "class"):
            if attr in table.c:
                Index(f"ix_{name}_{attr}", table.c[attr])
    survey = LAYERS["survey"]
    Table(
        "survey",
        md,
        Column("community_id", Text, primary_key=True),
        *(Column(c.name, _TYPES[c.type]) for c in survey.columns if c.name not in ("community_id", "name", "street")),
        Column("extra", JSON),
    )
    Table(
        "edits",
        md,
        Column("edit_id", Integer, primary_key=True, autoincrement=True),
        Column("layer", Text, nullable=False),
        Column("feature_id", Text, nullable=False, index=True),
        Column("action", Text, nullable=False),
        Column("actor", Text, nullable=False),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("version", Integer),
        Column("before", JSON),
        Column("after", JSON),
        Column("reason", Text),
        Column("group_id", Text, index=True),
    )
    Table(
        "stage_events",
        md,
        Column("event_id", Integer, primary_key=True, autoincrement=True),
        Column("community_id", Text, nullable=False, index=True),
        Column("stage", Text, nullable=False),
        Column("date", Text, nullable=False),
        Column("evidence", JSON),
        Column("corrects", Integer, ForeignKey("stage_events.event_id")),
        Column("note", Text),
        Column("actor", Text, nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        "plans",
        md,
        Column("plan_id", Integer, primary_key=True, autoincrement=True),
        Column("name", Text, nullable=False),
        Column("version", Integer, nullable=False),
        Column("profile", Text, nullable=False),
        Column("params", JSON),
        Column("result", JSON),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    changes_table(md, dialect)
    Table(
        "calendar_days",
        md,
        Column("date", Text, primary_key=True),
        Column("year", Integer, nullable=False, index=True),
        Column("kind", Text, nullable=False),
        Column("name", Text),
        Column("source", Text, nullable=False),
        Column("actor", Text, nullable=False),
        Column("imported_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        "users",
        md,
        Column("name", Text, primary_key=True),
        Column("role", Text, nullable=False),
        Column("token_hash", Text, nullable=False, unique=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Table(
        "share_links",
        md,
        Column("link_id", Integer, primary_key=True, autoincrement=True),
        Column("token_hash", Text, nullable=False, unique=True),
        Column("kind", Text, nullable=False),
        Column("street", Text),
        Column("profile", Text),
        Column("plan_id", Integer),
        Column("lang", Text, nullable=False),
        Column("created_by", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True)),
        Column("revoked_by", Text),
    )
    return md


#: PostgreSQL sequence of change ids. Not owned by the column, so ``TRUNCATE ... RESTART IDENTITY`` of the data
#: does not restart it: a change id is never handed out twice, and a cache keyed on one never sees old data.
CHANGES_SEQUENCE = "changes_change_id_seq"


def changes_table(md: MetaData, dialect: str) -> Table:
    """The change log (see :mod:`geo.stores.changes`): ids only grow (SQLite AUTOINCREMENT, a free PG sequence)."""
    if dialect == "postgresql":
        key = Column("change_id", BigInteger, Sequence(CHANGES_SEQUENCE), primary_key=True)
    else:
        key = Column("change_id", Integer, primary_key=True, autoincrement=True)
    table = Table(
        "changes",
        md,
        key,
        Column("layer", Text, nullable=False),
        Column("streets", JSON),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        sqlite_autoincrement=True,
    )
    Index("ix_changes_layer", table.c.layer, table.c.change_id)
    return table


def rtree_ddl(layer: str) -> list[str]:
    """SQLite R*Tree and the triggers that keep it equal to the layer's bbox columns."""
    t, r = layer, f"{layer}_rtree"
    vals = "new.fid, new.minx, new.maxx, new.miny, new.maxy"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {r} USING rtree(fid, minx, maxx, miny, maxy)",
        f"CREATE TRIGGER IF NOT EXISTS {t}_rtree_ins AFTER INSERT ON {t} BEGIN INSERT INTO {r} VALUES ({vals}); END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_rtree_upd AFTER UPDATE OF minx, miny, maxx, maxy ON {t} BEGIN "
        f"UPDATE {r} SET minx=new.minx, maxx=new.maxx, miny=new.miny, maxy=new.maxy WHERE fid=new.fid; END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_rtree_del AFTER DELETE ON {t} BEGIN "
        f"DELETE FROM {r} WHERE fid=old.fid; END",
    ]


def gist_ddl(layer: str) -> str:
    return f"CREATE INDEX IF NOT EXISTS ix_{layer}_geom ON {layer} USING GIST (geom)"
