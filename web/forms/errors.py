"""Pydantic's validation problems as sentences a person reads, in their language (the API's 422
and the pages' forms), and a refused form's message with the form and the field it is about,
for the page to say it there (templates/_refusal.html)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from i18n import N_
from models.domain import Refusal
from web.commands.actions import Refused

Problem = Mapping[str, Any]
Gettext = Callable[[str], str]

# Each kind of pydantic problem as a sentence about the field (%(field)s: its name, translated).
NOT_A_NUMBER = N_("The %(field)s must be a number.")
NOT_A_WHOLE_NUMBER = N_("The %(field)s must be a whole number.")
NOT_A_DATE = N_("The %(field)s must be a date (year-month-day).")
GIVE = N_("Give the %(field)s.")
SENTENCES = {
    "missing": GIVE,
    "decimal_parsing": NOT_A_NUMBER,
    "decimal_type": NOT_A_NUMBER,
    "float_parsing": NOT_A_NUMBER,
    "float_type": NOT_A_NUMBER,
    "finite_number": NOT_A_NUMBER,
    "int_parsing": NOT_A_WHOLE_NUMBER,
    "int_type": NOT_A_WHOLE_NUMBER,
    "int_from_float": NOT_A_WHOLE_NUMBER,
    "int_parsing_size": N_("The %(field)s is too large."),
    "date_parsing": NOT_A_DATE,
    "date_type": NOT_A_DATE,
    "date_from_datetime_parsing": NOT_A_DATE,
    "date_from_datetime_inexact": NOT_A_DATE,
    "datetime_parsing": N_("The %(field)s must be a date and time."),
    "datetime_type": N_("The %(field)s must be a date and time."),
    "greater_than": N_("The %(field)s must be more than %(limit)s."),
    "greater_than_equal": N_("The %(field)s must be at least %(limit)s."),
    "less_than": N_("The %(field)s must be less than %(limit)s."),
    "less_than_equal": N_("The %(field)s must be at most %(limit)s."),
    "decimal_max_places": N_("The %(field)s may have at most %(limit)s decimal places."),
    "decimal_max_digits": N_("The %(field)s has too many digits."),
    "decimal_whole_digits": N_("The %(field)s has too many digits."),
    "string_too_long": N_("The %(field)s is too long: at most %(limit)s characters."),
    "string_too_short": N_("The %(field)s is too short: at least %(limit)s characters."),
    "too_long": N_("Give at most %(limit)s entries for the %(field)s."),
    "too_short": N_("Give at least %(limit)s entries for the %(field)s."),
    "enum": N_("The %(field)s must be one of: %(allowed)s."),
    "literal_error": N_("The %(field)s must be one of: %(allowed)s."),
    "bool_parsing": N_("The %(field)s must be yes or no."),
    "bool_type": N_("The %(field)s must be yes or no."),
    "extra_forbidden": N_("The %(field)s is not expected here."),
    "string_pattern_mismatch": N_("The %(field)s is not in the expected form."),
    "string_type": N_("The %(field)s must be text."),
}
OTHERWISE = N_("The %(field)s is not valid.")
NEGATIVE = N_("The %(field)s cannot be negative.")
BODY_NOT_JSON = N_("The request body is not valid JSON.")
BODY_NOT_OBJECT = N_("The request body must be a JSON object.")
# The limit of each kind, in its problem's context.
LIMITS = ("gt", "ge", "lt", "le", "max_length", "min_length", "decimal_places")
# A problem inside a list's entry says which one, as people count: "Line 2: ...".
ENTRIES = {
    "lines": N_("Line %(n)s: %(problem)s"),
    "payment_plan": N_("Installment %(n)s: %(problem)s"),
    "items": N_("Item %(n)s: %(problem)s"),
    "milestones": N_("Milestone %(n)s: %(problem)s"),
    "received": N_("Line %(n)s: %(problem)s"),
    "contacts": N_("Contact %(n)s: %(problem)s"),
    "stages": N_("Stage %(n)s: %(problem)s"),
    "requirements": N_("Requirement %(n)s: %(problem)s"),
    "plans": N_("Plan %(n)s: %(problem)s"),
}
# The fields' names as people call them (a field not named here is called by its API name).
FIELD_NAMES = {
    "customer_id": N_("customer"),
    "shipping_mode": N_("shipping mode"),
    "requested_delivery_date": N_("requested delivery date"),
    "lines": N_("lines"),
    "product_id": N_("product"),
    "line_id": N_("line"),
    "quantity": N_("quantity"),
    "unit_price": N_("unit price"),
    "discount_percent": N_("discount"),
    "order_discount_percent": N_("whole-order discount"),
    "target_total": N_("target total"),
    "payment_plan": N_("payment plan"),
    "payment_plan_name": N_("payment plan's name"),
    "percent": N_("percentage"),
    "trigger": N_("due event"),
    "offset_days": N_("days after"),
    "fixed_date": N_("fixed date"),
    "amount": N_("amount"),
    "received_on": N_("date received"),
    "paid_on": N_("date paid back"),
    "method": N_("method"),
    "reference": N_("reference"),
    "title": N_("invoice title"),
    "tax_number": N_("tax number"),
    "address": N_("address"),
    "unit_cost": N_("unit cost"),
    "freight": N_("freight"),
    "installation": N_("installation cost"),
    "other": N_("other costs"),
    "category": N_("category"),
    "supplier_payment_reference": N_("supplier payment reference"),
    "items": N_("cost items"),
    "comment": N_("comment"),
    "reason": N_("reason"),
    "reason_code": N_("reason"),
    "actual_date": N_("actual date"),
    "planned_date": N_("planned date"),
    "accepted_on": N_("acceptance date"),
    "carrier": N_("carrier"),
    "tracking_number": N_("tracking number"),
    "invoice_number": N_("invoice number"),
    "credit_note_number": N_("credit note number"),
    "outcome": N_("decision"),
    "explanation": N_("explanation"),
    "description": N_("description"),
    "resolution": N_("resolution"),
    "signed_by": N_("name of who signed"),
    "name": N_("name"),
    "email": N_("e-mail address"),
    "phone": N_("phone"),
    "language": N_("language"),
    "credit_limit": N_("credit limit"),
    "page": N_("page"),
    "per_page": N_("number per page"),
    "owner_id": N_("owner"),
    "department_id": N_("department"),
    "closed_from": N_("start of the period"),
    "closed_to": N_("end of the period"),
    "overdue": N_("overdue filter"),
    "delayed": N_("delayed filter"),
}
# Where a request's fields are, which a person does not need to be told.
REQUEST_PARTS = ("body", "query", "path", "header", "cookie")


def _label(loc: Sequence[str | int]) -> str:
    """The field's name: the last name in its location (not a list's index)."""
    names = [part for part in loc if isinstance(part, str)]
    return FIELD_NAMES.get(names[-1], names[-1]) if names else ""


def _limit(context: Mapping[str, Any]) -> str:
    for key in LIMITS:
        if key in context:
            value = context[key]
            return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    return ""


def _entry(loc: Sequence[str | int]) -> tuple[str, int] | None:
    """The list entry a problem is in (its list's name, counted from 1), if any."""
    for name, index in zip(loc, loc[1:], strict=False):
        if isinstance(name, str) and name in ENTRIES and isinstance(index, int):
            return name, index + 1
    return None


class InvalidInput(Refused):
    """A field of a request or a form that does not validate (422): a sentence about the field,
    translated with the field's name, in the entry of a list it is in ("Line 2: ..."); `loc`
    says where it is (pydantic's location: ("lines", 1, "quantity"))."""

    def __init__(
        self,
        template: str,
        *,
        loc: Sequence[str | int],
        entry: tuple[str, int] | None = None,
        **params: object,
    ) -> None:
        super().__init__(422, template, **params)
        self.loc = tuple(loc)
        self.entry = entry
        self.args = (self.translated(lambda text: text),)

    def translated(self, gettext: Gettext) -> str:
        params = dict(self.params)
        if isinstance(params.get("field"), str):
            params["field"] = gettext(str(params["field"]))
        sentence = gettext(self.template) % params
        if self.entry is None:
            return sentence
        # "The quantity must ..." inside "Line 1: the quantity must ..." (no case in Chinese)
        problem = sentence[:1].lower() + sentence[1:] if sentence[1:2].islower() else sentence
        return gettext(ENTRIES[self.entry[0]]) % {"n": self.entry[1], "problem": problem}


def in_entry(problem: InvalidInput, name: str, index: int, **params: object) -> InvalidInput:
    """A problem of one entry of a list checked alone, as the list's ("Item 2: ...")."""
    return InvalidInput(
        problem.template,
        loc=(name, index, *problem.loc),
        entry=(name, index + 1) if name in ENTRIES else None,
        **{**problem.params, **params},
    )


def not_a_number(name: str, *, field: str, negative: bool = False) -> InvalidInput:
    """A form's number field (its input `name`) that is not a number, or is below zero."""
    return InvalidInput(NEGATIVE if negative else NOT_A_NUMBER, loc=(name,), field=field)


def _where(problem: Problem) -> list[str | int]:
    return [part for part in problem["loc"] if part not in REQUEST_PARTS]


def invalid_input(problems: ValidationError | Sequence[Problem]) -> InvalidInput:
    """The first problem pydantic found (a model's, or a request's from FastAPI, whose
    locations start with body/query/path) as a refusal a person reads."""
    found = problems.errors() if isinstance(problems, ValidationError) else problems
    problem = found[0]
    loc = _where(problem)
    kind = str(problem["type"])
    context = problem.get("ctx") or {}
    if kind == "value_error":
        # our own sentences say what is wrong and where; kept whole so they translate
        cause = context.get("error")
        if isinstance(cause, Refusal):
            return InvalidInput(cause.template, loc=loc, entry=None, **cause.params)
        message = str(problem["msg"]).removeprefix("Value error, ")
        return InvalidInput(message.replace("%", "%%"), loc=loc)
    if kind == "json_invalid":
        return InvalidInput(BODY_NOT_JSON, loc=loc)
    if not loc and kind in ("model_attributes_type", "dict_type", "model_type"):
        return InvalidInput(BODY_NOT_OBJECT, loc=loc)
    blank = problem.get("input") in (None, "") and kind not in ("greater_than", "less_than")
    template = GIVE if blank else SENTENCES.get(kind, OTHERWISE)
    if kind == "string_too_short" and context.get("min_length") == 1:
        template = GIVE
    if kind == "greater_than_equal" and context.get("ge") == 0:
        template = NEGATIVE
    return InvalidInput(
        template,
        loc=loc,
        entry=_entry(loc),
        field=_label(loc),
        limit=_limit(context),
        allowed=str(context.get("expected", "")),
    )


@dataclass
class FormRefusal:
    """A refused form as its page says it (templates/_refusal.html): the message, the form it
    came from (a page may have several) and the field it is about, if one is; the page marks
    that field and says the message next to it, or at the form's buttons."""

    message: str
    form: str = ""
    field: str | None = None
    shown: bool = False
    marked: bool = False

    def is_at(self, form: str, *fields: str) -> bool:
        return self.form == form and (self.field in fields if fields else True)

    def shown_here(self) -> str:
        """Called where the message is said, so that the form does not say it twice."""
        self.shown = True
        return ""

    def marked_here(self) -> str:
        """Called where the field is marked (and focused): the message need not be."""
        self.marked = True
        return ""


def field_of(error: Refusal, renamed: Mapping[str, str] | None = None) -> str | None:
    """The form's field a refusal is about, named as the forms name their inputs: a pydantic
    location joined with "-" ("lines-0-quantity"; `renamed` gives a form's own name for a
    field: {"payment_plan": "plan"}), or the input a refusal names (`at`)."""
    at = error.params.get("at")
    if at:
        return str(at)
    if isinstance(error, InvalidInput) and error.loc:
        names = renamed or {}
        return "-".join(str(names.get(str(part), part)) for part in error.loc)
    return None


# A form's own refusals about one of its fields, by their template: the field's input name
# from the refusal's values (a line's refusal counts lines from 1, the inputs from 0).
Located = Mapping[str, Callable[[Mapping[str, Any]], str]]


def form_refusal(
    error: Refusal,
    gettext: Gettext,
    *,
    form: str = "",
    renamed: Mapping[str, str] | None = None,
    located: Located | None = None,
) -> FormRefusal | None:
    """A refusal of what was typed (422) as the page says it, at its form and field, in the
    person's language. None for one of who may act or when (403, 409): the page says that on
    top, where it is seen whether or not the page shows the person the form."""
    if getattr(error, "status", 422) != 422:
        return None
    field = field_of(error, renamed)
    if field is None and located and error.template in located:
        field = located[error.template](error.params)
    return FormRefusal(error.translated(gettext), form=form, field=field)
