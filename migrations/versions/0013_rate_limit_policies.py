"""Rate-limit policies: a client's own limit per person and per tool, and which limit refused an
audited call.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.add_column(sa.Column("person_rate_limit_per_minute", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tool_rate_limits", sa.JSON(), nullable=True))
    with op.batch_alter_table("audit_records") as batch_op:
        batch_op.add_column(sa.Column("rate_limit", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_records") as batch_op:
        batch_op.drop_column("rate_limit")
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.drop_column("tool_rate_limits")
        batch_op.drop_column("person_rate_limit_per_minute")
