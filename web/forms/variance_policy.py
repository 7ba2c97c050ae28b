"""The variance policy form: its two figures as typed, and the policy they describe (models.policy
saves it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from pydantic import ValidationError

from i18n import N_
from models.domain import VariancePolicy
from models.policy import PolicyRefusal, VariancePolicyBody

# Digits with an optional decimal part; thousands separators only where they group thousands, so
# "7,5" is refused rather than read as 75. No exponents: "2E+4" would be saved as written.
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")

NOT_A_PERCENTAGE = N_("Enter the percentage as a number, like 5 or 7.5.")
NOT_AN_AMOUNT = N_("Enter the amount as a number, like 20000, or leave it blank for none.")
# The limits themselves are VariancePolicyBody's; these say in words which one was crossed.
_BROKEN_LIMIT = {
    ("threshold_percent", "greater_than_equal"): N_("The percentage cannot be negative."),
    ("threshold_percent", "less_than_equal"): N_("The percentage cannot be over 100."),
    ("threshold_percent", "decimal_max_places"): N_(
        "Give the percentage with at most three decimals."
    ),
    ("threshold_amount", "greater_than_equal"): N_("The amount cannot be negative."),
    ("threshold_amount", "decimal_max_places"): N_("Give the amount with at most two decimals."),
    ("threshold_amount", "decimal_whole_digits"): N_("The amount is too large."),
    ("threshold_amount", "decimal_max_digits"): N_("The amount is too large."),
}


@dataclass
class VarianceFields:
    """The form as typed."""

    threshold_percent: str = ""
    threshold_amount: str = ""

    @classmethod
    def of(cls, current: VariancePolicy) -> VarianceFields:
        amount = current.threshold_amount
        return cls(
            threshold_percent=_plain(current.threshold_percent),
            threshold_amount=_plain(amount) if amount is not None else "",
        )


def _plain(number: Decimal) -> str:
    """A number as a person would type it back: 20000 not 20000.00 or 2E+4, 7.5 as is."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(text: str, field: str, refusal: str) -> Decimal:
    text = text.strip().removesuffix("%").strip()
    if not _NUMBER.match(text):
        raise PolicyRefusal(field, refusal)
    number = Decimal(text.replace(",", ""))
    # 7.50 has two decimals only in writing, and -0 is 0: save the number, not the typing.
    return Decimal(int(number)) if number == number.to_integral_value() else number.normalize()


def _checked(**fields: Decimal | None) -> VariancePolicyBody:
    """VariancePolicyBody of these fields, its limits refused in words."""
    try:
        return VariancePolicyBody(**fields)
    except ValidationError as error:
        problem = error.errors()[0]
        field = str(problem["loc"][0])
        fallback = NOT_A_PERCENTAGE if field == "threshold_percent" else NOT_AN_AMOUNT
        raise PolicyRefusal(field, _BROKEN_LIMIT.get((field, problem["type"]), fallback)) from None


def body_of(values: VarianceFields) -> VariancePolicyBody:
    """The policy the form describes; PolicyRefusal naming the field for the first problem, in
    the order of the form."""
    percent = _number(values.threshold_percent, "threshold_percent", NOT_A_PERCENTAGE)
    _checked(threshold_percent=percent)
    if not values.threshold_amount.strip():
        return _checked(threshold_percent=percent, threshold_amount=None)
    amount = _number(values.threshold_amount, "threshold_amount", NOT_AN_AMOUNT)
    return _checked(threshold_percent=percent, threshold_amount=amount)
