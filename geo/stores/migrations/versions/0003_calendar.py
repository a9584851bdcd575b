"""Official holiday calendar: the years a bureau adds from the State Council's notice (``renewal calendar import``).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from geo.stores.schema import build_metadata

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    bind = op.get_bind()
    # 0001 builds every table of the current metadata, so a new store already has this one.
    build_metadata(bind.dialect.name).tables["calendar_days"].create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    build_metadata(bind.dialect.name).tables["calendar_days"].drop(bind, checkfirst=True)
