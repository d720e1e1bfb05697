"""Taking access back: revocation entries that void tokens issued before a moment; a person's
session generation, which ends every session of the person when it moves.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # Entries written before voided every token of their key until they expired: valid_from is
    # their expiry, so they keep doing so.
    with op.batch_alter_table("revocations") as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.Integer(), nullable=True))
    op.execute("UPDATE revocations SET valid_from = expires_at")
    with op.batch_alter_table("revocations") as batch_op:
        batch_op.alter_column("valid_from", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("session_generation")
    with op.batch_alter_table("revocations") as batch_op:
        batch_op.drop_column("valid_from")
