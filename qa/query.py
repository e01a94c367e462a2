"""A question as the retrievers and the answer read it: its text, the earlier questions it leans on,
and what is derived from them (the query vectors, the BM25 tokens, the term weights), each computed
once and kept for every later reader of the same question.

A conversation enters a question in four ways (docs/experiments-seeds.md):
- the dense query vector blends the earlier questions' vectors into the question's (HISTORY_WEIGHTS);
- how close the corpus comes (`context_vector`) reads the question after the one before it, as one text;
- BM25 reads the question's words and the previous question's;
- the answer's term weights count the previous question's words at half weight (qa.text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qa.errors import QuestionError
from qa.text import history_read, question_term_weights

if TYPE_CHECKING:
    import numpy as np

    from qa.encoders import Encoder

MAX_QUESTION_CHARS = 2000
# Weight of each earlier question in the dense query vector, most recent first.
HISTORY_WEIGHTS = (0.5, 0.25)


def check_question(question: str) -> str:
    """The question stripped, or a QuestionError saying what is wrong with it."""
    stripped = question.strip()
    if not stripped:
        raise QuestionError("the question is empty")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is too long: {len(stripped):,} characters (limit {MAX_QUESTION_CHARS:,})")
    return stripped


@dataclass(frozen=True)
class Query:
    """text: the question; history: the earlier questions it reads, oldest first (empty when it
    names its own subject: qa.text.reads_conversation). Derived values are cached per encoder or
    IDF table, so fusion, abstention and the sentence selector share one encoding."""

    text: str
    history: tuple[str, ...] = ()
    _cache: dict[str, tuple[object, Any]] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @classmethod
    def of(cls, question: str, history: Sequence[str] = ()) -> Query:
        """A user's question, checked (QuestionError when empty or too long), with the earlier
        questions of the conversation it leans on."""
        text = check_question(question)
        return cls(text, tuple(history_read(text, history)))

    @property
    def previous(self) -> str | None:
        """The question asked just before, when this one reads the conversation."""
        return self.history[-1] if self.history else None

    def vector(self, encoder: Encoder) -> np.ndarray:
        """The unit query vector, shape (1, dimension): the question's, with the earlier questions'
        blended in by HISTORY_WEIGHTS."""
        return self._cached("vector", encoder, lambda: self._blended(encoder))

    def context_vector(self, encoder: Encoder) -> np.ndarray:
        """The unit vector of the question read after the one before it, as one text ("What did they
        agree about GCAP? and when must it be ready?"); the question's own vector when it stands alone.
        Alone, a bare follow-up is close to nothing, and the blended vector leans on its few words."""
        if self.previous is None:
            return self.vector(encoder)

        def encode() -> np.ndarray:
            import numpy as np

            vector = encoder.encode([f"{self.previous} {self.text}"])
            return (vector / np.linalg.norm(vector, axis=1, keepdims=True)).astype(np.float32)

        return self._cached("context", encoder, encode)

    def bm25_tokens(self) -> list[str]:
        """BM25's tokens (qa.lexicon's analyser) of the question and the question before it."""
        from qa import lexicon

        return self._cached("bm25", None, lambda: lexicon.tokenize([" ".join([*self.history[-1:], self.text])], return_ids=False)[0])

    def term_weights(self, idf: Mapping[str, float]) -> dict[str, float]:
        """Each content word of the question, and at half weight of the question before it, times its IDF."""
        return self._cached("terms", idf, lambda: question_term_weights(self.text, self.history, idf))

    def _blended(self, encoder: Encoder) -> np.ndarray:
        import numpy as np

        earlier = list(reversed(self.history))[: len(HISTORY_WEIGHTS)]
        vectors = encoder.encode([self.text, *earlier])
        weights = np.array([1.0, *HISTORY_WEIGHTS[: len(earlier)]], dtype=np.float32)
        combined = (weights[:, None] * vectors).sum(axis=0)
        return (combined / np.linalg.norm(combined)).astype(np.float32)[None, :]

    def _cached(self, key: str, source: object, compute: Callable[[], Any]) -> Any:
        """compute()'s value, computed once for this source (the encoder or IDF table it reads)."""
        kept = self._cache.get(key)
        if kept is None or kept[0] is not source:
            kept = self._cache[key] = (source, compute())
        return kept[1]
