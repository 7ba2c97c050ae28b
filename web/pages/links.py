"""Deciding an approval from the link in its e-mail, without logging in."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
