"""Word-level text handling shared by retrieval and answer extraction."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

# The marker that starts a list item ("1.", "a)", "(iv)", "-", "•"…) and the space after it.
LIST_MARKER = re.compile(r"(?:\d{1,3}[.)]|[a-zA-Z][.)]|\([0-9a-zA-Z]{1,4}\)|[-*+•·–‣▪◦])\s+")
# Ordinal words, first to twentieth: ORDINAL_WORDS.index(word) + 1 is the number.
ORDINAL_WORDS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth",
    "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth",
)

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves also said say says tell told us any anything did does""".split()
)


@lru_cache(maxsize=1)
def stemmer():
    """The Snowball English stemmer (PyStemmer), shared by BM25 and answer extraction."""
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def content_terms(text: str) -> list[str]:
    """Stemmed words that carry meaning: no stop words."""
    return stemmer().stemWords([w for w in words(text) if w not in STOP_WORDS])


# Control characters (tab and newline are kept), and the invisible format characters that reorder
# text on screen (bidirectional overrides and isolates, the "Trojan Source" characters) or hide in
# it (zero-width space, word joiner, byte order mark). Joiners (U+200C, U+200D) and the left-to-right
# and right-to-left marks stay: scripts and emoji need them, and they cannot move other text.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]")


def printable(text: str) -> str:
    """Text safe for a terminal: control characters (ANSI escapes among them) shown, not obeyed."""
    return CONTROL.sub(_shown, text)


def _shown(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def question_terms(question: str) -> frozenset[str]:
    """The stems of a question's content words."""
    return frozenset(content_terms(question))


# Words by which a question points back at the conversation ("did they…", "on that trip", "what
# about…", "…too"): English function words, not any corpus's vocabulary.
_BACK_REFERENCES = frozenset(
    """it its it's they them their theirs this that these those he him his she her there then such
    other another too also else same former latter""".split()
)
_CONTINUATIONS = ("and ", "but ", "so ", "or ", "what about ", "how about ")  # "also" is a back-reference anywhere


def reads_conversation(question: str) -> bool:
    """Whether a question leans on the questions before it: it refers back ("they", "that"), goes on
    from them ("And what about the RAA?") or names too little to stand alone. A question that names
    its own subject ("Who attended the 2023 meeting?") is read alone, whatever was asked before."""
    found = words(question)
    opening = " ".join(found[:2]) + " "
    return (
        any(word in _BACK_REFERENCES for word in found)
        or opening.startswith(_CONTINUATIONS)
        or len(content_terms(question)) < 2
    )


def history_read(question: str, history: Sequence[str]) -> list[str]:
    """The earlier questions a question is read with: the non-blank ones when it reads the
    conversation, else none."""
    return [h for h in history if h.strip()] if reads_conversation(question) else []


HISTORY_TERM_WEIGHT = 0.5  # a follow-up's topic words count half as much as its own


def question_term_weights(question: str, history: Sequence[str], idf: Mapping[str, float]) -> dict[str, float]:
    """Each content word of the question (and, at half weight, of the question before it) times its IDF.
    A word the corpus lacks gets the highest IDF: it is as rare as a word can be."""
    weights = {term: HISTORY_TERM_WEIGHT for earlier in history[-1:] for term in content_terms(earlier)}
    weights.update({term: 1.0 for term in content_terms(question)})
    rarest = max(idf.values(), default=1.0)
    return {term: w * idf.get(term, rarest) for term, w in weights.items()}


def term_spans(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of the words of text whose stem is one of terms (for emphasis)."""
    if not terms:
        return []
    matches = [m for m in _WORD.finditer(text) if m.group().lower() not in STOP_WORDS]
    stems = stemmer().stemWords([m.group().lower().replace("’", "'") for m in matches])
    return [(m.start(), m.end()) for m, stem in zip(matches, stems, strict=True) if stem in terms]


def inverse_document_frequencies(texts: Sequence[str]) -> dict[str, float]:
    """BM25-style IDF of each content term over texts (one document each)."""
    counts: dict[str, int] = {}
    for text in texts:
        for term in set(content_terms(text)):
            counts[term] = counts.get(term, 0) + 1
    n = len(texts)
    return {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in counts.items()}
