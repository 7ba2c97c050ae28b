"""Administration pages: users, departments, customers, products and the mail outbox."""

from __future__ import annotations

from web.pages.common import page_router

router = page_router()
