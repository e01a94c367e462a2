"""Extractive answers: the sentences of the top passages that best answer the question, each cited."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa.schema import Answer, AnswerSentence, Hit
from qa.sentences import sentence_spans
from qa.text import content_terms

_LIST_MARKER = re.compile(r"(?:\d{1,3}[.)]|[a-zA-Z][.)]|\([0-9a-zA-Z]{1,4}\)|[-*+•·–‣▪◦])\s+")
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# Sentences that hold the kind of fact a wh-question asks for.
_EXPECTED = {
    "when": re.compile(rf"\b{_MONTH}\b|\b(?:19|20)\d\d\b|\b\d{{1,2}}:\d\d\b|\b[ap]\.m\.", re.IGNORECASE),
    "who": re.compile(r"\b(?:Mr|Ms|Mrs|Dr|H\.E|Rt Hon|Minister|Secretary|Prime Minister)\b|\b[A-Z][a-z]+ [A-Z]{2,}\b"),
    "where": re.compile(r"\b(?:in|at|to)\s+(?:the\s+)?[A-Z][a-z]+"),
    "how many": re.compile(r"\b\d+|\b(?:two|three|four|five|six|seven|eight|nine|ten)\b", re.IGNORECASE),
    "how much": re.compile(r"\d"),
    "how long": re.compile(r"\b\d+\s*(?:minutes?|hours?|days?|years?|months?)|\bapproximately\b", re.IGNORECASE),
}


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """When to abstain and how much to extract; tuned on the dev split of the seeds questions."""

    min_score: float = 0.30  # a top passage below this cosine does not answer the question
    min_score_without_overlap: float = 0.45  # ... nor does one sharing no content word with it
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
    """confidence: the cosine of the closest passage to the question (default: the top hit's score)."""
    candidates = _rank_sentences(question, history, hits[: policy.passages_considered], idf or {})
    if confidence is None:
        confidence = hits[0].score if hits else 0.0
    abstained = _abstains(confidence, candidates, policy)
    chosen = [] if abstained else _choose(candidates, policy)
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


def _abstains(confidence: float, candidates: list[_Candidate], policy: AnswerPolicy) -> bool:
    if not candidates or confidence < policy.min_score:
        return True
    best_overlap = max(c.overlap for c in candidates)
    return best_overlap == 0.0 and confidence < policy.min_score_without_overlap


def _rank_sentences(
    question: str, history: Sequence[str], hits: Sequence[Hit], idf: Mapping[str, float]
) -> list[_Candidate]:
    weights = {term: 0.5 for earlier in history[-1:] for term in content_terms(earlier)}
    weights.update({term: 1.0 for term in content_terms(question)})
    default_idf = max(idf.values(), default=1.0)
    weights = {term: w * idf.get(term, default_idf) for term, w in weights.items()}
    total = sum(weights.values()) or 1.0
    expected = _expected_fact(question)
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


def _expected_fact(question: str) -> re.Pattern | None:
    lowered = question.lower()
    for cue, pattern in _EXPECTED.items():
        if re.search(rf"\b{cue}\b", lowered):
            return pattern
    return None


def _choose(candidates: list[_Candidate], policy: AnswerPolicy) -> list[_Candidate]:
    if not candidates:
        return []
    best = candidates[0].score
    chosen: list[_Candidate] = []
    seen: set[str] = set()
    for candidate in candidates:
        text = candidate.hit.passage.text[candidate.start : candidate.end]
        if text in seen or (chosen and candidate.score < policy.keep_ratio * best):
            continue
        seen.add(text)
        chosen.append(candidate)
        if len(chosen) == policy.max_sentences:
            break
    # Read in document order within each cited passage, best passage first.
    return sorted(chosen, key=lambda c: (c.hit.rank, c.start))


def inverse_document_frequencies(texts: Sequence[str]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for text in texts:
        for term in set(content_terms(text)):
            counts[term] = counts.get(term, 0) + 1
    n = len(texts)
    return {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in counts.items()}
