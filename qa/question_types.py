"""What a question asks for (its wh-word, and the kind of fact), and whether a sentence holds that kind of fact.

Two halves. The question's class ("who", "when", "how many"…) comes from its wording. A sentence's
fact shapes (a year, an era such as "430 BC", a decade, a century, a month, a number, a sum of money,
a multi-word name, an organisation…) are plain English surface patterns, looked for only in the
words the sentence does not share with the question ("When was the Treaty of Paris signed?" is not
answered by the words "Treaty of Paris"). Which shapes answer which class is not written by hand:
benchmarks/fit_answer_model.py counts them in gold answers (SQuAD articles 0-8) against the other
sentences of the passages retrieved, and qa/fitted.py holds the result (ANSWER_CUES).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from qa.text import ORDINAL_WORDS, STOP_WORDS, stemmer, words

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
_NUMBER_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozens?|several)"
_ORDINAL_WORD = "(?:" + "|".join((*ORDINAL_WORDS, "twenty-first")) + ")"
_CAPITAL = r"[A-Z][\w'’-]*[a-z][\w'’-]*"
_ORG_WORDS = (
    r"University|College|School|Academy|Institute|Company|Corporation|Corp|Inc|Ltd|LLC|Group|Association|Society|Council|"
    r"Committee|Commission|Agency|Department|Ministry|Office|Bureau|Board|Bank|Foundation|Party|Church|Army|Navy|Force|"
    r"League|Union|Court|Parliament|Congress|Senate|Club|Team|Records|Museum|Organi[sz]ation|Federation|Authority|Service"
)

# Shape name → pattern. Each is a property of English text in general, not of one corpus.
SHAPES: dict[str, re.Pattern] = {
    "year": re.compile(r"\b(?:1\d{3}|20\d\d)\b(?!\s*(?:km|kg|m|ft|people|metres|meters|miles))"),
    "era": re.compile(r"\b\d+\s*(?:BC|BCE|AD|CE|B\.C\.|A\.D\.)(?!\w)|\b(?:AD|A\.D\.)\s*\d+"),
    "decade": re.compile(r"\b(?:1\d|20)?\d0['’]?s\b"),
    "century": re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)|{_ORDINAL_WORD})[- ]centur(?:y|ies)\b", re.IGNORECASE),
    "month": re.compile(rf"\b{_MONTH}(?!\w)"),
    "weekday": re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"),
    "clock": re.compile(r"\b\d{1,2}[:.]\d\d\s*(?:[ap]\.?m\.?)?(?!\d)|\b\d{1,2}\s*[ap]\.m\.", re.IGNORECASE),
    "number": re.compile(r"(?<![\w.])\d[\d,.]*\b"),
    "number_word": re.compile(rf"\b{_NUMBER_WORD}\b", re.IGNORECASE),
    "ordinal": re.compile(rf"\b\d+(?:st|nd|rd|th)\b|\b{_ORDINAL_WORD}\b", re.IGNORECASE),
    "percent": re.compile(r"%|\bper ?cent\b", re.IGNORECASE),
    "money": re.compile(r"[$£€¥]\s*\d|\b\d[\d,.]*\s*(?:dollars?|pounds?|euros?|yen|cents?|USD|GBP|EUR)\b", re.IGNORECASE),
    "measure": re.compile(
        r"\b\d[\d,.]*\s*(?:km|kilomet(?:er|re)s?|miles?|m|met(?:er|re)s?|cm|mm|feet|foot|ft|inch(?:es)?|kg|kilograms?|"
        r"grams?|g|tons?|tonnes?|pounds?|lb|acres?|hectares?|square|sq|litres?|liters?|gallons?|°|degrees?|mph|km/h|Hz|MB|GB|KB|bytes?|bits?|"
        r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b",
        re.IGNORECASE,
    ),
    "name": re.compile(rf"{_CAPITAL}(?:\s+(?:of|de|da|van|von|la|del|the|and|&)?\s*{_CAPITAL})+"),
    "capitalised": re.compile(rf"\b{_CAPITAL}\b"),
    "acronym": re.compile(r"\b[A-Z]{2,}s?\b"),
    "organisation": re.compile(rf"\b(?:{_ORG_WORDS})\b(?:\s+of\b)?|\b{_CAPITAL}\s+(?:{_ORG_WORDS})\b"),
    "title": re.compile(
        r"\b(?:Mr|Mrs|Ms|Dr|Sir|Lord|Lady|President|King|Queen|Prince|Princess|Pope|Saint|St|General|Emperor|Bishop|Professor|Prof"
        r"|Minister|Secretary)\b\.?"
    ),
    "quoted": re.compile(r"\"[^\"]{2,}\"|“[^”]{2,}”"),
    "parenthesis": re.compile(r"\([^)]{2,}\)"),
}
SHAPE_NAMES = tuple(SHAPES)

# The wh-words as they are written ("whom" and "whose" count as "who"; "how many" and "how much"
# are kept whole): the surface of a question, which the classes below build on.
_WH = {
    "how many": r"\bhow many\b", "how much": r"\bhow much\b", "who": r"\bwho(?:m|se)?\b", "when": r"\bwhen\b",
    "where": r"\bwhere\b", "why": r"\bwhy\b", "which": r"\bwhich\b", "what": r"\bwhat\b", "how": r"\bhow\b",
}
_WH_WORDS = tuple((word, re.compile(pattern)) for word, pattern in _WH.items())

# The question's class from its wording; the first that matches wins, so the specific forms
# ("what year", "how many") come before the bare wh-words.
_CLASSES: tuple[tuple[str, re.Pattern], ...] = (
    ("how many", re.compile(rf"{_WH['how many']}|\bwhat (?:is the )?number of\b")),
    ("how much", re.compile(rf"{_WH['how much']}|\bwhat (?:is the )?(?:cost|price|amount)\b")),
    ("how long", re.compile(r"\bhow (?:long|old|far|big|large|tall|high|deep|wide|fast|heavy)\b")),
    ("when", re.compile(rf"{_WH['when']}|\b(?:what|which) (?:time|date|year|month|day|decade|century|period|era|age)\b|\bhow recently\b")),
    ("who", re.compile(rf"{_WH['who']}|\b(?:what|which) (?:person|people|man|woman|company|organi[sz]ation|group|team|author|king|president|leader)\b")),
    ("where", re.compile(rf"{_WH['where']}|\b(?:what|which) (?:city|country|place|town|state|region|location|continent|island|river|area|venue)\b")),
    ("why", re.compile(rf"{_WH['why']}|\bwhat (?:is the )?(?:reason|cause)\b")),
    ("how", re.compile(_WH["how"])),
    ("what", re.compile(rf"{_WH['what']}|{_WH['which']}")),
)
QUESTION_CLASSES = tuple(name for name, _ in _CLASSES)


def question_word(question: str) -> str:
    """The question's first wh-word ("how many" and "how much" kept whole), or "other": how `qa
    bench` breaks its answer figures down."""
    lowered = question.lower()
    found = [(m.start(), order, word) for order, (word, pattern) in enumerate(_WH_WORDS) if (m := pattern.search(lowered))]
    return min(found)[2] if found else "other"


def question_class(question: str) -> str | None:
    """The kind of fact question asks for: one of QUESTION_CLASSES, or None ("Tell me about…")."""
    lowered = question.lower()
    found = [(m.start(), order, name) for order, (name, cue) in enumerate(_CLASSES) if (m := cue.search(lowered))]
    if not found:
        return None
    # The earliest cue: "What did the man who founded it say?" asks "what", not "who".
    first = min(found)
    # "In what year…" and "how many" are checked before a bare wh-word at the same place.
    same_start = [f for f in found if f[0] <= first[0] + 5]
    return min(same_start, key=lambda f: f[1])[2]


_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


# Words that name the kind of fact ("in what century", "which city"): the answer repeats them
# ("the 12th century"), so they are not blanked with the rest of the question.
_KIND_NOUNS = frozenset(
    [
        "time", "date", "year", "years", "month", "day", "decade", "century", "centuries", "period", "era", "age",
        "city", "country", "place", "town", "state", "region", "location", "continent", "island", "river", "area", "venue",
        "person", "people", "man", "woman", "company", "organization", "organisation", "group", "team",
    ]
)


def masked(sentence: str, question: str) -> str:
    """The sentence with the question's own words blanked (stop words and the words naming the kind
    of fact excepted), so a shape must come from what the sentence adds to the question."""
    asked = {w for w in words(question) if w not in STOP_WORDS and w not in _KIND_NOUNS}
    stems = set(stemmer().stemWords(sorted(asked)))

    def blank(match: re.Match) -> str:
        word = match.group().lower().replace("’", "'")
        if word in asked or (word not in STOP_WORDS and stemmer().stemWord(word) in stems):
            return "·"
        return match.group()

    return _TOKEN.sub(blank, sentence)


def fact_shapes(text: str) -> frozenset[str]:
    """The shapes found in text. A sentence's first word is capitalised as any first word is, so
    names are looked for after it."""
    found = {name for name, pattern in SHAPES.items() if pattern.search(text)}
    first = _TOKEN.search(text)
    if first and first.group()[:1].isupper() and {"capitalised", "name"} & found:
        rest = text[first.end() :]
        found -= {"capitalised", "name"} - {name for name in ("capitalised", "name") if SHAPES[name].search(rest)}
    return frozenset(found)


def answer_shapes(answer: str) -> frozenset[str]:
    """The shapes of a gold answer as it stands inside a sentence (its first word is not sentence-initial)."""
    return fact_shapes(f"x {answer}")


def type_match(question: str, sentence: str, cues: Mapping[str, Mapping[str, float]] | None = None) -> float | None:
    """How well sentence holds the kind of fact question asks for: the largest cue weight (the log
    of how much likelier the shape is in gold answers of that class than in other sentences) among
    the shapes of what the sentence adds to the question; 0.0 when it holds none; None when the
    question's class has no cue."""
    if cues is None:
        from qa.fitted import ANSWER_CUES

        cues = ANSWER_CUES
    expected = cues.get(question_class(question) or "", {})
    if not expected:
        return None
    shapes = fact_shapes(masked(sentence, question))
    return max((weight for shape, weight in expected.items() if shape in shapes), default=0.0)
