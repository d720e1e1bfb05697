"""Operators' switches for tools.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tool_states",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tool_states")),
    )
    op.create_index(op.f("ix_tool_states_changed_at"), "tool_states", ["changed_at"])


def downgrade():
    op.drop_index(op.f("ix_tool_states_changed_at"), table_name="tool_states")
    op.drop_table("tool_states")
