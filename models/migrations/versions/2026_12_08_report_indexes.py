"""report_indexes: indexes the reports read a period's orders, payments, to-dos and stage
changes by

On 100,000 orders over two years (bench/reports.py) every report that takes a period scanned a
whole table for it: the orders confirmed in a period (performance, customer and order
statistics: a covering index with the figures they sum; another for a manager's departments,
whose own index alone read every order of the tree), the payments received in it
(performance), the return lines of an order line (order statistics by product category), the
to-dos completed in it and the open ones oldest first (where orders wait), and the stage
changes of a period (timeline events by kind and moment).

Revision ID: 4d8b1f6a2c90
Revises: 7c2e9a4f1d35
Create Date: 2026-12-08 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4d8b1f6a2c90"
down_revision: str | None = "7c2e9a4f1d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    (
        "orders",
        "ix_orders_confirmed_figures",
        [
            "confirmed_at",
            "stage",
            "owner_id",
            "department_id",
            "customer_id",
            "total",
            "returned",
            "paid",
            "invoiced",
        ],
    ),  # fmt: skip
    (
        "orders",
        "ix_orders_department_confirmed",
        [
            "department_id",
            "confirmed_at",
            "stage",
            "owner_id",
            "customer_id",
            "total",
            "returned",
            "paid",
            "invoiced",
        ],
    ),
    ("payments", "ix_payments_received", ["status", "received_on", "order_id", "amount"]),
    ("order_return_lines", "ix_order_return_lines_order_line_id", ["order_line_id"]),
    (
        "todos",
        "ix_todos_completed",
        ["status", "completed_at", "kind", "created_at", "completed_by_id", "order_id"],
    ),
    ("todos", "ix_todos_open_oldest", ["status", "created_at"]),
    ("timeline_events", "ix_timeline_events_kind_at", ["kind", "at", "order_id"]),
]


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
