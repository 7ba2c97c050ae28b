"""What a customer's contact reads in a mail, in their own language: a revision's changes with
money, quantities, percentages and dates written the way that locale writes them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from i18n import Formatter, translations
from i18n.labels import TRIGGERS
from models.domain import FieldChange

# The field names of a revision's diff (workflows/rules/changes.py), as the order page names
# them (web/templates/orders/_change_words.html), and how their values are written.
_FIELDS = {
    "quantity": ("Quantity", "number"),
    "unit_price": ("Unit price", "money"),
    "discount_percent": ("Line discount", "percent"),
    "order_discount_percent": ("Whole-order discount", "percent"),
    "target_total": ("Target total", "money"),
    "requested_delivery_date": ("Requested delivery", "date"),
    "payment_plan": ("Payment plan", "plan"),
    "total": ("Total", "money"),
}
_LINE = re.compile(r"^(?P<quantity>\S+) × (?P<price>\S+)(?: −(?P<discount>\S+) %)?$")
_PLAN_PART = re.compile(r"^(?P<percent>\S+) % (?P<when>\S+)(?: \+(?P<days>\d+) d)?$")


class ContactWords:
    """Values for one contact's mail, in their locale."""

    def __init__(self, locale: str, currency: str) -> None:
        self.fmt = Formatter(locale, currency)
        self.gettext = translations(locale).gettext

    def date(self, value: date | None) -> str:
        return self.fmt.date(value) if value is not None else ""

    def changes(self, changes: Sequence[FieldChange]) -> list[str]:
        """One line per change: what changed, from what, to what."""
        line = self.gettext("%(what)s: %(before)s → %(after)s")
        return [
            line
            % {
                "what": self._name(c),
                "before": self._value(c.field, c.before),
                "after": self._value(c.field, c.after),
            }
            for c in changes
        ]

    def _name(self, change: FieldChange) -> str:
        field = change.field
        if field.startswith("lines["):
            code, _, part = field[len("lines[") :].partition("]")
            part = part.removeprefix(".")
            if part in _FIELDS:
                return f"{code} · {self.gettext(_FIELDS[part][0])}"
            added = self.gettext("line added") if not change.before else ""
            removed = self.gettext("line removed") if not change.after else ""
            return " · ".join(x for x in (code, added, removed) if x)
        return self.gettext(_FIELDS[field][0]) if field in _FIELDS else field

    def _value(self, field: str, text: str) -> str:
        if not text:
            return "—"
        part = field.rsplit(".", 1)[-1] if field.startswith("lines[") else field
        kind = _FIELDS[part][1] if part in _FIELDS else ("line" if "[" in field else "text")
        try:
            return self._written(kind, text)
        except (InvalidOperation, ValueError):  # not as the diff writes it: shown as it is
            return text

    def _written(self, kind: str, text: str) -> str:
        if kind == "number":
            return self.fmt.number(Decimal(text))
        if kind == "money":
            return self.fmt.money(Decimal(text))
        if kind == "percent":
            return self.fmt.percent(Decimal(text))
        if kind == "date":
            return self.fmt.date(date.fromisoformat(text))
        if kind == "line":
            return self._line(text)
        if kind == "plan":
            separator = "；" if self.fmt.locale.startswith("zh") else "; "
            return separator.join(self._plan_part(part) for part in text.split(", "))
        return text

    def _line(self, text: str) -> str:
        """`2 × 8500 −10 %` (quantity, unit price, discount) in the locale."""
        found = _LINE.match(text)
        if found is None:
            return text
        written = f"{self.fmt.number(Decimal(found['quantity']))} × "
        written += self.fmt.money(Decimal(found["price"]))
        if found["discount"]:
            written += f" −{self.fmt.percent(Decimal(found['discount']))}"
        return written

    def _plan_part(self, text: str) -> str:
        """`60 % acceptance +30 d` or `10 % 2027-01-31` in the locale."""
        found = _PLAN_PART.match(text)
        if found is None:
            return text
        percent = self.fmt.percent(Decimal(found["percent"]))
        when = found["when"]
        if when in TRIGGERS:
            when = self.gettext(TRIGGERS[when])
        else:
            when = self.fmt.date(date.fromisoformat(when))
        if found["days"]:
            return self.gettext("%(percent)s %(when)s + %(days)s days") % {
                "percent": percent,
                "when": when,
                "days": found["days"],
            }
        return f"{percent} {when}"
