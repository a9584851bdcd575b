"""The change log: one row per layer written by each committed transaction (the caches' data stamp).

Revision ID: 0002
Revises: 0001
"""

from alembic import op
from sqlalchemy import MetaData, Sequence

from geo.stores.schema import CHANGES_SEQUENCE, changes_table

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        Sequence(CHANGES_SEQUENCE).create(bind, checkfirst=True)
    changes_table(MetaData(), dialect).create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    changes_table(MetaData(), bind.dialect.name).drop(bind, checkfirst=True)
    if bind.dialect.name == "postgresql":
        Sequence(CHANGES_SEQUENCE).drop(bind, checkfirst=True)
