"""contacts.language: the language mail to a customer's contact is written in

A customer's contacts have no account, so no profile to pick a language in: the administrator
sets it (en or zh_CN). Existing contacts read 'en', the language their mail was written in.

Revision ID: 6c1d2e8f4a90
Revises: 3cfa6df76c9f
Create Date: 2026-12-05 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6c1d2e8f4a90"
down_revision: str | None = "3cfa6df76c9f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=10), server_default="en", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("language")
