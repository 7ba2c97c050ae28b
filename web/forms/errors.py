"""Pydantic's validation problems as sentences a person reads, in their language (the API's 422
and the pages' forms), and a refused form's message with the form and the field it is about,
for the page to say it there (templates/_refusal.html)."""

from __future__ import annotations

import re
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
    "stage": N_("stage"),
    "status": N_("status"),
    "q": N_("search"),
    "customer": N_("customer"),
    "order": N_("order"),
    "kind": N_("kind"),
    "due": N_("due filter"),
    "sort": N_("sort"),
    "dir": N_("sort direction"),
    "number": N_("order number"),
    "todo_id": N_("to-do"),
    "contact_id": N_("contact"),
    "change_request_id": N_("change request"),
    "username": N_("username"),
    "password": N_("password"),
    "Idempotency-Key": N_("Idempotency-Key header"),
    "milestones": N_("milestones"),
    "code": N_("milestone"),
    "dispatch_lines": N_("lines dispatched"),
    "dispatched_on": N_("dispatch date"),
    "received": N_("lines received"),
    "condition": N_("condition"),
    "received.condition": N_("condition of the goods"),
    "close_reason": N_("reason for closing the rest"),
    "close_rest": N_("closing the rest"),
    "final": N_("final costs"),
    "reship": N_("reshipment"),
    # the approval policy
    "stages": N_("stages"),
    "stages.position": N_("stage order"),
    "requirements": N_("requirements"),
    "requirements.code": N_("name"),
    "decider": N_("who decides"),
    "decider.kind": N_("who decides"),
    "decider.role": N_("role that decides"),
    "decider.user_id": N_("person who decides"),
    "sla_days": N_("SLA"),
    "when": N_("conditions"),
    "when.kind": N_("condition"),
    "when.value": N_("threshold"),
    "notify": N_("people to notify"),
    "notify.kind": N_("whom to notify"),
    "notify.role": N_("role to notify"),
    "notify.user_id": N_("person to notify"),
    "cancellation_director_above": N_(
        "amount above which the director also approves a cancellation"
    ),
    "return_director_above": N_("amount above which the director also approves a return"),
    # the collection and variance policies
    "reminder_days_before": N_("days before a due date for the reminder"),
    "manager_after_days": N_("days overdue before the sales manager is alerted"),
    "director_after_days": N_("days overdue before the director is alerted"),
    "hold_dispatch_for_deposit": N_("holding dispatch for the deposit"),
    "plans": N_("payment plans"),
    "plans.name": N_("plan's name"),
    "plans.items": N_("installments"),
    "threshold_percent": N_("threshold percentage"),
    "threshold_amount": N_("threshold amount"),
}
# An entry of a list within another's, or before the field's name, as people count it:
# "Stage 1, requirement 2, threshold: ..." (a list's own name, or its parent's and its own).
ENTRY_NAMES = {
    "lines": N_("line %(n)s"),
    "received": N_("line %(n)s"),
    "dispatch_lines": N_("line %(n)s"),
    "payment_plan": N_("installment %(n)s"),
    "items": N_("item %(n)s"),
    "plans.items": N_("installment %(n)s"),
    "milestones": N_("milestone %(n)s"),
    "contacts": N_("contact %(n)s"),
    "stages": N_("stage %(n)s"),
    "requirements": N_("requirement %(n)s"),
    "when": N_("condition %(n)s"),
    "notify": N_("notification %(n)s"),
    "plans": N_("plan %(n)s"),
}
ANY_ENTRY = N_("entry %(n)s")
# "Stage 1" and "requirement 2" as "Stage 1, requirement 2" (a comma in the language's own form).
AND_THEN = N_("%(where)s, %(next)s")
# Where a problem is, then the problem: "Stage 1, requirement 2: the threshold ...".
AT = N_("%(where)s: %(problem)s")
# Where a request's fields are, which a person does not need to be told.
REQUEST_PARTS = ("body", "query", "path", "header", "cookie")


def _named(names: Mapping[str, str], loc: Sequence[str | int], at: int) -> str | None:
    """The name `names` give the field or list at loc[at]: by its parent's name and its own
    ("decider.role"), else by its own."""
    name = str(loc[at])
    parents = [part for part in loc[:at] if isinstance(part, str)]
    if parents and f"{parents[-1]}.{name}" in names:
        return names[f"{parents[-1]}.{name}"]
    return names.get(name)


def _label(loc: Sequence[str | int]) -> str:
    """The field's name: the last name in its location (not a list's index)."""
    at = [i for i, part in enumerate(loc) if isinstance(part, str)]
    return (_named(FIELD_NAMES, loc, at[-1]) or str(loc[at[-1]])) if at else ""


