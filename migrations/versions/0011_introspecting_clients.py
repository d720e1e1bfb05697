"""Clients an operator allows to introspect any access token: resource servers with their own
credentials (RFC 7662 section 4).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.add_column(sa.Column("may_introspect", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.drop_column("may_introspect")
