"""SQuAD's answer normalisation, for measuring answers on SQuAD-format sets."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.schema import Answer

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's evaluation script: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def answer_contains(text: str, answers: Iterable[str]) -> bool:
    """Whether text holds one of the gold answers as whole words, once both are normalised."""
    haystack = f" {normalize_answer(text)} "
    return any(f" {gold} " in haystack for gold in map(normalize_answer, answers) if gold)


@dataclass
class AnswerTally:
    """Running counts of how a set of questions was answered; `rates()` gives the figures `qa bench`
    reports (answer and first sentence holding a gold answer, abstentions)."""

    questions: int = 0  # answerable
    contains: int = 0
    first: int = 0
    abstained: int = 0  # answerable questions the bot said it could not answer
    unanswerable: int = 0
    declined: int = 0  # unanswerable questions it abstained on

    def add(self, answer: Answer, gold: Sequence[str] | None) -> None:
        """One answer; gold is None for a question the documents do not answer."""
        if gold is None:
            self.unanswerable += 1
            self.declined += answer.abstained
            return
        self.questions += 1
        self.abstained += answer.abstained
        if not answer.abstained:
            self.contains += answer_contains(" ".join(s.text for s in answer.sentences), gold)
            self.first += answer_contains(answer.sentences[0].text, gold)

    def rates(self) -> dict[str, float]:
        n, u = self.questions, self.unanswerable
        return {
            "questions": n,
            "answer_contains_gold": self.contains / n if n else float("nan"),
            "first_sentence_contains_gold": self.first / n if n else float("nan"),
            "abstained_answerable": self.abstained / n if n else float("nan"),
            "unanswerable_questions": u,
            "abstained_unanswerable": self.declined / u if u else float("nan"),
        }
