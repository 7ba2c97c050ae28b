"""receivables: a covering index of open installments by order

The receivables list and the aging report read every open installment's order, due date,
amount and paid amount (models/receivables.py); with this index they never touch the table.

Revision ID: a637495cc38b
Revises: 5122947cfd13
Create Date: 2026-11-24 03:36:30.533229
"""

from collections.abc import Sequence

from alembic import op


revision: str = "a637495cc38b"
down_revision: str | None = "5122947cfd13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("installments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_installments_open_by_order",
            ["settled", "order_id", "due_on", "amount", "paid"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("installments", schema=None) as batch_op:
        batch_op.drop_index("ix_installments_open_by_order")
