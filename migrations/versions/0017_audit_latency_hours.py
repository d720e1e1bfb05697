"""The dashboard's latency percentiles over long ranges: hourly latency histograms per tool
(authserver/audit_latency.py).

The table starts empty: the first read after the upgrade fills it two days at a time, and
`drawbridge audit roll-up` fills it all at once. No record is touched either way.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_latency_hours",
        sa.Column("hour", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "tool", "bucket", name=op.f("pk_audit_latency_hours")),
    )


def downgrade():
    op.drop_table("audit_latency_hours")
