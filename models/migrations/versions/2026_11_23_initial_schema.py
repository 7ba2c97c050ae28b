"""initial schema

Revision ID: 0a2cec0223fb
Revises: 
Create Date: 2026-11-23 22:34:04.312471
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0a2cec0223fb'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One schema change as it shipped, table by table: a migration is history, not split up.
    # departments.manager_id and users.department_id refer to each other: SQLite takes the
    # constraint inline, other databases get it once both tables exist.
    sqlite = op.get_bind().dialect.name == "sqlite"
    manager_fk = (
        [sa.ForeignKeyConstraint(["manager_id"], ["users.id"], name="fk_departments_manager_id_users")]
        if sqlite
        else []
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=50), nullable=False),
    sa.Column('industry', sa.String(length=50), nullable=False),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_number', sa.String(length=50), nullable=False),
    sa.Column('invoice_title', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('name', name=op.f('uq_customers_name'))
    )
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    *manager_fk,
    sa.ForeignKeyConstraint(['parent_id'], ['departments.id'], name=op.f('fk_departments_parent_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('name', name=op.f('uq_departments_name'))
    )
    op.create_table('order_number_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_order_number_counters'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('to_address', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_created_at'), ['created_at'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('list_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('standard_cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('stock_on_hand', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('needs_installation', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('code', name=op.f('uq_products_code'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_customer_id'), ['customer_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_users_department_id_departments')),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], name=op.f('fk_users_manager_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    if not sqlite:
        op.create_foreign_key(
            "fk_departments_manager_id_users", "departments", "users", ["manager_id"], ["id"]
        )
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('shipping_mode', sa.String(length=10), nullable=False),
    sa.Column('requested_delivery_on', sa.Date(), nullable=True),
    sa.Column('order_discount_percent', sa.Numeric(precision=7, scale=3), nullable=True),
    sa.Column('target_total', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('list_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('approval_round', sa.Integer(), nullable=False),
    sa.Column('delayed', sa.Boolean(), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('freight_cost', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('installation_cost', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('other_cost', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('expected_cost', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('expected_margin', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('repeated_from', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_orders_customer_id_customers')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_orders_department_id_departments')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_orders_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_stage'), ['stage'], unique=False)

    op.create_table('approval_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_approval_rounds_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_rounds')),
    sa.UniqueConstraint('order_id', 'number', name=op.f('uq_approval_rounds_order_id'))
    )
    with op.batch_alter_table('approval_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_rounds_order_id'), ['order_id'], unique=False)

    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_order_lines_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines'))
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_lines_order_id'), ['order_id'], unique=False)

    op.create_table('payment_plan_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('fixed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_plan_items_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_plan_items'))
    )
    with op.batch_alter_table('payment_plan_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_plan_items_order_id'), ['order_id'], unique=False)

    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_timeline_events_actor_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_timeline_events_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_events')),
    sa.UniqueConstraint('key', name=op.f('uq_timeline_events_key'))
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_events_order_id'), ['order_id'], unique=False)

    op.create_table('todos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_todos_completed_by_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_todos_order_id_orders')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_todos_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_todos')),
    sa.UniqueConstraint('key', name=op.f('uq_todos_key'))
    )
    with op.batch_alter_table('todos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_todos_order_id'), ['order_id'], unique=False)

    op.create_table('approval_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('todo_id', sa.Integer(), nullable=False),
    sa.Column('assignee_label', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_approval_steps_decided_by_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['approval_rounds.id'], name=op.f('fk_approval_steps_round_id_approval_rounds')),
    sa.ForeignKeyConstraint(['todo_id'], ['todos.id'], name=op.f('fk_approval_steps_todo_id_todos')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_steps'))
    )
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_steps_round_id'), ['round_id'], unique=False)

    op.create_table('todo_assignees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('todo_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_todo_assignees_department_id_departments')),
    sa.ForeignKeyConstraint(['todo_id'], ['todos.id'], name=op.f('fk_todo_assignees_todo_id_todos')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_todo_assignees_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_todo_assignees'))
    )
    with op.batch_alter_table('todo_assignees', schema=None) as batch_op:
        batch_op.create_index('ix_todo_assignees_department_inbox', ['department_id', 'status', 'created_at'], unique=False)
        batch_op.create_index('ix_todo_assignees_role_inbox', ['role', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_todo_assignees_todo_id'), ['todo_id'], unique=False)
        batch_op.create_index('ix_todo_assignees_user_inbox', ['user_id', 'status', 'created_at'], unique=False)



def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_departments_manager_id_users", "departments", type_="foreignkey")
    with op.batch_alter_table('todo_assignees', schema=None) as batch_op:
        batch_op.drop_index('ix_todo_assignees_user_inbox')
        batch_op.drop_index(batch_op.f('ix_todo_assignees_todo_id'))
        batch_op.drop_index('ix_todo_assignees_role_inbox')
        batch_op.drop_index('ix_todo_assignees_department_inbox')

    op.drop_table('todo_assignees')
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_steps_round_id'))

    op.drop_table('approval_steps')
    with op.batch_alter_table('todos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_todos_order_id'))

    op.drop_table('todos')
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_events_order_id'))

    op.drop_table('timeline_events')
    with op.batch_alter_table('payment_plan_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_plan_items_order_id'))

    op.drop_table('payment_plan_items')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_order_id'))

    op.drop_table('order_lines')
    with op.batch_alter_table('approval_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_rounds_order_id'))

    op.drop_table('approval_rounds')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_stage'))
        batch_op.drop_index(batch_op.f('ix_orders_owner_id'))
        batch_op.drop_index(batch_op.f('ix_orders_department_id'))
        batch_op.drop_index(batch_op.f('ix_orders_customer_id'))

    op.drop_table('orders')
    op.drop_table('users')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_customer_id'))

    op.drop_table('contacts')
    op.drop_table('products')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_created_at'))

    op.drop_table('outbox')
    op.drop_table('order_number_counters')
    op.drop_table('departments')
    op.drop_table('customers')
    # ### end Alembic commands ###
