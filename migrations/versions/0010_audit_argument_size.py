"""The size of each audited call's arguments, and their SHA-256 when the row keeps only a cut copy.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("arguments_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("arguments_sha256", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_column("arguments_sha256")
        batch_op.drop_column("arguments_bytes")
