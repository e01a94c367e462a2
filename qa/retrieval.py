"""Ranking passages for a question, with the conversation's earlier questions as context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.embedder import Encoder
from qa.errors import QuestionError
from qa.schema import Hit
from qa.store import StoredIndex

if TYPE_CHECKING:
    import numpy as np

MAX_QUESTION_CHARS = 2000
# Weight of each earlier question in the query vector, most recent first: a follow-up such as
# "who attended?" borrows its topic from the question before it.
HISTORY_WEIGHTS = (0.5, 0.25)


def check_question(question: str) -> str:
    """The question stripped, or a QuestionError saying what is wrong with it."""
    stripped = question.strip()
    if not stripped:
        raise QuestionError("the question is empty")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is too long: {len(stripped):,} characters (limit {MAX_QUESTION_CHARS:,})")
    return stripped


class DenseRetriever:
    def __init__(self, index: StoredIndex, encoder: Encoder) -> None:
        self.index = index
        self.encoder = encoder

    def query_vector(self, question: str, history: Sequence[str] = ()) -> np.ndarray:
        import numpy as np

        earlier = [h for h in reversed(history) if h.strip()][: len(HISTORY_WEIGHTS)]
        vectors = self.encoder.encode([question, *earlier])
        weights = np.array([1.0, *HISTORY_WEIGHTS[: len(earlier)]], dtype=np.float32)
        combined = (weights[:, None] * vectors).sum(axis=0)
        return (combined / np.linalg.norm(combined)).astype(np.float32)[None, :]

    def search(self, question: str, history: Sequence[str] = (), k: int = 5) -> list[Hit]:
        question = check_question(question)
        scores, rows = self.index.search(self.query_vector(question, history), k)
        return [
            Hit(rank=rank, score=float(score), passage=self.index.passages[row])
            for rank, (score, row) in enumerate(zip(scores[0], rows[0]), start=1)
            if row >= 0
        ]
