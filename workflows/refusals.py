"""The types of a workflow's refusals of a person's action, which the web layer maps to HTTP
status codes (kept apart so the web imports them without the workflows' steps)."""

from __future__ import annotations

NOT_OPEN = "TodoNotOpen"
NOT_ASSIGNEE = "NotAssignee"
SELF_APPROVAL = "SelfApproval"
INVALID = "InvalidInput"
