"""The admin page that edits the approval policy; each save is a new version."""

from __future__ import annotations

from web.pages.common import page_router

router = page_router()
