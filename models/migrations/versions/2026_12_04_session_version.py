"""users.session_version: sign-out revokes every session cookie and bearer token

Cookies and tokens carry a stamp of the user's session_version (web/security.py); signing out
bumps it, so a cookie or token copied before sign-out no longer signs anyone in.

Revision ID: e90aec5a18d3
Revises: afc698395a95
Create Date: 2026-12-04 20:27:08.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "e90aec5a18d3"
down_revision: str | None = "afc698395a95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
