"""owner_report_index: a rep's orders confirmed in a period, with the figures the reports sum

The order statistics sum the orders a month at a time (one range of an index per month). For
a sales rep, whose scope is their own orders, SQLite read all of them through ix_orders_owner_id
for each month; this index, led by the owner like ix_orders_department_confirmed is by the
department, finds a rep's month of orders and covers what the reports sum of them.

Revision ID: 5e7a9c1d3b24
Revises: c018eebaa746
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e7a9c1d3b24"
down_revision: str | None = "c018eebaa746"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "owner_id",
    "confirmed_at",
    "stage",
    "department_id",
    "customer_id",
    "total",
    "returned",
    "paid",
    "invoiced",
]


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_owner_confirmed", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_owner_confirmed")
