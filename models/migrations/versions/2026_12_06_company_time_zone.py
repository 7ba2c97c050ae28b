"""company_settings: the company's time zone, one row the administrator edits

Every time shown in pages and mail is converted to it. No row until an administrator saves one:
until then the zone is O2C_TIME_ZONE (Asia/Shanghai by default).

Revision ID: 4d8c2a6e9f13
Revises: 9b4e2f7a1c63
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d8c2a6e9f13"
down_revision: str | None = "9b4e2f7a1c63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "company_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_company_settings_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_settings")),
    )


def downgrade() -> None:
    op.drop_table("company_settings")
