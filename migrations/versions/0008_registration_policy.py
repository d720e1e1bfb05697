"""Consents bound to a resource and to the client's redirect URIs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # A consent given before cannot be bound to a resource or redirect URIs after the fact: people
    # are asked once more.
    op.execute(sa.text("DELETE FROM consents"))
    with op.batch_alter_table("consents") as batch_op:
        # SQLite adds a NOT NULL column only with a default; the default goes again at once.
        batch_op.add_column(sa.Column("resource", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("redirect_uris_sha256", sa.String(length=64), nullable=False, server_default=""))
        batch_op.alter_column("resource", server_default=None)
        batch_op.alter_column("redirect_uris_sha256", server_default=None)


def downgrade():
    with op.batch_alter_table("consents") as batch_op:
        batch_op.drop_column("redirect_uris_sha256")
        batch_op.drop_column("resource")
