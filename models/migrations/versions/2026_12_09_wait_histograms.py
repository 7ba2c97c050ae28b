"""wait_histograms: each wait counted when it ends, for where orders wait; filled from the
to-dos and timelines already recorded

The report read every to-do completed and every stage change of its period (on 100,000 orders
over 12 months, ~435,000 to-dos and ~550,000 timeline events: 3-4 s). From here on the steps
count each to-do they complete and each stage an order leaves, by the company's day, month,
quarter and year; this migration counts those already recorded, in the company's time zone
(the one an administrator saved, else O2C_TIME_ZONE), with the same code
(models/reports/wait_counts.py).

Revision ID: c018eebaa746
Revises: 4d8b1f6a2c90
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.reports.wait_counts import rebuild_wait_histograms
from settings import get_settings

revision: str = "c018eebaa746"
down_revision: str | None = "4d8b1f6a2c90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wait_histograms",
        sa.Column("span", sa.String(length=1), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=5), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("waits", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "span",
            "starts",
            "measure",
            "department_id",
            "name",
            "user_id",
            "bucket",
            name=op.f("pk_wait_histograms"),
        ),
        sqlite_with_rowid=False,
    )
    rebuild_wait_histograms(op.get_bind(), default_zone=get_settings().time_zone)


def downgrade() -> None:
    op.drop_table("wait_histograms")
