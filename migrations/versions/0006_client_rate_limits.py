"""Each client's own tool-call rate limit (none: the deployment's default).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.add_column(sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.drop_column("rate_limit_per_minute")
