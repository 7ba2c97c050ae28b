"""The order's workflows.

The domain types pass through the workflow sandbox: activity results are built from the host's
classes (the activity classes pass through), so the workflows must use the same classes, not
sandbox copies that pydantic would refuse to mix with them. The pure rules pass through too:
they hold no state, and re-importing them for every workflow run costs CPU on each order."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import models.domain  # noqa: F401
    import workflows.rules  # noqa: F401
