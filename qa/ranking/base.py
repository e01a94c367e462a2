"""What every ranking mode shares: the `Retriever` protocol, the registry of modes, and the score
arithmetic of the fusions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from qa.query import Query
    from qa.ranking import Retrievers

Ranking = list[tuple[int, float]]  # (passage id, score), best first
FUSION_DEPTH = 100  # candidates each retriever contributes to a fusion


class Retriever(Protocol):
    def rank(self, query: Query, depth: int) -> Ranking:
        """The passages for the query, best first (ties by id): the depth best, or more when a
        fusion keeps all its candidates (callers take the first depth)."""
        ...


@dataclass(frozen=True, slots=True)
class ModeInfo:
    """A ranking mode as `--mode`, `qa bench` and the chat's palette list it."""

    name: str
    summary: str  # one line for people choosing a mode: what it reads, what it misses
    build: Callable[[Retrievers], Retriever]


MODES: dict[str, ModeInfo] = {}  # by name, in the order registered (the default first)


def mode(name: str, summary: str) -> Callable[[Callable[[Retrievers], Retriever]], Callable[[Retrievers], Retriever]]:
    """Register a ranking mode: decorate the function that builds its retriever from the index's
    shared parts (qa.ranking.Retrievers). `qa ask --mode`, `qa bench` and the chat then offer it."""

    def register(build: Callable[[Retrievers], Retriever]) -> Callable[[Retrievers], Retriever]:
        if name in MODES:
            raise ValueError(f"ranking mode {name!r} is registered twice")
        MODES[name] = ModeInfo(name, summary, build)
        return build

    return register


def z_scores(scores: np.ndarray, sample: np.ndarray | None = None) -> np.ndarray:
    """Scores as standard deviations from their mean over the collection, or over a sample of it
    (all zero when flat)."""
    reference = scores if sample is None else sample
    spread = float(reference.std())
    return (scores - reference.mean()) / spread if spread > 0 else scores * 0.0


def top(scores: np.ndarray, depth: int) -> Ranking:
    """The depth best rows with their scores, best first, ties by row."""
    import numpy as np

    depth = min(depth, len(scores))
    if depth <= 0:
        return []
    best = np.argpartition(-scores, depth - 1)[:depth]
    best = best[np.lexsort((best, -scores[best]))]
    return [(int(row), float(scores[row])) for row in best]


def min_max(ranking: Ranking) -> Ranking:
    if not ranking:
        return []
    high, low = ranking[0][1], min(score for _, score in ranking)
    spread = high - low
    return [(row, (score - low) / spread if spread > 0 else 1.0) for row, score in ranking]


def by_score(items) -> Ranking:
    """(id, score) pairs best first, ties by id."""
    return sorted(items, key=lambda item: (-item[1], item[0]))
