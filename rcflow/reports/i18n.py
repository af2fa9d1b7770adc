"""The reports' languages (pages, CSV headers, legal documents): Babel message catalogues under
Jinja's i18n extension, and numbers, money and dates in the locale's own format (``1.234,56 €``,
``15/12/2025``). The one definition of how a report writes a number.

Catalogues are the ``.po`` files in ``reports/locales/<lang>/LC_MESSAGES/messages.po`` (English is
the source language); they are compiled in memory with Babel when first used (cached per process),
so nothing generated is kept in the repository. ``RCFLOW_LANGUAGE`` (default ``ca``) or ``--lang``
chooses.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from rcflow import clock, config

LOCALES = {"ca": "ca_ES", "es": "es_ES", "en": "en_GB"}
LANGUAGES: dict[str, str] = {code: LOCALES[code] for code in config.LANGUAGES}
DEFAULT_LANGUAGE = "ca"
LOCALES_DIR = Path(__file__).resolve().parents[2] / "reports" / "locales"
TEMPLATES_DIR = LOCALES_DIR.parent / "templates"
NOT_AVAILABLE = {"ca": "n/d", "es": "n/d", "en": "n/a"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


class LanguageError(ValueError):
    """A language rcflow has no catalogue for."""


def check_language(lang: str) -> str:
    """``lang`` if rcflow speaks it, else a one-line error listing those it does."""
    value = lang.strip().lower()
    if value not in LANGUAGES:
        raise LanguageError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return value


def catalogue_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (English: the messages as written)."""
    lang = check_language(lang)
    path = catalogue_path(lang)
    if lang == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=LANGUAGES[lang])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def rounded(value: float | Decimal | int | str, places: int) -> Decimal:
    """Half-cents away from zero (``31.825`` → ``31,83``): Babel alone would round half to even,
    and a figure would then differ from the CSV's two-decimal value by a cent."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class Formatter:
    """Locale-aware numbers, money and dates, and the template filters of the same names."""

    def __init__(self, lang: str, *, not_available: str | None = None) -> None:
        self.lang = check_language(lang)
        self.locale = Locale.parse(LANGUAGES[self.lang])
        self.na = NOT_AVAILABLE[self.lang] if not_available is None else not_available

    def number(self, value: float | Decimal | int | None, places: int = 2) -> str:
        if value is None or value == "":
            return self.na
        pattern = "#,##0" + ("." + "0" * places if places else "")
        amount = rounded(value, places)
        return format_decimal(amount, format=pattern, locale=self.locale, group_separator=True)

    def euros(self, value: float | Decimal | int | None) -> str:
        if value is None or value == "":
            return self.na
        return format_currency(rounded(value, 2), "EUR", locale=self.locale)

    def compact_euros(self, value: float | Decimal | int | None) -> str:
        """Short amounts for chart labels: ``1.475,5 M€`` (``€1,475.5M`` in English), ``8.532 €``."""
        if value is None or value == "":
            return self.na
        amount = Decimal(str(value))
        if abs(amount) < 1_000_000:
            return format_currency(rounded(amount, 0), "EUR", format="#,##0\xa0¤" if self.lang != "en"
                                   else "¤#,##0", locale=self.locale, currency_digits=False)
        millions = self.number(amount / 1_000_000, 1)
        return f"€{millions}M" if self.lang == "en" else f"{millions}\u00a0M€"

    def count(self, value: int | None) -> str:
        return self.number(value, 0)

    def day(self, value: date | str | None) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, "dd/MM/yyyy", locale=self.locale)

    def instant(self, value: datetime) -> str:
        """A Madrid time with its zone: ``31/12/2026 00:30 CET``."""
        local = value.astimezone(clock.MADRID)
        return f"{format_datetime(local, 'dd/MM/yyyy HH:mm', locale=self.locale)} {local.tzname()}"

    def filters(self) -> dict[str, object]:
        return {
            "number": self.number,
            "euros": self.euros,
            "count": self.count,
            "day": self.day,
            "instant": self.instant,
            "compact_euros": self.compact_euros,
        }


# English lines for the operator (CLI summaries, Prefect artifacts) with the figures written as the
# Catalan and Spanish pages write them.
CONSOLE = Formatter("es", not_available="n/a")


def environment(lang: str) -> Environment:
    """The Jinja environment of every report template in ``lang``: its catalogue installed
    (``_``, ``ngettext``, ``{% trans %}``) and the :class:`Formatter` filters."""
    lang = check_language(lang)
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, extensions=["jinja2.ext.i18n"], trim_blocks=True,
                      lstrip_blocks=True)  # fmt: skip
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(Formatter(lang).filters())
    env.globals["lang"] = lang
    return env
