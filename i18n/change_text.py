"""A revision diff's values as a person reads them: the API keeps the raw text ("28400",
"1 × 1200 −5 %", "30 % confirmation +10 d", "2026-12-01"); pages and mails show money with its
currency, quantities and percentages with the locale's separators, dates as dates and payment
plans in words."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from i18n import N_, labels, translations

if TYPE_CHECKING:
    from i18n import Formatter

MONEY_FIELDS = frozenset({"total", "target_total"})
PERCENT_FIELDS = frozenset({"order_discount_percent"})
_NUMBER = r"-?\d+(?:\.\d+)?"
# rules.changes._line_text: "<quantity> × <unit price>[ −<discount> %]"
LINE = re.compile(
    rf"^(?P<quantity>{_NUMBER}) × (?P<price>{_NUMBER})(?: −(?P<discount>{_NUMBER}) %)?$"
)
# rules.changes._plan_text, each installment: "<percent> % <trigger or ISO date>[ +<days> d]"
INSTALLMENT = re.compile(rf"^(?P<percent>{_NUMBER}) % (?P<when>[\w-]+)(?: \+(?P<days>\d+) d)?$")

LINE_TEXT = N_("%(quantity)s × %(price)s")
DISCOUNTED_LINE_TEXT = N_("%(quantity)s × %(price)s, %(discount)s off")
ON_DATE = N_("on %(date)s")
DAYS_AFTER = N_("%(when)s + %(days)s days")


def change_value(fmt: Formatter, field: str, text: str) -> str:
    """One side (before or after) of a diff's field, in the formatter's locale; text it does
    not recognise is shown as it is."""
    if not text:
        return "—"
    try:
        return _formatted(fmt, field, text)
    except (InvalidOperation, ValueError):
        return text


def _formatted(fmt: Formatter, field: str, text: str) -> str:
    if field in MONEY_FIELDS or field.endswith(".unit_price"):
        return fmt.money(Decimal(text))
    if field.endswith(".quantity"):
        return fmt.number(Decimal(text))
    if field in PERCENT_FIELDS or field.endswith(".discount_percent"):
        return fmt.percent(Decimal(text))
    if field == "requested_delivery_date":
        return fmt.date(dt.date.fromisoformat(text))
    if field == "payment_plan":
        separator = "；" if fmt.locale.startswith("zh") else "; "
        return separator.join(_installment(fmt, part) for part in text.split(", "))
    if field.startswith("lines[") and (line := LINE.match(text)):
        return _line(fmt, line)
    return text


def _line(fmt: Formatter, line: re.Match[str]) -> str:
    gettext = translations(fmt.locale).gettext
    values = {
        "quantity": fmt.number(Decimal(line["quantity"])),
        "price": fmt.money(Decimal(line["price"])),
    }
    if line["discount"]:
        return gettext(DISCOUNTED_LINE_TEXT) % {
            **values,
            "discount": fmt.percent(Decimal(line["discount"])),
        }
    return gettext(LINE_TEXT) % values


def _installment(fmt: Formatter, part: str) -> str:
    found = INSTALLMENT.match(part)
    if found is None:
        return part
    gettext = translations(fmt.locale).gettext
    when = found["when"]
    if when in labels.TRIGGERS:
        words = gettext(labels.TRIGGERS[when])
    else:
        words = gettext(ON_DATE) % {"date": fmt.date(dt.date.fromisoformat(when))}
    if found["days"] and found["days"] != "0":
        words = gettext(DAYS_AFTER) % {"when": words, "days": found["days"]}
    return f"{fmt.percent(Decimal(found['percent']))} {words}"
