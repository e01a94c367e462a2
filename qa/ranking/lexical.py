"""BM25 ranking: bm25s over the index's saved lexicon, or the store's own full-text search."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from qa import lexicon
from qa.ranking.base import Ranking, by_score, mode, top

if TYPE_CHECKING:
    import numpy as np

    from qa.index import StoredIndex
    from qa.query import Query
    from qa.ranking import Retrievers
    from qa.stores.base import LexicalStore

STORE_BM25_DEPTH = 16_384  # Milvus's largest k: every passage with a query word, up to that many


class BM25Retriever:
    """Okapi BM25 (bm25s, Lucene scoring) over title, section and text, Snowball-stemmed, stop words out,
    as the build saved it (qa.lexicon). A follow-up's query also holds the previous question's words."""

    def __init__(self, index: StoredIndex) -> None:
        self.index = index
        self._model = lexicon.load_bm25(index.directory, index.manifest.lexicon)

    def scores(self, query: Query) -> np.ndarray:
        """BM25 score of every passage, by row of the index (zeros when no query word is indexed)."""
        import numpy as np

        tokens = query.bm25_tokens()
        if not tokens:
            return np.zeros(len(self.index.passages), np.float32)
        return self._model.get_scores(tokens)

    def rank(self, query: Query, depth: int) -> Ranking:
        scores = self.scores(query)
        return [(int(self.index.ids[row]), score) for row, score in top(scores, depth) if score > 0]

    def document_frequencies(self, tokens: Sequence[str]) -> dict[str, int] | None:
        """How many passages hold each token (0 for a word not indexed); None when this retriever
        cannot tell (a store's own full-text search)."""
        vocabulary, indptr = self._model.vocab_dict, self._model.scores["indptr"]
        return {t: int(indptr[vocabulary[t] + 1] - indptr[vocabulary[t]]) if t in vocabulary else 0 for t in set(tokens)}

    @cached_property
    def lengths(self) -> np.ndarray | None:
        """Each passage's length in BM25 tokens (None for an index built before they were kept)."""
        return lexicon.load_lengths(self.index.directory, self.index.manifest.lexicon)

    def scores_with_idf(self, query: Query, idf: Mapping[str, float], average_length: float | None = None) -> np.ndarray:
        """BM25 of every passage as an index over several would score it (qa.ranking.merged): each
        query word's IDF is idf[word], and, given the average length of all their passages (and this
        index's lengths), each term frequency is normalised by it instead of this index's average."""
        import numpy as np

        tokens = query.bm25_tokens()
        model = self._model
        scores = np.zeros(len(self.index.passages), np.float32)
        frequencies = self.document_frequencies(tokens) or {}
        data, indices, indptr = model.scores["data"], model.scores["indices"], model.scores["indptr"]
        lengths = self.lengths if average_length else None
        for token in tokens:  # a repeated word counts each time, as bm25s counts it
            if not frequencies.get(token):
                continue
            column = model.vocab_dict[token]
            start, end = int(indptr[column]), int(indptr[column + 1])
            rows, local_idf = indices[start:end], bm25_idf(len(scores), frequencies[token])
            if lengths is None or average_length is None:
                np.add.at(scores, rows, data[start:end] * np.float32(idf[token] / local_idf))
                continue
            # The stored score is idf * tf / (tf + K1 * (1 - B + B * length / average)): recover tf, and
            # score it again against the average length of all the indexes.
            share = data[start:end].astype(np.float64) / local_idf
            length = lengths[rows].astype(np.float64)
            frequency = np.rint(share * lexicon.K1 * (1 - lexicon.B + lexicon.B * length / float(lengths.mean())) / (1 - share))
            normalised = frequency / (frequency + lexicon.K1 * (1 - lexicon.B + lexicon.B * length / average_length))
            np.add.at(scores, rows, (idf[token] * normalised).astype(np.float32))
        return scores


def bm25_idf(passages: int, frequency: int) -> float:
    """Lucene's BM25 IDF, as bm25s computes it."""
    return math.log(1 + (passages - frequency + 0.5) / (frequency + 0.5))


class StoreBM25Retriever(BM25Retriever):
    """BM25 answered by the vector store itself (Milvus's full-text search over the same tokens), for
    a store that can (`qa.stores.base.LexicalStore`). Passages outside its top STORE_BM25_DEPTH, or
    without a query word, score 0, as they do in bm25s when fewer passages hold a query word."""

    def __init__(self, index: StoredIndex, store: LexicalStore) -> None:
        self.index = index
        self.store = store

    def scores(self, query: Query) -> np.ndarray:
        import numpy as np

        scores = np.zeros(len(self.index.passages), np.float32)
        found, ids = self._search(query, STORE_BM25_DEPTH)
        scores[np.searchsorted(self.index.ids, ids)] = found
        return scores

    def document_frequencies(self, tokens: Sequence[str]) -> dict[str, int] | None:
        return None

    @property
    def lengths(self) -> np.ndarray | None:
        return None

    def scores_with_idf(self, query: Query, idf: Mapping[str, float], average_length: float | None = None) -> np.ndarray:
        return self.scores(query)  # the store's own statistics: it cannot be told others

    def rank(self, query: Query, depth: int) -> Ranking:
        """Only the depth best from the store (a ranking needs no score of every passage)."""
        found, ids = self._search(query, depth)
        return by_score((int(pid), float(score)) for score, pid in zip(found, ids, strict=True) if score > 0)

    def _search(self, query: Query, depth: int) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        tokens = query.bm25_tokens()
        return self.store.lexical_search(tokens, depth) if tokens else (np.zeros(0, np.float32), np.zeros(0, np.int64))


@mode("bm25", "exact words only: names, codes, numbers; no paraphrases")
def _bm25(parts: Retrievers) -> BM25Retriever:
    return parts.bm25
