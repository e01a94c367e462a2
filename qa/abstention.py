"""Whether the corpus answers a question: a few scale-free signals and a small logistic model over them.

The signals never use the ranking mode's own scores (a fused score has no fixed scale): they use the
dense cosine of the closest passage, and which of the question's words and numbers the corpus and the
shown passages hold. The model's constants are fitted by benchmarks/tune_abstention.py on the seeds dev split.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa.answer_types import expected_fact
from qa.schema import Hit
from qa.text import content_terms, question_term_weights

# Numbers and ordinals: "the third meeting" is not answered by passages about the second and the fifth.
_NUMBER = re.compile(r"\d+|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b", re.IGNORECASE)

# A capitalised word that does not open the question.
_NAME = re.compile(r"(?<=\S)\s+([A-Z][\w’'-]*)")


@dataclass(frozen=True, slots=True)
class AbstentionSignals:
    """What the decision looks at; each lies in [0, 1] (the cosine in [-1, 1])."""

    closest: float  # dense cosine of the passage closest to the question, in the whole index
    coverage: float  # IDF-weighted share of the question's content words found in the top passages
    unknown: float  # IDF-weighted share of the question's own content words found nowhere in the corpus
    missing_number: float  # 1.0 when a number of the question (a year, "third") is in none of the top passages
    missing_fact: float  # 1.0 when a "when"/"who"/"how much"… question's answer sentences hold no such fact
    # The same share as unknown, of the question's capitalised words only ("Taiwan", "Brexit"): a name
    # the corpus lacks is most often a topic it lacks, a plain word ("trip") most often a paraphrase.
    unknown_name: float = 0.0

    def as_tuple(self) -> tuple[float, ...]:
        return (self.closest, self.coverage, self.unknown, self.missing_number, self.missing_fact, self.unknown_name)


SIGNAL_NAMES = ("closest", "coverage", "unknown", "missing_number", "missing_fact", "unknown_name")


@dataclass(frozen=True, slots=True)
class AbstentionModel:
    """P(answerable) = sigmoid(bias + weights · signals); abstain below min_probability."""

    bias: float
    weights: tuple[float, ...]  # in SIGNAL_NAMES order
    min_probability: float = 0.5

    def probability(self, signals: AbstentionSignals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.as_tuple()))
        return 1.0 / (1.0 + math.exp(-z))

    def abstains(self, signals: AbstentionSignals) -> bool:
        return self.probability(signals) < self.min_probability


def abstention_signals(
    question: str,
    history: Sequence[str],
    hits: Sequence[Hit],
    idf: Mapping[str, float],
    closest: float,
    best_sentences: Sequence[str] = (),
) -> AbstentionSignals:
    """The signals for a question answered from hits (the top passages shown) whose best-ranked
    sentences are best_sentences, given the corpus's IDF."""
    weights = question_term_weights(question, history, idf)
    shown_terms: set[str] = set()
    shown_numbers: set[str] = set()
    for hit in hits:
        text = hit.passage.embedding_text()
        shown_terms.update(content_terms(text))
        shown_numbers.update(n.lower() for n in _NUMBER.findall(f"{text} {hit.passage.date or ''}"))
    total = sum(weights.values())
    coverage = sum(w for term, w in weights.items() if term in shown_terms) / total if total else 0.0
    own = {term: weights[term] for term in content_terms(question)}
    own_total = sum(own.values())
    unknown = sum(w for term, w in own.items() if term not in idf) / own_total if idf and own_total else 0.0
    names = set(content_terms(" ".join(_NAME.findall(question))))
    unknown_name = sum(w for term, w in own.items() if term in names and term not in idf) / own_total if idf and own_total else 0.0
    numbers = {n.lower() for n in _NUMBER.findall(question)}
    missing_number = 1.0 if numbers - shown_numbers else 0.0
    fact = expected_fact(question)
    missing_fact = 1.0 if fact is not None and not any(fact.search(s) for s in best_sentences) else 0.0
    return AbstentionSignals(closest, coverage, unknown, missing_number, missing_fact, unknown_name)
