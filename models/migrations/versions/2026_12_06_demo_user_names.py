"""users.full_name: the demo users' names without an English role suffix

The seed named people "Wang Fang (Sales, East)", "Lin Xue (Finance)": the suffix, in English,
showed beside Chinese text everywhere a name appears (the inbox's "asked by", approvals, the
timeline, mail). A person's role and department are shown, translated, where they matter; the
name is the name. This renames the seeded demo logins that still carry their seeded name (their
seed username, e-mail and old name), leaving anyone an administrator renamed alone.
No schema change; the downgrade gives the old names back.

Revision ID: 3f6b8d2e1a47
Revises: 7c3e9a1f5b20
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6b8d2e1a47"
down_revision: str | None = "7c3e9a1f5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# login -> (name as seeded up to this revision, name from now on); fixed here so the migration
# does not change when the seed does.
RENAMED = {
    "director": ("Zhou Wei (Director)", "Zhou Wei"),
    "sales_manager": ("Li Na (Sales manager, East)", "Li Na"),
    "sales_manager2": ("Zhao Lei (Sales manager, North)", "Zhao Lei"),
    "sales": ("Wang Fang (Sales, East)", "Wang Fang"),
    "sales2": ("Chen Jie (Sales, North)", "Chen Jie"),
    "follower": ("Liu Yang (Order follower)", "Liu Yang"),
    "pricing": ("Sun Li (Pricing)", "Sun Li"),
    "ops_manager": ("Ma Jun (Operations manager)", "Ma Jun"),
    "ops": ("Hu Min (Business operations)", "Hu Min"),
    "warehouse": ("Guo Qiang (Warehouse)", "Guo Qiang"),
    "service": ("He Tao (Service engineer)", "He Tao"),
    "finance": ("Lin Xue (Finance)", "Lin Xue"),
}

users = sa.table(
    "users",
    sa.column("username", sa.String),
    sa.column("email", sa.String),
    sa.column("full_name", sa.String),
)


def _rename(old: int, new: int) -> None:
    for login, names in RENAMED.items():
        op.execute(
            users.update()
            .where(
                users.c.username == login,
                users.c.email == f"{login}@o2c.example.com",
                users.c.full_name == names[old],
            )
            .values(full_name=names[new])
        )


def upgrade() -> None:
    _rename(0, 1)


def downgrade() -> None:
    _rename(1, 0)
