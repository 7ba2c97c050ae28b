"""Administration pages: users, departments, customers, products, the mail outbox and the
company settings.

Every route depends on PageAdmin (403 for anyone but an administrator); the rules and the SQL
are in models.admin and the forms' fields in web.forms.admin, so these modules only turn forms
into fields and refusals into pages.
"""

from __future__ import annotations

from fastapi import APIRouter

from web.pages.admin import company, customers, departments, exports, outbox, products, users

router = APIRouter()
for area in (users, departments, customers, products, outbox, exports, company):
    router.include_router(area.router)