def _limit(context: Mapping[str, Any]) -> str:
    for key in LIMITS:
        if key in context:
            value = context[key]
            return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    return ""


Entry = tuple[str, int]


def _entries(loc: Sequence[str | int]) -> tuple[Entry, ...]:
    """The list entries a problem is in, outermost first: each list's name (with its parent's
    where ENTRY_NAMES tell them apart: "plans.items") and the entry counted from 1."""
    found: list[Entry] = []
    for at, (name, index) in enumerate(zip(loc, loc[1:], strict=False)):
        if isinstance(name, str) and isinstance(index, int):
            parents = [part for part in loc[:at] if isinstance(part, str)]
            key = f"{parents[-1]}.{name}" if parents else name
            found.append((key if key in ENTRY_NAMES else name, index + 1))
    return tuple(found)


def field_path(loc: Sequence[str | int]) -> str:
    """A location as an API client names the field: stages[0].requirements[1].when[0].value."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path


def location(path: str) -> tuple[str | int, ...]:
    """A field path (field_path's) back as a location: ("stages", 0, "requirements", ...)."""
    return tuple(
        int(part) if part.isdecimal() else part for part in re.split(r"[.\[\]]+", path) if part
    )


def _after_colon(sentence: str) -> str:
    """A sentence after "Line 1: ": "the quantity must ..." (a first word in capitals, "SLA",
    stays; no case in Chinese)."""
    first = sentence.split(" ", 1)[0]
    return (
        sentence[:1].lower() + sentence[1:] if first[1:].islower() or len(first) == 1 else sentence
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class InvalidInput(Refused):
    """A field of a request or a form that does not validate (422): a sentence about the field,
    translated with the field's name, in the entries of lists it is in ("Line 2: ...",
    "Stage 1, requirement 2: ..."); `loc` says where it is (pydantic's location:
    ("lines", 1, "quantity")). A `reason` is a sentence that need not name the field (a rule of
    a policy): it is said after where it is and the field's name, unless it names the field."""

    def __init__(
        self,
        template: str,
        *,
        loc: Sequence[str | int],
        entries: Sequence[Entry] = (),
        reason: bool = False,
        **params: object,
    ) -> None:
        super().__init__(422, template, **params)
        self.loc = tuple(loc)
        self.entries = tuple(entries)
        self.reason = reason
        self.args = (self.translated(lambda text: text),)

    @classmethod
    def at(cls, path: str, refusal: Refusal) -> InvalidInput:
        """A refusal about the field at `path` (a policy's "stages[0].requirements[1].code", ""
        for none), said with where it is and the field's name."""
        loc = location(path)
        values: dict[str, Any] = dict(refusal.params)
        return cls(refusal.template, loc=loc, entries=_entries(loc), reason=bool(loc), **values)

    @property
    def field_path(self) -> str | None:
        """Where the field is, as an API client names it (None: about no one field)."""
        return field_path(self.loc) or None

    def translated(self, gettext: Gettext) -> str:
        params = dict(self.params)
        if isinstance(params.get("field"), str):
            params["field"] = gettext(str(params["field"]))
        sentence = gettext(self.template) % params
        where = [gettext(ENTRY_NAMES.get(name, ANY_ENTRY)) % {"n": n} for name, n in self.entries]
        if self.reason and isinstance(self.loc[-1], str):
            # "A requirement needs a name." names its field; "Nobody to decide: ..." does not
            label = gettext(_label(self.loc))
            if label.casefold() not in sentence.casefold():
                where.append(label)
        if not where:
            return sentence
        if len(self.entries) == 1 and len(where) == 1 and self.entries[0][0] in ENTRIES:
            return gettext(ENTRIES[self.entries[0][0]]) % {
                "n": self.entries[0][1],
                "problem": _after_colon(sentence),
            }
        joined = where[0]
        for more in where[1:]:
            joined = gettext(AND_THEN) % {"where": joined, "next": more}
        return gettext(AT) % {"where": _capitalised(joined), "problem": _after_colon(sentence)}


def in_entry(problem: InvalidInput, name: str, index: int, **params: object) -> InvalidInput:
    """A problem of one entry of a list checked alone, as the list's ("Item 2: ...")."""
    values: dict[str, Any] = {**problem.params, **params}
    return InvalidInput(
        problem.template,
        loc=(name, index, *problem.loc),
        entries=((name, index + 1), *problem.entries),
        reason=problem.reason,
        **values,
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
            values: dict[str, Any] = dict(cause.params)
            return InvalidInput(cause.template, loc=loc, **values)
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
        entries=_entries(loc),
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
