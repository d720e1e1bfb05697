"""Who may register what: initial access tokens, consents bound to a resource and redirect URIs,
and client_credentials taken from anonymously registered clients.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

clients = sa.table("oauth_clients", sa.column("id", sa.Integer), sa.column("registered_via", sa.String), sa.column("grant_types", sa.Text))


def upgrade():
    op.create_table(
        "initial_access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initial_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_initial_access_tokens_token_hash")),
    )
    # A consent given before cannot be bound to a resource or redirect URIs after the fact: people
    # are asked once more.
    op.execute(sa.text("DELETE FROM consents"))
    with op.batch_alter_table("consents") as batch_op:
        # SQLite adds a NOT NULL column only with a default; the default goes again at once.
        batch_op.add_column(sa.Column("resource", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("redirect_uris_sha256", sa.String(length=64), nullable=False, server_default=""))
        batch_op.alter_column("resource", server_default=None)
        batch_op.alter_column("redirect_uris_sha256", server_default=None)
    # Until now anyone could register a client_credentials client without an initial access token,
    # and its secret minted tokens with no person or operator involved: take that grant away.
    connection = op.get_bind()
    anonymous = connection.execute(
        sa.select(clients.c.id, clients.c.grant_types).where(
            clients.c.registered_via == "dcr", clients.c.grant_types.like("%client_credentials%")
        )
    ).all()
    for row_id, grant_types in anonymous:
        kept = " ".join(g for g in grant_types.split() if g != "client_credentials")
        connection.execute(sa.update(clients).where(clients.c.id == row_id).values(grant_types=kept))


def downgrade():
    with op.batch_alter_table("consents") as batch_op:
        batch_op.drop_column("redirect_uris_sha256")
        batch_op.drop_column("resource")
    op.drop_table("initial_access_tokens")
