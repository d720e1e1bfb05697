"""The demo shop: customers, products, orders and their lines.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('demo_customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demo_customers')),
    sa.UniqueConstraint('email', name=op.f('uq_demo_customers_email'))
    )
    with op.batch_alter_table('demo_customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demo_customers_city'), ['city'], unique=False)

    op.create_table('demo_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demo_products')),
    sa.UniqueConstraint('sku', name=op.f('uq_demo_products_sku'))
    )
    op.create_table('demo_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['demo_customers.id'], name=op.f('fk_demo_orders_customer_id_demo_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demo_orders'))
    )
    with op.batch_alter_table('demo_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demo_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demo_orders_status'), ['status'], unique=False)

    op.create_table('demo_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['demo_orders.id'], name=op.f('fk_demo_order_lines_order_id_demo_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['demo_products.id'], name=op.f('fk_demo_order_lines_product_id_demo_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demo_order_lines'))
    )
    with op.batch_alter_table('demo_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demo_order_lines_order_id'), ['order_id'], unique=False)



def downgrade():
    with op.batch_alter_table('demo_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demo_order_lines_order_id'))

    op.drop_table('demo_order_lines')
    with op.batch_alter_table('demo_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demo_orders_status'))
        batch_op.drop_index(batch_op.f('ix_demo_orders_customer_id'))

    op.drop_table('demo_orders')
    op.drop_table('demo_products')
    with op.batch_alter_table('demo_customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demo_customers_city'))

    op.drop_table('demo_customers')
