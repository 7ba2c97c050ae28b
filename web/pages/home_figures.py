"""The figures block above the inbox (models/reports/home.py) with its chart, drawn on the
server in the reader's language."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_skeleton
from fastapi import Request
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import Formatter, translations
from models.reports.home import COMPANY, OWN, TREE, HomeFigures, home_figures
from models.tables import User
from web.charts import SERIES_COLOURS, bar_chart, month_label
from web.company_zone import time_zone_of
from web.templating import locale_of

PEOPLE_IN_CHART = 12  # the table has everyone
# Drawn narrower than a report's chart (700): it sits beside the tiles, and its text stays
# legible on a phone without scrolling.
BARS_WIDTH, MONTHS_WIDTH = 420, 520
VALUE_LABELS = 6


async def home_block(
    request: Request, user: User, session: AsyncSession, today: date
) -> dict[str, Any]:
    """The inbox's `home` (the figures, or None for a role that has none), its chart and the
    months' names as the reader writes them."""
    figures = await home_figures(session=session, user=user, today=today)
    if figures is None:
        return {"home": None}
    fmt = Formatter(
        locale_of(request, user), request.app.state.settings.currency, time_zone_of(request)
    )
    return {
        "home": figures,
        "home_chart": home_chart(request, user, figures, fmt),
        "home_month_names": {
            m: month_label(fmt, m) for m in [figures.month, *(c.month for c in figures.months)]
        },
    }


def home_chart(request: Request, user: User, figures: HomeFigures, fmt: Formatter) -> Markup | None:
    """Target against achieved (a rep's orders and money, a manager's people), or the
    company's months; None when there is nothing to draw."""
    gettext = translations(locale_of(request, user)).gettext
    currency = request.app.state.settings.currency
    target, achieved = gettext("Target"), gettext("Achieved so far")
    if figures.kind == OWN and figures.standing is not None:
        mine = figures.standing
        return bar_chart(
            title=gettext("This month against the target (%(currency)s)") % {"currency": currency},
            labels=[gettext("Orders confirmed"), gettext("Money collected")],
            series=[
                (target, [mine.target, mine.collection_target]),
                (achieved, [mine.confirmed, mine.collected]),
            ],
            fmt=fmt,
            horizontal=True,
            width=BARS_WIDTH,
            value_labels=VALUE_LABELS,
        )
    if figures.kind == TREE:
        people = figures.people[:PEOPLE_IN_CHART]
        if not people:
            return None
        return bar_chart(
            title=gettext("Orders confirmed this month against the target (%(currency)s)")
            % {"currency": currency},
            labels=[p.name for p in people],
            series=[
                (target, [p.target for p in people]),
                (achieved, [p.confirmed for p in people]),
            ],
            fmt=fmt,
            horizontal=True,
            width=BARS_WIDTH,
            value_labels=VALUE_LABELS,
        )
    assert figures.kind == COMPANY
    months = figures.months
    blue, green, yellow, red = SERIES_COLOURS[:4]  # each measure its colour in every chart
    series, colours = [], []
    if months and months[0].revenue is not None:
        series.append((gettext("Net revenue"), [m.revenue for m in months]))
        colours.append(blue)
    if months and months[0].margin is not None:
        series.append((gettext("Margin"), [m.margin for m in months]))
        colours.append(green)
    series += [
        (gettext("Collected"), [m.collected for m in months]),
        (gettext("Overdue"), [m.overdue for m in months]),
    ]
    colours += [yellow, red]
    return bar_chart(
        title=gettext("The company month by month (%(currency)s)") % {"currency": currency},
        labels=[_short_month(fmt, m.month, first=i == 0) for i, m in enumerate(months)],
        series=series,
        fmt=fmt,
        width=MONTHS_WIDTH,
        colours=colours,
        value_labels=VALUE_LABELS,
    )


def _short_month(fmt: Formatter, month: str, *, first: bool) -> str:
    """A month under the chart's bars: with its year the first time and in January ("Sep
    2026", "Oct", ..., "Jan 2027"; "2026年9月", "10月"), so that six fit on a phone."""
    year, number = (int(part) for part in month.split("-"))
    if first or number == 1:
        return month_label(fmt, month)
    return format_skeleton("MMM", date(year, number, 1), locale=fmt.locale)
