"""What a customer's contact reads in a mail, in their own language: a revision's changes, each
field named as the order page names it, its values (money, quantities, percentages, dates, the
payment plan) written the way that locale writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from i18n import Formatter, translations
from models.domain import FieldChange

# The field names of a revision's diff (workflows/rules/changes.py), as the order page names
# them (web/templates/orders/_change_words.html).
_FIELDS = {
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "discount_percent": "Line discount",
    "order_discount_percent": "Whole-order discount",
    "target_total": "Target total",
    "requested_delivery_date": "Requested delivery",
    "payment_plan": "Payment plan",
    "total": "Total",
}


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

    def revision(self, number: int, changes: Sequence[FieldChange]) -> str:
        """A revision and its changes on one line (the comment of the mail to the people
        concerned): "Revision 2: PUMP-10 · Quantity: 2 → 3; Total: CN¥17,000.00 → ..."."""
        separator = "；" if self.fmt.locale.startswith("zh") else "; "
        head = self.gettext("Revision %(number)s") % {"number": number}
        return f"{head}: {separator.join(self.changes(changes))}"

    def _name(self, change: FieldChange) -> str:
        field = change.field
        if field.startswith("lines["):
            code, _, part = field[len("lines[") :].partition("]")
            part = part.removeprefix(".")
            if part in _FIELDS:
                return f"{code} · {self.gettext(_FIELDS[part])}"
            added = self.gettext("line added") if not change.before else ""
            removed = self.gettext("line removed") if not change.after else ""
            return " · ".join(x for x in (code, added, removed) if x)
        return self.gettext(_FIELDS[field]) if field in _FIELDS else field

    def _value(self, field: str, text: str) -> str:
        return self.fmt.change(field, text)  # as the order page writes it (i18n/change_text)
