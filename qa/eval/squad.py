"""SQuAD's answer normalisation, for measuring answers on SQuAD-format sets."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.eval.datasets import NEAR_MISS

if TYPE_CHECKING:
    from qa.eval.datasets import LabelledQuery
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
    unanswerable: int = 0  # asked of an index without their article (off-topic)
    declined: int = 0  # of those, abstained on
    near_misses: int = 0  # SQuAD 2.0's unanswerable questions, asked of their own article
    near_declined: int = 0  # of those, abstained on
    fooled: int = 0  # near-misses answered with the span a careless reader would quote

    def add(self, answer: Answer, query: LabelledQuery) -> None:
        if query.kind == NEAR_MISS:
            self.near_misses += 1
            self.near_declined += answer.abstained
            self.fooled += not answer.abstained and answer_contains(_quoted(answer), query.plausible)
            return
        if not query.answerable:
            self.unanswerable += 1
            self.declined += answer.abstained
            return
        self.questions += 1
        self.abstained += answer.abstained
        if not answer.abstained:
            self.contains += answer_contains(_quoted(answer), query.answers)
            self.first += answer_contains(answer.sentences[0].text, query.answers)

    def rates(self) -> dict[str, float]:
        n, u, m = self.questions, self.unanswerable, self.near_misses
        rates = {
            "questions": n,
            "answer_contains_gold": self.contains / n if n else float("nan"),
            "first_sentence_contains_gold": self.first / n if n else float("nan"),
            "abstained_answerable": self.abstained / n if n else float("nan"),
            "unanswerable_questions": u,
            "abstained_unanswerable": self.declined / u if u else float("nan"),
        }
        if m:
            rates |= {"near_miss_questions": m, "abstained_near_miss": self.near_declined / m, "quoted_plausible": self.fooled / m}
        return rates


def _quoted(answer: Answer) -> str:
    return " ".join(s.text for s in answer.sentences)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """The bot's abstention at one threshold on its confidence (Answer.confidence)."""

    threshold: float
    false_abstention: float  # answerable questions abstained on
    near_miss: float  # near-miss questions abstained on (NaN without any)
    off_topic: float  # questions of articles not indexed abstained on (NaN without any)


def abstention_curve(answers: Sequence[tuple[Answer, LabelledQuery]], steps: int = 100, also: Iterable[float] = ()) -> list[CurvePoint]:
    """How abstention trades off as the threshold moves from 0 to 1 (steps + 1 thresholds, and those
    of also): a question is abstained on at threshold t when its answer's confidence is below t, or
    it had nothing to quote (confidence None)."""
    groups: dict[str, list[float]] = {"answerable": [], "near_miss": [], "off_topic": []}
    for answer, query in answers:
        group = "answerable" if query.answerable else "near_miss" if query.kind == NEAR_MISS else "off_topic"
        groups[group].append(-1.0 if answer.confidence is None else answer.confidence)

    def below(values: list[float], threshold: float) -> float:
        return sum(value < threshold or value < 0 for value in values) / len(values) if values else float("nan")

    return [
        CurvePoint(t, below(groups["answerable"], t), below(groups["near_miss"], t), below(groups["off_topic"], t))
        for t in sorted({step / steps for step in range(steps + 1)} | set(also))
    ]


def best_within(curve: Sequence[CurvePoint], false_abstention: float) -> CurvePoint | None:
    """The point abstaining most on near-misses (else off-topic questions) with at most this false abstention."""
    allowed = [point for point in curve if point.false_abstention <= false_abstention]
    if not allowed:
        return None
    key = "near_miss" if any(p.near_miss == p.near_miss for p in allowed) else "off_topic"
    return max(allowed, key=lambda point: (getattr(point, key), -point.threshold))
