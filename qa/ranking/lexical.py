"""BM25 ranking: bm25s over the index's saved lexicon, or the store's own full-text search."""

from __future__ import annotations

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
