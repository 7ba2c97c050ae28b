"""Messages people see that are raised as plain strings in code that cannot mark them itself
(workflow code runs in Temporal's sandbox; the web and model layers raise them in exceptions).

Nothing imports this module: it exists so `make extract-messages` puts these texts into the
catalog. A refusal (models.domain.Refusal) keeps its English template and its values apart; the
page translates the template, then fills in the values.
"""

from __future__ import annotations

from i18n import N_

REFUSALS = (
    # web/commands (costs, completion), models/domain/costs.py and the order workflow
    N_("Actual costs are recorded once the order's first payment is confirmed."),
    N_("Explain the variance: it is above the threshold of %(threshold)s."),
    N_("Give at least one cost item."),
    N_("The cost figures are not ready yet."),
    N_("The order is closed."),
    N_("Item %(number)s: “%(amount)s” is not an amount."),
    N_("Item %(number)s: give the supplier payment reference."),
    N_(
        "Item %(number)s: supplier payment %(reference)s is already recorded as %(category)s for "
        "this order."
    ),
    N_("Item %(number)s: supplier payment %(reference)s is given twice."),
    N_("Item %(number)s: the amount must be more than zero."),
    N_("Item %(number)s: the category must be one of: %(allowed)s."),
    N_("Only business operations record actual costs."),
    N_("Operations record the actual costs; finance approve them."),
    N_("Operations said every actual cost of order %(number)s is recorded."),
    N_("Say why the costs are rejected."),
    N_("Say why the variance is not approved."),
    N_("The cost comparison of order %(number)s has begun: no more costs can be recorded."),
    N_("You reviewed this variance: another operations manager approves it."),
    # web/commands/collection.py and the collection and order workflows (money)
    N_("A payment with the reference %(reference)s is already registered for this order."),
    N_("Give the invoice number."),
    N_("Give the payment's reference."),
    N_("Give the customer's tax number."),
    N_("Give the address the invoice is mailed to."),
    N_("Invoice number %(number)s is already used."),
    N_("Invoices are applied for once the order is confirmed."),
    N_("Only the order's owner or finance apply for its invoices."),
    N_("Only the order's owner registers its payments."),
    N_("Order %(number)s is closed."),
    N_("Order %(number)s is not confirmed yet."),
    N_("Order %(number)s is paid in full."),
    N_("Say how the customer paid."),
    N_("Say why the invoice is not issued."),
    N_("Say why the payment is rejected."),
    N_(
        "The amount is more than can still be invoiced: %(room)s (total less invoiced and "
        "applied for)."
    ),
    N_(
        "The amount is more than is left to pay: %(payable)s (outstanding less payments "
        "waiting for finance)."
    ),
    N_("The amount must be more than zero."),
    N_("The method must be one of: %(allowed)s."),
    N_("The payment cannot be received in the future."),
    N_("This to-do closes by itself once the installment is paid."),
    N_("The payment of %(amount)s is more than the %(outstanding)s outstanding."),
    N_("A payment must be more than zero."),
    N_("There is no payment plan named %(name)s; choose one of: %(names)s."),
    N_("Only an administrator may change the collection policy."),
    # web/pages/orders.py (the payment form)
    N_("Give the amount."),
    N_("Give either a payment plan or the name of one, not both."),
    N_("Give the date the money was received."),
    # web/commands/fulfilment.py
    N_("Dispatch is confirmed by the warehouse, with carrier and tracking."),
    N_("Give a planned date for milestone %(code)s."),
    N_("Give the date the milestone was done."),
    N_("Give the new planned date."),
    N_("Milestone %(code)s is already done."),
    N_("Milestone %(code)s is given twice."),
    N_("Order %(number)s has no milestone %(code)s."),
    N_("Order %(number)s has no shipment yet."),
    N_("Say which milestone is done."),
    N_("The kind must be one of: %(allowed)s."),
    N_("The shipment of order %(number)s is not running."),
    N_("The shipment queue is for the warehouse and business operations."),
    N_("There is no milestone %(code)s."),
    # workflows/shipment_*.py (validators of the shipment's updates), models/domain/shipment.py
    N_("Plan exactly these milestones, once each: %(names)s."),
    N_("The %(code)s date %(date)s is in the past."),
    N_(
        "The dates are out of order: %(after)s (%(after_date)s) comes before %(before)s "
        "(%(before_date)s)."
    ),
    N_("Only business operations release a hold."),
    N_("This shipment is not held."),
    N_("Say why the hold is released."),
    N_("Name the carrier."),
    N_("Give the tracking number."),
    N_("Only business operations confirm milestones."),
    N_("The actual date cannot be in the future."),
    N_("Only business operations re-plan milestones."),
    N_("Say why the date moves."),
    N_("The new date is in the past."),
    N_("The shipment is not planned yet."),
    N_("Nothing is on its way to this customer."),
    N_("Arrival is confirmed by its to-do."),
    N_("The arrival date cannot be in the future."),
    N_("The goods cannot arrive before they left."),
    N_("Confirm %(before)s first: it comes before %(code)s and is not done yet."),
    N_("Give the acceptance date and who signed for the customer."),
    N_("The acceptance date cannot be in the future."),
    N_("Describe the defect."),
    N_("Exceptions are raised by operations, service or the order's owner."),
    N_("Nothing has been dispatched yet."),
    N_("The customer has accepted the order."),
    N_("Describe what went wrong."),
    N_("Say how the exception was resolved."),
    # web/commands (to-dos and orders)
    N_("Your role does not enter orders."),
    N_("Only the order's owner can change it."),
    N_("This order is not waiting for a revision."),
    N_("An order needs at least one line."),
    N_("The workflow engine is not reachable; try again shortly."),
    N_("There is no such to-do."),
    N_("This to-do is no longer open."),
    N_("This to-do is not assigned to you."),
    N_("Give a unit cost for every line."),
    N_("Nobody approves their own order."),
    N_("A rejection needs a comment saying why."),
    N_("The order could not take this step."),
    # workflows/steps.py and workflows/approval.py (validators of the workflow's updates)
    # workflows/rules.py (PricingError) and models/drafts.py (DraftOrder validators)
    N_("Give either a whole-order discount or a target total, not both."),
    N_("The whole-order discount must be between 0 and 100 %%."),
    N_("Line %(n)s: the discount must be between 0 and 100 %%."),
    N_("Line %(n)s: the quantity must be greater than zero."),
    N_("Line %(n)s: the unit price must be greater than zero."),
    N_("Line %(n)s: there is no product %(product)s."),
    N_("There is no customer %(customer)s."),
    N_("Order %(number)s is submitted and can no longer be edited."),
    N_("Order %(number)s has already been submitted."),
    N_("The outcome must be one of: %(allowed)s."),
    N_(
        "The target total %(target)s is above the order's total before the order discount "
        "(%(subtotal)s)."
    ),
    N_("The target total must be greater than zero."),
    N_("The target total can have at most two decimals."),
    N_("Nothing to spread the target total over."),
    N_("A line is estimated twice."),
    N_("The payment plan's percentages must add up to exactly 100."),
    # web/deps.py and web/pages/common.py (shown on the error page, which translates them)
    N_("This page is for administrators."),
    N_("This form has expired. Reload the page and try again."),
    # web/commands/orders.py and the order workflow (routing an unroutable order again)
    N_("Only an administrator can route an order again."),
    N_("Order %(number)s is not waiting for a route."),
    N_("The workflow of order %(number)s is not running."),
    N_("This order is not waiting for a route."),
    # workflows/rules.py (policy_problems: what is wrong with an approval policy)
    N_("The policy needs at least one stage."),
    N_("A stage's order must be 1 or more."),
    N_("A stage needs at least one requirement."),
    N_("A requirement needs a name."),
    N_("Name the role that decides."),
    N_("Name the person who decides."),
    N_("The SLA must be at least 1 working day."),
    N_("This condition needs a number."),
    N_("A threshold cannot be negative."),
    N_("A percentage cannot be above 100."),
    N_("Name the role to notify."),
    N_("Name the person to notify."),
    N_(
        "The amount above which the director also approves a cancellation cannot be negative "
        "(leave it blank if the director need never approve one)."
    ),
    N_(
        "The amount above which the director also approves a return cannot be negative "
        "(leave it blank if the director need never approve one)."
    ),
    # web/schemas/todos.py (a to-do completion's body)
    N_("The body must be a JSON object."),
    # models/domain/changes.py and workflows/rules/changes.py (a change request)
    N_("Say why the order changes."),
    N_("The change request changes nothing."),
    N_("Give a whole-order discount or a target total, not both."),
    N_("An order keeps at least one line; to end it, cancel it."),
    N_(
        "Line %(number)s: name the order line (line_id) or, for a new line, the product "
        "(product_id), not both."
    ),
    N_("Line %(number)s: the quantity must be more than zero."),
    N_("Line %(number)s: the unit price cannot be negative."),
    N_("Line %(number)s: the discount must be from 0 up to 100 %%."),
    N_("Line %(number)s: order line %(line)s is given twice."),
    N_(
        "Line %(line)s would be below the %(dispatched)s already dispatched: goods that "
        "left come back through a return."
    ),
    N_(
        "The new total %(total)s is below the %(invoiced)s already invoiced: a credit "
        "note for the difference comes first."
    ),
    N_(
        "The new total %(total)s is below the %(paid)s already paid: the difference is "
        "refunded, not changed away."
    ),
    # activities/changes.py and activities/change_terms.py (a change recorded or applied)
    N_("Line %(number)s: the order has no line %(line)s."),
    N_("Installment %(n)s is due on a fixed date but has no date."),
    N_("Change request %(number)s is still open: decide or withdraw it first."),
    N_("Change request %(number)s is decided already."),
    # web/commands/changes.py (who may ask for a change, and when)
    N_("Only the order's owner or a manager above them can ask for a change."),
    N_("Only whoever asked for the change can withdraw it."),
    N_("Order %(number)s is a draft: edit it instead of asking for a change."),
    N_("Order %(number)s is back with its owner: edit it and resubmit instead."),
    N_("Order %(number)s is in its cost review or closed: it can no longer be changed."),
    N_("Order %(number)s is cancelled: it can no longer be changed."),
    N_("Everything on order %(number)s is paid: no payment plan is left to change."),
    # workflows/order_changes.py and workflows/approval.py (a change request's workflow)
    N_("Order %(number)s cannot be changed at this stage."),
    N_(
        "The order's cost review has begun: it can no longer be cancelled; a return takes goods"
        " back."
    ),
    N_(
        "Pricing are still estimating order %(number)s: its goods and quantities can change"
        " once their estimate is in."
    ),
    N_("Nobody approves a change they asked for."),
    N_("The order has no open change request."),
    N_("No one can approve this change: %(reason)s"),
    N_(
        "The order is paid in full and its collection has ended: a change that raises the total "
        "to %(total)s can no longer be collected. Sell the extra as a new order."
    ),
    N_("Order %(number)s has no such change request."),
    # cancellation: models/domain/cancellation.py, workflows/order_cancellation.py,
    # web/commands/cancellation.py and the cancellation to-do kinds
    N_("Choose the reason for the cancellation."),
    N_("The reason code must be one of: %(allowed)s."),
    N_("Say why the order is cancelled."),
    N_("Say why the cancellation is rejected."),
    N_("The order is cancelled already."),
    N_("The order is being cancelled."),
    N_("A cancellation of this order is already waiting for approval."),
    N_(
        "The goods have left the warehouse: they must come back through a return before "
        "the order can be cancelled."
    ),
    N_("The order is closed: it can no longer be cancelled."),
    N_("Only the order's owner or a manager of their department cancels it."),
    N_("Nobody approves their own cancellation."),
    N_("A cancellation of this order is waiting for approval: do not dispatch it."),
    N_("Give the refund's reference."),
    N_("The refund is more than the money received that is not refunded yet: %(room)s."),
    N_("Give the credit note number."),
    N_("Credit note number %(number)s is already used."),
    N_("No manager above the owner can approve this cancellation."),
    N_("The order is being confirmed; try again."),
    N_("The order is being submitted; try again."),
    N_("Order %(number)s is not submitted yet."),
    N_("Give the date the money was paid back."),
    # activities/changes.py (a change that adds goods once they were accepted)
    N_(
        "The customer of order %(number)s has accepted the goods: more goods go out as a new order."
    ),
    # models/domain/returns.py, workflows/order_returns.py (returns, issue 17)
    N_("Say which lines come back and how many of each."),
    N_("Line %(line)s: the quantity must be more than zero."),
    N_("Line %(line)s is listed twice."),
    N_("Say why the goods come back."),
    N_("Say why the return is rejected."),
    N_("Line %(line)s: the condition must be restock or scrap."),
    N_("Give the quantity received of at least one line, or close the rest."),
    N_("Say why the rest of the return will not come back."),
    N_("Order %(number)s has not been dispatched: there is nothing to return."),
    N_("Order %(number)s is closed or cancelled: it takes no return."),
    N_("Order %(number)s takes no return at this stage."),
    N_("No manager above the owner can approve this return."),
    N_("Line %(line)s is not on the order or nothing of it was dispatched."),
    N_(
        "Line %(line)s: %(quantity)s is more than the %(room)s that can still come back"
        " (dispatched less returned or asked for)."
    ),
    N_("Line %(line)s: %(quantity)s received is more than the %(room)s still expected back."),
    N_("Only the order's owner, a manager above them, ops or service can ask for a return."),
    N_("Nobody approves a return they asked for."),
    N_("This to-do belongs to no open return of the order."),
    N_("The order is cancelled."),
    N_(
        "Return %(number)s of this order is still open: receive or close it before the order is"
        " cancelled."
    ),
)

# models/domain/dispatch.py, web/commands/dispatch.py (the warehouse's partial dispatch and
# packing list, issue 18)
DISPATCH_REFUSALS = (
    N_("Line %(line)s: the quantity to dispatch cannot be negative."),
    N_("Give a quantity to dispatch for at least one line."),
    N_("Line %(line)s is given twice."),
    N_("Line %(line)s is not a line of this order."),
    N_("Line %(line)s: only %(remaining)s is left to dispatch."),
    N_("The dispatch date cannot be in the future."),
    N_("The dispatch date cannot be before the order was confirmed (%(confirmed_on)s)."),
    N_("The packing list is for the warehouse, operations and the order's owner."),
    N_("There is no dispatch to pack for this order yet."),
)
