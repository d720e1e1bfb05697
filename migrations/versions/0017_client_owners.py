"""A client's owner: the developer who registered it in the developer portal (None for clients an
operator, a registration or a metadata document made). When the person goes, the client stays,
owned by nobody, for operators to manage.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_oauth_clients_owner_id_users"
INDEX = "ix_oauth_clients_owner_id"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # In place: Alembic's copy-and-drop of oauth_clients would cascade the drop to every row
        # that refers to a client (0014 says why), and SQLite adds a column's reference only inline.
        op.execute(f"ALTER TABLE oauth_clients ADD COLUMN owner_id INTEGER CONSTRAINT {FOREIGN_KEY} REFERENCES users (id) ON DELETE SET NULL")
    else:
        op.add_column("oauth_clients", sa.Column("owner_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "oauth_clients", "users", ["owner_id"], ["id"], ondelete="SET NULL")
    op.create_index(INDEX, "oauth_clients", ["owner_id"], unique=False)


def downgrade():
    # Who registered each client is lost: before 0017 nobody owned one.
    op.drop_index(INDEX, table_name="oauth_clients")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(FOREIGN_KEY, "oauth_clients", type_="foreignkey")
    with op.batch_alter_table("oauth_clients", recreate="never") as batch_op:
        batch_op.drop_column("owner_id")
