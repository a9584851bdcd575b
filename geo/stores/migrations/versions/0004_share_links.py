"""Share links: read-only links to one map page that open without a token, expire and can be revoked.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from geo.stores.schema import build_metadata

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    bind = op.get_bind()
    build_metadata(bind.dialect.name).tables["share_links"].create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    build_metadata(bind.dialect.name).tables["share_links"].drop(bind, checkfirst=True)
