"""users.locale: the demo users no longer carry 'en' as if they had chosen it

The seed gave every demo user locale 'en', which outranks the language picked on the login page
and the browser's, so Chinese users got English after signing in. A user with no saved choice
(NULL) follows the login page's pick or the browser until they choose in their profile. Users
the administrator creates were NULL already; this clears 'en' on the seeded demo logins
(their seed username and e-mail), the only rows that got it without anyone choosing.
No schema change; the downgrade gives them 'en' back.

Revision ID: 9b4e2f7a1c63
Revises: 5e7a1c0d9b24
Create Date: 2026-12-06 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b4e2f7a1c63"
down_revision: str | None = "5e7a1c0d9b24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The demo logins as seeded up to this revision (models/seed.py), fixed here so the migration
# does not change when the seed does.
DEMO_LOGINS = (
    "director",
    "sales_manager",
    "sales_manager2",
    "sales",
    "sales2",
    "follower",
    "pricing",
    "ops_manager",
    "ops",
    "warehouse",
    "service",
    "finance",
    "admin",
)

users = sa.table(
    "users",
    sa.column("username", sa.String),
    sa.column("email", sa.String),
    sa.column("locale", sa.String),
)


def _demo_users(locale: str | None) -> sa.ColumnElement[bool]:
    return sa.and_(
        users.c.username.in_(DEMO_LOGINS),
        users.c.email == users.c.username + "@o2c.example.com",
        users.c.locale.is_(None) if locale is None else users.c.locale == locale,
    )


def upgrade() -> None:
    op.execute(users.update().where(_demo_users("en")).values(locale=None))


def downgrade() -> None:
    op.execute(users.update().where(_demo_users(None)).values(locale="en"))
