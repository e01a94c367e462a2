"""Whether the corpus answers a question: a few scale-free signals and a small logistic model over them.

The signals never use the ranking mode's own scores (a fused score has no fixed scale): they use the
dense cosine of the closest passage, and which of the question's words and numbers the corpus and the
shown passages hold. The model's constants are fitted across corpora by benchmarks/tune_abstention.py (qa/fitted.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.schema import Closeness, Hit
from qa.text import content_terms

if TYPE_CHECKING:
    from qa.query import Query

# A capitalised word that does not open the question.
_NAME = re.compile(r"(?<=\S)\s+([A-Z][\w’'-]*)")


@dataclass(frozen=True, slots=True)
class AbstentionSignals:
    """What the decision looks at; each lies in [0, 1] (the cosine in [-1, 1]). Every one is computed
    from the question, the corpus's IDF table, the shown passages and the selector: none needs a
    particular corpus's layout or wording."""

    closest: float  # dense cosine of the passage closest to the question, in the whole index
    unknown: float  # IDF-weighted share of the question's own content words found nowhere in the corpus
    # The same share as unknown, of the question's capitalised words only ("Taiwan", "Brexit"): a name
    # the corpus lacks is most often a topic it lacks, a plain word ("trip") most often a paraphrase.
    unknown_name: float = 0.0
    missing_fact: float = 0.0  # 1.0 when a "when"/"who"/"how many"… question's answer sentences hold no such fact
    best_sentence: float = 0.5  # the sentence selector's probability that the best sentence holds the answer
    best_overlap: float = 0.0  # IDF-weighted share of the question's words that the best sentence holds
    # IDF-weighted share of the conversation's words (the question's, and at half weight the question
    # before it) that the top passage holds: a bare follow-up ("and when must it be ready?") is
    # answered by a passage on the earlier question's topic.
    top_overlap: float = 0.0
    found_fact: float = 0.0  # 1.0 when a question asking for a kind of fact has one in its answer sentences
    closest_sentence: float = 0.0  # dense cosine of the single sentence closest to the question, in the whole index
    closest_margin: float = 0.0  # the closest passage's cosine less the mean of the next few (Closeness.margin)
    # IDF-weighted share of the question's own words that the corpus holds but none of the shown
    # passages does: a question about something beside the topic ("… about Hong Kong?") finds
    # passages on the topic that never name it.
    absent_shown: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in SIGNAL_NAMES}


SIGNAL_NAMES = (
    "closest", "unknown", "unknown_name", "missing_fact", "best_sentence", "best_overlap", "top_overlap", "found_fact",
    "closest_sentence", "closest_margin", "absent_shown",
)


@dataclass(frozen=True, slots=True)
class AbstentionModel:
    """P(answerable) = sigmoid(bias + Σ weights[name] · signal[name]); abstain below min_probability.
    A signal left out of weights weighs nothing; a name that is not a signal is refused."""

    bias: float
    weights: Mapping[str, float]
    min_probability: float = 0.5

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(SIGNAL_NAMES))
        if unknown:
            raise ValueError(f"unknown abstention signal(s) {unknown}; the signals are {SIGNAL_NAMES}")

    def probability(self, signals: AbstentionSignals) -> float:
        values = signals.as_dict()
        z = self.bias + sum(w * values[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z))

    def abstains(self, signals: AbstentionSignals) -> bool:
        return self.probability(signals) < self.min_probability


def abstention_signals(
    query: Query,
    hits: Sequence[Hit],
    idf: Mapping[str, float],
    closeness: Closeness,
    *,
    best_score: float | None = None,
    best_overlap: float = 0.0,
    holds_fact: bool | None = None,
) -> AbstentionSignals:
    """The signals for a question answered from hits (the top passages shown), given the corpus's IDF
    and how close the index comes to the question. best_score: the selector's log-odds for the best
    sentence; holds_fact: whether the quoted sentences hold the kind of fact asked for (None when the
    question asks for no kind)."""
    weights = query.term_weights(idf)
    own = {term: weights[term] for term in content_terms(query.text)}
    own_total = sum(own.values())
    unknown = sum(w for term, w in own.items() if term not in idf) / own_total if idf and own_total else 0.0
    names = set(content_terms(" ".join(_NAME.findall(query.text))))
    unknown_name = sum(w for term, w in own.items() if term in names and term not in idf) / own_total if idf and own_total else 0.0
    best_sentence = 1.0 / (1.0 + math.exp(-best_score)) if best_score is not None else 0.0
    total = sum(weights.values())
    passage_terms = [set(content_terms(f"{hit.passage.title}\n{hit.passage.text}")) for hit in hits]
    top_terms = passage_terms[0] if passage_terms else set()
    top_overlap = sum(w for term, w in weights.items() if term in top_terms) / total if total else 0.0
    shown_terms = set().union(*passage_terms)
    absent = sum(w for term, w in own.items() if term in idf and term not in shown_terms)
    return AbstentionSignals(
        closest=closeness.passage, unknown=unknown, unknown_name=unknown_name, missing_fact=float(holds_fact is False),
        best_sentence=best_sentence, best_overlap=best_overlap, top_overlap=top_overlap,
        found_fact=float(holds_fact is True), closest_sentence=closeness.sentence, closest_margin=closeness.margin,
        absent_shown=absent / own_total if idf and own_total else 0.0,
    )
