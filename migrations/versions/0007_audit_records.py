"""The audit trail of tool calls.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('tool', sa.String(length=128), nullable=False),
    sa.Column('arguments', sa.JSON(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Double(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('session_id', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_records'))
    )
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_records_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_records_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_records_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_records_tool'), ['tool'], unique=False)



def downgrade():
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_records_tool'))
        batch_op.drop_index(batch_op.f('ix_audit_records_request_id'))
        batch_op.drop_index(batch_op.f('ix_audit_records_client_id'))
        batch_op.drop_index(batch_op.f('ix_audit_records_at'))

    op.drop_table('audit_records')
