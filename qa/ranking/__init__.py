"""Ranking passages for a `qa.query.Query`: a family of interchangeable modes behind one protocol
(`Retriever.rank(query, depth)`), each registered once with `qa.ranking.base.mode`.

- `fused` (the default): z-score fusion of passage, best-sentence and BM25 scores with dense feedback;
- `dense`: the vector store's cosine; `bm25`: bm25s (or the store's own full-text search);
- `hybrid` and `rrf`: the classic fusions of the two.

A new mode is a module here with a class that has `rank(query, depth)` and one `@mode(name, summary)`
function that builds it from `Retrievers`; import the module below and `--mode`, `qa bench` and the
chat's palette list it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from qa.errors import QAError
from qa.ranking.base import MODES, ModeInfo, Ranking, Retriever, mode

# Each module registers its modes when imported: this order is the order they are listed and measured in.
from qa.ranking.fused import CandidatePolicy, SentenceFusion  # isort: split

from qa.ranking.dense import DenseRetriever  # isort: split

from qa.ranking.lexical import BM25Retriever, StoreBM25Retriever  # isort: split

from qa.ranking import fusion  # noqa: F401  # isort: split

if TYPE_CHECKING:
    from qa.encoders import Encoder
    from qa.index import StoredIndex

__all__ = [
    "DEFAULT_MODE", "MODES", "BM25Retriever", "CandidatePolicy", "DenseRetriever", "ModeInfo", "Ranking", "Retriever",
    "Retrievers", "SentenceFusion", "mode",
]

DEFAULT_MODE = "fused"


@dataclass
class Retrievers:
    """The ranking modes over one index, sharing its dense and BM25 parts; each built on first use."""

    index: StoredIndex
    encoder: Encoder
    candidates: CandidatePolicy = CandidatePolicy()
    _built: dict[str, Retriever] = field(default_factory=dict, init=False, repr=False)

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

    def get(self, name: str) -> Retriever:
        """The retriever of a registered mode (QAError naming the modes for another name)."""
        if name not in self._built:
            if name not in MODES:
                raise QAError(f"unknown retrieval mode {name!r}; choose one of: {', '.join(MODES)}")
            self._built[name] = MODES[name].build(self)
        return self._built[name]
