"""The dashboard's reads of the audit trail: hourly counts (authserver/audit_hours.py), and each
filter's index with the time in place of the single-column ones on client and tool.

The counts start empty: the first read after the upgrade counts the records two days at a time,
and `drawbridge audit roll-up` counts them all at once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# (old index, its columns) -> (new index, its columns)
REPLACED = [
    (("ix_audit_records_client_id", ["client_id"]), ("ix_audit_records_client_id_at", ["client_id", "at"])),
    (("ix_audit_records_tool", ["tool"]), ("ix_audit_records_tool_at", ["tool", "at"])),
]

# On PostgreSQL, what a client's usage page reads rides in its index (an index-only scan).
INCLUDED = {"ix_audit_records_client_id_at": ["tool", "outcome", "rate_limit", "duration_ms"]}


def upgrade():
    op.create_table(
        "audit_hours",
        sa.Column("hour", UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("rate_limit", sa.String(length=10), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "client_id", "tool", "outcome", "rate_limit", name=op.f("pk_audit_hours")),
    )
    op.create_index("ix_audit_hours_client_id_hour", "audit_hours", ["client_id", "hour"])
    op.create_index("ix_audit_hours_tool_hour", "audit_hours", ["tool", "hour"])
    # Plain CREATE and DROP INDEX on both databases: no copy of the table, however many rows it has.
    for (old, _), (new, columns) in REPLACED:
        op.create_index(new, "audit_records", columns, postgresql_include=INCLUDED.get(new, []))
        op.drop_index(old, table_name="audit_records")
    op.create_index("ix_audit_records_subject_at", "audit_records", ["subject", "at"])


def downgrade():
    op.drop_index("ix_audit_records_subject_at", table_name="audit_records")
    for (old, old_columns), (new, _) in REPLACED:
        op.create_index(old, "audit_records", old_columns)
        op.drop_index(new, table_name="audit_records")
    op.drop_index("ix_audit_hours_tool_hour", table_name="audit_hours")
    op.drop_index("ix_audit_hours_client_id_hour", table_name="audit_hours")
    op.drop_table("audit_hours")
