"""Share links: read-only links to one map page that open without a token, expire and can be revoked.

Revision ID: i15b_share_links
Revises: 0001
"""

from alembic import op

from geo.stores.schema import build_metadata

revision = "i15b_share_links"
down_revision = "0001"


def upgrade() -> None:
    bind = op.get_bind()
    build_metadata(bind.dialect.name).tables["share_links"].create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    build_metadata(bind.dialect.name).tables["share_links"].drop(bind, checkfirst=True)
