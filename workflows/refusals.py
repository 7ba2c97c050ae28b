"""The types of a workflow's refusals of a person's action, which the web layer maps to HTTP
status codes (kept apart so the web imports them without the workflows' steps), and the error a
validator raises for a refusal the input model gave."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from models.domain import Refusal

NOT_OPEN = "TodoNotOpen"
NOT_ASSIGNEE = "NotAssignee"
SELF_APPROVAL = "SelfApproval"
INVALID = "InvalidInput"


def refused(refusal: Refusal, *, type: str = INVALID) -> ApplicationError:
    """The validator's error for a refusal: its message, and as details its template and fields,
    so the web layer can say it in the person's language."""
    return ApplicationError(str(refusal), refusal.template, refusal.params, type=type)


def refuse_if(refusal: Refusal | None, *, type: str = INVALID) -> None:
    """Refuse the update when its input model (or the workflow's state) gave a refusal."""
    if refusal is not None:
        raise refused(refusal, type=type)
