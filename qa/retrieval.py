"""Ranking passages for a question: dense (the vector store), BM25 (bm25s), fusions of the two, and the
default: z-score fusion of passage, best-sentence and BM25 scores with dense feedback.

Every retriever takes the conversation's earlier questions, so a follow-up such as
"who attended?" borrows its topic from the question before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from qa import lexicon
from qa.encoders import Encoder
from qa.errors import QAError, QuestionError
from qa.passage_table import any_dated
from qa.question_dates import dated_in, ordinals, speaks_of, years_by_title_ordinal, years_named, years_spoken_of
from qa.schema import Closeness, Hit
from qa.store import StoredIndex

if TYPE_CHECKING:
    import numpy as np

    from qa.stores.base import LexicalStore

MAX_QUESTION_CHARS = 2000
# Weight of each earlier question in the dense query vector, most recent first.
HISTORY_WEIGHTS = (0.5, 0.25)
FUSION_DEPTH = 100  # candidates each retriever contributes to a fusion
MARGIN_DEPTH = 5  # the closest passage, and the next four it is compared with (Closeness.margin)


def check_question(question: str) -> str:
    """The question stripped, or a QuestionError saying what is wrong with it."""
    stripped = question.strip()
    if not stripped:
        raise QuestionError("the question is empty")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is too long: {len(stripped):,} characters (limit {MAX_QUESTION_CHARS:,})")
    return stripped


Ranking = list[tuple[int, float]]  # (passage id, score), best first


class Retriever(Protocol):
    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking: ...


def search(retriever: Retriever, index: StoredIndex, question: str, history: Sequence[str] = (), k: int = 5) -> list[Hit]:
    question = check_question(question)
    ranking = retriever.rank(question, [h for h in history if h.strip()], k)
    return [Hit(rank=rank, score=score, passage=index.passage(pid), passage_id=pid) for rank, (pid, score) in enumerate(ranking[:k], start=1)]


class DenseRetriever:
    """Cosine similarity of unit vectors in the vector store; history blended into the query vector."""

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

    def closeness(self, question: str, history: Sequence[str] = ()) -> Closeness:
        """How close the closest passage and sentence come to what is asked, whatever the ranking
        mode. A follow-up is read after the question before it, as one text ("What did they agree
        about GCAP? and when must it be ready?"): alone, a bare follow-up is close to nothing, and
        the blended query vector of rank() leans on the follow-up's own few words."""
        import numpy as np

        from qa.stores import VectorSet

        if history:
            vector = self.encoder.encode([f"{history[-1]} {question}"])
            vector = (vector / np.linalg.norm(vector, axis=1, keepdims=True)).astype(np.float32)
        else:
            vector = self.query_vector(question)
        scores, ids = self.index.search(vector, MARGIN_DEPTH)
        passages = scores[0][ids[0] >= 0]
        if not len(passages):
            return Closeness(passage=0.0)
        sentence_scores, sentence_ids = self.index.search(vector, 1, VectorSet.SENTENCES)
        sentence = float(sentence_scores[0][0]) if sentence_ids[0][0] >= 0 else 0.0
        margin = float(passages[0] - passages[1:].mean()) if len(passages) > 1 else 0.0
        return Closeness(passage=float(passages[0]), sentence=sentence, margin=margin)

    def sentence_scores(self, question: str, history: Sequence[str], ids: Sequence[int]) -> list[tuple[float, ...]]:
        """For each passage id, the cosine of each of its sentence vectors to the question's vector."""
        import numpy as np

        if not len(ids):
            return []
        vectors, owners = self.index.store.sentence_vectors(np.asarray(ids, dtype=np.int64))
        scores = vectors @ self.query_vector(question, history)[0]
        return [tuple(float(s) for s in scores[owners == position]) for position in range(len(ids))]

    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking:
        scores, ids = self.index.search(self.query_vector(question, history), depth)
        # Equal vectors (a text repeated in a document) tie exactly; each store orders ties its own way.
        found = ((int(pid), float(score)) for score, pid in zip(scores[0], ids[0], strict=True) if pid >= 0)
        return sorted(found, key=lambda item: (-item[1], item[0]))


class BM25Retriever:
    """Okapi BM25 (bm25s, Lucene scoring) over title, section and text, Snowball-stemmed, stop words out,
    as the build saved it (qa.lexicon). A follow-up's query also holds the previous question's words."""

    def __init__(self, index: StoredIndex) -> None:
        self.index = index
        self._model = lexicon.load_bm25(index.directory, index.manifest.lexicon)

    def scores(self, question: str, history: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage, by row of the index (zeros when no query word is indexed)."""
        import numpy as np

        query = " ".join([*history[-1:], question])
        tokens = lexicon.tokenize([query], return_ids=False)[0]
        if not tokens:
            return np.zeros(len(self.index.passages), np.float32)
        return self._model.get_scores(tokens)

    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking:
        scores = self.scores(question, history)
        return [(int(self.index.ids[row]), score) for row, score in _top(scores, depth) if score > 0]


class StoreBM25Retriever(BM25Retriever):
    """BM25 answered by the vector store itself (Milvus's full-text search over the same tokens), for
    a store that can (`qa.stores.base.LexicalStore`). Passages outside its top STORE_BM25_DEPTH, or
    without a query word, score 0, as they do in bm25s when fewer passages hold a query word."""

    def __init__(self, index: StoredIndex, store: LexicalStore) -> None:
        self.index = index
        self.store = store

    def scores(self, question: str, history: Sequence[str]) -> np.ndarray:
        import numpy as np

        scores = np.zeros(len(self.index.passages), np.float32)
        found, ids = self._search(question, history, STORE_BM25_DEPTH)
        scores[np.searchsorted(self.index.ids, ids)] = found
        return scores

    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking:
        """Only the depth best from the store (a ranking needs no score of every passage)."""
        found, ids = self._search(question, history, depth)
        ranked = ((int(pid), float(score)) for score, pid in zip(found, ids, strict=True) if score > 0)
        return sorted(ranked, key=lambda item: (-item[1], item[0]))

    def _search(self, question: str, history: Sequence[str], depth: int) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        tokens = lexicon.tokenize([" ".join([*history[-1:], question])], return_ids=False)[0]
        return self.store.lexical_search(tokens, depth) if tokens else (np.zeros(0, np.float32), np.zeros(0, np.int64))


STORE_BM25_DEPTH = 16_384  # Milvus's largest k: every passage with a query word, up to that many


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


@dataclass(frozen=True)
class SentenceFusionWeights:
    """Weights of the z-scored passage, best-sentence and BM25 scores, before and after feedback.
    Tuned on SciFact train.tsv (docs/quality-experiments.md)."""

    passage: float = 0.25
    sentence: float = 0.5
    bm25: float = 0.25
    feedback_docs: int = 3  # Rocchio: the fused top passages whose mean vector is added to the query
    feedback_weight: float = 0.5
    # Feedback on a follow-up pulls the query toward the earlier question's topic, away from what is
    # asked now ("what other countries were on that trip?" → the trip's opening passage).
    feedback_on_follow_ups: bool = False
    passage_after: float = 0.25
    sentence_after: float = 0.75
    # Added (in standard deviations) to passages of documents dated in a year the question names.
    date: float = 1.5  # flat on the seeds dev split from 0.25 to 3; 1.5 puts the named year first in 6 of 8 probe questions
    # Added besides to passages whose own text speaks of that year (writes it, or names the day its
    # document is dated): within the year's documents, the passage that tells what happened then.
    date_text: float = 1.5
    # Taken from a passage whose document is already higher in the first DIVERSE_TOP places, so
    # a question about several meetings shows each meeting's passage (tuned on the seeds dev split).
    same_document: float = 0.5


DIVERSE_TOP = 10  # places reordered for diversity


@dataclass(frozen=True)
class CandidatePolicy:
    """Above exact_max passages, fused scores candidates instead of every passage: the top `depth`
    of an ANN passage search, of an ANN sentence search (`sentence_depth` sentences, several per
    passage) and of BM25, scored exactly as below, before and after the feedback. The dense z-score
    statistics come from a fixed random sample of passages (a shift of a mean moves every candidate
    alike; only the spread changes the order, and `sample` passages estimate it within a few per
    cent). BM25's statistics stay exact: its scores of every passage cost little."""

    exact_max: int = 20_000  # up to this many passages, every one is scored (exact fused)
    depth: int = 300
    sentence_depth: int = 900
    sample: int = 1_000
    seed: int = 1234


class SentenceFusion:
    """Every passage scored three ways, each z-scored over the collection and summed with weights:
    cosine of the passage vector, best cosine over its sentences ("title\nsentence", so a one-fact
    question finds the passage whose single sentence states it), and BM25. Then dense Rocchio
    feedback: the query vector moves toward the fused top passages and the dense scores are redone.
    Above CandidatePolicy.exact_max passages the same scores are computed for candidates only."""

    def __init__(
        self, dense: DenseRetriever, bm25: BM25Retriever, weights: SentenceFusionWeights = SentenceFusionWeights(),
        candidates: CandidatePolicy = CandidatePolicy(),
    ) -> None:
        import numpy as np

        self.dense, self.bm25, self.weights, self.candidates = dense, bm25, weights, candidates
        index = dense.index
        count = len(index.passages)
        self.exact = count <= candidates.exact_max
        # Exact: every passage. Otherwise a fixed sample, whose vectors stay in memory for the statistics.
        self._sample = np.arange(count) if self.exact or candidates.sample >= count else np.sort(
            np.random.default_rng(candidates.seed).choice(count, size=candidates.sample, replace=False)
        )
        self._sample_vectors = self._vectors_of(self._sample)
        self._dated = any_dated(index.passages)
        # Undated collections (most public benchmarks) get no date rule at all: nothing to compute.
        self._spoken = [years_spoken_of(p) for p in index.passages] if self._dated and self.weights.date_text else []
        self._title_ordinals = years_by_title_ordinal(index.passages) if self._dated else {}

    def _vectors_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Passage vectors of rows, their sentence vectors, and the first sentence row of each passage."""
        import numpy as np

        store, ids = self.dense.index.store, self.dense.index.ids
        passages = store.vectors(ids[rows])
        sentences, owners = store.sentence_vectors(ids[rows])
        return passages, sentences, np.searchsorted(owners, np.arange(len(rows)))

    def scores(self, question: str, history: Sequence[str]) -> np.ndarray:
        """The fused score of every passage, by row of the index (exact fused)."""
        return self._fused(question, history, exact=True)[1]

    def _fused(self, question: str, history: Sequence[str], exact: bool) -> tuple[np.ndarray, np.ndarray]:
        """(rows, their fused scores): every row when exact, else the candidates found for the query."""
        import numpy as np

        w = self.weights
        query = self.dense.query_vector(question, history)[0]
        lexical_all = _z(self.bm25.scores(question, history)) * w.bm25 + self._date_bonus(question)
        rows = self._sample if exact else self._candidates(query, lexical_all)
        vectors = self._sample_vectors if exact else self._vectors_of(rows)
        passage, sentence = self._dense_scores(query, vectors)
        fused = w.passage * passage + w.sentence * sentence + lexical_all[rows]
        if w.feedback_docs <= 0 or (history and not w.feedback_on_follow_ups):
            return rows, fused
        top = [position for position, _ in _top(fused, w.feedback_docs)]
        moved = query + w.feedback_weight * vectors[0][top].mean(axis=0)
        moved = (moved / np.linalg.norm(moved)).astype(np.float32)
        # On candidates, the feedback query rescores the same ones: searching again around it found
        # others, but none that changed SciFact's nDCG@10 among 162,240 passages (0.6532 with, 0.6534
        # without), and its two searches and reads were a third of the question's time.
        passage, sentence = self._dense_scores(moved, vectors)
        return rows, w.passage_after * passage + w.sentence_after * sentence + lexical_all[rows]

    def _candidates(self, query: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """Rows found by ANN passage search, ANN sentence search and the lexical scores."""
        import numpy as np

        from qa.stores import VectorSet

        index, c = self.dense.index, self.candidates
        found = [index.search(query[None, :], c.depth)[1][0], index.search(query[None, :], c.sentence_depth, VectorSet.SENTENCES)[1][0]]
        ids = np.unique(np.concatenate(found))
        rows = np.searchsorted(index.ids, ids[ids >= 0])
        return np.union1d(rows, [row for row, _ in _top(lexical, c.depth)]).astype(np.int64)

    def _date_bonus(self, question: str) -> np.ndarray | float:
        if not (self.weights.date and self._dated):
            return 0.0
        years = years_named(question).union(*(self._title_ordinals.get(n, frozenset()) for n in ordinals(question)))
        if not years:
            return 0.0
        bonus = self.weights.date * dated_in(self.dense.index.passages, years)
        return bonus + self.weights.date_text * speaks_of(self._spoken, years) if self._spoken else bonus

    def _dense_scores(self, query: np.ndarray, vectors: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """z-scores of the passage and best-sentence cosines of these vectors; mean and spread from the sample."""
        import numpy as np

        passages, sentences, starts = vectors
        sample_passages, sample_sentences, sample_starts = self._sample_vectors
        passage, sentence = passages @ query, np.maximum.reduceat(sentences @ query, starts)
        if vectors is self._sample_vectors:
            return _z(passage), _z(sentence)
        return _z(passage, sample_passages @ query), _z(sentence, np.maximum.reduceat(sample_sentences @ query, sample_starts))

    def rank(self, question: str, history: Sequence[str], depth: int) -> Ranking:
        index = self.dense.index
        rows, fused = self._fused(question, history, exact=self.exact)
        top = [(int(rows[position]), score) for position, score in _top(fused, max(depth, FUSION_DEPTH))]
        ranking = _documents_spread(top, index.passages, self.weights.same_document)
        return [(int(index.ids[row]), score) for row, score in ranking[:depth]]


def _documents_spread(ranking: Ranking, passages: Sequence, penalty: float) -> Ranking:
    """Greedy re-ranking: each of the first DIVERSE_TOP places goes to the candidate with the best
    score less penalty when its document already holds a place; the rest follow, penalised alike.
    The scores returned are the penalised ones, so they still decrease down the list. (The ranking
    here holds rows of passages, not ids.)"""
    if penalty <= 0:
        return ranking
    candidates, seen = list(ranking), set()
    chosen: Ranking = []

    def penalised(item: tuple[int, float]) -> tuple[int, float]:
        return item[0], item[1] - penalty * (passages[item[0]].doc in seen)

    while candidates and len(chosen) < DIVERSE_TOP:
        best = max(candidates, key=lambda item: (penalised(item)[1], -item[0]))
        candidates.remove(best)
        chosen.append(penalised(best))
        seen.add(passages[best[0]].doc)
    rest = sorted((penalised(item) for item in candidates), key=lambda item: (-item[1], item[0]))
    return chosen + rest


def _z(scores: np.ndarray, sample: np.ndarray | None = None) -> np.ndarray:
    """Scores as standard deviations from their mean over the collection, or over a sample of it
    (all zero when flat)."""
    reference = scores if sample is None else sample
    spread = float(reference.std())
    return (scores - reference.mean()) / spread if spread > 0 else scores * 0.0


def _top(scores: np.ndarray, depth: int) -> Ranking:
    """The depth best rows with their scores, best first, ties by row."""
    import numpy as np

    depth = min(depth, len(scores))
    if depth <= 0:
        return []
    top = np.argpartition(-scores, depth - 1)[:depth]
    top = top[np.lexsort((top, -scores[top]))]
    return [(int(row), float(scores[row])) for row in top]


def _min_max(ranking: Ranking) -> Ranking:
    if not ranking:
        return []
    high, low = ranking[0][1], min(score for _, score in ranking)
    spread = high - low
    return [(row, (score - low) / spread if spread > 0 else 1.0) for row, score in ranking]


class Mode(StrEnum):
    """The retrieval modes; the strings are what `--mode` and `Bot.ask(mode=...)` take."""

    FUSED = "fused"
    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"
    RRF = "rrf"


MODES = ("fused", "dense", "bm25", "hybrid", "rrf")
DEFAULT_MODE = "fused"


@dataclass
class Retrievers:
    """The retrieval modes over one index; BM25 is built on first use."""

    index: StoredIndex
    encoder: Encoder
    candidates: CandidatePolicy = CandidatePolicy()

    @cached_property
    def dense(self) -> DenseRetriever:
        return DenseRetriever(self.index, self.encoder)

    @cached_property
    def bm25(self) -> BM25Retriever:
        from qa.stores.base import LexicalStore

        store = self.index.store
        return StoreBM25Retriever(self.index, store) if isinstance(store, LexicalStore) else BM25Retriever(self.index)

    @cached_property
    def fused(self) -> SentenceFusion:
        return SentenceFusion(self.dense, self.bm25, candidates=self.candidates)

    def get(self, mode: str) -> Retriever:
        if mode == "fused":
            return self.fused
        if mode == "dense":
            return self.dense
        if mode == "bm25":
            return self.bm25
        if mode == "hybrid":
            return ConvexFusion(self.dense, self.bm25)
        if mode == "rrf":
            return ReciprocalRankFusion(self.dense, self.bm25)
        raise QAError(f"unknown retrieval mode {mode!r}; choose one of: {', '.join(MODES)}")
