"""A batch of actual costs checks itself: the web layer and the order workflow's validator run
this same check, so a refusal has one message."""

from __future__ import annotations

from decimal import Decimal as D

from models.domain import Actor, CostCategory, CostItem, CostRecording, Role

OPS = Actor(user_id=7, role=Role.ops)


def item(category: str, amount: str, reference: str) -> CostItem:
    return CostItem(
        category=CostCategory(category), amount=D(amount), supplier_payment_reference=reference
    )


def batch(*items: CostItem, final: bool = False) -> CostRecording:
    return CostRecording(actor=OPS, todo_key="k", items=list(items), final=final)


def test_cost_items_are_checked_one_by_one():
    recorded = {item("freight", "1", "SUP-9").key}
    problems = batch(
        item("goods", "0", "A"),
        item("goods", "5", " "),
        item("freight", "5", " sup-9"),
        item("other", "5", "B"),
        item("other", "6", "b"),
        item("goods", "7", "b"),  # the same payment for another category is fine
    ).problems(recorded)
    assert [str(p) for p in problems] == [
        "Item 1: the amount must be more than zero.",
        "Item 2: give the supplier payment reference.",
        "Item 3: supplier payment sup-9 is already recorded as freight for this order.",
        "Item 5: supplier payment b is given twice.",
    ]
    assert [str(p) for p in batch().problems(recorded)] == ["Give at least one cost item."]
    assert batch(final=True).problems(recorded) == []  # nothing more to record


def test_a_refusal_is_the_first_problem_as_a_template_the_page_translates():
    refusal = batch(item("goods", "5", "A"), item("goods", "6", "a")).refusal()
    assert refusal is not None
    assert refusal.template == "Item %(number)s: supplier payment %(reference)s is given twice."
    assert refusal.params == {"number": 2, "reference": "a"}
    assert batch(item("goods", "5", "A")).refusal() is None
