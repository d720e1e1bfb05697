"""Client ID Metadata Documents: a client_id may be the URL of the client's metadata document, so
every column holding one takes MAX_CLIENT_ID_LENGTH characters (the revocation key "client:" and
one too); and the copy of a document is fresh until a moment its cache headers set.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# (table, column, old length, new length)
WIDENED = [
    ("oauth_clients", "client_id", 64, 255),
    ("consents", "client_id", 64, 255),
    ("authorization_codes", "client_id", 64, 255),
    ("grants", "client_id", 64, 255),
    ("jobs", "client_id", 64, 255),
    ("audit_records", "client_id", 64, 255),
    ("revocations", "key", 120, 300),
]


def upgrade():
    for table, column, old, new in WIDENED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=new))
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.add_column(sa.Column("document_fresh_until", UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.drop_column("document_fresh_until")
    for table, column, old, new in reversed(WIDENED):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=new), type_=sa.String(length=old))
