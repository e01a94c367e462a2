"""SQuAD's answer normalisation and question words, for measuring answers on SQuAD-format sets."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)

# At the same position "how many" wins over "how"; "whom" and "whose" count as "who".
QUESTION_WORDS = (
    ("how many", re.compile(r"\bhow many\b")),
    ("how much", re.compile(r"\bhow much\b")),
    ("who", re.compile(r"\bwho(?:m|se)?\b")),
    ("when", re.compile(r"\bwhen\b")),
    ("where", re.compile(r"\bwhere\b")),
    ("why", re.compile(r"\bwhy\b")),
    ("which", re.compile(r"\bwhich\b")),
    ("what", re.compile(r"\bwhat\b")),
    ("how", re.compile(r"\bhow\b")),
)


def normalize_answer(text: str) -> str:
    """SQuAD's evaluation script: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def answer_contains(text: str, answers: Iterable[str]) -> bool:
    """Whether text holds one of the gold answers as whole words, once both are normalised."""
    haystack = f" {normalize_answer(text)} "
    return any(f" {gold} " in haystack for gold in map(normalize_answer, answers) if gold)


def question_word(question: str) -> str:
    """The question's first wh-word ("how many" and "how much" kept whole), or "other"."""
    lowered = question.lower()
    found = [(m.start(), order, word) for order, (word, pattern) in enumerate(QUESTION_WORDS) if (m := pattern.search(lowered))]
    return min(found)[2] if found else "other"
