"""Activities of an order's shipment: plan, hold and release, dispatch with stock leaving, late
milestones, arrival, acceptance and exceptions; one transaction per step, idempotent by key."""

from __future__ import annotations

from activities.shipments.acceptance import AcceptanceActivities
from activities.shipments.dispatch import DispatchActivities
from activities.shipments.milestones import MilestoneActivities
from activities.shipments.planning import ShipmentActivities

__all__ = [
    "AcceptanceActivities",
    "DispatchActivities",
    "MilestoneActivities",
    "ShipmentActivities",
]
