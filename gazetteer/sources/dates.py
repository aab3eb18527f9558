"""Publication dates that are not in metadata: a report's leading dateline, a URL's path, and ISO checks."""

from __future__ import annotations

import re
from datetime import date, datetime

# Where a dateline can be: wire stories open with it, so anything later is a date in the
# story (the day of an attack), not the day it was published.
DATELINE_WINDOW = 300

_MONTHS = {name: number for number, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
    ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
    ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec")), 1) for name in names}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY, _YEAR = r"(?P<day>\d{1,2})", r"(?P<year>(?:19|20)\d\d)"
# An optional upper-case place ("BEIRUT, " or "ALEPPO, Syria, "), then the date, then an
# optional agency in brackets, then the dash or colon that ends every dateline. The dash is
# required: without it "12 May 2024" is just as likely the first words of a sentence.
# (?-i:...) keeps the place upper case while month names match in any case, so a sentence
# such as "In Aleppo, 3 March 2015 - ..." is not taken for a dateline.
_PLACE = r"(?-i:(?:[A-Z][A-Z'.\-]+(?:[ /][A-Z][A-Z'.\-]+)*(?:,\s+[A-Z][A-Za-z.]+(?: [A-Z][A-Za-z.]+)*)?,\s+)?)"
_END = r"\s*(?:\([A-Za-z][A-Za-z .&'-]{0,40}\)\s*)?[-\u2013\u2014:]"
_DATELINES = [re.compile(rf"^[ \t]*{_PLACE}(?:{date_pattern}){_END}", re.MULTILINE | re.IGNORECASE)
              for date_pattern in (rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}",
                                   rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}")]
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](\d{1,2})[/-](\d{1,2})(?:/|[-_]|$)")


def find_dateline(text: str) -> str | None:
    """Return the ISO date of a dateline ("BEIRUT, March 3, 2015 (Reuters) -",
    "12 May 2024 -") opening a line in the first characters of text, else None."""
    head = text[:DATELINE_WINDOW]
    matches = [m for pattern in _DATELINES for m in pattern.finditer(head)]
    for match in sorted(matches, key=lambda m: m.start()):
        found = _valid_date(int(match["year"]), _MONTHS[match["month"].lower()],
                            int(match["day"]))
        if found:
            return found
    return None


def date_in_url(url: str) -> str | None:
    """Return the ISO date in a URL's path such as /2015/03/03/, else None."""
    match = _URL_DATE.search(url)
    return _valid_date(*map(int, match.groups())) if match else None


def _valid_date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def iso_date_or_datetime(value: str) -> str | None:
    """Return value normalised to ISO 8601 when it is a date or datetime, else None."""
    value = value.strip()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None
