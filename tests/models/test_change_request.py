"""A change request checks itself (the web layer and the order workflow's validator run the
same check): a reason, something to change, lines named one way each."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from models.domain import Actor, ChangeRequest, Role

OWNER = Actor(user_id=3, role=Role.sales)


def change(**fields: object) -> ChangeRequest:
    return ChangeRequest.model_validate({"actor": OWNER, "reason": "Customer asks", **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": "  ", "target_total": "100"}, "Say why the order changes."),
        ({}, "The change request changes nothing."),
        (
            {"order_discount_percent": "5", "target_total": "100"},
            "Give a whole-order discount or a target total, not both.",
        ),
        ({"lines": []}, "An order keeps at least one line; to end it, cancel it."),
        (
            {"lines": [{"quantity": "1"}]},
            "Line 1: name the order line (line_id) or, for a new line, the product "
            "(product_id), not both.",
        ),
        (
            {"lines": [{"line_id": 1, "product_id": 2, "quantity": "1"}]},
            "Line 1: name the order line (line_id) or, for a new line, the product "
            "(product_id), not both.",
        ),
        (
            {"lines": [{"line_id": 1, "quantity": "0"}]},
            "Line 1: the quantity must be more than zero.",
        ),
        (
            {"lines": [{"line_id": 1, "quantity": "1", "discount_percent": "100"}]},
            "Line 1: the discount must be from 0 up to 100 %.",
        ),
        (
            {"lines": [{"line_id": 1, "quantity": "1"}, {"line_id": 1, "quantity": "2"}]},
            "Line 2: order line 1 is given twice.",
        ),
    ],
)
def test_a_change_request_says_what_is_wrong_with_it(fields, message):
    refusal = change(**fields).refusal()
    assert refusal is not None and str(refusal) == message


def test_a_change_with_a_reason_and_something_to_change_passes():
    assert change(requested_delivery_date="2027-03-01").refusal() is None
    lines = [{"line_id": 1, "quantity": "3"}, {"product_id": 9, "quantity": D("2")}]
    assert change(lines=lines).refusal() is None
