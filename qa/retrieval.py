"""Ranking passages for a question: dense (FAISS), BM25 (bm25s), and fusions of the two.

Every retriever takes the conversation's earlier questions, so a follow-up such as
"who attended?" borrows its topic from the question before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from qa.embedder import Encoder
from qa.errors import QAError, QuestionError
from qa.schema import Hit
from qa.store import StoredIndex

if TYPE_CHECKING:
    import numpy as np

MAX_QUESTION_CHARS = 2000
# Weight of each earlier question in the dense query vector, most recent first.
HISTORY_WEIGHTS = (0.5, 0.25)
FUSION_DEPTH = 100  # candidates each retriever contributes to a fusion


def check_question(question: str) -> str:
    """The question stripped, or a QuestionError saying what is wrong with it."""
    stripped = question.strip()
    if not stripped:
        raise QuestionError("the question is empty")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is too long: {len(stripped):,} characters (limit {MAX_QUESTION_CHARS:,})")
    return stripped


Ranking = list[tuple[int, float]]  # (row in the index, score), best first


class Retriever(Protocol):
    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking: ...


def search(retriever: Retriever, index: StoredIndex, question: str, history: Sequence[str] = (), k: int = 5) -> list[Hit]:
    question = check_question(question)
    ranking = retriever.rank(question, [h for h in history if h.strip()], k)
    return [Hit(rank=rank, score=score, passage=index.passages[row]) for rank, (row, score) in enumerate(ranking[:k], start=1)]


class DenseRetriever:
    """Cosine similarity of unit vectors in FAISS; history blended into the query vector."""

    def __init__(self, index: StoredIndex, encoder: Encoder) -> None:
        self.index = index
        self.encoder = encoder
        self._last: tuple[tuple[str, ...], np.ndarray] | None = None

    def query_vector(self, question: str, history: Sequence[str] = ()) -> np.ndarray:
        key = (question, *history)
        if self._last is None or self._last[0] != key:  # fusion and abstention ask for the same vector
            self._last = (key, self._encode_query(question, history))
        return self._last[1]

    def _encode_query(self, question: str, history: Sequence[str]) -> np.ndarray:
        import numpy as np

        earlier = list(reversed(history))[: len(HISTORY_WEIGHTS)]
        vectors = self.encoder.encode([question, *earlier])
        weights = np.array([1.0, *HISTORY_WEIGHTS[: len(earlier)]], dtype=np.float32)
        combined = (weights[:, None] * vectors).sum(axis=0)
        return (combined / np.linalg.norm(combined)).astype(np.float32)[None, :]

    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking:
        scores, rows = self.index.search(self.query_vector(question, history), depth)
        return [(int(row), float(score)) for score, row in zip(scores[0], rows[0]) if row >= 0]


class BM25Retriever:
    """Okapi BM25 (bm25s, Lucene scoring) over title, section and text, Snowball-stemmed, stop words out.
    A follow-up's query also holds the previous question's words."""

    def __init__(self, index: StoredIndex, k1: float = 1.5, b: float = 0.75) -> None:
        import bm25s

        self.index = index
        self._model = bm25s.BM25(k1=k1, b=b)
        self._model.index(self._tokenize([p.embedding_text() for p in index.passages]), show_progress=False)

    @staticmethod
    def _tokenize(texts: list[str], return_ids: bool = True):
        import bm25s

        from qa.text import stemmer

        return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), return_ids=return_ids, show_progress=False)

    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking:
        import numpy as np

        query = " ".join([*history[-1:], question])
        tokens = self._tokenize([query], return_ids=False)[0]
        if not tokens:
            return []
        scores = self._model.get_scores(tokens)
        depth = min(depth, len(scores))
        top = np.argpartition(-scores, depth - 1)[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top if scores[row] > 0]


class ConvexFusion:
    """alpha * dense + (1 - alpha) * BM25, each min-max normalised over its own top candidates."""

    def __init__(self, dense: DenseRetriever, bm25: BM25Retriever, alpha: float = 0.5) -> None:
        self.dense, self.bm25, self.alpha = dense, bm25, alpha

    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking:
        depth = max(depth, FUSION_DEPTH)
        fused: dict[int, float] = {}
        for weight, ranking in ((self.alpha, self.dense.rank(question, history, depth)), (1 - self.alpha, self.bm25.rank(question, history, depth))):
            for row, score in _min_max(ranking):
                fused[row] = fused.get(row, 0.0) + weight * score
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


class ReciprocalRankFusion:
    """Sum of 1 / (k + rank) over the dense and BM25 rankings (Cormack et al., 2009)."""

    def __init__(self, dense: DenseRetriever, bm25: BM25Retriever, k: int = 60) -> None:
        self.dense, self.bm25, self.k = dense, bm25, k

    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking:
        depth = max(depth, FUSION_DEPTH)
        fused: dict[int, float] = {}
        for ranking in (self.dense.rank(question, history, depth), self.bm25.rank(question, history, depth)):
            for position, (row, _) in enumerate(ranking, start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (self.k + position)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _min_max(ranking: Ranking) -> Ranking:
    if not ranking:
        return []
    high, low = ranking[0][1], min(score for _, score in ranking)
    spread = high - low
    return [(row, (score - low) / spread if spread > 0 else 1.0) for row, score in ranking]


MODES = ("dense", "bm25", "hybrid", "rrf")
DEFAULT_MODE = "dense"


@dataclass
class Retrievers:
    """The retrieval modes over one index; BM25 is built on first use."""

    index: StoredIndex
    encoder: Encoder

    @cached_property
    def dense(self) -> DenseRetriever:
        return DenseRetriever(self.index, self.encoder)

    @cached_property
    def bm25(self) -> BM25Retriever:
        return BM25Retriever(self.index)

    def get(self, mode: str) -> Retriever:
        if mode == "dense":
            return self.dense
        if mode == "bm25":
            return self.bm25
        if mode == "hybrid":
            return ConvexFusion(self.dense, self.bm25)
        if mode == "rrf":
            return ReciprocalRankFusion(self.dense, self.bm25)
        raise QAError(f"unknown retrieval mode {mode!r}; choose one of: {', '.join(MODES)}")
