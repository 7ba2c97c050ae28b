"""export_audits: every export of a list or report (who, when, which list, filters, rows)

Revision ID: 5e1b7c9d2a84
Revises: 9a4c2e7d1b63
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1b7c9d2a84"
down_revision: str | None = "9a4c2e7d1b63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("list_name", sa.String(length=40), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_export_audits_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_audits")),
    )
    op.create_index(op.f("ix_export_audits_user_id"), "export_audits", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_export_audits_exported_at"), "export_audits", ["exported_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_export_audits_exported_at"), table_name="export_audits")
    op.drop_index(op.f("ix_export_audits_user_id"), table_name="export_audits")
    op.drop_table("export_audits")
