"""Why an approval requirement applies, or why nobody can decide it, as a person reads it in
their language. The routing rules (workflows/rules/approval.py) write these reasons in English
inside the workflow, where they are recorded as facts; this reads them back and translates
each part, so rounds recorded before keep reading right too."""

from __future__ import annotations

import re
from collections.abc import Callable

from i18n import N_
from i18n.labels import REQUIREMENTS, ROLES

Gettext = Callable[[str], str]

_STOCK_LINE = re.compile(
    r"(?P<code>.+): (?P<ordered>[\d.,]+) ordered, (?P<available>-?[\d.,]+) available"
)
_STOCK_LINE_WORDS = N_("%(code)s: %(ordered)s ordered, %(available)s available")
_STOCK = "above available stock: "
_STOCK_WORDS = N_("above available stock: %(lines)s")

# Each English reason the rules write, and its words for the catalog, with the same fields.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + "$"), words)
    for pattern, words in (
        (r"always", N_("always")),
        (r"order total >= (?P<amount>[\d.,]+)", N_("order total >= %(amount)s")),
        (
            r"discount (?P<discount>-?[\d.]+) % >= (?P<threshold>[\d.]+) %",
            N_("discount %(discount)s %% >= %(threshold)s %%"),
        ),
        (
            r"expected margin (?P<margin>-?[\d.]+) % < (?P<threshold>-?[\d.]+) %",
            N_("expected margin %(margin)s %% < %(threshold)s %%"),
        ),
        (
            r"customer exposure (?P<exposure>[\d.,]+) over credit limit (?P<limit>-?[\d.,]+)",
            N_("customer exposure %(exposure)s over credit limit %(limit)s"),
        ),
        (r"export shipping", N_("export shipping")),
        # activities/rounds.reason_of: the requirement would have been the owner's to decide
        (
            r"the owner's own: decided by their manager",
            N_("the owner's own: decided by their manager"),
        ),
        # Why nobody can decide (rules.UnroutableError), on the order page and the admin's list.
        (
            r"No manager above the owner can decide '(?P<code>.+)'\.",
            N_("No manager above the owner can decide “%(code)s”."),
        ),
        (
            r"The requirement '(?P<code>.+)' names no role\.",
            N_("The requirement “%(code)s” names no role."),
        ),
        (
            r"Nobody active has the role '(?P<role>.+)' to decide '(?P<code>.+)'\.",
            N_("Nobody active has the role “%(role)s” to decide “%(code)s”."),
        ),
        (
            r"The requirement '(?P<code>.+)' names no person\.",
            N_("The requirement “%(code)s” names no person."),
        ),
        (
            r"The person named to decide '(?P<code>.+)' \(user (?P<user>\d+)\) is not active\.",
            N_("The person named to decide “%(code)s” (user %(user)s) is not active."),
        ),
    )
)


def reason_words(gettext: Gettext, text: str | None, separator: str = "; ") -> str:
    """The recorded reason in the reader's language, its parts joined by `separator`; a text
    of another shape as it is."""
    if not text:
        return ""
    groups: list[list[str]] = []  # a reason, or "above available stock" with its short lines
    for part in text.split("; "):
        if groups and groups[-1][0].startswith(_STOCK) and _STOCK_LINE.fullmatch(part):
            groups[-1].append(part)
        else:
            groups.append([part])
    return separator.join(_group(gettext, group, separator) for group in groups)


def _group(gettext: Gettext, group: list[str], separator: str) -> str:
    if not group[0].startswith(_STOCK):
        return _one(gettext, group[0])
    lines = [group[0][len(_STOCK) :], *group[1:]]
    return gettext(_STOCK_WORDS) % {
        "lines": separator.join(_stock_line(gettext, line) for line in lines)
    }


def _one(gettext: Gettext, part: str) -> str:
    for pattern, template in _REASONS:
        if match := pattern.fullmatch(part):
            values = match.groupdict()
            if "code" in values:
                values["code"] = gettext(REQUIREMENTS.get(values["code"], values["code"]))
            if "role" in values:
                values["role"] = gettext(ROLES.get(values["role"], values["role"]))
            return gettext(template) % values
    return _stock_line(gettext, part)  # a short line alone (the inbox's), or as it is


def _stock_line(gettext: Gettext, line: str) -> str:
    match = _STOCK_LINE.fullmatch(line)
    return gettext(_STOCK_LINE_WORDS) % match.groupdict() if match else line
