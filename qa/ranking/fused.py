"""The default mode: every passage scored three ways (its vector, its best sentence, BM25), each
z-scored and summed, then dense Rocchio feedback; a year the question names lifts that year's
documents, and the first places go one per document first."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.index.passages import any_dated
from qa.question_dates import dated_in, ordinals, speaks_of, years_by_title_ordinal, years_named, years_spoken_of
from qa.ranking.base import FUSION_DEPTH, Ranking, mode, top, z_scores

if TYPE_CHECKING:
    import numpy as np

    from qa.query import Query
    from qa.ranking import Retrievers
    from qa.ranking.dense import DenseRetriever
    from qa.ranking.lexical import BM25Retriever


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

    @property
    def dated(self) -> bool:
        """Whether some passage's document has a date (the date rules apply only then)."""
        return self._dated

    @property
    def title_ordinals(self) -> dict[int, frozenset[str]]:
        """The years of dated documents by the ordinal their titles write (years_by_title_ordinal)."""
        return self._title_ordinals

    def _vectors_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Passage vectors of rows, their sentence vectors, and the first sentence row of each passage."""
        import numpy as np

        store, ids = self.dense.index.store, self.dense.index.ids
        passages = store.vectors(ids[rows])
        sentences, owners = store.sentence_vectors(ids[rows])
        return passages, sentences, np.searchsorted(owners, np.arange(len(rows)))

    def scores(self, query: Query) -> np.ndarray:
        """The fused score of every passage, by row of the index (exact fused)."""
        return self._fused(query, exact=True)[1]

    def _fused(self, query: Query, exact: bool) -> tuple[np.ndarray, np.ndarray]:
        """(rows, their fused scores): every row when exact, else the candidates found for the query."""
        import numpy as np

        w = self.weights
        vector = query.vector(self.dense.encoder)[0]
        lexical_all = z_scores(self.bm25.scores(query)) * w.bm25 + self._date_bonus(query.text)
        rows = self._sample if exact else self._candidates(vector, lexical_all)
        vectors = self._sample_vectors if exact else self._vectors_of(rows)
        passage, sentence = self._dense_scores(vector, vectors)
        fused = w.passage * passage + w.sentence * sentence + lexical_all[rows]
        if w.feedback_docs <= 0 or (query.history and not w.feedback_on_follow_ups):
            return rows, fused
        best = [position for position, _ in top(fused, w.feedback_docs)]
        moved = vector + w.feedback_weight * vectors[0][best].mean(axis=0)
        moved = (moved / np.linalg.norm(moved)).astype(np.float32)
        # On candidates, the feedback query rescores the same ones: searching again around it found
        # others, but none that changed SciFact's nDCG@10 among 162,240 passages (docs/index-format.md).
        passage, sentence = self._dense_scores(moved, vectors)
        return rows, w.passage_after * passage + w.sentence_after * sentence + lexical_all[rows]

    def _candidates(self, vector: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """Rows found by ANN passage search, ANN sentence search and the lexical scores."""
        import numpy as np

        from qa.stores import VectorSet

        index, c = self.dense.index, self.candidates
        found = [index.search(vector[None, :], c.depth)[1][0], index.search(vector[None, :], c.sentence_depth, VectorSet.SENTENCES)[1][0]]
        ids = np.unique(np.concatenate(found))
        rows = np.searchsorted(index.ids, ids[ids >= 0])
        return np.union1d(rows, [row for row, _ in top(lexical, c.depth)]).astype(np.int64)

    def _date_bonus(self, question: str) -> np.ndarray | float:
        if not (self.weights.date and self._dated):
            return 0.0
        return self.year_bonus(years_asked(question, [self._title_ordinals]))

    def year_bonus(self, years: frozenset[str]) -> np.ndarray | float:
        """What the date rules add to each passage for a question about these years: the weight of
        its document's date being in one of them, and of its text speaking of one."""
        if not (self.weights.date and years):
            return 0.0
        bonus = self.weights.date * dated_in(self.dense.index.passages, years)
        if self.weights.date_text and not self._spoken and len(self.dense.index.passages):
            # An undated index asked beside dated ones (qa.ranking.merged): its texts may still speak of the year.
            self._spoken = [years_spoken_of(p) for p in self.dense.index.passages]
        return bonus + self.weights.date_text * speaks_of(self._spoken, years) if self._spoken else bonus

    def rows_and_vectors(self, vector: np.ndarray, lexical: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The rows fused scores (every row when exact, else the candidates for the query vector and
        the lexical scores) and their passage and sentence vectors (_vectors_of)."""
        if self.exact:
            return self._sample, self._sample_vectors
        rows = self._candidates(vector, lexical)
        return rows, self._vectors_of(rows)

    def cosines(self, vector: np.ndarray, vectors: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Raw cosines of these passages (_vectors_of) and of their best sentences to the vector."""
        import numpy as np

        passages, sentences, starts = vectors
        return passages @ vector, np.maximum.reduceat(sentences @ vector, starts)

    def sample_cosines(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """cosines of the passages the z-score statistics are taken over (all of them when exact)."""
        return self.cosines(vector, self._sample_vectors)

    def _dense_scores(self, vector: np.ndarray, vectors: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """z-scores of the passage and best-sentence cosines of these vectors; mean and spread from the sample."""
        import numpy as np

        passages, sentences, starts = vectors
        sample_passages, sample_sentences, sample_starts = self._sample_vectors
        passage, sentence = passages @ vector, np.maximum.reduceat(sentences @ vector, starts)
        if vectors is self._sample_vectors:
            return z_scores(passage), z_scores(sentence)
        return z_scores(passage, sample_passages @ vector), z_scores(sentence, np.maximum.reduceat(sample_sentences @ vector, sample_starts))

    def rank(self, query: Query, depth: int) -> Ranking:
        index = self.dense.index
        rows, fused = self._fused(query, exact=self.exact)
        best = [(int(rows[position]), score) for position, score in top(fused, max(depth, FUSION_DEPTH))]
        ranking = documents_spread(best, lambda row: index.passages[row].doc, self.weights.same_document)
        return [(int(index.ids[row]), score) for row, score in ranking[:depth]]


def years_asked(question: str, title_ordinals: Sequence[dict[int, frozenset[str]]]) -> frozenset[str]:
    """The years a question asks about: those it names, and those of the dated documents whose titles
    write an ordinal it names ("the fifth meeting"), in one index's or several's titles."""
    numbers = ordinals(question)
    return years_named(question).union(*(table.get(n, frozenset()) for table in title_ordinals for n in numbers))


def documents_spread(ranking: Ranking, doc_of: Callable[[int], Hashable], penalty: float) -> Ranking:
    """Greedy re-ranking: each of the first DIVERSE_TOP places goes to the candidate with the best
    score less penalty when its document (doc_of its row) already holds a place; the rest follow,
    penalised alike. The scores returned are the penalised ones, so they still decrease down the
    list. (The ranking here holds rows of passages, not ids.)"""
    if penalty <= 0:
        return ranking
    candidates, seen = list(ranking), set()
    chosen: Ranking = []

    def penalised(item: tuple[int, float]) -> tuple[int, float]:
        return item[0], item[1] - penalty * (doc_of(item[0]) in seen)

    while candidates and len(chosen) < DIVERSE_TOP:
        best = max(candidates, key=lambda item: (penalised(item)[1], -item[0]))
        candidates.remove(best)
        chosen.append(penalised(best))
        seen.add(doc_of(best[0]))
    rest = sorted((penalised(item) for item in candidates), key=lambda item: (-item[1], item[0]))
    return chosen + rest


@mode("fused", "meaning + words, per sentence: best measured")
def _fused(parts: Retrievers) -> SentenceFusion:
    return parts.fused
