"""Sentence boundaries as character spans, for windows, extractive answers and sentence vectors."""

from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st rt hon h.e no nos vol fig figs approx etc e.g i.e vs
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur fri sat sun
    a.m p.m u.k u.s u.n inc ltd co corp dept gov govt gen col lt capt cmdr adm sgt""".split()
)
_CANDIDATE = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s+|$)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"“‘'(\[]?[A-Z0-9\u00c0-\u024f\u0370-\u1fff\u3000-\uffff]")
_NEXT_IS_WORD = re.compile(r"\s+[\"“‘'(\[]?\w")
_HAS_UPPER_CASE = re.compile(r"[A-Z]")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of text, whitespace trimmed, in order.

    A stop ends a sentence when the next word is capitalised; in text without capitals (lower-cased,
    tokenised collections such as Cranfield: "… slipstream . an experimental …") and after a stop
    standing alone between spaces, any next word will do."""
    spans: list[tuple[int, int]] = []
    start = 0
    caseless = not _HAS_UPPER_CASE.search(text)
    for match in _CANDIDATE.finditer(text):
        end = match.end()
        if end < len(text) and not _NEXT_STARTS_SENTENCE.match(text, end):
            detached = match.start() > 0 and text[match.start() - 1].isspace()
            if not ((caseless or detached) and _NEXT_IS_WORD.match(text, end)):
                continue
        if match.group().startswith(".") and _is_abbreviation(text, match.start()):
            continue
        _append_trimmed(text, start, end, spans)
        start = end
    _append_trimmed(text, start, len(text), spans)
    return spans


def _is_abbreviation(text: str, dot: int) -> bool:
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "(\"“":
        word_start -= 1
    word = text[word_start:dot].lower()
    line_start = text.rfind("\n", 0, word_start) + 1
    if word.isdigit() and len(word) <= 3 and not text[line_start:word_start].strip():
        return True  # a list number such as "1." at the start of a line
    if word in _ABBREVIATIONS:
        return True
    # Initials and dotted acronyms such as "J." or "U.K." (but not "ISIL..").
    return bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", word)) and len(word) <= 5


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def sentence_texts(title: str, text: str) -> list[str]:
    """What the encoder sees for each sentence of a passage when matching one fact: "title\nsentence"
    (the title gives a sentence its topic). A passage without a sentence boundary is one sentence."""
    sentences = [text[start:end] for start, end in sentence_spans(text)] or [text]
    return [f"{title}\n{sentence}" if title else sentence for sentence in sentences]
