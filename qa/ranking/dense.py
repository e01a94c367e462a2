"""Dense ranking: cosine similarity of unit vectors in the vector store. Also how close the index
comes to a question, and the cosines of passages' sentences, which the answer reads whatever the mode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.ranking.base import Ranking, by_score, mode
from qa.schema import Closeness

if TYPE_CHECKING:
    import numpy as np

    from qa.encoders import Encoder
    from qa.index import StoredIndex
    from qa.query import Query
    from qa.ranking import Retrievers

MARGIN_DEPTH = 5  # the closest passage, and the next four it is compared with (Closeness.margin)


class DenseRetriever:
    """Cosine similarity of unit vectors in the vector store; history blended into the query vector."""

    def __init__(self, index: StoredIndex, encoder: Encoder) -> None:
        self.index = index
        self.encoder = encoder

    def rank(self, query: Query, depth: int) -> Ranking:
        scores, ids = self.index.search(query.vector(self.encoder), depth)
        # Equal vectors (a text repeated in a document) tie exactly; each store orders ties its own way.
        return by_score((int(pid), float(score)) for score, pid in zip(scores[0], ids[0], strict=True) if pid >= 0)

    def closeness(self, query: Query) -> Closeness:
        """How close the closest passage and sentence come to what is asked, whatever the ranking
        mode; a follow-up is read after the question before it (Query.context_vector)."""
        return closeness_of([self.nearest(query)])

    def nearest(self, query: Query) -> tuple[np.ndarray, float]:
        """The cosines of the MARGIN_DEPTH closest passages, best first, and of the closest sentence
        (0 when there is none), to the question as closeness reads it."""
        from qa.stores import VectorSet

        vector = query.context_vector(self.encoder)
        scores, ids = self.index.search(vector, MARGIN_DEPTH)
        passages = scores[0][ids[0] >= 0]
        if not len(passages):
            return passages, 0.0
        sentence_scores, sentence_ids = self.index.search(vector, 1, VectorSet.SENTENCES)
        return passages, float(sentence_scores[0][0]) if sentence_ids[0][0] >= 0 else 0.0

    def sentence_scores(self, query: Query, ids: Sequence[int]) -> list[tuple[float, ...]]:
        """For each passage id, the cosine of each of its sentence vectors to the query vector."""
        import numpy as np

        if not len(ids):
            return []
        vectors, owners = self.index.store.sentence_vectors(np.asarray(ids, dtype=np.int64))
        scores = vectors @ query.vector(self.encoder)[0]
        return [tuple(float(s) for s in scores[owners == position]) for position in range(len(ids))]


def closeness_of(nearest: Sequence[tuple[np.ndarray, float]]) -> Closeness:
    """Closeness over one index or several (DenseRetriever.nearest of each): the closest passage and
    sentence of all, and the margin over the next passages of all."""
    import numpy as np

    passages = np.sort(np.concatenate([scores for scores, _ in nearest]))[::-1][:MARGIN_DEPTH] if nearest else np.zeros(0)
    if not len(passages):
        return Closeness(passage=0.0)
    sentence = max(score for _, score in nearest)
    margin = float(passages[0] - passages[1:].mean()) if len(passages) > 1 else 0.0
    return Closeness(passage=float(passages[0]), sentence=sentence, margin=margin)


@mode("dense", "meaning only: finds paraphrases, may miss rare names")
def _dense(parts: Retrievers) -> DenseRetriever:
    return parts.dense
