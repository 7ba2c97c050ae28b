"""Translations (Babel/gettext catalogs under i18n/locales) and locale-aware formatting."""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, get_datetime_format
from babel.numbers import format_currency, format_decimal

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SUPPORTED = ("en", "zh_CN")
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
# The company's time zone until an administrator sets another (Admin -> Company settings).
DEFAULT_TIME_ZONE = "Asia/Shanghai"


def N_(message: str) -> str:  # the gettext convention for "mark, translate later"
    return message


@lru_cache
def translations(locale: str) -> gettext_module.NullTranslations:
    return gettext_module.translation(
        DOMAIN, localedir=LOCALES_DIR, languages=[locale], fallback=True
    )


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """The supported locale the browser prefers most (Accept-Language), else the default."""
    if not accept_language:
        return default
    choices = []
    for part in accept_language.split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        choices.append((weight, tag.strip().replace("-", "_")))
    for _, tag in sorted(choices, key=lambda c: -c[0]):
        try:
            parsed = Locale.parse(tag)
        except (ValueError, UnknownLocaleError):
            continue
        if parsed.language == "zh":
            return "zh_CN"
        if parsed.language == "en":
            return "en"
    return default


class Formatter:
    """Money, numbers and dates in one locale; moments in the company's time zone.

    One style per locale: a date is babel's medium date ("Dec 4, 2026", "2026年12月4日"), a
    moment that date and the 24-hour time in the company's zone, joined as the locale joins
    them ("Dec 4, 2026, 18:38", "2026年12月4日 18:38"), and, where no page says which zone it
    is (mail, pages reached from mail), followed by the zone's name."""

    def __init__(
        self, locale: str, currency: str = "CNY", time_zone: str = DEFAULT_TIME_ZONE
    ) -> None:
        self.locale = locale
        self.currency = currency
        self.time_zone = time_zone

    def money(self, value: Decimal | str | None) -> str:
        """Money with its currency and thousands separators (timeline details carry strings)."""
        if value is None or value == "":
            return "—"
        return format_currency(Decimal(value), self.currency, locale=self.locale)

    def number(self, value: Decimal | None) -> str:
        if value is None:
            return "—"
        return format_decimal(
            value.normalize() if value == value.to_integral() else value, locale=self.locale
        )

    def percent(self, value: Decimal | None) -> str:
        if value is None:
            return "—"
        return f"{format_decimal(value, format='#,##0.##', locale=self.locale)} %"

    def local(self, value: dt.datetime) -> dt.datetime:
        """A moment in the company's time zone (a naive one, as SQLite gives them, is UTC)."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(ZoneInfo(self.time_zone))

    def today(self, now: dt.datetime) -> dt.date:
        """The company's calendar day at this moment."""
        return self.local(now).date()

    def date(self, value: dt.date | None) -> str:
        """A day; a moment gives the company's calendar day it fell on."""
        if value is None:
            return "—"
        if isinstance(value, dt.datetime):
            value = self.local(value).date()
        return format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: dt.datetime | None) -> str:
        """A moment in the company's time zone, e.g. "Dec 4, 2026, 18:38"."""
        if value is None:
            return "—"
        moment = self.local(value)
        pattern = str(get_datetime_format("medium", locale=self.locale))
        return pattern.replace("{1}", self.date(moment.date())).replace(
            "{0}", format_time(moment, "HH:mm", locale=self.locale)
        )

    def datetime_with_zone(self, value: dt.datetime | None) -> str:
        """A moment with its zone named, for mail and the pages mail links to:
        "Dec 4, 2026, 18:38 China Standard Time", "2026年12月4日 18:38（中国标准时间）"."""
        if value is None:
            return "—"
        return f"{self.datetime(value)}{self._zone_words(self.local(value))}"

    def zone_name(self, when: dt.datetime | None = None) -> str:
        """The company's zone as people call it ("China Standard Time", "中国标准时间")."""
        moment = self.local(when or dt.datetime.now(dt.UTC))
        return format_datetime(moment, "zzzz", tzinfo=moment.tzinfo, locale=self.locale)

    def _zone_words(self, moment: dt.datetime) -> str:
        name = self.zone_name(moment)
        return f"（{name}）" if self.locale.startswith("zh") else f" {name}"

    def reason(self, text: str | None) -> str:
        """Why an approval requirement applies, or why nobody can decide it (recorded in
        English by the routing rules), in this locale."""
        from i18n.reason_text import reason_words  # it needs this module's N_

        separator = "；" if self.locale.startswith("zh") else "; "
        return reason_words(translations(self.locale).gettext, text, separator)

    def unit(self, code: str | None) -> str:
        """A product's unit of measure (stored as a code such as "pcs") in this locale."""
        from i18n.labels import UNITS  # it needs this module's N_

        if not code:
            return ""
        return translations(self.locale).gettext(UNITS[code]) if code in UNITS else code

    def change(self, field: str, text: str) -> str:
        """One side of a revision diff's field (the API's raw text) as a person reads it."""
        from i18n.change_text import change_value  # it needs this module's Formatter

        return change_value(self, field, text)
