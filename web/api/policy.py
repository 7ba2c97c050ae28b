"""The approval policy in the JSON API: read the one in force, save a new version (admin)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["policy"])
