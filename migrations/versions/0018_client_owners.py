"""A client's owner: the developer who registered it in the developer portal (None for clients an
operator, a registration or a metadata document made). When the person goes, the client stays,
owned by nobody, for operators to manage.

On SQLite the batch copies oauth_clients to add the reference; migrations/env.py turns foreign keys
off meanwhile, so the copy's drop of the old table cascades to nothing that refers to a client.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_oauth_clients_owner_id"), ["owner_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_oauth_clients_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="SET NULL")


def downgrade():
    # Who registered each client is lost: before 0018 nobody owned one.
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_oauth_clients_owner_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_oauth_clients_owner_id"))
        batch_op.drop_column("owner_id")
