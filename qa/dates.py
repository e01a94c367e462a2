"""Dates as documents write them, normalised to ISO YYYY-MM-DD."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_PATTERNS = [
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
]


def find_date(text: str) -> str | None:
    """The first date written in text, as YYYY-MM-DD, or None."""
    found = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            month = match.group("month")
            month_number = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
            try:
                value = date(int(match.group("year")), month_number, int(match.group("day")))
            except ValueError:
                continue
            found.append((match.start(), value.isoformat()))
    return min(found)[1] if found else None
