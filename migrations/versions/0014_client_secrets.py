"""Several secrets per client, each with its own expiry and last use, for rotation with a grace;
an expiry for the client itself. Each client's one secret hash moves to the new table.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime, utcnow

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

clients = sa.table(
    "oauth_clients",
    sa.column("client_id", sa.String),
    sa.column("client_secret_hash", sa.String),
    sa.column("created_at", UTCDateTime),
)
client_secrets = sa.table(
    "client_secrets",
    sa.column("id", sa.Integer),
    sa.column("client_id", sa.String),
    sa.column("secret_hash", sa.String),
    sa.column("created_at", UTCDateTime),
    sa.column("expires_at", UTCDateTime),
)


def upgrade():
    op.create_table(
        "client_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["oauth_clients.client_id"], name=op.f("fk_client_secrets_client_id_oauth_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_secrets")),
    )
    op.create_index(op.f("ix_client_secrets_client_id"), "client_secrets", ["client_id"], unique=False)
    op.execute(
        client_secrets.insert().from_select(
            ["client_id", "secret_hash", "created_at"],
            sa.select(clients.c.client_id, clients.c.client_secret_hash, clients.c.created_at).where(clients.c.client_secret_hash.is_not(None)),
        )
    )
    # In place (SQLite 3.35+ drops a column itself): Alembic's copy-and-drop of the table would, with
    # foreign keys on, cascade the drop to every row that references a client (secrets, consents, grants).
    with op.batch_alter_table("oauth_clients", recreate="never") as batch_op:
        batch_op.drop_column("client_secret_hash")
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))


def downgrade():
    # Each client keeps one secret: its newest live one. Secrets still in a rotation's grace, and
    # the clients' expiries, are lost.
    connection = op.get_bind()
    now = utcnow()
    live = connection.execute(
        sa.select(client_secrets.c.client_id, client_secrets.c.secret_hash)
        .where(sa.or_(client_secrets.c.expires_at.is_(None), client_secrets.c.expires_at > now))
        .order_by(client_secrets.c.id)
    ).all()
    newest = dict(live)  # later rows replace earlier ones
    op.drop_index(op.f("ix_client_secrets_client_id"), table_name="client_secrets")
    op.drop_table("client_secrets")
    with op.batch_alter_table("oauth_clients", recreate="never") as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.add_column(sa.Column("client_secret_hash", sa.String(length=64), nullable=True))
    for client_id, secret_hash in newest.items():
        connection.execute(sa.update(clients).where(clients.c.client_id == client_id).values(client_secret_hash=secret_hash))
