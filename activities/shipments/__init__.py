"""Activities of an order's shipment, from reserving stock to the acceptance."""

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
