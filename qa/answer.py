"""Extractive answers: the sentences of the top passages that best answer the question, each cited."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from qa import settings
from qa.abstention import AbstentionModel, AbstentionSignals, abstention_signals
from qa.fitted import FITTED_ABSTENTION, KEEP_MARGIN, SENTENCE_SELECTOR
from qa.question_dates import of_named_time
from qa.question_types import type_match
from qa.schema import Answer, AnswerSentence, Closeness, Hit
from qa.sentences import sentence_spans
from qa.text import LIST_MARKER as _LIST_MARKER
from qa.text import content_terms

if TYPE_CHECKING:
    from qa.query import Query

# A sentence that opens by referring back ("It was designed by…", "He later…") is about what the
# sentence before it names: it counts the question's words found there too.
_REFERS_BACK = re.compile(r"(?:it|its|he|his|she|her|they|their|this|these|the latter)\b", re.IGNORECASE)

# What the sentence selector looks at, in the order of SENTENCE_SELECTOR's weights (qa/fitted.py).
SELECTOR_FEATURES = (
    "overlap", "inverse_rank", "first_in_passage", "position", "type_match", "untyped", "length", "novelty", "cosine_gap",
)


@dataclass(frozen=True, slots=True)
class SentenceSelector:
    """score = bias + weights · features: a logistic regression of "the sentence holds the answer",
    fitted by benchmarks/fit_answer_model.py on SQuAD articles 0-17."""

    bias: float
    weights: Mapping[str, float]

    def __post_init__(self) -> None:
        if set(self.weights) != set(SELECTOR_FEATURES):
            raise ValueError(f"selector weights must name exactly {SELECTOR_FEATURES}, got {sorted(self.weights)}")

    def score(self, features: Mapping[str, float]) -> float:
        return self.bias + sum(self.weights[name] * features[name] for name in SELECTOR_FEATURES)


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """How to pick the sentences, when to abstain, and how much to extract. The selector and the
    abstention model are fitted by benchmarks/fit_answer_model.py and tune_abstention.py (qa/fitted.py)."""

    abstention: AbstentionModel = field(default_factory=lambda: AbstentionModel(**FITTED_ABSTENTION))
    selector: SentenceSelector = field(default_factory=lambda: SentenceSelector(**SENTENCE_SELECTOR))
    max_sentences: int = 3
    passages_considered: int = 3
    keep_margin: float = KEEP_MARGIN  # extra sentences must score within this much (log-odds) of the best one

    def abstaining_below(self, threshold: float) -> AnswerPolicy:
        """The same policy with another operating point: abstain below this confidence (0 to 1)."""
        return replace(self, abstention=replace(self.abstention, min_probability=threshold))

    @classmethod
    def configured(cls, abstain_below: float | None = None) -> AnswerPolicy:
        """The fitted policy at the operating point asked for: abstain_below, else $QA_ABSTAIN_BELOW,
        else the fitted threshold."""
        threshold = abstain_below if abstain_below is not None else settings.abstain_below()
        return cls() if threshold is None else cls().abstaining_below(threshold)


@dataclass(frozen=True, slots=True)
class _Candidate:
    score: float
    overlap: float
    hit: Hit
    start: int  # within the passage text
    end: int
    holds_fact: bool | None  # holds the kind of fact the question asks for; None when it asks for none


def compose_answer(
    query: Query,
    hits: Sequence[Hit],
    *,
    idf: Mapping[str, float] | None = None,
    policy: AnswerPolicy = AnswerPolicy(),
    search_ms: float = 0.0,
    closeness: Closeness | None = None,
) -> Answer:
    """closeness: how close the index comes to the question (DenseRetriever.closeness; default: the
    top hit's score as the closest passage's cosine)."""
    chosen, signals = _weigh(query, hits, idf or {}, policy, closeness)
    confidence = policy.abstention.probability(signals) if chosen else None
    abstained = confidence is None or confidence < policy.abstention.min_probability
    chosen = [] if abstained else chosen
    sentences = tuple(
        AnswerSentence(
            text=c.hit.passage.text[c.start : c.end],
            citation=c.hit.rank,
            start=c.hit.passage.start + c.start,
            end=c.hit.passage.start + c.end,
        )
        for c in chosen
    )
    return Answer(
        question=query.text, sentences=sentences, hits=tuple(hits), abstained=abstained,
        search_ms=search_ms, history=query.history, confidence=confidence,
    )


def answer_signals(
    query: Query,
    hits: Sequence[Hit],
    *,
    idf: Mapping[str, float] | None = None,
    policy: AnswerPolicy = AnswerPolicy(),
    closeness: Closeness | None = None,
) -> AbstentionSignals:
    """What the abstention decision of compose_answer (same arguments) looks at; for tuning it."""
    return _weigh(query, hits, idf or {}, policy, closeness)[1]


def _weigh(
    query: Query, hits: Sequence[Hit], idf: Mapping[str, float], policy: AnswerPolicy, closeness: Closeness | None
) -> tuple[list[_Candidate], AbstentionSignals]:
    """The sentences the answer would quote, and the signals for abstaining instead."""
    shown = hits[: policy.passages_considered]
    # A year the question names is a condition, not a hint: when some shown passages are of that
    # time, another year's passage would answer another question ("the 2023 meeting", not 2021's).
    of_time = of_named_time(query.text, [hit.passage for hit in shown])
    quoted = [hit for hit, keep in zip(shown, of_time, strict=True) if keep] if any(of_time) else shown
    candidates = _rank_sentences(query, quoted, idf, policy.selector)
    chosen = _choose(candidates, policy)
    if closeness is None:
        closeness = Closeness(passage=hits[0].score if hits else 0.0)
    best = candidates[0] if candidates else None
    typed = bool(chosen) and chosen[0].holds_fact is not None
    return chosen, abstention_signals(
        query, shown, idf, closeness, best_score=best.score if best else None,
        best_overlap=best.overlap if best else 0.0, holds_fact=any(c.holds_fact for c in chosen) if typed else None,
    )


def sentence_features(
    query: Query, hits: Sequence[Hit], idf: Mapping[str, float], cues: Mapping[str, Mapping[str, float]] | None = None,
) -> list[tuple[Hit, int, int, dict[str, float], bool | None]]:
    """Each sentence of the hits (hit, start, end within its passage text), its selector features, and
    whether it holds the kind of fact asked for (None when the question asks for no particular kind).
    cues: the answer-type cues (default: the fitted ones of qa/fitted.py)."""
    weights = query.term_weights(idf)
    total = sum(weights.values()) or 1.0
    asked = set(weights)
    spans = [sentence_spans(hit.passage.text) for hit in hits]
    # The dense cosine counts relative to the closest sentence shown: its level varies with the
    # question's wording, its order among the sentences does not. A hit whose sentence cosines were
    # not looked up counts as closest (0), the same for all its sentences.
    cosines = [hit.sentence_scores if len(hit.sentence_scores) == len(found) else None for hit, found in zip(hits, spans, strict=True)]
    closest = max((score for scores in cosines if scores for score in scores), default=0.0)
    rows = []
    for hit, found, scores in zip(hits, spans, cosines, strict=True):
        for position, (start, end) in enumerate(found):
            marker = _LIST_MARKER.match(hit.passage.text, start)
            if marker and marker.end() < end:
                start = marker.end()
            sentence = hit.passage.text[start:end]
            terms = content_terms(sentence)
            about = set(terms)
            if position and _REFERS_BACK.match(sentence):
                about.update(content_terms(hit.passage.text[found[position - 1][0] : found[position - 1][1]]))
            overlap = sum(w for term, w in weights.items() if term in about) / total
            match = type_match(query.text, sentence, cues)
            features = {
                "overlap": overlap,
                "inverse_rank": 1.0 / hit.rank,
                "first_in_passage": float(position == 0),
                "position": min(position, 10) / 10,
                "type_match": match or 0.0,
                "untyped": float(match is None),
                "length": min(math.log1p(len(terms)) / 4, 1.5),
                "novelty": sum(term not in asked for term in terms) / len(terms) if terms else 0.0,
                "cosine_gap": scores[position] - closest if scores else 0.0,
            }
            rows.append((hit, start, end, features, None if match is None else match > 0))
    return rows


def _rank_sentences(query: Query, hits: Sequence[Hit], idf: Mapping[str, float], selector: SentenceSelector) -> list[_Candidate]:
    candidates = [
        _Candidate(score=selector.score(f), overlap=f["overlap"], hit=hit, start=start, end=end, holds_fact=holds)
        for hit, start, end, f, holds in sentence_features(query, hits, idf)
    ]
    return sorted(candidates, key=lambda c: -c.score)


def _choose(candidates: list[_Candidate], policy: AnswerPolicy) -> list[_Candidate]:
    if not candidates:
        return []
    best = candidates[0].score
    chosen: list[_Candidate] = []
    seen: set[str] = set()
    for candidate in candidates:
        text = _text(candidate)
        if text in seen or (chosen and candidate.score < best - policy.keep_margin):
            continue
        seen.add(text)
        chosen.append(candidate)
        if len(chosen) == policy.max_sentences:
            break
    if chosen[0].holds_fact is False and not any(c.holds_fact for c in chosen):
        # A "when" question whose best sentence names the event but not its date: the date is most
        # often in a neighbouring sentence of the same passage, which shares few words with the question.
        fact = next((c for c in candidates if c.holds_fact and _supports(c, chosen[0])), None)
        if fact is not None:
            chosen = [*chosen[: policy.max_sentences - 1], fact]
    # The best sentence first (a reader who stops there has the answer), the others in document
    # order within each cited passage, best passage first.
    return [chosen[0], *sorted(chosen[1:], key=lambda c: (c.hit.rank, c.start))]


def _supports(candidate: _Candidate, best: _Candidate) -> bool:
    """Whether candidate may stand beside the best sentence: same passage, or nearly as on-topic."""
    return candidate.hit is best.hit or candidate.overlap >= 0.5 * best.overlap


def _text(candidate: _Candidate) -> str:
    return candidate.hit.passage.text[candidate.start : candidate.end]
