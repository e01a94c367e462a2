"""Years named in a question ("in 2016", "at the 2023 meeting"), to prefer documents of that year."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.text import ORDINAL_WORDS

if TYPE_CHECKING:
    import numpy as np

    from qa.schema import Passage

_YEAR = re.compile(r"(?<![\d.,:/-])(19\d\d|20\d\d)(?![\d.,:/-]\d)")
_ORDINAL = re.compile(r"\b(?:(\d{1,2})(?:st|nd|rd|th)|(" + "|".join(ORDINAL_WORDS) + r"))\b", re.IGNORECASE)
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")


def years_named(question: str) -> frozenset[str]:
    """Years written in the question. Not those of earlier questions: a follow-up's year would pull
    up every passage of that document, the one the earlier question was about (measured: a tie on
    the seeds, and it put "Tokyo on 8 January 2016" above the answer to "what other countries were
    on that trip?")."""
    return frozenset(_YEAR.findall(question))


def dated_in(passages: Sequence[Passage], years: frozenset[str]) -> np.ndarray:
    """1.0 for each passage whose document is dated in one of years, else 0.0."""
    import numpy as np

    return np.fromiter(((p.date or "")[:4] in years for p in passages), dtype=np.float32, count=len(passages))


def _day_written(text: str, iso: str) -> bool:
    """Whether text names the day of the ISO date iso by month and day ("November 7", "7th November")."""
    if len(iso) < 10:
        return False
    month, day = _MONTH_NAMES[int(iso[5:7]) - 1], str(int(iso[8:10]))
    pattern = rf"\b(?:{month}\.?\s+{day}(?:st|nd|rd|th)?|{day}(?:st|nd|rd|th)?\s+(?:of\s+)?{month})\b"
    return re.search(pattern, text, re.IGNORECASE) is not None


def years_spoken_of(passage: Passage) -> frozenset[str]:
    """The years a passage's own text speaks of: those it writes, and its document's year when it
    names the document's day ("On November 7, …" in a page dated 2023-11-07 tells what happened
    that day). Of all the passages of a dated document, these narrate its event, not its background."""
    years = set(_YEAR.findall(passage.text))
    if passage.date and _day_written(passage.text, passage.date):
        years.add(passage.date[:4])
    return frozenset(years)


def speaks_of(spoken: Sequence[frozenset[str]], years: frozenset[str]) -> np.ndarray:
    """1.0 for each passage whose text speaks of one of years (spoken: years_spoken_of of each), else 0.0."""
    import numpy as np

    return np.fromiter((bool(s & years) for s in spoken), dtype=np.float32, count=len(spoken))


def ordinals(text: str) -> frozenset[int]:
    """The ordinals text writes, as numbers ("fifth" and "5th" are both 5)."""
    return frozenset(int(digits) if digits else ORDINAL_WORDS.index(word.lower()) + 1 for digits, word in _ORDINAL.findall(text))


def years_by_title_ordinal(passages: Sequence[Passage]) -> dict[int, frozenset[str]]:
    """For each ordinal that dated documents' titles write ("Fifth … Meeting"), the years of those
    documents: a question about "the fifth meeting" names that document's time without its year."""
    found: dict[int, set[str]] = {}
    for passage in passages:
        if passage.date:
            for number in ordinals(passage.title):
                found.setdefault(number, set()).add(passage.date[:4])
    return {number: frozenset(years) for number, years in found.items()}


def of_named_time(question: str, passages: Sequence[Passage]) -> list[bool]:
    """Which passages are of a year the question names (their document is dated then, or their text
    speaks of it); all False when it names none, or when no passage's document is dated (a collection
    without dates, like most public benchmarks, gets no time rule, as in retrieval)."""
    years = years_named(question) if any(p.date for p in passages) else frozenset()
    return [bool(years) and ((p.date or "")[:4] in years or bool(years_spoken_of(p) & years)) for p in passages]
