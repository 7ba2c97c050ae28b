"""Translations (Babel/gettext catalogs under i18n/locales) and locale-aware formatting."""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SUPPORTED = ("en", "zh_CN")
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}


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
    """Money, numbers and dates in one locale."""

    def __init__(self, locale: str, currency: str = "CNY") -> None:
        self.locale = locale
        self.currency = currency

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

    def date(self, value: dt.date | None) -> str:
        return "—" if value is None else format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="yyyy-MM-dd HH:mm", locale=self.locale)

    def change(self, field: str, text: str) -> str:
        """One side of a revision diff's field (the API's raw text) as a person reads it."""
        from i18n.change_text import change_value  # it needs this module's Formatter

        return change_value(self, field, text)
