"""The words for stages, to-do kinds, roles and timeline events, marked for translation."""

from __future__ import annotations

from i18n import N_

STAGES = {
    "draft": N_("Draft"),
    "costing": N_("Cost estimate"),
    "approval": N_("Approval"),
    "revising": N_("Revising"),
    "confirmed": N_("Confirmed"),
    "fulfilment": N_("Fulfilment"),
    "acceptance": N_("Acceptance"),
    "collection": N_("Collection"),
    "cost_review": N_("Cost review"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}

TODO_KINDS = {
    "estimate_cost": N_("Estimate the cost"),
    "approve": N_("Approve the order"),
    "revise": N_("Revise and resubmit the order"),
    "plan_shipment": N_("Plan the shipment"),
    "confirm_dispatch": N_("Confirm the dispatch"),
    "confirm_milestone": N_("Confirm a late milestone"),
    "confirm_arrival": N_("Confirm the arrival"),
    "confirm_acceptance": N_("Confirm installation and acceptance"),
    "handle_exception": N_("Handle a shipment exception"),
    "confirm_payment": N_("Confirm a payment received"),
    "collect": N_("Collect an overdue payment"),
    "issue_invoice": N_("Issue an invoice"),
    "record_actual_costs": N_("Record the actual costs"),
    "approve_actual_costs": N_("Approve actual costs"),
    "review_variance": N_("Review the cost variance"),
    "approve_variance": N_("Approve the cost variance"),
    "approve_cancellation": N_("Approve the cancellation"),
    "confirm_refund": N_("Refund the money received"),
    "issue_credit_note": N_("Issue a credit note"),
    "approve_change": N_("Approve a change to the order"),
    "replan_shipment": N_("Re-plan the shipment after a change"),
    "approve_return": N_("Approve a return"),
    "receive_return": N_("Receive returned goods"),
}

ROLES = {
    "sales": N_("Sales rep"),
    "sales_manager": N_("Sales manager"),
    "director": N_("Director"),
    "pricing": N_("Pricing analyst"),
    "ops": N_("Business operations"),
    "ops_manager": N_("Operations manager"),
    "warehouse": N_("Warehouse"),
    "service": N_("Service engineer"),
    "finance": N_("Finance"),
    "follower": N_("Order follower"),
    "admin": N_("Administrator"),
}

EVENTS = {
    "created": N_("Draft created"),
    "submitted": N_("Submitted"),
    "estimated": N_("Cost estimated"),
    "approval_requested": N_("Approval requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "resubmitted": N_("Resubmitted"),
    "withdrawn": N_("Withdrawn"),
    "confirmed": N_("Order confirmed"),
    "unroutable": N_("No one can approve"),
    "routed_again": N_("Routed again"),
    "approval_reminded": N_("Approver reminded"),
    "approval_escalated": N_("Approval escalated"),
    "approval_not_escalated": N_("No one above to escalate to"),
    "approved_final": N_("Order approved"),
    "shipment_planned": N_("Shipment planned"),
    "held_for_deposit": N_("Dispatch held until the deposit is paid"),
    "hold_released": N_("Dispatch hold released"),
    "dispatched": N_("Dispatched"),
    "dispatched_in_part": N_("Dispatched in part"),
    "milestone_late": N_("Milestone late"),
    "milestone_done": N_("Milestone done"),
    "milestone_replanned": N_("Milestone re-planned"),
    "shipment_replanned": N_("Shipment re-planned after a change"),
    "extra_dispatch_asked": N_("Extra quantities to dispatch"),
    "arrived": N_("Arrived"),
    "accepted": N_("Accepted by the customer"),
    "exception_raised": N_("Exception raised"),
    "exception_resolved": N_("Exception resolved"),
    "installments_due": N_("Installments fixed"),
    "payment_registered": N_("Payment registered"),
    "payment_confirmed": N_("Payment confirmed"),
    "payment_rejected": N_("Payment rejected"),
    "installment_due_soon": N_("Payment due soon"),
    "installment_overdue": N_("Payment overdue"),
    "overdue_escalated": N_("Overdue payment escalated"),
    "fully_paid": N_("Fully paid"),
    "invoice_requested": N_("Invoice requested"),
    "invoice_issued": N_("Invoice issued"),
    "invoice_rejected": N_("Invoice request rejected"),
    "actual_costs_recorded": N_("Actual costs recorded"),
    "actual_costs_complete": N_("All actual costs recorded"),
    "actual_costs_approved": N_("Actual costs approved"),
    "actual_costs_rejected": N_("Actual costs rejected"),
    "cost_review_started": N_("Cost review started"),
    "variance_reviewed": N_("Cost variance reviewed"),
    "variance_approved": N_("Cost variance approved"),
    "variance_rejected": N_("Cost variance sent back"),
    "change_requested": N_("Change requested"),
    "change_estimated": N_("Change estimated by pricing"),
    "change_applied": N_("Change applied"),
    "change_rejected": N_("Change request rejected"),
    "change_withdrawn": N_("Change request withdrawn"),
    "closed": N_("Order closed"),
    "cancelled": N_("Order cancelled"),
    "cancellation_requested": N_("Cancellation requested"),
    "cancellation_approved": N_("Cancellation approved"),
    "cancellation_approved_by_manager": N_(
        "Cancellation approved by the manager, on to the director"
    ),
    "cancellation_rejected": N_("Cancellation rejected"),
    "shipment_withdrawn": N_("Shipment withdrawn, stock released"),
    "collection_stopped": N_("Collection stopped"),
    "refunded": N_("Money refunded"),
    "credit_note_issued": N_("Credit note issued"),
    "return_requested": N_("Return requested"),
    "return_approved": N_("Return approved"),
    "return_rejected": N_("Return rejected"),
    "return_received": N_("Returned goods received"),
    "return_closed": N_("Rest of the return closed"),
}

OUTCOMES = {
    "estimated": N_("Estimated"),
    "approve": N_("Approved"),
    "reject": N_("Rejected"),
    "resubmit": N_("Resubmitted"),
    "withdraw": N_("Withdrawn"),
    "cancelled": N_("Cancelled"),
    "confirm": N_("Confirmed"),
    "issued": N_("Issued"),
    "paid": N_("Paid"),
    "recorded": N_("Recorded"),
    "reviewed": N_("Reviewed"),
    "refunded": N_("Refunded"),
    "received": N_("Received"),
}

COLLECTION_STATUSES = {
    "not_due": N_("Not due"),
    "due": N_("Due"),
    "overdue": N_("Overdue"),
    "paid": N_("Paid"),
}

PAYMENT_STATUSES = {
    "pending": N_("Waiting for finance"),
    "confirmed": N_("Confirmed"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
}

INVOICE_STATUSES = {
    "requested": N_("Requested"),
    "issued": N_("Issued"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
}

COST_CATEGORIES = {
    "goods": N_("Goods"),
    "freight": N_("Freight"),
    "installation": N_("Installation"),
    "customs": N_("Customs"),
    "other": N_("Other"),
    "return_freight": N_("Return freight"),
}

COST_BATCH_STATUSES = {
    "pending": N_("Waiting for finance"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}

SHIPPING_MODES = {"domestic": N_("Domestic"), "export": N_("Export")}

TRIGGERS = {
    "confirmation": N_("on confirmation"),
    "dispatch": N_("on dispatch"),
    "acceptance": N_("on acceptance"),
    "fixed_date": N_("on a fixed date"),
}

ROUND_STATUSES = {
    "running": N_("In progress"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
}

# Why an order is cancelled (models.domain.REASON_CODES), and how far its cancellation is.
CANCELLATION_REASONS = {
    "customer_request": N_("The customer asked"),
    "duplicate": N_("Duplicate order"),
    "credit": N_("Credit problem"),
    "stock": N_("Out of stock"),
    "price": N_("Price"),
    "other": N_("Other"),
}

CANCELLATION_STATUSES = {
    "requested": N_("Waiting for approval"),
    "rejected": N_("Rejected"),
    "refunding": N_("Approved: refunds and credit notes pending"),
    "cancelled": N_("Cancelled"),
}

REFUND_STATUSES = {"pending": N_("Waiting for finance"), "refunded": N_("Refunded")}

RETURN_STATUSES = {
    "requested": N_("Waiting for approval"),
    "rejected": N_("Rejected"),
    "approved": N_("Approved: waiting for the goods"),
    "receiving": N_("Partly received"),
    "received": N_("Received"),
    "closed": N_("Closed: the rest will not come back"),
}

# Approval requirements by their policy code.
REQUIREMENTS = {
    "sales_manager": N_("Sales manager"),
    "director": N_("Director"),
    "finance": N_("Finance (credit)"),
    "warehouse": N_("Warehouse (stock)"),
}

# Units of measure by the code a product stores (models.tables.Product.unit); a unit not listed
# here is shown as it is stored.
UNITS = {
    "pcs": N_("pcs"),
    "set": N_("set"),
    "m": N_("m"),
    "barrel": N_("barrel"),
    "kg": N_("kg"),
    "box": N_("box"),
}

# Shipment milestones by their code (the pages' shipments/_words.html says them the same way).
MILESTONES = {
    "picking": N_("Picking"),
    "dispatch": N_("Dispatch"),
    "port_departure": N_("Port departure"),
    "customs_declaration": N_("Customs declaration"),
    "commodity_inspection": N_("Commodity inspection"),
    "arrival": N_("Arrival"),
}

# Units of measure by the code a product stores (models.tables.Product.unit); a unit not listed
# here is shown as it is stored.
UNITS = {
    "pcs": N_("pcs"),
    "set": N_("set"),
    "m": N_("m"),
    "barrel": N_("barrel"),
    "kg": N_("kg"),
    "box": N_("box"),
}
