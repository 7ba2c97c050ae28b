"""The admin page that edits the variance policy; each save is a new version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_, translations
from models import policy
from models.domain import VariancePolicy
from models.policy import PolicyRefusal, VariancePolicyBody
from models.tables import User
from web.deps import PageAdmin, SessionDep
from web.pages.common import page_router
from web.templating import flash, locale_of, render

router = page_router()

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


async def _variance_policy_page(
    request: Request,
    me: User,
    session: AsyncSession,
    values: VarianceFields | None = None,
    refusal: PolicyRefusal | None = None,
) -> HTMLResponse:
    current = await policy.current_variance_policy(session=session)
    gettext = translations(locale_of(request, me)).gettext
    return render(
        request,
        "admin/variance_policy.html",
        user=me,
        current=current,
        values=values or VarianceFields.of(current),
        error=refusal.reason(gettext) if refusal else None,
        error_field=refusal.field if refusal else None,
        status_code=422 if refusal else 200,
    )


@router.get("/admin/variance-policy")
async def variance_policy_page(
    request: Request, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    return await _variance_policy_page(request, me, session)


@router.post("/admin/variance-policy")
async def save_variance_policy(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    form = await request.form()
    values = VarianceFields(
        threshold_percent=str(form.get("threshold_percent") or ""),
        threshold_amount=str(form.get("threshold_amount") or ""),
    )
    try:
        saved = await policy.save_variance_policy(session=session, user=me, body=body_of(values))
    except PolicyRefusal as refusal:
        if not refusal.field:
            # Another version took the number: saving rolled back, which expired the user.
            await session.refresh(me)
        return await _variance_policy_page(request, me, session, values, refusal)
    t = translations(locale_of(request, me)).gettext
    flash(request, t(N_("Saved as version %(version)s.")) % {"version": saved.version})
    return RedirectResponse("/admin/variance-policy", status_code=303)
