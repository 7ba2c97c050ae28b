"""The activities the workflows call, by their Temporal name and their input and result types, so
a workflow (and the web app that imports it) never imports the activities' database code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from models.domain import (
    CancellationStep,
    CancellationStepResult,
    CollectionStep,
    CollectionStepResult,
    ConfirmOrder,
    CostingStarted,
    CostStep,
    CostStepResult,
    Escalated,
    ExtraDispatch,
    InvoiceStep,
    InvoiceStepResult,
    MarkLate,
    OpenReplan,
    OpenStage,
    PrepareRerouting,
    RaiseException,
    RecordAcceptance,
    RecordArrival,
    RecordDecision,
    RecordDispatch,
    RecordEstimate,
    RecordMilestone,
    RecordPlan,
    RecordUnroutable,
    ReleaseHold,
    ReplanMilestone,
    ResolveException,
    Resubmit,
    Resubmitted,
    ReturnStep,
    ReturnStepResult,
    RoundFacts,
    SendMail,
    ShipmentStep,
    ShipmentStepResult,
    StartCosting,
    StartShipment,
    StepResult,
    TodoReminder,
    Withdraw,
)
from models.domain.changes import (
    ApplyChange,
    ChangeApplied,
    ChangeRecorded,
    ChangeStepResult,
    CloseChange,
    OpenChangeEstimate,
    RecordChange,
    RecordChangeEstimate,
)

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Step(Generic[ArgT, ResultT]):
    """An activity as a workflow calls it. The name is the activity type recorded in every
    history, so it stays the activity method's name; tests/workflows/test_activity_refs.py
    checks the name and both types against the activities the worker registers."""

    name: str
    arg_type: type[ArgT]
    result_type: type[ResultT]


class OrderSteps:
    """The steps of activities.orders.OrderActivities."""

    start_costing = Step("start_costing", StartCosting, CostingStarted)
    record_estimate = Step("record_estimate", RecordEstimate, RoundFacts)
    resubmit = Step("resubmit", Resubmit, Resubmitted)
    withdraw = Step("withdraw", Withdraw, StepResult)
    confirm_order = Step("confirm_order", ConfirmOrder, StepResult)
    record_unroutable = Step("record_unroutable", RecordUnroutable, StepResult)
    prepare_rerouting = Step("prepare_rerouting", PrepareRerouting, RoundFacts)


class ApprovalSteps:
    """The steps of activities.approvals.ApprovalActivities."""

    open_stage = Step("open_stage", OpenStage, StepResult)
    record_decision = Step("record_decision", RecordDecision, StepResult)
    remind_approvers = Step("remind_approvers", TodoReminder, StepResult)
    escalate_approvals = Step("escalate_approvals", TodoReminder, Escalated)


class ShipmentSteps:
    """The steps of activities.shipments: ShipmentActivities, DispatchActivities,
    MilestoneActivities and AcceptanceActivities."""

    start_shipment = Step("start_shipment", StartShipment, ShipmentStepResult)
    plan_shipment = Step("plan_shipment", RecordPlan, ShipmentStepResult)
    release_hold = Step("release_hold", ReleaseHold, ShipmentStepResult)
    dispatch = Step("dispatch", RecordDispatch, ShipmentStepResult)
    mark_late = Step("mark_late", MarkLate, ShipmentStepResult)
    confirm_milestone = Step("confirm_milestone", RecordMilestone, ShipmentStepResult)
    replan_milestone = Step("replan_milestone", ReplanMilestone, ShipmentStepResult)
    confirm_arrival = Step("confirm_arrival", RecordArrival, ShipmentStepResult)
    record_acceptance = Step("record_acceptance", RecordAcceptance, ShipmentStepResult)
    raise_exception = Step("raise_exception", RaiseException, ShipmentStepResult)
    resolve_exception = Step("resolve_exception", ResolveException, ShipmentStepResult)
    # activities.shipments.changes.ShipmentChangeActivities: an approved change to the order
    open_replan = Step("open_replan", OpenReplan, ShipmentStepResult)
    replan_shipment = Step("replan_shipment", RecordPlan, ShipmentStepResult)
    extra_dispatch = Step("extra_dispatch", ExtraDispatch, ShipmentStepResult)


class CollectionSteps:
    """The steps of activities.collection.CollectionActivities and (the invoices)
    activities.invoices.InvoiceActivities."""

    start_collection = Step("start_collection", CollectionStep, CollectionStepResult)
    fix_due_dates = Step("fix_due_dates", CollectionStep, CollectionStepResult)
    register_payment = Step("register_payment", CollectionStep, CollectionStepResult)
    decide_payment = Step("decide_payment", CollectionStep, CollectionStepResult)
    remind_installment = Step("remind_installment", CollectionStep, CollectionStepResult)
    mark_overdue = Step("mark_overdue", CollectionStep, CollectionStepResult)
    escalate_overdue = Step("escalate_overdue", CollectionStep, CollectionStepResult)
    request_invoice = Step("request_invoice", InvoiceStep, InvoiceStepResult)
    decide_invoice = Step("decide_invoice", InvoiceStep, InvoiceStepResult)


class CostSteps:
    """The steps of activities.costs.CostActivities."""

    record_actual_costs = Step("record_actual_costs", CostStep, CostStepResult)
    decide_actual_costs = Step("decide_actual_costs", CostStep, CostStepResult)
    begin_cost_review = Step("begin_cost_review", CostStep, CostStepResult)
    review_variance = Step("review_variance", CostStep, CostStepResult)
    decide_variance = Step("decide_variance", CostStep, CostStepResult)


class CancellationSteps:
    """The steps of activities.cancellation.CancellationActivities and (the refunds, credit
    notes and the children's ends) activities.refunds.RefundActivities."""

    cancel_order = Step("cancel_order", CancellationStep, CancellationStepResult)
    request_cancellation = Step("request_cancellation", CancellationStep, CancellationStepResult)
    forward_cancellation = Step("forward_cancellation", CancellationStep, CancellationStepResult)
    decide_cancellation = Step("decide_cancellation", CancellationStep, CancellationStepResult)
    confirm_refund = Step("confirm_refund", CancellationStep, CancellationStepResult)
    issue_credit_note = Step("issue_credit_note", CancellationStep, CancellationStepResult)
    finish_cancellation = Step("finish_cancellation", CancellationStep, CancellationStepResult)
    # Run by the children themselves, as they end through their own code path.
    withdraw_shipment = Step("withdraw_shipment", ShipmentStep, ShipmentStepResult)
    stop_collection = Step("stop_collection", CollectionStep, CollectionStepResult)


class ChangeSteps:
    """The steps of activities.changes.ChangeActivities (an order's change requests)."""

    record_change_request = Step("record_change_request", RecordChange, ChangeRecorded)
    apply_change = Step("apply_change", ApplyChange, ChangeApplied)
    reject_change = Step("reject_change", CloseChange, ChangeStepResult)
    withdraw_change = Step("withdraw_change", CloseChange, ChangeStepResult)
    # activities.change_pricing.ChangePricingActivities: pricing estimate a change of goods
    open_change_estimate = Step("open_change_estimate", OpenChangeEstimate, ChangeStepResult)
    record_change_estimate = Step("record_change_estimate", RecordChangeEstimate, ChangeStepResult)
    # Run by the collection as it takes the installments of the order's new total.
    replan_installments = Step("replan_installments", CollectionStep, CollectionStepResult)


class ReturnSteps:
    """The steps of activities.returns.ReturnActivities and (the receipts)
    activities.return_receipts.ReceiptActivities."""

    record_return_request = Step("record_return_request", ReturnStep, ReturnStepResult)
    decide_return = Step("decide_return", ReturnStep, ReturnStepResult)
    receive_return = Step("receive_return", ReturnStep, ReturnStepResult)


class NotifySteps:
    """The steps of activities.notify.NotifyActivities."""

    send_mail = Step("send_mail", SendMail, int)
