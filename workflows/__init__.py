"""The order's workflows.

The domain types pass through the workflow sandbox: the data converter decodes activity results
into the host's classes (the result types the activity references carry), so the workflows must
use the same classes, not sandbox copies that pydantic would refuse to mix with them. The pure
rules and the activity references pass through too: they hold no state, and re-importing them
for every workflow run costs CPU on each order."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import models.domain  # noqa: F401
    import workflows.activity_refs
    import workflows.refusals
    import workflows.rules  # noqa: F401
