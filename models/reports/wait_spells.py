"""How long orders wait, as pure functions: the stages an order went through read from its
timeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from models.domain import Stage

# The timeline event that says the order entered a stage. Stage changes are not events of
# their own: each is recorded with the step that makes it.
STAGE_ENTERED = {
    "submitted": Stage.costing,
    "resubmitted": Stage.costing,
    "estimated": Stage.approval,
    "approval_requested": Stage.approval,
    "rejected": Stage.revising,
    "confirmed": Stage.confirmed,
    "shipment_planned": Stage.fulfilment,
    "arrived": Stage.acceptance,
    "accepted": Stage.collection,
    "cost_review_started": Stage.cost_review,
    "closed": Stage.closed,
    "cancelled": Stage.cancelled,
    "withdrawn": Stage.cancelled,
}
# The stages a report measures, in the order an order goes through them.
MEASURED_STAGES = (
    Stage.costing,
    Stage.approval,
    Stage.revising,
    Stage.confirmed,
    Stage.fulfilment,
    Stage.acceptance,
    Stage.collection,
    Stage.cost_review,
)
_PATH = {stage: n for n, stage in enumerate(MEASURED_STAGES)}
_BEFORE_CONFIRMATION = {None, Stage.costing, Stage.approval, Stage.revising}
_AFTER_CONFIRMATION = {Stage.closed, Stage.cancelled}


@dataclass(frozen=True)
class Spell:
    """An order in one stage from `began` until `ended`."""

    stage: Stage
    began: datetime
    ended: datetime

    @property
    def seconds(self) -> float:
        return (self.ended - self.began).total_seconds()


def _moves(current: Stage | None, entered: Stage) -> bool:
    """Whether an event names a stage change: the same stage again is none (estimated, then
    the round's approval_requested); a rejection after confirmation is a change request's or
    a return's round, not the order's revision; nothing comes after closed or cancelled."""
    if entered == current or current in _AFTER_CONFIRMATION:
        return False
    if entered in _BEFORE_CONFIRMATION:
        return current in _BEFORE_CONFIRMATION
    if entered in _AFTER_CONFIRMATION or current is None:
        return True
    return _PATH.get(entered, -1) > _PATH.get(current, -1)


def stage_spells(events: Iterable[tuple[datetime, str]]) -> list[Spell]:
    """The stages an order finished, each with when it entered and left it, from its timeline
    events in time order; the stage it is in now has no end yet and is left out."""
    spells: list[Spell] = []
    current: Stage | None = None
    began: datetime | None = None
    for at, kind in events:
        entered = STAGE_ENTERED.get(kind)
        if entered is None or not _moves(current, entered):
            continue
        if current is not None and began is not None and current in _PATH:
            spells.append(Spell(stage=current, began=began, ended=at))
        current, began = entered, at
    return spells
