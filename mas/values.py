"""One strict reading of the values people and systems type: ids, whole numbers, amounts,
dates and text. Every front end (the web forms and query strings, the API, the CLI) and the
services read through these, so a value means the same wherever it came from and no value
reaches the database that it would refuse (an overflowing integer, a NUL in text).

Each function raises `BadValue` with a Dutch sentence that can stand beside the field.
"""

from __future__ import annotations

import math
from datetime import date

MAX_ID = 2**31 - 1  # what an integer column holds on both databases
MAX_DIGITS = 10


class BadValue(ValueError):
    """The value cannot be read; the message says why, in Dutch, for beside the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_int(value, *, low: int = 0, high: int = MAX_ID) -> int:
    """A whole number from ASCII digits only (no '²', no Arabic-Indic digits, no sign, no
    spaces inside), between `low` and `high`."""
    if isinstance(value, bool):
        raise BadValue("Vul een geheel getal in.")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
            raise BadValue("Een negatief getal kan hier niet.")
        if not (text.isascii() and text.isdigit()):
            raise BadValue("Vul een geheel getal in (alleen de cijfers 0-9).")
        if len(text.lstrip("0")) > MAX_DIGITS:
            raise BadValue(f"Vul een getal van hoogstens {high} in.")
        number = int(text)
    if number < low:
        raise BadValue("Een negatief getal kan hier niet." if number < 0 else f"Vul een getal van minstens {low} in.")
    if number > high:
        raise BadValue(f"Vul een getal van hoogstens {high} in.")
    return number


def parse_id(value) -> int:
    """A row id: 1 .. MAX_ID."""
    return parse_int(value, low=1)


def optional_int(value, default: int | None = None, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """`parse_int` for a value that may be missing or unreadable (a page number, a filter):
    the default instead of an error."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        return parse_int(value, low=low, high=high)
    except BadValue:
        return default


def parse_amount(value, *, low: float = 0.0, high: float) -> float:
    """A finite decimal number (a comma or a point), between `low` and `high`: never nan or inf."""
    if isinstance(value, bool):
        raise BadValue("Vul een getal in.")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace(",", ".")
        body = text[1:] if text[:1] in "+-" else text
        if not body or not body.isascii() or not body.replace(".", "", 1).isdigit() or len(text) > 20:
            raise BadValue("Vul een getal in, zoals 12 of 12,5.")
        number = float(text)
    if not math.isfinite(number):
        raise BadValue("Vul een getal in, zoals 12 of 12,5.")
    if number < low:
        raise BadValue("Een negatief getal kan hier niet." if number < 0 else f"Vul minstens {low:g} in.")
    if number > high:
        raise BadValue(f"Vul hoogstens {high:g} in.")
    return number


def parse_date(value, *, earliest: date | None = None, latest: date | None = None) -> date:
    """A date as jjjj-mm-dd (ASCII digits), between `earliest` and `latest` when given."""
    if isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        if not (len(text) == 10 and text.isascii() and text[4] == "-" and text[7] == "-"
                and text.replace("-", "").isdigit()):
            raise BadValue("Geen geldige datum (jjjj-mm-dd).")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise BadValue("Geen geldige datum (jjjj-mm-dd): deze dag bestaat niet.") from None
    if earliest is not None and day < earliest:
        raise BadValue(f"Een datum vanaf {earliest.strftime('%d-%m-%Y')}.")
    if latest is not None and day > latest:
        raise BadValue(f"Een datum tot en met {latest.strftime('%d-%m-%Y')}.")
    return day


def has_nul(text: str) -> bool:
    return "\x00" in text


def check_text(value: str, *, max_length: int) -> str:
    """Text a database can keep (no NUL: PostgreSQL refuses it; no lone surrogates) and no
    longer than its column."""
    if "\x00" in value:
        raise BadValue("Deze tekst bevat een ongeldig teken (NUL).")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadValue("Deze tekst bevat een ongeldig teken.") from None
    if len(value) > max_length:
        raise BadValue(f"Te lang: hoogstens {max_length} tekens (nu {len(value)}).")
    return value


def date_bounds(today: date, *, earliest_year: int, years_ahead: int) -> tuple[date, date]:
    """The dates mas accepts: from 1 January of `earliest_year` to `years_ahead` years after today
    (config/mas.toml [input])."""
    try:
        latest = today.replace(year=today.year + years_ahead)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + years_ahead, day=28)
    return date(earliest_year, 1, 1), latest


def check_email(value: str) -> str:
    """An e-mail address as an address (RFC 5322 syntax, by email-validator; no DNS lookup:
    mas never asks the network whether a domain takes mail). Returns it normalised."""
    from email_validator import EmailNotValidError, validate_email

    text = (value or "").strip()
    if "\x00" in text or len(text) > 254:
        raise BadValue("Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise BadValue("Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.") from None
