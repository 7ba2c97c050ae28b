"""stock_reservations.part_of: the rest of a partial dispatch

The warehouse may dispatch some lines or quantities of a round now and the rest later: what
left stays the round's reservation (taken), and the rest is reserved in a new round whose
part_of names the round it is the rest of. What left of a line is the sum over a round's parts
(a reshipment, a round of its own, still replaces rather than adds). NULL for every existing
reservation: each was a whole round.

Revision ID: 7c3e9a1f5b20
Revises: 4d8c2a6e9f13
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e9a1f5b20"
down_revision: str | None = "4d8c2a6e9f13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stock_reservations") as batch:
        batch.add_column(sa.Column("part_of", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stock_reservations") as batch:
        batch.drop_column("part_of")
