"""Initial schema: layers, survey, edit history, stage events, plans, users.

Revision ID: 0001
Revises:
"""

from alembic import op

from geo.model import SPATIAL_LAYERS
from geo.stores.schema import build_metadata, gist_ddl, rtree_ddl

revision = "0001"
down_revision = None


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    build_metadata(dialect).create_all(bind)
    for layer in SPATIAL_LAYERS:
        for ddl in rtree_ddl(layer) if dialect == "sqlite" else [gist_ddl(layer)]:
            op.execute(ddl)


def downgrade() -> None:
    bind = op.get_bind()
    build_metadata(bind.dialect.name).drop_all(bind)
    if bind.dialect.name == "sqlite":
        for layer in SPATIAL_LAYERS:
            op.execute(f"DROP TABLE IF EXISTS {layer}_rtree")
