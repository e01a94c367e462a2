"""Two classic fusions of the dense and BM25 rankings, each over their top FUSION_DEPTH."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.ranking.base import FUSION_DEPTH, Ranking, by_score, min_max, mode

if TYPE_CHECKING:
    from qa.query import Query
    from qa.ranking import Retrievers
    from qa.ranking.dense import DenseRetriever
    from qa.ranking.lexical import BM25Retriever


class ConvexFusion:
    """alpha * dense + (1 - alpha) * BM25, each min-max normalised over its own top candidates."""

    def __init__(self, dense: DenseRetriever, bm25: BM25Retriever, alpha: float = 0.5) -> None:
        self.dense, self.bm25, self.alpha = dense, bm25, alpha

    def rank(self, query: Query, depth: int) -> Ranking:
        depth = max(depth, FUSION_DEPTH)
        fused: dict[int, float] = {}
        for weight, ranking in ((self.alpha, self.dense.rank(query, depth)), (1 - self.alpha, self.bm25.rank(query, depth))):
            for row, score in min_max(ranking):
                fused[row] = fused.get(row, 0.0) + weight * score
        return by_score(fused.items())


class ReciprocalRankFusion:
    """Sum of 1 / (k + rank) over the dense and BM25 rankings (Cormack et al., 2009)."""

    def __init__(self, dense: DenseRetriever, bm25: BM25Retriever, k: int = 60) -> None:
        self.dense, self.bm25, self.k = dense, bm25, k

    def rank(self, query: Query, depth: int) -> Ranking:
        depth = max(depth, FUSION_DEPTH)
        fused: dict[int, float] = {}
        for ranking in (self.dense.rank(query, depth), self.bm25.rank(query, depth)):
            for position, (row, _) in enumerate(ranking, start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (self.k + position)
        return by_score(fused.items())


@mode("hybrid", "meaning + words, scores averaged: simpler than fused")
def _hybrid(parts: Retrievers) -> ConvexFusion:
    return ConvexFusion(parts.dense, parts.bm25)


@mode("rrf", "meaning + words, ranks merged (reciprocal rank fusion)")
def _rrf(parts: Retrievers) -> ReciprocalRankFusion:
    return ReciprocalRankFusion(parts.dense, parts.bm25)
