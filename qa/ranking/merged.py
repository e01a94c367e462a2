"""One ranking over several indexes (named collections asked together), as one index over all of
their passages would rank them.

`fused` z-scores each of its three scores over the collection: merged, the statistics are pooled over
every index (the dense ones from each index's passages, or its sample, weighted by its size; BM25's
over every passage, each word's IDF computed over all indexes), the date rules read every index's
dated titles, the Rocchio feedback moves the query toward the best passages of all, and the first
places go one per document of all. On two halves of SciFact this gives the ranking of one index over
both (docs/collections.md). `dense` merges on cosines, which are the same scale everywhere; `bm25`
with the IDF over all indexes; `hybrid` and `rrf` merge each index's own ranking on its scores,
which normalise per index (an approximation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.ranking.base import FUSION_DEPTH, top
from qa.ranking.fused import SentenceFusion, documents_spread, years_asked
from qa.ranking.lexical import bm25_idf

if TYPE_CHECKING:
    import numpy as np

    from qa.query import Query
    from qa.ranking import Retrievers
    from qa.ranking.lexical import BM25Retriever

Placed = tuple[int, int, float]  # (which index, passage id, score), best first


def rank_across(parts: Sequence[Retrievers], query: Query, mode: str, depth: int) -> list[Placed]:
    """The depth best passages of all the indexes for the query, by the mode, as one ranking."""
    if len(parts) == 1:
        return [(0, pid, score) for pid, score in parts[0].get(mode).rank(query, depth)[:depth]]
    if mode == "fused":
        return MergedFusion([part.fused for part in parts]).rank(query, depth)
    if mode == "bm25":
        return _by_score([(n, pid, score) for n, ranking in enumerate(_bm25_rankings(parts, query, depth)) for pid, score in ranking], depth)
    return _by_score([(n, pid, score) for n, part in enumerate(parts) for pid, score in part.get(mode).rank(query, depth)], depth)


def _by_score(placed: list[Placed], depth: int) -> list[Placed]:
    return sorted(placed, key=lambda item: (-item[2], item[0], item[1]))[:depth]


def word_idf(bm25s: Sequence[BM25Retriever], tokens: Sequence[str]) -> dict[str, float] | None:
    """Each query word's BM25 IDF over the passages of all the indexes; None when one of them cannot
    tell its document frequencies (a store's own full-text search)."""
    counts = [bm25.document_frequencies(tokens) for bm25 in bm25s]
    if any(count is None for count in counts):
        return None
    total = sum(len(bm25.index.passages) for bm25 in bm25s)
    frequencies = {token: sum(count[token] for count in counts if count is not None) for token in set(tokens)}
    return {token: bm25_idf(total, frequency) for token, frequency in frequencies.items() if frequency}


def average_length(bm25s: Sequence[BM25Retriever]) -> float | None:
    """The average length in BM25 tokens of the passages of all the indexes (None when one of them
    does not keep its passages' lengths: then each normalises by its own)."""
    lengths = [bm25.lengths for bm25 in bm25s]
    if any(found is None for found in lengths):
        return None
    total = sum(len(found) for found in lengths if found is not None)
    return sum(float(found.sum(dtype="float64")) for found in lengths if found is not None) / total if total else None


def _bm25_scores(bm25s: Sequence[BM25Retriever], query: Query) -> list[np.ndarray]:
    """Each index's BM25 score of every passage, as one index over all of them would score it."""
    idf = word_idf(bm25s, query.bm25_tokens())
    if idf is None:
        return [bm25.scores(query) for bm25 in bm25s]
    average = average_length(bm25s)
    return [bm25.scores_with_idf(query, idf, average) for bm25 in bm25s]


def _bm25_rankings(parts: Sequence[Retrievers], query: Query, depth: int) -> list[list[tuple[int, float]]]:
    return [
        [(int(part.index.ids[row]), score) for row, score in top(scores, depth) if score > 0]
        for part, scores in zip(parts, _bm25_scores([part.bm25 for part in parts], query), strict=True)
    ]


class MergedFusion:
    """`fused` (qa.ranking.fused.SentenceFusion) over several indexes as over one."""

    def __init__(self, parts: Sequence[SentenceFusion]) -> None:
        self.parts = list(parts)
        self.weights = self.parts[0].weights

    def rank(self, query: Query, depth: int) -> list[Placed]:
        import numpy as np

        w, parts = self.weights, self.parts
        vector = query.vector(parts[0].dense.encoder)[0]
        bm25 = _bm25_scores([part.bm25 for part in parts], query)
        mean, spread = _pooled(bm25, [len(scores) for scores in bm25])
        years = years_asked(query.text, [part.title_ordinals for part in parts]) if w.date and any(p.dated for p in parts) else frozenset()
        lexical = [_z(scores, mean, spread) * w.bm25 + part.year_bonus(years) for part, scores in zip(parts, bm25, strict=True)]
        chosen = [part.rows_and_vectors(vector, scores) for part, scores in zip(parts, lexical, strict=True)]
        rows = [found for found, _ in chosen]
        vectors = [found for _, found in chosen]
        extra = [scores[found] for scores, found in zip(lexical, rows, strict=True)]
        fused = self._fused(vector, vectors, extra, w.passage, w.sentence)
        if w.feedback_docs > 0 and not (query.history and not w.feedback_on_follow_ups):
            offsets = np.cumsum([0, *(len(found) for found in rows)])
            best = [position for position, _ in top(np.concatenate(fused), w.feedback_docs)]
            picked = [vectors[n][0][position - offsets[n]] for position in best for n in [int(np.searchsorted(offsets, position, "right")) - 1]]
            moved = vector + w.feedback_weight * np.mean(picked, axis=0)
            moved = (moved / np.linalg.norm(moved)).astype(np.float32)
            fused = self._fused(moved, vectors, extra, w.passage_after, w.sentence_after)
        return self._spread(rows, fused, depth)

    def _fused(self, vector: np.ndarray, vectors: list, extra: list[np.ndarray], passage_weight: float, sentence_weight: float) -> list[np.ndarray]:
        """Each index's fused scores of its rows: dense z-scores with statistics pooled over all indexes."""
        samples = [part.sample_cosines(vector) for part in self.parts]
        counts = [len(part.dense.index.passages) for part in self.parts]
        passage_stats = _pooled([sample[0] for sample in samples], counts)
        sentence_stats = _pooled([sample[1] for sample in samples], counts)
        fused = []
        for part, sample, found, lexical in zip(self.parts, samples, vectors, extra, strict=True):
            passage, sentence = sample if part.exact else part.cosines(vector, found)
            fused.append(passage_weight * _z(passage, *passage_stats) + sentence_weight * _z(sentence, *sentence_stats) + lexical)
        return fused

    def _spread(self, rows: list[np.ndarray], fused: list[np.ndarray], depth: int) -> list[Placed]:
        """The best of all, one per document first, as (index, passage id, score)."""
        import numpy as np

        offsets = np.cumsum([0, *(len(found) for found in rows)])

        def place(position: int) -> tuple[int, int]:
            n = int(np.searchsorted(offsets, position, "right")) - 1
            return n, int(rows[n][position - offsets[n]])

        def doc_of(position: int) -> tuple[int, str]:
            n, row = place(position)
            return n, self.parts[n].dense.index.passages[row].doc

        best = top(np.concatenate(fused), max(depth, FUSION_DEPTH))
        ranking = documents_spread(best, doc_of, self.weights.same_document)[:depth]
        return [(n, int(self.parts[n].dense.index.ids[row]), score) for position, score in ranking for n, row in [place(position)]]


def _pooled(samples: Sequence[np.ndarray], counts: Sequence[int]) -> tuple[float, float]:
    """Mean and standard deviation of scores over all the indexes' passages: exact when every sample
    is its whole index, else each index's sample moments weighted by its number of passages."""
    import numpy as np

    if all(len(sample) == count for sample, count in zip(samples, counts, strict=True)):
        every = np.concatenate(samples)
        return (float(every.mean()), float(every.std())) if len(every) else (0.0, 0.0)
    total = sum(counts)
    mean = sum(count * float(np.mean(sample, dtype=np.float64)) for sample, count in zip(samples, counts, strict=True) if len(sample)) / total
    second = sum(count * float(np.mean(np.square(sample, dtype=np.float64))) for sample, count in zip(samples, counts, strict=True) if len(sample)) / total
    return mean, max(second - mean * mean, 0.0) ** 0.5


def _z(scores: np.ndarray, mean: float, spread: float) -> np.ndarray:
    return (scores - mean) / spread if spread > 0 else scores * 0.0
