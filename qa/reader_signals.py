"""Signals for the abstention model that come with the reader: scale-free numbers computed from the
question, the sentences shown for it and the reader's scores of them. Not wired into qa/abstention.py
yet; benchmarks/reader_eval.py (`cv --signals`) measures how well each separates answerable from
unanswerable questions on the tuning half.

The "best sentence" is the one the reader scores highest; its window is the best sentence with the
sentences on either side of it among those shown (a pronoun's antecedent is often there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa.question_types import type_match
from qa.text import STOP_WORDS, content_terms, words

# A number (digits, with thousands separators or decimals), a year among them.
_NUMBER = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\w)")
# A capitalised word or a run of them (with "of", "de"… inside), not the question's first word.
_NAME = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:of|de|da|von|van|del|la|the|and)?\s*[A-Z][\w'’.-]*)*")
RAREST_TERMS = 3  # the question's rarest content words that rare_coverage looks for


@dataclass(frozen=True, slots=True)
class ReaderSignals:
    """Each in a fixed range: reader_max is a logit; the others lie in [0, 1]."""

    reader_max: float  # the reader's largest logit over the shown sentences
    reader_margin: float  # that logit less the runner-up's (0.0 with one sentence)
    # Share of the question's numbers, years and names that neither the best sentence nor its
    # neighbours hold ("Since 1978…" answered by "Since 2008…"); 0.0 when the question names none.
    missing_specifics: float
    # 1.0 when the question asks for a kind of fact (qa.answer_types: a count for "how many", a date
    # for "when"…) and what the best sentence adds to the question holds none; else 0.0.
    missing_type: float
    # IDF-weighted share of the question's RAREST_TERMS rarest content words that the best sentence's
    # window holds.
    rare_coverage: float

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in READER_SIGNAL_NAMES}


READER_SIGNAL_NAMES = ("reader_max", "reader_margin", "missing_specifics", "missing_type", "rare_coverage")


def question_specifics(question: str) -> list[str]:
    """The numbers and names a question states: its digits ("1978", "12,000") and its capitalised
    words and runs of them after the first word ("Ethical Reasoning", "Yale")."""
    found = [m.group() for m in _NUMBER.finditer(question)]
    first = re.match(r"\s*\S+", question)
    start = first.end() if first else 0
    for m in _NAME.finditer(question, start):
        name = m.group().rstrip(".'’")
        if any(w not in STOP_WORDS for w in words(name)):
            found.append(name)
    return found


def _held(specific: str, text: str, text_words: frozenset[str]) -> bool:
    if _NUMBER.fullmatch(specific):
        return re.search(rf"(?<![\w.,]){re.escape(specific)}(?!\w)", text) is not None or specific.replace(",", "") in text.replace(",", "")
    # A name is held when each of its words is ("Ethical Reasoning" needs both; "the" is not asked for).
    return all(w in text_words for w in words(specific) if w not in STOP_WORDS)


def missing_specifics(question: str, window: str) -> float:
    """Share of the question's numbers and names that window does not hold (0.0 when it names none)."""
    specifics = question_specifics(question)
    if not specifics:
        return 0.0
    window_words = frozenset(words(window))
    return sum(not _held(s, window, window_words) for s in specifics) / len(specifics)


def missing_type(question: str, sentence: str) -> float:
    """1.0 when question asks for a kind of fact that sentence (less the question's own words) lacks."""
    match = type_match(question, sentence)
    return 1.0 if match is not None and match <= 0.0 else 0.0


def rare_coverage(question: str, window: str, idf: Mapping[str, float], rarest: int = RAREST_TERMS) -> float:
    """IDF-weighted share of the question's rarest content words (highest IDF; a word the corpus lacks
    counts as rarest) that window holds; 1.0 when the question has no content word."""
    terms = sorted(set(content_terms(question)))
    if not terms:
        return 1.0
    top = max(idf.values(), default=1.0)
    weight = {t: idf.get(t, top) for t in terms}
    chosen = sorted(terms, key=lambda t: -weight[t])[:rarest]
    held = set(content_terms(window))
    total = sum(weight[t] for t in chosen)
    return sum(weight[t] for t in chosen if t in held) / total if total else 1.0


def windows(sentences: Sequence[str]) -> list[str]:
    """Each sentence with its neighbours in the list (the list is one passage's sentences, in order)."""
    return [" ".join(sentences[max(0, i - 1) : i + 2]) for i in range(len(sentences))]


def reader_signals(
    question: str,
    sentences: Sequence[str],
    scores: Sequence[float],
    idf: Mapping[str, float],
    *,
    contexts: Sequence[str] | None = None,
) -> ReaderSignals:
    """The signals for question, given the sentences shown (in document order), the reader's score of
    each, and the corpus's IDF table. contexts: each sentence's window (default: with its neighbours
    in sentences, right when they come from one passage; pass the passage's own when they do not)."""
    if not sentences or len(sentences) != len(scores):
        raise ValueError("reader_signals needs one score per sentence, and at least one sentence")
    ranked = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    best = ranked[0]
    window = (contexts if contexts is not None else windows(sentences))[best]
    return ReaderSignals(
        reader_max=float(scores[best]),
        reader_margin=float(scores[best]) - float(scores[ranked[1]]) if len(ranked) > 1 else 0.0,
        missing_specifics=missing_specifics(question, window),
        missing_type=missing_type(question, sentences[best]),
        rare_coverage=rare_coverage(question, window, idf),
    )
