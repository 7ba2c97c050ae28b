"""targets: monthly targets per person and per department

A month's target (2026-11) of one person or one department, for the order amount confirmed or
for the money collected; at most one per person (or department), month and measure.

Revision ID: 9a4c2e7d1b63
Revises: 3f6b8d2e1a47
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9a4c2e7d1b63"
down_revision: str | None = "3f6b8d2e1a47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (department_id IS NULL)",
            name=op.f("ck_targets_person_or_department"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_targets_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["users.id"], name=op.f("fk_targets_set_by_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_targets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
    )
    op.create_index(op.f("ix_targets_month"), "targets", ["month"], unique=False)
    op.create_index(
        "uq_targets_person",
        "targets",
        ["month", "measure", "user_id"],
        unique=True,
        sqlite_where=sa.text("user_id IS NOT NULL"),
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    op.create_index(
        "uq_targets_department",
        "targets",
        ["month", "measure", "department_id"],
        unique=True,
        sqlite_where=sa.text("department_id IS NOT NULL"),
        postgresql_where=sa.text("department_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_targets_department", table_name="targets")
    op.drop_index("uq_targets_person", table_name="targets")
    op.drop_index(op.f("ix_targets_month"), table_name="targets")
    op.drop_table("targets")
