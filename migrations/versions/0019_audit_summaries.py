"""The operations dashboard over a week or a month: the hourly counts summed per tool and per
client, per day and per hour, and per hour over all calls; the hourly latency histograms summed
per day (authserver/audit_summaries.py).

The tables start empty: reads fill them from the hourly tables, a week at a time. No record and no
hourly row is touched either way.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# Each table: its time column, the columns it keeps (with their types), then its calls.
TABLES: dict[str, tuple[str, list[tuple[str, sa.types.TypeEngine[Any]]]]] = {
    "audit_day_tools": ("day", [("tool", sa.String(length=128)), ("outcome", sa.String(length=20)), ("rate_limit", sa.String(length=10))]),
    "audit_day_clients": ("day", [("client_id", sa.String(length=255)), ("outcome", sa.String(length=20)), ("rate_limit", sa.String(length=10))]),
    "audit_hour_tools": ("hour", [("tool", sa.String(length=128)), ("outcome", sa.String(length=20)), ("rate_limit", sa.String(length=10))]),
    "audit_hour_clients": ("hour", [("client_id", sa.String(length=255)), ("outcome", sa.String(length=20)), ("rate_limit", sa.String(length=10))]),
    "audit_hour_outcomes": ("hour", [("outcome", sa.String(length=20)), ("rate_limit", sa.String(length=10))]),
    "audit_latency_days": ("day", [("tool", sa.String(length=128)), ("bucket", sa.SmallInteger())]),
}


def upgrade():
    for name, (unit, keys) in TABLES.items():
        op.create_table(
            name,
            sa.Column(unit, UTCDateTime(timezone=True), nullable=False),
            *(sa.Column(key, kind, nullable=False) for key, kind in keys),
            sa.Column("calls", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(unit, *(key for key, _ in keys), name=op.f(f"pk_{name}")),
        )


def downgrade():
    for name in reversed(TABLES):
        op.drop_table(name)
