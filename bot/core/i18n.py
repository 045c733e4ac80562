"""Gettext catalogs (Babel) and locale-aware formatting of money, dates and durations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from bot.core.config import PROJECT_ROOT, SUPPORTED_LOCALES

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Marks a string for extraction without translating it yet."""
    return message


def normalize_locale(code: str | None, default: str = "id") -> str:
    """Telegram's language_code to one of our locales: Indonesian and its neighbours read id."""
    if not code:
        return default
    base = code.split("-")[0].split("_")[0].lower()
    if base in ("id", "jv", "su", "ms"):
        return "id"
    return "en"


@cache
def translations(locale: str) -> NullTranslations:
    if locale not in SUPPORTED_LOCALES:
        locale = "id"
    return Translations.load(str(LOCALES_DIR), [locale], DOMAIN)


class Translator:
    """A locale bound to its catalog: ``_ = Translator('en').gettext``."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in SUPPORTED_LOCALES else "id"
        self._t = translations(self.locale)

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def money(self, amount: int) -> str:
        return format_money(amount, self.locale)

    def date(self, moment: datetime, tz: ZoneInfo) -> str:
        return format_date(moment.astimezone(tz), format="long", locale=_babel_locale(self.locale))

    def short_day(self, day: date) -> str:
        """A day on a button: "Sen, 16 Nov" / "Mon, 16 Nov"."""
        return format_date(day, format="EEE, d MMM", locale=_babel_locale(self.locale))

    def datetime(self, moment: datetime, tz: ZoneInfo) -> str:
        return format_datetime(
            moment.astimezone(tz), format="d MMM y HH:mm", locale=_babel_locale(self.locale)
        )


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse("id_ID" if locale == "id" else "en_ID")


def format_money(amount: int, locale: str) -> str:
    """Whole rupiah in the user's locale: Rp350.000 (id), Rp350,000 (en: an English reader
    takes "350.000" for three hundred and fifty)."""
    if locale == "en":
        return "Rp" + format_decimal(amount, format="#,##0", locale="en")
    # The CLDR pattern without decimals: rupiah is always whole.
    loc = _babel_locale(locale)
    pattern = loc.currency_formats["standard"].pattern.replace(".00", "").replace(",00", "")
    return format_currency(
        Decimal(amount), "IDR", format=pattern, locale=loc, currency_digits=False
    )
