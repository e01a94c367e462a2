"""The kind of fact a question asks for ("when" → a date, "who" → names), as a pattern a sentence holding it matches."""

from __future__ import annotations

import re

from qa.text import STOP_WORDS, stemmer

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_NUMBER_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand)"
_WHEN = re.compile(rf"\b{_MONTH}\b|\b(?:19|20)\d\d\b|\b\d{{1,2}}:\d\d\b|\b[ap]\.m\.", re.IGNORECASE)
_WHO = re.compile(
    r"\b(?:Mr|Ms|Mrs|Dr|H\.E|Rt Hon|Prime Minister|President|King|Queen)\b"  # titles
    r"|\b[A-Z]{4,} [A-Z][a-z]+\b|\b[A-Z][a-z]+ [A-Z]{4,}\b"  # Japanese names written "KIHARA Minoru" (not "UK Foreign")
)
_WHERE = re.compile(r"\b(?:in|at|to|from)\s+(?:the\s+)?[A-Z][a-z]+")
_HOW_MANY = re.compile(rf"\b\d+|\b{_NUMBER_WORD}\b", re.IGNORECASE)
_HOW_MUCH = re.compile(r"[£$¥€%]|\b(?:yen|pounds?|dollars?|euros?|billion|million|per ?cent)\b", re.IGNORECASE)
_HOW_LONG = re.compile(r"\b\d+\s*(?:minutes?|hours?|days?|weeks?|years?|months?)\b|\bapproximately\b", re.IGNORECASE)

# Cue in the question (lower case) → what the answering sentence holds; the first cue found wins.
_CUES: tuple[tuple[re.Pattern, re.Pattern], ...] = (
    (re.compile(r"\bhow many\b"), _HOW_MANY),
    (re.compile(r"\bhow much\b"), _HOW_MUCH),
    (re.compile(r"\bhow long\b"), _HOW_LONG),
    (re.compile(r"\bwhen\b|\bwhat (?:time|date|year|month|day)\b|\bwhich (?:year|month|day|date)\b"), _WHEN),
    (re.compile(r"\bwho(?:m|se)?\b"), _WHO),
    (re.compile(r"\bwhere\b|\bwhich (?:city|country|place|town|airbase|base|venue)\b|\bin what (?:city|country)\b"), _WHERE),
)


_HOW_MANY_OF = re.compile(r"\bhow many ([a-z]+)")


def expected_fact(question: str) -> re.Pattern | None:
    """A pattern that a sentence answering question matches, or None when the question names no kind of fact."""
    lowered = question.lower()
    counted = _HOW_MANY_OF.search(lowered)
    if counted and counted.group(1) not in STOP_WORDS:
        # "How many troops…" is answered by a count of troops, not by any number in the sentence.
        stem = re.escape(stemmer().stemWord(counted.group(1)))
        return re.compile(rf"(?:\b\d[\d,.]*|\b{_NUMBER_WORD}s?)\s+(?:[\w-]+\s+){{0,2}}{stem}", re.IGNORECASE)
    for cue, pattern in _CUES:
        if cue.search(lowered):
            return pattern
    return None
