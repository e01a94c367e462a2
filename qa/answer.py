"""Extractive answers: the sentences of the top passages that best answer the question, each cited."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa.abstention import AbstentionModel, AbstentionSignals, abstention_signals
from qa.answer_types import expected_fact
from qa.schema import Answer, AnswerSentence, Hit
from qa.sentences import sentence_spans
from qa.text import LIST_MARKER as _LIST_MARKER
from qa.text import content_terms, question_term_weights

# Printed by benchmarks/tune_abstention.py: fitted on the seeds dev split only.
FITTED_ABSTENTION = AbstentionModel(bias=0.52, weights=(3.06, 0.0, -3.01, 0.0, -3.26, -2.93), min_probability=0.37)


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """When to abstain and how much to extract. The abstention model is fitted on the seeds dev split
    by benchmarks/tune_abstention.py, which prints these constants."""

    abstention: AbstentionModel = FITTED_ABSTENTION
    max_sentences: int = 3
    passages_considered: int = 3
    keep_ratio: float = 0.75  # extra sentences must score this close to the best one


@dataclass(frozen=True, slots=True)
class _Candidate:
    score: float
    overlap: float
    hit: Hit
    start: int  # within the passage text
    end: int


def compose_answer(
    question: str,
    hits: Sequence[Hit],
    *,
    history: Sequence[str] = (),
    idf: Mapping[str, float] | None = None,
    policy: AnswerPolicy = AnswerPolicy(),
    search_ms: float = 0.0,
    confidence: float | None = None,
) -> Answer:
    """confidence: the dense cosine of the closest passage to the question (default: the top hit's score)."""
    chosen, signals = _weigh(question, hits, history, idf or {}, policy, confidence)
    abstained = not chosen or policy.abstention.abstains(signals)
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
        question=question, sentences=sentences, hits=tuple(hits), abstained=abstained,
        search_ms=search_ms, history=tuple(history),
    )


def answer_signals(
    question: str,
    hits: Sequence[Hit],
    *,
    history: Sequence[str] = (),
    idf: Mapping[str, float] | None = None,
    policy: AnswerPolicy = AnswerPolicy(),
    confidence: float | None = None,
) -> AbstentionSignals:
    """What the abstention decision of compose_answer (same arguments) looks at; for tuning it."""
    return _weigh(question, hits, history, idf or {}, policy, confidence)[1]


def _weigh(question, hits, history, idf, policy, confidence) -> tuple[list[_Candidate], AbstentionSignals]:
    """The sentences the answer would quote, and the signals for abstaining instead."""
    shown = hits[: policy.passages_considered]
    expected = expected_fact(question)
    candidates = _rank_sentences(question, history, shown, idf, expected)
    chosen = _choose(candidates, policy, expected)
    if confidence is None:
        confidence = hits[0].score if hits else 0.0
    quoted = [_text(c) for c in chosen]
    return chosen, abstention_signals(question, history, shown, idf, confidence, quoted)


def _rank_sentences(
    question: str, history: Sequence[str], hits: Sequence[Hit], idf: Mapping[str, float], expected: re.Pattern | None
) -> list[_Candidate]:
    weights = question_term_weights(question, history, idf)
    total = sum(weights.values()) or 1.0
    candidates = []
    for hit in hits:
        for position, (start, end) in enumerate(sentence_spans(hit.passage.text)):
            marker = _LIST_MARKER.match(hit.passage.text, start)
            if marker and marker.end() < end:
                start = marker.end()
            sentence = hit.passage.text[start:end]
            terms = set(content_terms(sentence))
            overlap = sum(w for term, w in weights.items() if term in terms) / total
            score = overlap + 0.15 / hit.rank - 0.01 * position
            if expected is not None and expected.search(sentence):
                score += 0.15
            candidates.append(_Candidate(score=score, overlap=overlap, hit=hit, start=start, end=end))
    return sorted(candidates, key=lambda c: -c.score)


def _choose(candidates: list[_Candidate], policy: AnswerPolicy, expected: re.Pattern | None) -> list[_Candidate]:
    if not candidates:
        return []
    best = candidates[0].score
    chosen: list[_Candidate] = []
    seen: set[str] = set()
    for candidate in candidates:
        text = _text(candidate)
        if text in seen or (chosen and candidate.score < policy.keep_ratio * best):
            continue
        seen.add(text)
        chosen.append(candidate)
        if len(chosen) == policy.max_sentences:
            break
    if expected is not None and not any(expected.search(_text(c)) for c in chosen):
        # A "when" question whose best sentence names the event but not its date: the date is most
        # often in a neighbouring sentence of the same passage, which shares few words with the question.
        fact = next((c for c in candidates if expected.search(_text(c)) and _supports(c, chosen[0])), None)
        if fact is not None:
            chosen = [*chosen[: policy.max_sentences - 1], fact]
    # Read in document order within each cited passage, best passage first.
    return sorted(chosen, key=lambda c: (c.hit.rank, c.start))


def _supports(candidate: _Candidate, best: _Candidate) -> bool:
    """Whether candidate may stand beside the best sentence: same passage, or nearly as on-topic."""
    return candidate.hit is best.hit or candidate.overlap >= 0.5 * best.overlap


def _text(candidate: _Candidate) -> str:
    return candidate.hit.passage.text[candidate.start : candidate.end]


def inverse_document_frequencies(texts: Sequence[str]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for text in texts:
        for term in set(content_terms(text)):
            counts[term] = counts.get(term, 0) + 1
    n = len(texts)
    return {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in counts.items()}
