"""The home page's figures in the JSON API: where the reader stands this month (the company's
month): a rep (or a follower) their own target, achieved, missing and overdue money; a sales
manager their department tree's and each person's; the director and finance the company's
months."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from models.reports.home import (
    NO_HOME_FIGURES,
    HomeFigures,
    HomeFiguresRefusal,
    check_has_home_figures,
    home_figures,
)
from models.tables import User
from web.api import ApiRoute, refused
from web.commands.actions import Refused
from web.commands.worklists import company_day
from web.deps import ApiUser, SessionDep, SettingsDep
from web.schemas import Model, errors

router = APIRouter(prefix="/api/v1", tags=["reports"], route_class=ApiRoute, responses=errors(403))


async def home_today(session: SessionDep, settings: SettingsDep) -> date:
    """The company's today, whose month the figures are of (overridden in tests through
    app.dependency_overrides)."""
    return await company_day(session, settings)


HomeToday = Annotated[date, Depends(home_today)]


async def home_user(user: ApiUser) -> User:
    """The user, if their role has home figures; 403 otherwise."""
    try:
        check_has_home_figures(user)
    except HomeFiguresRefusal as refusal:
        raise refused(Refused.of(403, refusal)) from refusal
    return user


class StandingOut(Model):
    """A person (`key` their user id) or a manager's department tree (`key` 0, `name` its top
    departments): this month's order target against the amount confirmed (net of returns,
    credit notes and cancellations, as the performance report counts it), what is `missing`
    (never below zero) and the percent achieved; the same for the money collected; and the
    money `overdue` today (open installments past due, as the receivables list has them; null
    for a follower, who has no receivables).
    Targets, missing and percents are null where no target is set."""

    key: int
    name: str
    target: Decimal | None
    confirmed: Decimal
    missing: Decimal | None
    achieved_percent: Decimal | None
    collection_target: Decimal | None
    collected: Decimal
    collection_missing: Decimal | None
    collected_percent: Decimal | None
    overdue: Decimal | None


class CompanyMonthOut(Model):
    """A month of the company: `revenue`, the net amount of the orders confirmed in it, and
    the `margin` on it (less the actual cost of a closed order, else the expected cost), both
    null for finance; `collected`, the money received in it; `overdue`, what fell due in it and
    is still open today."""

    month: str
    revenue: Decimal | None
    margin: Decimal | None
    collected: Decimal
    overdue: Decimal


class HomeFiguresOut(Model):
    """`kind` own (a sales rep or a follower: `standing`), tree (a sales manager:
    `standing` for the tree and `people`) or company (the director and finance: `months`, the
    last few, oldest first, and `overdue_earlier`, what fell due before them and is still
    open). `overdue` is every overdue installment in the reader's receivables today (null for
    a follower)."""

    kind: Literal["own", "tree", "company"]
    month: str
    first_day: date
    last_day: date
    overdue: Decimal | None
    standing: StandingOut | None
    people: list[StandingOut]
    months: list[CompanyMonthOut]
    overdue_earlier: Decimal


def home_out(figures: HomeFigures) -> HomeFiguresOut:
    return HomeFiguresOut.model_validate(figures)


@router.get("/reports/home")
async def home_report(
    user: Annotated[User, Depends(home_user)], session: SessionDep, today: HomeToday
) -> HomeFiguresOut:
    """Where the reader stands in the company's current month, in their scope (as the
    order list's): a sales rep or a follower their own figures, a sales manager their
    department tree's and each person's, the director the company's last six months (net
    revenue, margin, collected, overdue), finance the same without revenue and margin. Any
    other role: 403."""
    figures = await home_figures(session=session, user=user, today=today)
    if figures is None:  # home_user refused the other roles already
        raise refused(Refused.of(403, HomeFiguresRefusal(NO_HOME_FIGURES)))
    return home_out(figures)
